package stackset_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
	"github.com/isahit/s3grant/internal/awsfake/cfnfake"
	"github.com/isahit/s3grant/stackset"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu      sync.Mutex
	ops     []stackset.Operation
	events  []stackset.InstanceEvent
	onEvent func(stackset.InstanceEvent)
}

func (r *recorder) Phase(stackset.Phase, string) {}
func (r *recorder) Operation(op stackset.Operation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, op)
}
func (r *recorder) Instance(ev stackset.InstanceEvent) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	if r.onEvent != nil {
		r.onEvent(ev)
	}
}

// final returns each instance's last reported status, "account/region" -> status.
func (r *recorder) final() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{}
	for _, ev := range r.events {
		out[ev.Account+"/"+ev.Region] = ev.Status
	}
	return out
}

type env struct {
	fake *cfnfake.Fake
	cfn  *cloudformation.Client
	rec  *recorder
	eng  *stackset.Engine
}

func newEnv(t *testing.T, confirm bool, opts ...cfnfake.Option) *env {
	t.Helper()
	f, url := cfnfake.Start(t, append([]cfnfake.Option{cfnfake.WithDelay("", time.Millisecond),
		cfnfake.WithAccount("999999999999")}, opts...)...)
	c := cloudformation.New(cloudformation.Options{Region: "eu-west-3", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""), Retryer: awsquery.ConnectionRetryer()})
	rec := &recorder{}
	reader := func(ctx context.Context, account, region string) (stackset.StackEventsReader, error) { return c, nil }
	eng := stackset.New(c, stackset.WithObserver(rec), stackset.WithPolling(time.Millisecond, 5*time.Millisecond),
		stackset.WithStackReader(reader), stackset.WithCallTimeout(5*time.Second),
		stackset.WithConfirm(func(context.Context, stackset.Question) (bool, error) { return confirm, nil }))
	return &env{f, c, rec, eng}
}

