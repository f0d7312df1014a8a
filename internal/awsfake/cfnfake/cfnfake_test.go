package cfnfake_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
	"github.com/isahit/s3grant/internal/awsfake/cfnfake"
)

func client(url string, retries int) *cloudformation.Client {
	return cloudformation.New(cloudformation.Options{
		Region:           "eu-west-3",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RetryMaxAttempts: retries,
	})
}

func body(t *testing.T) string {
	b, err := os.ReadFile("testdata/integration.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func params(kv ...string) []types.Parameter {
	var out []types.Parameter
	for i := 0; i < len(kv); i += 2 {
		out = append(out, types.Parameter{ParameterKey: aws.String(kv[i]), ParameterValue: aws.String(kv[i+1])})
	}
	return out
}

// changeSet creates a change set of the integration's template and waits for its final status.
func changeSet(t *testing.T, c *cloudformation.Client, typ types.ChangeSetType, name string, caps []types.Capability, p ...string) (*cloudformation.DescribeChangeSetOutput, error) {
	t.Helper()
	return cfnfake.CreateChangeSet(context.Background(), c, &cloudformation.CreateChangeSetInput{
		StackName: aws.String("stk"), ChangeSetName: aws.String(name), ChangeSetType: typ,
		TemplateBody: aws.String(body(t)), Parameters: params(p...), Capabilities: caps,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}},
	})
}

