package cfnfake_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
	"github.com/isahit/s3grant/internal/awsfake/cfnfake"
)

// A caller sees the stacks of its own account and region only: a stack created with another
// account's key is that account's, with that account in its ID.
func TestCallersSeeTheirOwnAccountAndRegion(t *testing.T) {
	_, url := cfnfake.Start(t, cfnfake.WithAccount("999999999999"), cfnfake.WithCallers(map[string]string{"AKIDOTHER": "111111111111"}))
	as := func(key, region string) *cloudformation.Client {
		return cloudformation.New(cloudformation.Options{Region: region, BaseEndpoint: aws.String(url),
			Credentials: credentials.NewStaticCredentialsProvider(key, "secret", ""), Retryer: awsquery.ConnectionRetryer()})
	}
	ctx := context.Background()
	other := as("AKIDOTHER", "eu-west-3")
	d, err := cfnfake.CreateChangeSet(ctx, other, &cloudformation.CreateChangeSetInput{StackName: aws.String("theirs"),
		ChangeSetName: aws.String("c1"), ChangeSetType: types.ChangeSetTypeCreate, TemplateBody: aws.String(body(t)),
		Parameters: params("BucketName", "their-bucket", "ExternalId", "ext-1"), Capabilities: []types.Capability{types.CapabilityCapabilityIam}})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(d.StackId); got[:len("arn:aws:cloudformation:eu-west-3:111111111111:")] != "arn:aws:cloudformation:eu-west-3:111111111111:" {
		t.Errorf("stack ID %s is not in the caller's account", got)
	}
	count := func(c *cloudformation.Client) int {
		out, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Stacks)
	}
	if n := count(other); n != 1 {
		t.Errorf("the account lists %d stacks in its region, want 1", n)
	}
	if n := count(as("AKIDOTHER", "us-east-1")); n != 0 {
		t.Errorf("the account lists %d stacks in another region, want 0", n)
	}
	if n := count(as("AKIDTEST", "eu-west-3")); n != 0 {
		t.Errorf("the fake's own account lists %d stacks of another account, want 0", n)
	}
}