func template(t *testing.T) []byte {
	b, err := os.ReadFile("../internal/awsfake/cfnfake/testdata/integration.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	accounts = []string{"111111111111", "222222222222", "333333333333"}
	regions  = []string{"eu-west-3", "us-east-1"}
)

// request is a rollout to 3 accounts x 2 regions, each account with its own bucket.
func request(t *testing.T) stackset.Request {
	req := stackset.Request{StackSet: "s3grant-isahit-lab", TemplateBody: template(t),
		Parameters: map[string]string{"ExternalId": "ext-org-1"}, Capabilities: []string{"CAPABILITY_IAM"},
		Description: "s3grant: isahit Lab integration"}
	for _, a := range accounts {
		for _, r := range regions {
			req.Targets = append(req.Targets, stackset.Target{Account: a, Region: r,
				Overrides: map[string]string{"BucketName": "data-" + a}})
		}
	}
	return req
}

func TestRolloutThreeAccountsTwoRegions(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	res, err := e.eng.Deploy(ctx, request(t))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || len(res.Instances) != 6 || len(res.Failed()) != 0 {
		t.Fatalf("result: created %v, %d instances, failed %v", res.Created, len(res.Instances), res.Failed())
	}
	// Overrides differ per account: one CreateStackInstances call per account, for both regions.
	if n := e.fake.Count("CreateStackInstances"); n != 3 {
		t.Errorf("%d CreateStackInstances calls, want 3", n)
	}
	for _, in := range res.Instances {
		if in.Status != "CURRENT" || in.DetailedStatus != "SUCCEEDED" {
			t.Errorf("%s/%s: %s %s", in.Account, in.Region, in.Status, in.DetailedStatus)
		}
		s, ok := e.fake.Stack(in.StackID)
		if !ok || s.Status != "CREATE_COMPLETE" || s.Parameters["BucketName"] != "data-"+in.Account ||
			s.Parameters["ExternalId"] != "ext-org-1" || s.Tags[stackset.MarkerTagKey] != stackset.MarkerTagValue {
			t.Errorf("stack of %s/%s: %+v", in.Account, in.Region, s)
		}
		if !strings.Contains(in.StackID, ":"+in.Region+":"+in.Account+":") {
			t.Errorf("stack %s is not in %s/%s", in.StackID, in.Account, in.Region)
		}
	}
	final := e.rec.final()
	if len(final) != 6 {
		t.Errorf("events for %d instances, want 6: %v", len(final), final)
	}
	for k, v := range final {
		if v != "SUCCEEDED" {
			t.Errorf("%s last reported %s", k, v)
		}
	}
	st, _ := e.fake.StackSet("s3grant-isahit-lab")
	if st.AdministrationRoleARN != "arn:aws:iam::999999999999:role/"+stackset.DefaultAdministrationRole || st.ExecutionRoleName != stackset.DefaultExecutionRoleName {
		t.Errorf("roles: %s %s", st.AdministrationRoleARN, st.ExecutionRoleName)
	}

	// Running again changes nothing.
	before := len(e.fake.Calls())
	if _, err := e.eng.Deploy(ctx, request(t)); err != nil {
		t.Fatal(err)
	}
	for _, c := range e.fake.Calls()[before:] {
		switch c.Action {
		case "CreateStackInstances", "UpdateStackInstances", "UpdateStackSet", "CreateStackSet":
			t.Errorf("second run called %s", c.Action)
		}
	}

	// A changed override updates that account only.
	req := request(t)
	for i := range req.Targets {
		if req.Targets[i].Account == "333333333333" {
			req.Targets[i].Overrides = map[string]string{"BucketName": "data-new"}
		}
	}
	if _, err := e.eng.Deploy(ctx, req); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.Count("UpdateStackInstances"); n != 1 {
		t.Errorf("%d UpdateStackInstances calls, want 1", n)
	}
	st, _ = e.fake.StackSet("s3grant-isahit-lab")
	for _, in := range st.Instances {
		s, _ := e.fake.Stack(in.StackID)
		want := "data-" + in.Account
		if in.Account == "333333333333" {
			want = "data-new"
		}
		if s.Parameters["BucketName"] != want {
			t.Errorf("%s/%s bucket %s, want %s", in.Account, in.Region, s.Parameters["BucketName"], want)
		}
	}
}

func TestFailingInstanceStopsTheRollout(t *testing.T) {
	e := newEnv(t, true)
	e.fake.FailStackInstance("222222222222", "us-east-1", "Role", "Role vendor-role already exists in this account")
	res, err := e.eng.Deploy(context.Background(), request(t))
	var fe *stackset.FailedError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v", err)
	}
	if fe.Operation == nil || fe.Operation.Status != "FAILED" {
		t.Errorf("failed operation: %+v", fe.Operation)
	}
	// The third account is never started: the failure stopped the rollout.
	if n := e.fake.Count("CreateStackInstances"); n != 2 {
		t.Errorf("%d CreateStackInstances calls, want 2", n)
	}
	var bad *stackset.Instance
	for i, in := range res.Instances {
		if in.Account == "333333333333" {
			t.Errorf("instance in an account after the failure: %+v", in)
		}
		if in.Account == "222222222222" && in.Region == "us-east-1" {
			bad = &res.Instances[i]
		}
	}
	if bad == nil || bad.DetailedStatus != "FAILED" || bad.Cause == nil {
		t.Fatalf("failed instance: %+v", bad)
	}
	if *bad.Cause != (stackset.Cause{LogicalID: "Role", ResourceType: "AWS::IAM::Role",
		Reason: "Role vendor-role already exists in this account", FromEvents: true}) {
		t.Errorf("cause = %+v", *bad.Cause)
	}
	for _, want := range []string{"222222222222/us-east-1: FAILED: Role: Role vendor-role already exists", "FAILED"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// Its stack rolled back; nothing of it remains.
	if s, _ := e.fake.Stack(bad.StackID); s.Status != "ROLLBACK_COMPLETE" || len(s.Resources) != 0 {
		t.Errorf("failed stack: %s %v", s.Status, s.Resources)
	}
}

func TestRootCauseWithoutStackAccess(t *testing.T) {
	e := newEnv(t, true)
	eng := stackset.New(e.cfn, stackset.WithPolling(time.Millisecond, 5*time.Millisecond))
	e.fake.FailStackInstance("111111111111", "eu-west-3", "AccessPoint", "Access point name already in use")
	res, err := eng.Deploy(context.Background(), request(t))
	if !errors.As(err, new(*stackset.FailedError)) {
		t.Fatalf("err = %v", err)
	}
	f := res.Failed()
	if len(f) == 0 || f[0].Cause == nil || f[0].Cause.FromEvents || f[0].Cause.LogicalID != "AccessPoint" ||
		f[0].Cause.Reason != "Access point name already in use" {
		t.Fatalf("failed: %+v", f)
	}
}

func TestThrottlingIsRetried(t *testing.T) {
	e := newEnv(t, true)
	for _, a := range []string{"CreateStackSet", "CreateStackInstances", "DescribeStackSetOperation", "ListStackSetOperationResults", "ListStackInstances"} {
		e.fake.Throttle(a, 2)
	}
	res, err := e.eng.Deploy(context.Background(), request(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Instances) != 6 {
		t.Errorf("%d instances", len(res.Instances))
	}
	throttled := 0
	for _, c := range e.fake.Calls() {
		if c.Throttled {
			throttled++
		}
	}
	if throttled != 10 {
		t.Errorf("%d throttled calls, want 10", throttled)
	}
}

func TestDeleteRemovesInstancesThenTheSet(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	res, err := e.eng.Deploy(ctx, request(t))
	if err != nil {
		t.Fatal(err)
	}
	var stacks []string
	for _, in := range res.Instances {
		stacks = append(stacks, in.StackID)
	}
	// No: nothing changes.
	no := stackset.New(e.cfn, stackset.WithPolling(time.Millisecond, 5*time.Millisecond))
	if _, err := no.Delete(ctx, stackset.DeleteRequest{StackSet: "s3grant-isahit-lab"}); !errors.Is(err, stackset.ErrDeclined) {
		t.Fatalf("declined delete: %v", err)
	}
	if n := e.fake.Count("DeleteStackInstances"); n != 0 {
		t.Fatalf("declined delete called DeleteStackInstances %d times", n)
	}
	if _, err := e.eng.Delete(ctx, stackset.DeleteRequest{StackSet: "s3grant-isahit-lab"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range stacks {
		if s, ok := e.fake.Stack(id); ok {
			t.Errorf("stack %s remains: %s", id, s.Status)
		}
	}
	st, _ := e.fake.StackSet("s3grant-isahit-lab")
	if st.Status != "DELETED" || len(st.Instances) != 0 {
		t.Errorf("set %s with %d instances", st.Status, len(st.Instances))
	}
	// Instances went before the set, and were kept nowhere (RetainStacks false).
	actions := strings.Join(e.fake.Actions(), " ")
	if i, j := strings.LastIndex(actions, "DeleteStackInstances"), strings.Index(actions, "DeleteStackSet"); i < 0 || j < i {
		t.Errorf("order of calls: %s", actions)
	}
}

func TestRefusesStackSetsItDidNotCreate(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	_, err := e.cfn.CreateStackSet(ctx, &cloudformation.CreateStackSetInput{StackSetName: aws.String("theirs"),
		TemplateBody: aws.String(string(template(t))), Capabilities: []types.Capability{types.CapabilityCapabilityIam},
		Description: aws.String("s3grant: looks like ours")})
	if err != nil {
		t.Fatal(err)
	}
	req := request(t)
	req.StackSet = "theirs"
	if _, err := e.eng.Deploy(ctx, req); !errors.As(err, new(*stackset.NotOursError)) {
		t.Errorf("deploy: %v", err)
	}
	if _, err := e.eng.Delete(ctx, stackset.DeleteRequest{StackSet: "theirs"}); !errors.As(err, new(*stackset.NotOursError)) {
		t.Errorf("delete: %v", err)
	}
	if _, err := e.eng.Status(ctx, "theirs"); !errors.As(err, new(*stackset.NotOursError)) {
		t.Errorf("status: %v", err)
	}
	for _, a := range e.fake.Actions() {
		if a != "DescribeStackSet" && a != "CreateStackSet" {
			t.Errorf("called %s on a stack set not ours", a)
		}
	}
}

func TestInterruptStopsWatchingNotTheOperation(t *testing.T) {
	e := newEnv(t, true)
	e.fake.SetDelay("", 5*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	e.rec.onEvent = func(stackset.InstanceEvent) { cancel() }
	_, err := e.eng.Deploy(ctx, request(t))
	var ie *stackset.InterruptedError
	if !errors.As(err, &ie) || ie.OperationID == "" || ie.StackSet != "s3grant-isahit-lab" {
		t.Fatalf("err = %v", err)
	}
	// The operation goes on; Watch follows it to its end.
	e.rec.onEvent = nil
	res, err := e.eng.Watch(context.Background(), ie.StackSet, ie.OperationID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Operations[0].Status != "SUCCEEDED" || len(res.Operations[0].Results) != 2 {
		t.Errorf("watched: %+v", res.Operations[0])
	}
}

func TestServiceManagedBatchesOrgUnits(t *testing.T) {
	org := map[string][]string{}
	var ous []string
	for i := range 120 {
		ou := fmt.Sprintf("ou-ab12-%08d", i)
		ous = append(ous, ou)
		org[ou] = []string{fmt.Sprintf("5%011d", i)}
	}
	e := newEnv(t, true, cfnfake.WithOrganization(org))
	req := request(t)
	req.Targets = nil
	for _, ou := range ous {
		req.Targets = append(req.Targets, stackset.Target{OrgUnit: ou, Region: "eu-west-3", Overrides: map[string]string{"BucketName": "org-data"}})
	}
	req.Permissions = stackset.Permissions{ServiceManaged: true, AutoDeployment: true}
	req.Preferences = stackset.Preferences{MaxConcurrentPercent: 100, FailureTolerancePercent: 10}
	res, err := e.eng.Deploy(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.fake.Count("CreateStackInstances"); n != 3 {
		t.Errorf("%d CreateStackInstances calls for 120 OUs, want 3", n)
	}
	if len(res.Instances) != 120 {
		t.Errorf("%d instances", len(res.Instances))
	}
	st, _ := e.fake.StackSet(req.StackSet)
	if st.PermissionModel != "SERVICE_MANAGED" {
		t.Errorf("permission model %s", st.PermissionModel)
	}
}

// DeleteRequest.Last holds instances back until every other one is deleted: the home region's
// instances, whose role the other regions' policies are attached to, go last.
func TestDeleteHoldsBackLastInstances(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	if _, err := e.eng.Deploy(ctx, request(t)); err != nil {
		t.Fatal(err)
	}
	e.rec.mu.Lock()
	e.rec.ops = nil
	e.rec.mu.Unlock()
	home := func(in stackset.Instance) bool { return in.Region == "eu-west-3" }
	if _, err := e.eng.Delete(ctx, stackset.DeleteRequest{StackSet: "s3grant-isahit-lab", Last: home}); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, op := range e.rec.ops {
		order = append(order, strings.Join(op.Regions, ","))
	}
	if strings.Join(order, " ") != "us-east-1 eu-west-3" {
		t.Errorf("deletions by region %v, want us-east-1 first, then eu-west-3", order)
	}
	if st, _ := e.fake.StackSet("s3grant-isahit-lab"); st.Status != "DELETED" {
		t.Errorf("set %s", st.Status)
	}
}