func waitStack(t *testing.T, c *cloudformation.Client, name string) types.Stack {
	t.Helper()
	for {
		out, err := c.DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		s := out.Stacks[0]
		if !strings.HasSuffix(string(s.StackStatus), "_IN_PROGRESS") {
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func allEvents(t *testing.T, c *cloudformation.Client, name string) []types.StackEvent {
	t.Helper()
	var out []types.StackEvent
	p := cloudformation.NewDescribeStackEventsPaginator(c, &cloudformation.DescribeStackEventsInput{StackName: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.StackEvents...)
	}
	return out
}

// checkEvents fails the test unless the stack's events, oldest first and summed up, are want.
func checkEvents(t *testing.T, events []types.StackEvent, want ...string) {
	t.Helper()
	if got := strings.Join(summary(events), "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func summary(events []types.StackEvent) []string {
	var out []string
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		s := aws.ToString(e.LogicalResourceId) + " " + string(e.ResourceStatus)
		if r := aws.ToString(e.ResourceStatusReason); r != "" && r != "Resource creation Initiated" {
			s += " " + r
		}
		if r := aws.ToString(e.ResourceStatusReason); r == "Resource creation Initiated" {
			continue
		}
		out = append(out, s)
	}
	return out
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return ""
}

var iam = []types.Capability{types.CapabilityCapabilityIam}

func TestCreateThenNoChangesThenUpdate(t *testing.T) {
	f, url := cfnfake.Start(t, cfnfake.WithPageSize(4))
	c := client(url, 1)
	cs, err := changeSet(t, c, types.ChangeSetTypeCreate, "one", iam, "BucketName", "my-bucket", "ExternalId", "ext-1")
	if err != nil {
		t.Fatal(err)
	}
	var adds []string
	for _, ch := range cs.Changes {
		adds = append(adds, string(ch.ResourceChange.Action)+" "+aws.ToString(ch.ResourceChange.LogicalResourceId))
	}
	if got, want := strings.Join(adds, ","), "Add AccessPoint,Add ReadPolicy,Add Role"; got != want {
		t.Fatalf("changes = %s, want %s", got, want)
	}
	if st, _ := f.Stack("stk"); st.Status != "REVIEW_IN_PROGRESS" {
		t.Fatalf("stack status before execution = %s", st.Status)
	}
	if _, err := c.ExecuteChangeSet(context.Background(), &cloudformation.ExecuteChangeSetInput{
		ChangeSetName: cs.ChangeSetId, ClientRequestToken: aws.String("tok-1")}); err != nil {
		t.Fatal(err)
	}
	s := waitStack(t, c, "stk")
	if s.StackStatus != types.StackStatusCreateComplete {
		t.Fatalf("status = %s", s.StackStatus)
	}
	outs := map[string]string{}
	for _, o := range s.Outputs {
		outs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	if outs["ExternalId"] != "ext-1" || outs["BucketName"] != "my-bucket" ||
		outs["AccessPointArn"] != "arn:aws:s3:eu-west-3:123456789012:accesspoint/vendor-access-point" ||
		!strings.HasPrefix(outs["RoleArn"], "arn:aws:iam::123456789012:role/stk-Role-") ||
		!strings.HasSuffix(outs["AccessPointAlias"], "-s3alias") {
		t.Fatalf("outputs = %v", outs)
	}
	events := allEvents(t, c, "stk")
	checkEvents(t, events,
		"stk REVIEW_IN_PROGRESS User Initiated",
		"stk CREATE_IN_PROGRESS User Initiated",
		"AccessPoint CREATE_IN_PROGRESS", "AccessPoint CREATE_COMPLETE",
		"ReadPolicy CREATE_IN_PROGRESS", "ReadPolicy CREATE_COMPLETE",
		"Role CREATE_IN_PROGRESS", "Role CREATE_COMPLETE",
		"stk CREATE_COMPLETE",
	)
	for _, e := range events[:len(events)-1] {
		if aws.ToString(e.ClientRequestToken) != "tok-1" {
			t.Fatalf("event %s has token %q", aws.ToString(e.EventId), aws.ToString(e.ClientRequestToken))
		}
	}

	same, err := changeSet(t, c, types.ChangeSetTypeUpdate, "two", iam, "BucketName", "my-bucket", "ExternalId", "ext-1")
	if err != nil {
		t.Fatal(err)
	}
	if same.Status != types.ChangeSetStatusFailed || aws.ToString(same.StatusReason) != cfnfake.NoChangesReason {
		t.Fatalf("no-op change set: %s %q", same.Status, aws.ToString(same.StatusReason))
	}

	named, err := changeSet(t, c, types.ChangeSetTypeUpdate, "three", iam, "BucketName", "my-bucket", "ExternalId", "ext-2", "RoleName", "Vendor")
	if code := apiCode(err); code != "InsufficientCapabilitiesException: Requires capabilities : [CAPABILITY_NAMED_IAM]" {
		t.Fatalf("named role with CAPABILITY_IAM: %v %v", code, named)
	}
	upd, err := changeSet(t, c, types.ChangeSetTypeUpdate, "four", []types.Capability{types.CapabilityCapabilityNamedIam},
		"BucketName", "my-bucket", "ExternalId", "ext-2", "RoleName", "Vendor")
	if err != nil {
		t.Fatal(err)
	}
	if len(upd.Changes) != 1 {
		t.Fatalf("changes = %d, want 1 (Role)", len(upd.Changes))
	}
	rc := upd.Changes[0].ResourceChange
	if aws.ToString(rc.LogicalResourceId) != "Role" || rc.Replacement != types.ReplacementTrue || len(rc.Details) != 2 {
		t.Fatalf("role change = %s %s %d details", aws.ToString(rc.LogicalResourceId), rc.Replacement, len(rc.Details))
	}
	if _, err := c.ExecuteChangeSet(context.Background(), &cloudformation.ExecuteChangeSetInput{ChangeSetName: upd.ChangeSetId}); err != nil {
		t.Fatal(err)
	}
	s = waitStack(t, c, "stk")
	if s.StackStatus != types.StackStatusUpdateComplete {
		t.Fatalf("status = %s", s.StackStatus)
	}
	for _, o := range s.Outputs {
		if aws.ToString(o.OutputKey) == "RoleArn" && aws.ToString(o.OutputValue) != "arn:aws:iam::123456789012:role/Vendor" {
			t.Fatalf("RoleArn after rename = %s", aws.ToString(o.OutputValue))
		}
	}
	_ = f
}

func TestFailureRollsBack(t *testing.T) {
	f, url := cfnfake.Start(t, cfnfake.WithDelay("Role", 60*time.Millisecond), cfnfake.WithDelay("AccessPoint", 10*time.Millisecond))
	c := client(url, 1)
	f.FailResource("ReadPolicy", "Resource handler returned message: \"Access denied\"")
	cs, err := changeSet(t, c, types.ChangeSetTypeCreate, "one", iam, "BucketName", "my-bucket", "ExternalId", "ext-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecuteChangeSet(context.Background(), &cloudformation.ExecuteChangeSetInput{ChangeSetName: cs.ChangeSetId}); err != nil {
		t.Fatal(err)
	}
	// Busy: a second operation is refused while the first runs.
	_, err = c.DeleteStack(context.Background(), &cloudformation.DeleteStackInput{StackName: aws.String("stk")})
	if code := apiCode(err); code != "ValidationError: Stack [stk] cannot be deleted while in status CREATE_IN_PROGRESS" {
		t.Fatalf("delete while busy: %q", code)
	}
	s := waitStack(t, c, "stk")
	if s.StackStatus != types.StackStatusRollbackComplete || len(s.Outputs) != 0 {
		t.Fatalf("status = %s outputs %v", s.StackStatus, s.Outputs)
	}
	checkEvents(t, allEvents(t, c, "stk"),
		"stk REVIEW_IN_PROGRESS User Initiated",
		"stk CREATE_IN_PROGRESS User Initiated",
		"AccessPoint CREATE_IN_PROGRESS", "AccessPoint CREATE_COMPLETE",
		"ReadPolicy CREATE_IN_PROGRESS",
		"ReadPolicy CREATE_FAILED Resource handler returned message: \"Access denied\"",
		"stk ROLLBACK_IN_PROGRESS The following resource(s) failed to create: [ReadPolicy]. Rollback requested by user.",
		"ReadPolicy DELETE_IN_PROGRESS", "ReadPolicy DELETE_COMPLETE",
		"AccessPoint DELETE_IN_PROGRESS", "AccessPoint DELETE_COMPLETE",
		"stk ROLLBACK_COMPLETE",
	)
	_, err = changeSet(t, c, types.ChangeSetTypeUpdate, "two", iam, "BucketName", "my-bucket", "ExternalId", "ext-1")
	if code := apiCode(err); !strings.Contains(code, "is in ROLLBACK_COMPLETE state and can not be updated.") {
		t.Fatalf("update of ROLLBACK_COMPLETE: %q", code)
	}
	if _, err := c.DeleteStack(context.Background(), &cloudformation.DeleteStackInput{StackName: aws.String("stk")}); err != nil {
		t.Fatal(err)
	}
	if final := waitStack(t, c, aws.ToString(s.StackId)); final.StackStatus != types.StackStatusDeleteComplete {
		t.Fatalf("status after delete = %s", final.StackStatus)
	}
	_, err = c.DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String("stk")})
	if code := apiCode(err); code != "ValidationError: Stack with id stk does not exist" {
		t.Fatalf("describe deleted stack by name: %q", code)
	}
}

func TestFailureCancelsResourcesInProgress(t *testing.T) {
	f, url := cfnfake.Start(t, cfnfake.WithDelay("Slow", 80*time.Millisecond), cfnfake.WithDelay("Bad", 10*time.Millisecond))
	c := client(url, 1)
	ctx := context.Background()
	const tmpl = `{"Resources": {
		"Slow": {"Type": "AWS::S3::AccessPoint", "Properties": {"Bucket": "b", "Name": "slow"}},
		"Bad": {"Type": "AWS::S3::AccessPoint", "Properties": {"Bucket": "b", "Name": "bad"}},
		"Later": {"Type": "AWS::S3::AccessPoint", "Properties": {"Bucket": {"Ref": "Bad"}, "Name": "later"}}}}`
	cs, err := c.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{StackName: aws.String("stk"),
		ChangeSetName: aws.String("one"), ChangeSetType: types.ChangeSetTypeCreate, TemplateBody: aws.String(tmpl)})
	if err != nil {
		t.Fatal(err)
	}
	f.FailResource("Bad", "boom")
	time.Sleep(30 * time.Millisecond) // the change set's delay
	if _, err := c.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: cs.Id}); err != nil {
		t.Fatal(err)
	}
	waitStack(t, c, "stk")
	checkEvents(t, allEvents(t, c, "stk"),
		"stk REVIEW_IN_PROGRESS User Initiated",
		"stk CREATE_IN_PROGRESS User Initiated",
		"Bad CREATE_IN_PROGRESS", "Slow CREATE_IN_PROGRESS",
		"Bad CREATE_FAILED boom", "Slow CREATE_FAILED Resource creation cancelled",
		"stk ROLLBACK_IN_PROGRESS The following resource(s) failed to create: [Bad]. Rollback requested by user.",
		"Slow DELETE_IN_PROGRESS", "Slow DELETE_COMPLETE",
		"Bad DELETE_IN_PROGRESS", "Bad DELETE_COMPLETE",
		"stk ROLLBACK_COMPLETE",
	)
}

