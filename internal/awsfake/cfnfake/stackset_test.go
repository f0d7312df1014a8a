package cfnfake_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/isahit/s3grant/internal/awsfake/cfnfake"
)

func newSet(t *testing.T, c *cloudformation.Client, name string, in *cloudformation.CreateStackSetInput) {
	t.Helper()
	if in == nil {
		in = &cloudformation.CreateStackSetInput{}
	}
	in.StackSetName, in.TemplateBody, in.Capabilities = aws.String(name), aws.String(body(t)), iam
	in.Parameters = params("ExternalId", "ext-id-1")
	if _, err := c.CreateStackSet(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

// waitOp polls the operation to its end and returns it.
func waitOp(t *testing.T, c *cloudformation.Client, set, id string) *types.StackSetOperation {
	t.Helper()
	for range 2000 {
		out, err := c.DescribeStackSetOperation(context.Background(), &cloudformation.DescribeStackSetOperationInput{
			StackSetName: aws.String(set), OperationId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		switch out.StackSetOperation.Status {
		case types.StackSetOperationStatusRunning, types.StackSetOperationStatusQueued:
			time.Sleep(2 * time.Millisecond)
			continue
		}
		return out.StackSetOperation
	}
	t.Fatal("operation never ended")
	return nil
}

func results(t *testing.T, c *cloudformation.Client, set, id string) map[string]string {
	t.Helper()
	out, err := c.ListStackSetOperationResults(context.Background(), &cloudformation.ListStackSetOperationResultsInput{
		StackSetName: aws.String(set), OperationId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, r := range out.Summaries {
		m[aws.ToString(r.Account)+"/"+aws.ToString(r.Region)] = strings.TrimSpace(string(r.Status) + " " + aws.ToString(r.StatusReason))
	}
	return m
}

func TestStackSetSelfManagedRollout(t *testing.T) {
	f, url := cfnfake.Start(t, cfnfake.WithDelay("", time.Millisecond))
	c := client(url, 1)
	ctx := context.Background()
	newSet(t, c, "org", nil)
	d, err := c.DescribeStackSet(ctx, &cloudformation.DescribeStackSetInput{StackSetName: aws.String("org")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(d.StackSet.AdministrationRoleARN); got != "arn:aws:iam::123456789012:role/AWSCloudFormationStackSetAdministrationRole" {
		t.Errorf("default administration role = %q", got)
	}
	if got := aws.ToString(d.StackSet.ExecutionRoleName); got != "AWSCloudFormationStackSetExecutionRole" {
		t.Errorf("default execution role = %q", got)
	}
	if d.StackSet.PermissionModel != types.PermissionModelsSelfManaged {
		t.Errorf("permission model = %q", d.StackSet.PermissionModel)
	}
	accounts := []string{"111111111111", "222222222222", "333333333333"}
	op, err := c.CreateStackInstances(ctx, &cloudformation.CreateStackInstancesInput{StackSetName: aws.String("org"),
		Accounts: accounts, Regions: []string{"eu-west-3", "us-east-1"},
		ParameterOverrides: params("BucketName", "shared-bucket")})
	if err != nil {
		t.Fatal(err)
	}
	// A second operation while the first runs is refused.
	_, err = c.CreateStackInstances(ctx, &cloudformation.CreateStackInstancesInput{StackSetName: aws.String("org"),
		Accounts: []string{"444444444444"}, Regions: []string{"eu-west-3"}})
	if code := apiCode(err); !strings.HasPrefix(code, "OperationInProgressException") {
		t.Errorf("second operation: %v", code)
	}
	final := waitOp(t, c, "org", aws.ToString(op.OperationId))
	if final.Status != types.StackSetOperationStatusSucceeded {
		t.Fatalf("operation %s: %s", final.Status, aws.ToString(final.StatusReason))
	}
	if got := aws.ToInt32(final.OperationPreferences.MaxConcurrentCount); got != 1 {
		t.Errorf("default MaxConcurrentCount = %d", got)
	}
	r := results(t, c, "org", aws.ToString(op.OperationId))
	if len(r) != 6 {
		t.Fatalf("results: %v", r)
	}
	for k, v := range r {
		if v != "SUCCEEDED" {
			t.Errorf("%s: %s", k, v)
		}
	}
	list, err := c.ListStackInstances(ctx, &cloudformation.ListStackInstancesInput{StackSetName: aws.String("org")})
	if err != nil {
		t.Fatal(err)
	}
	stacks := map[string]bool{}
	for _, in := range list.Summaries {
		if in.Status != types.StackInstanceStatusCurrent || in.StackInstanceStatus.DetailedStatus != types.StackInstanceDetailedStatusSucceeded {
			t.Errorf("%s/%s: %s %s", aws.ToString(in.Account), aws.ToString(in.Region), in.Status, in.StackInstanceStatus.DetailedStatus)
		}
		id := aws.ToString(in.StackId)
		want := fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/StackSet-org-", aws.ToString(in.Region), aws.ToString(in.Account))
		if !strings.HasPrefix(id, want) {
			t.Errorf("stack ID %s, want prefix %s", id, want)
		}
		s, ok := f.Stack(id)
		if !ok || s.Status != "CREATE_COMPLETE" || s.Parameters["BucketName"] != "shared-bucket" || s.Parameters["ExternalId"] != "ext-id-1" {
			t.Errorf("instance stack %s: %+v", id, s)
		}
		stacks[id] = true
	}
	if len(stacks) != 6 {
		t.Errorf("%d distinct stacks, want 6", len(stacks))
	}
	// The role of each account lives in that account.
	for id := range stacks {
		s, _ := f.Stack(id)
		acct := strings.Split(id, ":")[4]
		if !strings.Contains(s.Outputs["RoleArn"], ":"+acct+":") && s.Outputs["RoleArn"] != "" {
			t.Errorf("stack %s role %s not in account %s", id, s.Outputs["RoleArn"], acct)
		}
	}
	di, err := c.DescribeStackInstance(ctx, &cloudformation.DescribeStackInstanceInput{StackSetName: aws.String("org"),
		StackInstanceAccount: aws.String("222222222222"), StackInstanceRegion: aws.String("us-east-1")})
	if err != nil {
		t.Fatal(err)
	}
	if len(di.StackInstance.ParameterOverrides) != 1 || aws.ToString(di.StackInstance.ParameterOverrides[0].ParameterValue) != "shared-bucket" {
		t.Errorf("overrides: %+v", di.StackInstance.ParameterOverrides)
	}

	// Deleting the set with instances is refused; after deleting them it works.
	_, err = c.DeleteStackSet(ctx, &cloudformation.DeleteStackSetInput{StackSetName: aws.String("org")})
	if code := apiCode(err); !strings.HasPrefix(code, "StackSetNotEmptyException") {
		t.Errorf("delete non-empty set: %v", code)
	}
	del, err := c.DeleteStackInstances(ctx, &cloudformation.DeleteStackInstancesInput{StackSetName: aws.String("org"),
		Accounts: accounts, Regions: []string{"eu-west-3", "us-east-1"}, RetainStacks: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	if st := waitOp(t, c, "org", aws.ToString(del.OperationId)); st.Status != types.StackSetOperationStatusSucceeded {
		t.Fatalf("delete: %s", st.Status)
	}
	for id := range stacks {
		if s, ok := f.Stack(id); ok {
			t.Errorf("stack %s still there: %s", id, s.Status)
		}
	}
	if _, err := c.DeleteStackSet(ctx, &cloudformation.DeleteStackSetInput{StackSetName: aws.String("org")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeStackSet(ctx, &cloudformation.DescribeStackSetInput{StackSetName: aws.String("org")})
	if code := apiCode(err); !strings.HasPrefix(code, "StackSetNotFoundException") {
		t.Errorf("deleted set: %v", code)
	}
}

func TestStackSetFailureStopsTheRollout(t *testing.T) {
	f, url := cfnfake.Start(t, cfnfake.WithDelay("", time.Millisecond))
	c := client(url, 1)
	ctx := context.Background()
	newSet(t, c, "org", nil)
	f.FailStackInstance("222222222222", "eu-west-3", "Role", "vendor-role already exists")
	op, err := c.CreateStackInstances(ctx, &cloudformation.CreateStackInstancesInput{StackSetName: aws.String("org"),
		Accounts: []string{"111111111111", "222222222222", "333333333333"}, Regions: []string{"eu-west-3", "us-east-1"},
		ParameterOverrides: params("BucketName", "b-1")})
	if err != nil {
		t.Fatal(err)
	}
	final := waitOp(t, c, "org", aws.ToString(op.OperationId))
	if final.Status != types.StackSetOperationStatusFailed {
		t.Fatalf("operation: %s", final.Status)
	}
	r := results(t, c, "org", aws.ToString(op.OperationId))
	want := map[string]string{
		"111111111111/eu-west-3": "SUCCEEDED",
		"222222222222/eu-west-3": "FAILED ResourceLogicalId:Role, ResourceType:AWS::IAM::Role, ResourceStatusReason:vendor-role already exists.",
		"333333333333/eu-west-3": "CANCELLED Cancelled since failure tolerance has exceeded",
		"111111111111/us-east-1": "CANCELLED Cancelled since failure tolerance has exceeded",
		"222222222222/us-east-1": "CANCELLED Cancelled since failure tolerance has exceeded",
		"333333333333/us-east-1": "CANCELLED Cancelled since failure tolerance has exceeded",
	}
	for k, v := range want {
		if r[k] != v {
			t.Errorf("%s = %q, want %q", k, r[k], v)
		}
	}
	st, _ := f.StackSet("org")
	for _, in := range st.Instances {
		if in.Account == "222222222222" && in.Region == "eu-west-3" {
			s, ok := f.Stack(in.StackID)
			if !ok || s.Status != "ROLLBACK_COMPLETE" {
				t.Errorf("failed instance stack: %+v", s)
			}
			if in.Status != "OUTDATED" || in.DetailedStatus != "FAILED" {
				t.Errorf("failed instance: %+v", in)
			}
		}
	}
	// The root cause is in the instance stack's events.
	var id string
	for _, in := range st.Instances {
		if in.Account == "222222222222" && in.Region == "eu-west-3" {
			id = in.StackID
		}
	}
	ev, err := c.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range ev.StackEvents {
		if aws.ToString(e.LogicalResourceId) == "Role" && e.ResourceStatus == types.ResourceStatusCreateFailed &&
			aws.ToString(e.ResourceStatusReason) == "vendor-role already exists" {
			found = true
		}
	}
	if !found {
		t.Error("no Role CREATE_FAILED event in the instance stack")
	}
}

func TestStackSetConcurrencyAndTolerance(t *testing.T) {
	f, url := cfnfake.Start(t, cfnfake.WithDelay("", 5*time.Millisecond))
	c := client(url, 1)
	ctx := context.Background()
	newSet(t, c, "org", nil)
	f.FailStackInstance("111111111111", "eu-west-3", "Role", "boom")
	op, err := c.CreateStackInstances(ctx, &cloudformation.CreateStackInstancesInput{StackSetName: aws.String("org"),
		Accounts: []string{"111111111111", "222222222222", "333333333333"}, Regions: []string{"us-east-1", "eu-west-3"},
		ParameterOverrides: params("BucketName", "b-1"),
		OperationPreferences: &types.StackSetOperationPreferences{FailureToleranceCount: aws.Int32(1),
			MaxConcurrentCount: aws.Int32(3), RegionOrder: []string{"eu-west-3"}}})
	if err != nil {
		t.Fatal(err)
	}
	final := waitOp(t, c, "org", aws.ToString(op.OperationId))
	// One failure within a tolerance of one: the operation succeeds, the failed instance stays FAILED.
	if final.Status != types.StackSetOperationStatusSucceeded {
		t.Fatalf("operation: %s", final.Status)
	}
	r := results(t, c, "org", aws.ToString(op.OperationId))
	if !strings.HasPrefix(r["111111111111/eu-west-3"], "FAILED") || r["111111111111/us-east-1"] != "SUCCEEDED" {
		t.Errorf("results: %v", r)
	}
	// Strict mode: at most tolerance+1 = 2 accounts at a time.
	st, _ := f.StackSet("org")
	type span struct{ from, to time.Time }
	var spans []span
	for _, in := range st.Instances {
		if in.Region != "eu-west-3" {
			continue
		}
		ev, err := c.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(in.StackID)})
		if err != nil {
			t.Fatal(err)
		}
		n := len(ev.StackEvents)
		spans = append(spans, span{aws.ToTime(ev.StackEvents[n-1].Timestamp), aws.ToTime(ev.StackEvents[0].Timestamp)})
	}
	for _, a := range spans { // how many run at the instant a starts
		overlapping := 0
		for _, b := range spans {
			if !b.from.After(a.from) && a.from.Before(b.to) {
				overlapping++
			}
		}
		if overlapping > 2 {
			t.Errorf("%d instances ran at once in eu-west-3, want at most 2", overlapping)
		}
	}
}

func TestStackSetRefusals(t *testing.T) {
	ous := map[string][]string{}
	for i := range 51 {
		ous[fmt.Sprintf("ou-ab12-%08d", i)] = []string{fmt.Sprintf("5555%08d", i)}
	}
	_, url := cfnfake.Start(t, cfnfake.WithDelay("", time.Millisecond), cfnfake.WithOrganization(ous))
	c := client(url, 1)
	ctx := context.Background()
	newSet(t, c, "self", nil)
	newSet(t, c, "org", &cloudformation.CreateStackSetInput{PermissionModel: types.PermissionModelsServiceManaged,
		AutoDeployment: &types.AutoDeployment{Enabled: aws.Bool(true), RetainStacksOnAccountRemoval: aws.Bool(false)}})
	var all []string
	for ou := range ous {
		all = append(all, ou)
	}
	cases := []struct {
		name string
		in   *cloudformation.CreateStackInstancesInput
		want string
	}{
		{"51 OUs", &cloudformation.CreateStackInstancesInput{StackSetName: aws.String("org"), Regions: []string{"eu-west-3"},
			DeploymentTargets: &types.DeploymentTargets{OrganizationalUnitIds: all}}, "ValidationError: The maximum number of organizational units"},
		{"OU on self-managed", &cloudformation.CreateStackInstancesInput{StackSetName: aws.String("self"), Regions: []string{"eu-west-3"},
			DeploymentTargets: &types.DeploymentTargets{OrganizationalUnitIds: all[:1]}}, "ValidationError: StackSets with SELF_MANAGED"},
		{"accounts on service-managed", &cloudformation.CreateStackInstancesInput{StackSetName: aws.String("org"), Regions: []string{"eu-west-3"},
			Accounts: []string{"111111111111"}}, "ValidationError: StackSets with SERVICE_MANAGED"},
		{"unknown override", &cloudformation.CreateStackInstancesInput{StackSetName: aws.String("self"), Regions: []string{"eu-west-3"},
			Accounts: []string{"111111111111"}, ParameterOverrides: params("Nope", "x")}, "ValidationError: Parameters: [Nope] do not exist"},
		{"region order outside regions", &cloudformation.CreateStackInstancesInput{StackSetName: aws.String("self"), Regions: []string{"eu-west-3"},
			Accounts: []string{"111111111111"}, OperationPreferences: &types.StackSetOperationPreferences{RegionOrder: []string{"us-east-1"}}},
			"ValidationError: RegionOrder"},
		{"unknown set", &cloudformation.CreateStackInstancesInput{StackSetName: aws.String("nope"), Regions: []string{"eu-west-3"},
			Accounts: []string{"111111111111"}}, "StackSetNotFoundException"},
	}
	for _, tc := range cases {
		_, err := c.CreateStackInstances(ctx, tc.in)
		if code := apiCode(err); !strings.HasPrefix(code, tc.want) {
			t.Errorf("%s: %v, want %s", tc.name, code, tc.want)
		}
	}
	op, err := c.CreateStackInstances(ctx, &cloudformation.CreateStackInstancesInput{StackSetName: aws.String("org"),
		Regions: []string{"eu-west-3"}, ParameterOverrides: params("BucketName", "b-1"),
		DeploymentTargets: &types.DeploymentTargets{OrganizationalUnitIds: all[:50]}})
	if err != nil {
		t.Fatal(err)
	}
	if st := waitOp(t, c, "org", aws.ToString(op.OperationId)); st.Status != types.StackSetOperationStatusSucceeded {
		t.Fatalf("50 OUs: %s", st.Status)
	}
	list, err := c.ListStackInstances(ctx, &cloudformation.ListStackInstancesInput{StackSetName: aws.String("org"), MaxResults: aws.Int32(100)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Summaries) != 50 || aws.ToString(list.Summaries[0].OrganizationalUnitId) == "" {
		t.Errorf("%d instances, first %+v", len(list.Summaries), list.Summaries[0])
	}
	_, err = c.CreateStackSet(ctx, &cloudformation.CreateStackSetInput{StackSetName: aws.String("self"), TemplateBody: aws.String(body(t)),
		Capabilities: iam})
	if code := apiCode(err); !strings.HasPrefix(code, "NameAlreadyExistsException") {
		t.Errorf("same name: %v", code)
	}
	_, err = c.CreateStackSet(ctx, &cloudformation.CreateStackSetInput{StackSetName: aws.String("nocaps"), TemplateBody: aws.String(body(t))})
	if code := apiCode(err); !strings.HasPrefix(code, "InsufficientCapabilitiesException") {
		t.Errorf("no capabilities: %v", code)
	}
}
