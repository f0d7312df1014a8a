package cfnfake_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/isahit/s3grant/internal/awsfake/cfnfake"
)

func previous(keys ...string) []types.Parameter {
	var out []types.Parameter
	for _, k := range keys {
		out = append(out, types.Parameter{ParameterKey: aws.String(k), UsePreviousValue: aws.Bool(true)})
	}
	return out
}

// UsePreviousValue keeps a stack's value, and is refused where AWS refuses it.
func TestUsePreviousValue(t *testing.T) {
	_, url := cfnfake.Start(t)
	c := client(url, 1)
	ctx := context.Background()
	create := func(typ types.ChangeSetType, name string, p []types.Parameter) error {
		_, err := c.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{StackName: aws.String("stk"),
			ChangeSetName: aws.String(name), ChangeSetType: typ, TemplateBody: aws.String(body(t)), Parameters: p,
			Capabilities: []types.Capability{types.CapabilityCapabilityIam}})
		return err
	}
	err := create(types.ChangeSetTypeCreate, "c0", append(params("BucketName", "b-1"), previous("ExternalId")...))
	if err == nil || !strings.Contains(err.Error(), "not in the previous template") {
		t.Fatalf("UsePreviousValue on a create: %v", err)
	}
	d, err := changeSet(t, c, types.ChangeSetTypeCreate, "c1", []types.Capability{types.CapabilityCapabilityIam},
		"BucketName", "b-1", "ExternalId", "ext-1", "AccessPointName", "ap-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: d.ChangeSetId}); err != nil {
		t.Fatal(err)
	}
	waitStack(t, c, "stk")
	both := append(previous("ExternalId"), types.Parameter{ParameterKey: aws.String("BucketName"), ParameterValue: aws.String("b-2"), UsePreviousValue: aws.Bool(true)})
	if err := create(types.ChangeSetTypeUpdate, "u0", both); err == nil || !strings.Contains(err.Error(), "non empty value") {
		t.Fatalf("UsePreviousValue with a value: %v", err)
	}
	if err := create(types.ChangeSetTypeUpdate, "u1", append(params("ExternalId", "ext-2"), previous("BucketName", "AccessPointName")...)); err != nil {
		t.Fatal(err)
	}
	for {
		out, err := c.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{StackName: aws.String("stk"), ChangeSetName: aws.String("u1")})
		if err != nil {
			t.Fatal(err)
		}
		if out.Status == types.ChangeSetStatusCreateComplete {
			got := map[string]string{}
			for _, p := range out.Parameters {
				got[*p.ParameterKey] = aws.ToString(p.ParameterValue)
			}
			if got["BucketName"] != "b-1" || got["AccessPointName"] != "ap-1" || got["ExternalId"] != "ext-2" {
				t.Fatalf("change set parameters %v", got)
			}
			break
		}
	}
}

// Drift detection reports what SetDrift changed, IN_SYNC elsewhere, and refuses a busy stack.
func TestDriftDetection(t *testing.T) {
	fake, url := cfnfake.Start(t)
	c := client(url, 1)
	ctx := context.Background()
	d, err := changeSet(t, c, types.ChangeSetTypeCreate, "c1", []types.Capability{types.CapabilityCapabilityIam}, "BucketName", "b-1", "ExternalId", "ext-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: d.ChangeSetId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DetectStackDrift(ctx, &cloudformation.DetectStackDriftInput{StackName: aws.String("stk")}); err == nil {
		t.Fatal("drift detection on a stack being created")
	}
	waitStack(t, c, "stk")
	fake.SetDrift("stk", "AccessPoint", "DELETED")
	start, err := c.DetectStackDrift(ctx, &cloudformation.DetectStackDriftInput{StackName: aws.String("stk")})
	if err != nil {
		t.Fatal(err)
	}
	var st *cloudformation.DescribeStackDriftDetectionStatusOutput
	for st == nil || st.DetectionStatus == types.StackDriftDetectionStatusDetectionInProgress {
		if st, err = c.DescribeStackDriftDetectionStatus(ctx, &cloudformation.DescribeStackDriftDetectionStatusInput{StackDriftDetectionId: start.StackDriftDetectionId}); err != nil {
			t.Fatal(err)
		}
	}
	if st.StackDriftStatus != types.StackDriftStatusDrifted || aws.ToInt32(st.DriftedStackResourceCount) != 1 {
		t.Fatalf("status %+v", st)
	}
	all, err := c.DescribeStackResourceDrifts(ctx, &cloudformation.DescribeStackResourceDriftsInput{StackName: aws.String("stk")})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all.StackResourceDrifts {
		want := types.StackResourceDriftStatusInSync
		if *r.LogicalResourceId == "AccessPoint" {
			want = types.StackResourceDriftStatusDeleted
		}
		if r.StackResourceDriftStatus != want {
			t.Errorf("%s: %s, want %s", *r.LogicalResourceId, r.StackResourceDriftStatus, want)
		}
	}
	only, _ := c.DescribeStackResourceDrifts(ctx, &cloudformation.DescribeStackResourceDriftsInput{StackName: aws.String("stk"),
		StackResourceDriftStatusFilters: []types.StackResourceDriftStatus{types.StackResourceDriftStatusModified}})
	if len(only.StackResourceDrifts) != 0 || len(all.StackResourceDrifts) < 2 {
		t.Errorf("filtered %d, all %d", len(only.StackResourceDrifts), len(all.StackResourceDrifts))
	}
}