func TestErrorsThroughTheSDK(t *testing.T) {
	f, url := cfnfake.Start(t)
	ctx := context.Background()

	_, err := client(url, 1).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("nope")})
	if code := apiCode(err); code != "ValidationError: Stack with id nope does not exist" {
		t.Fatalf("missing stack: %q", code)
	}

	f.Throttle("DescribeStacks", 2)
	_, err = client(url, 1).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{})
	if code := apiCode(err); code != "Throttling: Rate exceeded" {
		t.Fatalf("throttled without retries: %q", code)
	}
	if _, err = client(url, 3).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{}); err != nil {
		t.Fatalf("the SDK retryer should get past one more throttle: %v", err)
	}

	f.CheckCredentials(func(key string) *awsquery.Error {
		if key == "AKIDTEST" {
			return awsquery.Sender("InvalidClientTokenId", "The security token included in the request is invalid.")
		}
		return nil
	})
	_, err = client(url, 1).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{})
	if code := apiCode(err); code != "InvalidClientTokenId: The security token included in the request is invalid." {
		t.Fatalf("bad credentials: %q", code)
	}

	f.CheckCredentials(nil)
	_, err = client(url, 1).ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: aws.String("arn:nope")})
	var nf *types.ChangeSetNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("unknown change set: %v", err)
	}
}

// The capabilities follow the CreateChangeSet reference: the listed IAM types need
// CAPABILITY_IAM, a custom name (here through a parameter or Fn::If) needs
// CAPABILITY_NAMED_IAM, and an IAM type that is not on the list needs neither.
func TestCapabilitiesFollowTheDocumentedList(t *testing.T) {
	_, url := cfnfake.Start(t)
	c := client(url, 1)
	cases := []struct {
		name, resources string
		want            string // the capability asked for without any; "" when none is needed
	}{
		{"access key", `"K": {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": "someone"}}`, "CAPABILITY_IAM"},
		{"inline policy", `"P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "p", "Roles": ["r"], "PolicyDocument": {}}}`, "CAPABILITY_IAM"},
		{"user to group", `"U": {"Type": "AWS::IAM::UserToGroupAddition", "Properties": {"GroupName": "g", "Users": ["u"]}}`, "CAPABILITY_IAM"},
		{"unnamed group", `"G": {"Type": "AWS::IAM::Group"}`, "CAPABILITY_IAM"},
		{"named group", `"G": {"Type": "AWS::IAM::Group", "Properties": {"GroupName": "admins"}}`, "CAPABILITY_NAMED_IAM"},
		{"named profile", `"I": {"Type": "AWS::IAM::InstanceProfile", "Properties": {"InstanceProfileName": {"Fn::Sub": "${Name}-p"}, "Roles": ["r"]}}`, "CAPABILITY_NAMED_IAM"},
		{"name from a parameter", `"R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": {"Ref": "Name"}, "AssumeRolePolicyDocument": {}}}`, "CAPABILITY_NAMED_IAM"},
		{"no name under Fn::If", `"R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": {"Fn::If": ["Never", "x", {"Ref": "AWS::NoValue"}]}, "AssumeRolePolicyDocument": {}}}`, "CAPABILITY_IAM"},
		{"named user not created", `"U": {"Type": "AWS::IAM::User", "Condition": "Never", "Properties": {"UserName": "u"}}`, ""},
		{"role policy, not on the list", `"RP": {"Type": "AWS::IAM::RolePolicy", "Properties": {"RoleName": "r", "PolicyName": "p", "PolicyDocument": {}}}`, ""},
	}
	for i, tc := range cases {
		body := `{"Parameters": {"Name": {"Type": "String", "Default": "team"}},
			"Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
			"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}, ` + tc.resources + `}}`
		_, err := c.CreateChangeSet(context.Background(), &cloudformation.CreateChangeSetInput{
			StackName: aws.String(fmt.Sprintf("caps-%d", i)), ChangeSetName: aws.String("one"),
			ChangeSetType: types.ChangeSetTypeCreate, TemplateBody: aws.String(body)})
		got := ""
		if err != nil {
			code := apiCode(err)
			got = strings.TrimSuffix(strings.TrimPrefix(code, "InsufficientCapabilitiesException: Requires capabilities : ["), "]")
			if got == code {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
		}
		if got != tc.want {
			t.Errorf("%s: requires %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A template that refers to a name it does not declare is refused when the change set is
// created, as CloudFormation's template validation does, and leaves no stack behind.
func TestUnresolvedReferenceIsRefused(t *testing.T) {
	_, url := cfnfake.Start(t)
	c := client(url, 1)
	_, err := c.CreateChangeSet(context.Background(), &cloudformation.CreateChangeSetInput{
		StackName: aws.String("bad"), ChangeSetName: aws.String("one"), ChangeSetType: types.ChangeSetTypeCreate,
		TemplateBody: aws.String(`{"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "Nope"}}}}}`)})
	if code := apiCode(err); !strings.HasPrefix(code, "ValidationError: Template format error: [/Resources/Topic]") || !strings.Contains(code, `"Nope"`) {
		t.Fatalf("unresolved Ref: %q", code)
	}
	_, err = c.DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String("bad")})
	if code := apiCode(err); code != "ValidationError: Stack with id bad does not exist" {
		t.Fatalf("a refused template left a stack: %q", code)
	}
}
