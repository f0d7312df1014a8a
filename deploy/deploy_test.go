package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/isahit/s3grant/deploy"
	"github.com/isahit/s3grant/internal/awsfake/awsquery"
	"github.com/isahit/s3grant/internal/awsfake/cfnfake"
	"github.com/isahit/s3grant/profile"
	"github.com/isahit/s3grant/stacks"
)

const (
	stackName  = "s3grant-isahit-lab-my-bucket"
	externalID = "a6fa9c7f-7f53-4a41-812d-a29f48288a94"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu       sync.Mutex
	phases   []deploy.Phase
	previews []*deploy.Preview
	events   []deploy.Event
	onEvent  func(deploy.Event)
	onPhase  func(deploy.Phase)
}

func (r *recorder) Phase(p deploy.Phase, _ string) {
	r.mu.Lock()
	r.phases = append(r.phases, p)
	r.mu.Unlock()
	if r.onPhase != nil {
		r.onPhase(p)
	}
}

func (r *recorder) Preview(p *deploy.Preview) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.previews = append(r.previews, p)
}

func (r *recorder) Event(e deploy.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	if r.onEvent != nil {
		r.onEvent(e)
	}
}

// lines returns the events as "LogicalID STATUS reason" lines.
func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if e.Reason == "Resource creation Initiated" {
			continue
		}
		out = append(out, strings.TrimSpace(e.LogicalID+" "+e.Status+" "+e.Reason))
	}
	return out
}

type env struct {
	fake *cfnfake.Fake
	cfn  *cloudformation.Client
}

func newEnv(t *testing.T, opts ...cfnfake.Option) *env {
	t.Helper()
	fake, url := cfnfake.Start(t, append([]cfnfake.Option{cfnfake.WithPageSize(4)}, opts...)...)
	return &env{fake: fake, cfn: client(url, "AKIDTEST")}
}

func client(url, accessKey string) *cloudformation.Client {
	return cloudformation.New(cloudformation.Options{
		Region:       "eu-west-3",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, "secret", ""),
	})
}

// answers returns a ConfirmFunc answering each kind of question as given (no otherwise),
// recording the questions.
func answers(asked *[]deploy.Question, yes ...deploy.QuestionKind) deploy.ConfirmFunc {
	return func(_ context.Context, q deploy.Question) (bool, error) {
		*asked = append(*asked, q)
		return slices.Contains(yes, q.Kind), nil
	}
}

func (e *env) engine(obs deploy.Observer, confirm deploy.ConfirmFunc) *deploy.Engine {
	opts := []deploy.Option{deploy.WithPolling(5*time.Millisecond, 20*time.Millisecond)}
	if obs != nil {
		opts = append(opts, deploy.WithObserver(obs))
	}
	if confirm != nil {
		opts = append(opts, deploy.WithConfirm(confirm))
	}
	return deploy.New(e.cfn, opts...)
}

func request(t testing.TB, change func(*stacks.Integration)) deploy.Request {
	t.Helper()
	in := stacks.New(profile.Default())
	in.BucketName, in.ExternalID = "my-bucket", externalID
	if change != nil {
		change(&in)
	}
	body, err := stacks.JSON(in)
	if err != nil {
		t.Fatal(err)
	}
	// Every parameter given, empty ones too: previousValuesRequest tests the ones left out.
	return deploy.Request{StackName: stackName, TemplateBody: body, Parameters: in.ValuesOf(stacks.ParamNames()...), Vendor: in.Vendor.Name,
		Tags: map[string]string{"integration": "isahit-lab", "cost-center": "42"}}
}

// resourceIDs returns the logical IDs of a template's resources, sorted.
func resourceIDs(t *testing.T, body []byte) []string {
	t.Helper()
	var tmpl struct{ Resources map[string]any }
	if err := json.Unmarshal(body, &tmpl); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id := range tmpl.Resources {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func changes(p *deploy.Preview) []string {
	var out []string
	for _, c := range p.Changes {
		s := c.Action + " " + c.LogicalID
		if c.Action == "Modify" {
			s += fmt.Sprintf(" replace=%s %v", c.Replacement, c.Properties)
		}
		out = append(out, s)
	}
	return out
}

func outputs(r *deploy.Result) map[string]string {
	m := map[string]string{}
	for _, o := range r.Outputs {
		m[o.Key] = o.Value
	}
	return m
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestCreateThenNoChangesThenUpdate(t *testing.T) {
	e := newEnv(t)
	var asked []deploy.Question
	obs := &recorder{}
	req := request(t, nil)
	ids := resourceIDs(t, req.TemplateBody)
	res, err := e.engine(obs, answers(&asked, deploy.AskExecute)).Deploy(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := e.fake.Stack(stackName)
	if res.Outcome != deploy.Created || res.Status != "CREATE_COMPLETE" || st.Status != "CREATE_COMPLETE" {
		t.Fatalf("outcome %v, status %s, fake says %s", res.Outcome, res.Status, st.Status)
	}
	if !equal(outputs(res), st.Outputs) || len(st.Outputs) < 5 {
		t.Fatalf("outputs %v, stack has %v", outputs(res), st.Outputs)
	}
	if st.Tags["cost-center"] != "42" || st.Parameters["ExternalId"] != externalID {
		t.Fatalf("tags %v parameters %v", st.Tags, st.Parameters)
	}
	if len(asked) != 1 || asked[0].Kind != deploy.AskExecute || asked[0].Preview == nil {
		t.Fatalf("questions: %+v", asked)
	}
	p := asked[0].Preview
	if got, want := strings.Join(changes(p), ","), "Add "+strings.Join(ids, ",Add "); got != want || !p.Create {
		t.Fatalf("preview: %s (create %v), want %s", got, p.Create, want)
	}
	if !slices.Equal(p.Capabilities, []string{"CAPABILITY_IAM"}) {
		t.Fatalf("capabilities shown: %v", p.Capabilities)
	}
	if len(obs.previews) != 1 || obs.previews[0] != p {
		t.Fatal("the observer did not get the preview before the question")
	}
	lines := obs.lines()
	if lines[0] != stackName+" CREATE_IN_PROGRESS User Initiated" || lines[len(lines)-1] != stackName+" CREATE_COMPLETE" {
		t.Fatalf("events do not span the operation:\n%s", strings.Join(lines, "\n"))
	}
	if slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, "REVIEW_IN_PROGRESS") }) {
		t.Fatal("an event from before the operation was reported")
	}
	last := obs.events[len(obs.events)-1]
	if n := len(ids); res.Done != n || res.Total != n || last.Done != n || last.Total != n {
		t.Fatalf("done %d/%d, last event %d/%d", res.Done, res.Total, last.Done, last.Total)
	}

	// The same deploy again changes nothing: success, and the empty change set is gone.
	executes := e.fake.Count("ExecuteChangeSet")
	asked = nil
	res, err = e.engine(nil, answers(&asked, deploy.AskExecute)).Deploy(context.Background(), request(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	st, _ = e.fake.Stack(stackName)
	if res.Outcome != deploy.NoChanges || len(asked) != 0 || e.fake.Count("ExecuteChangeSet") != executes {
		t.Fatalf("no-op: outcome %v, %d questions", res.Outcome, len(asked))
	}
	if len(st.ChangeSets) != 0 || e.fake.Count("DeleteChangeSet") != 1 {
		t.Fatalf("the empty change set was not deleted: %v", st.ChangeSets)
	}
	if !equal(outputs(res), st.Outputs) {
		t.Fatalf("no-op outputs %v, stack has %v", outputs(res), st.Outputs)
	}

	// Naming the role replaces it and needs CAPABILITY_NAMED_IAM, shown in the preview. The
	// vendor holds the role's ARN: a yes to executing is not enough, a second question asks.
	named := request(t, func(in *stacks.Integration) { in.RoleName = "isahit-lab-reader" })
	asked = nil
	_, err = e.engine(nil, answers(&asked, deploy.AskExecute)).Deploy(context.Background(), named)
	if !errors.Is(err, deploy.ErrDeclined) || len(asked) != 2 || asked[1].Kind != deploy.AskReplace ||
		e.fake.Count("ExecuteChangeSet") != executes {
		t.Fatalf("replacing the role with one yes: %v, questions %d", err, len(asked))
	}
	vc := asked[1].Preview.VendorChanges
	if len(vc) != 1 || vc[0].Resource != stacks.VendorRoleID || vc[0].Param != "RoleName" || !slices.Equal(vc[0].Outputs, []string{"RoleArn"}) {
		t.Fatalf("vendor changes %+v", vc)
	}
	asked = nil
	res, err = e.engine(nil, answers(&asked, deploy.AskExecute, deploy.AskReplace)).Deploy(context.Background(), named)
	if err != nil {
		t.Fatal(err)
	}
	p = asked[0].Preview
	if got := strings.Join(changes(p), ","); got != "Modify VendorRole replace=True [RoleName]" || p.Create {
		t.Fatalf("update preview: %s", got)
	}
	if !slices.Equal(p.Capabilities, []string{"CAPABILITY_NAMED_IAM"}) {
		t.Fatalf("capabilities shown: %v", p.Capabilities)
	}
	if res.Outcome != deploy.Updated || res.Status != "UPDATE_COMPLETE" ||
		outputs(res)["RoleArn"] != "arn:aws:iam::123456789012:role/isahit-lab-reader" {
		t.Fatalf("update: %v %s %v", res.Outcome, res.Status, outputs(res))
	}
}

func TestDryRunAndRefusalChangeNothing(t *testing.T) {
	cases := []struct {
		name    string
		dryRun  bool
		confirm func(cancel context.CancelFunc) deploy.ConfirmFunc
		wantErr func(error) bool
	}{
		{"dry run", true, nil, func(err error) bool { return err == nil }},
		{"no at the prompt", false,
			func(context.CancelFunc) deploy.ConfirmFunc {
				return func(context.Context, deploy.Question) (bool, error) { return false, nil }
			},
			func(err error) bool { return errors.Is(err, deploy.ErrDeclined) }},
		{"Ctrl-C at the prompt", false,
			func(cancel context.CancelFunc) deploy.ConfirmFunc {
				return func(ctx context.Context, _ deploy.Question) (bool, error) { cancel(); return false, ctx.Err() }
			},
			func(err error) bool {
				var ie *deploy.InterruptedError
				return errors.As(err, &ie) && !ie.Running && errors.Is(err, context.Canceled)
			}},
	}
	for _, c := range cases {
		for _, existing := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/existing=%v", c.name, existing), func(t *testing.T) {
				e := newEnv(t)
				if existing {
					if _, err := e.engine(nil, answers(new([]deploy.Question), deploy.AskExecute)).Deploy(context.Background(), request(t, nil)); err != nil {
						t.Fatal(err)
					}
				}
				before, _ := e.fake.Stack(stackName)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var confirm deploy.ConfirmFunc
				if c.confirm != nil {
					confirm = c.confirm(cancel)
				}
				req := request(t, func(in *stacks.Integration) { in.ObjectPrefix = "images/" })
				req.DryRun = c.dryRun
				res, err := e.engine(nil, confirm).Deploy(ctx, req)
				if !c.wantErr(err) {
					t.Fatalf("error %v", err)
				}
				if c.dryRun && (res.Outcome != deploy.DryRun || len(res.Preview.Changes) == 0) {
					t.Fatalf("dry run result %+v", res)
				}
				after, ok := e.fake.Stack(stackName)
				if !existing && ok && after.Status == "DELETE_IN_PROGRESS" {
					ok = false // the empty stack awaiting review is being deleted
				}
				if existing != ok {
					t.Fatalf("stack exists after: %v (status %s)", ok, after.Status)
				}
				if existing && (after.Status != before.Status || after.Events != before.Events ||
					!equal(after.Parameters, before.Parameters) || len(after.ChangeSets) != 0) {
					t.Fatalf("stack changed: %+v -> %+v", before, after)
				}
				if n := e.fake.Count("ExecuteChangeSet"); n != map[bool]int{false: 0, true: 1}[existing] {
					t.Fatalf("%d executions", n)
				}
			})
		}
	}
}

func TestFailureReportsRootCauseAndRollsBack(t *testing.T) {
	e := newEnv(t, cfnfake.WithDelay(stacks.AccessPointID, 80*time.Millisecond))
	const reason = `Resource handler returned message: "User: arn:aws:iam::123456789012:user/admin is not authorized to perform: iam:CreatePolicy"`
	e.fake.FailResource(stacks.ReadPolicyID, reason)
	obs := &recorder{}
	res, err := e.engine(obs, answers(new([]deploy.Question), deploy.AskExecute)).Deploy(context.Background(), request(t, nil))
	var fe *deploy.FailedError
	if !errors.As(err, &fe) || fe.Result != res {
		t.Fatalf("error %v, want *FailedError with the result", err)
	}
	if res.Reason != reason || res.FailedResource != stacks.ReadPolicyID || res.Status != "ROLLBACK_COMPLETE" {
		t.Fatalf("root cause %s: %q, status %s", res.FailedResource, res.Reason, res.Status)
	}
	if !strings.Contains(err.Error(), reason) {
		t.Fatalf("the error does not carry the reason: %v", err)
	}
	lines := strings.Join(obs.lines(), "\n")
	for _, want := range []string{"AccessPoint CREATE_FAILED Resource creation cancelled", "ReadPolicy CREATE_FAILED " + reason,
		"AccessPoint DELETE_COMPLETE", stackName + " ROLLBACK_COMPLETE"} {
		if !strings.Contains(lines, want) {
			t.Fatalf("events lack %q:\n%s", want, lines)
		}
	}

	// The next deploy explains the dead stack and replaces it only with consent.
	var asked []deploy.Question
	_, err = e.engine(nil, answers(&asked)).Deploy(context.Background(), request(t, nil))
	var se *deploy.StateError
	if !errors.As(err, &se) || se.Status != "ROLLBACK_COMPLETE" || len(asked) != 1 ||
		asked[0].Kind != deploy.AskReplaceFailed || !strings.Contains(asked[0].Reason, reason) {
		t.Fatalf("without consent: %v, questions %+v", err, asked)
	}
	if st, _ := e.fake.Stack(stackName); st.Status != "ROLLBACK_COMPLETE" || e.fake.Count("DeleteStack") != 0 {
		t.Fatalf("the failed stack was touched without consent: %s", st.Status)
	}
	asked = nil
	res, err = e.engine(nil, answers(&asked, deploy.AskReplaceFailed, deploy.AskExecute)).Deploy(context.Background(), request(t, nil))
	if err != nil || res.Outcome != deploy.Created || res.Status != "CREATE_COMPLETE" {
		t.Fatalf("replacement: %v %+v", err, res)
	}
	if len(e.fake.Deleted()) != 1 {
		t.Fatalf("deleted stacks: %v", e.fake.Deleted())
	}
}

func TestUpdateFailureKeepsTheStack(t *testing.T) {
	e := newEnv(t)
	eng := e.engine(nil, answers(new([]deploy.Question), deploy.AskExecute, deploy.AskReplace))
	first, err := eng.Deploy(context.Background(), request(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	e.fake.FailResource(stacks.VendorRoleID, "Role name already exists")
	res, err := eng.Deploy(context.Background(), request(t, func(in *stacks.Integration) { in.RoleName = "taken" }))
	var fe *deploy.FailedError
	if !errors.As(err, &fe) || res.Status != "UPDATE_ROLLBACK_COMPLETE" || res.Reason != "Role name already exists" {
		t.Fatalf("err %v, result %+v", err, res)
	}
	if !equal(outputs(res), outputs(first)) {
		t.Fatalf("outputs after rollback %v, before %v", outputs(res), outputs(first))
	}
	// A stack rolled back from an update is healthy: the next deploy updates it.
	res, err = eng.Deploy(context.Background(), request(t, func(in *stacks.Integration) { in.ObjectPrefix = "a/" }))
	if err != nil || res.Outcome != deploy.Updated {
		t.Fatalf("deploy after rollback: %v %+v", err, res)
	}
}

// startSlowUpdate starts an update of the stack straight through the SDK and returns once it
// runs, so the stack is busy.
func startSlowUpdate(t *testing.T, e *env, delay time.Duration) {
	t.Helper()
	e.fake.SetDelay(stacks.ReadPolicyID, delay)
	req := request(t, func(in *stacks.Integration) { in.ObjectPrefix = "slow/" })
	var params []types.Parameter
	for k, v := range req.Parameters {
		params = append(params, types.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
	}
	ctx := context.Background()
	cs, err := e.cfn.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{StackName: aws.String(stackName),
		ChangeSetName: aws.String("elsewhere"), TemplateBody: aws.String(string(req.TemplateBody)), Parameters: params,
		Capabilities: []types.Capability{types.CapabilityCapabilityIam},
		Tags:         []types.Tag{{Key: aws.String("integration"), Value: aws.String("isahit-lab")}, {Key: aws.String("cost-center"), Value: aws.String("42")}}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(40 * time.Millisecond)
	if _, err := e.cfn.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: cs.Id,
		ClientRequestToken: aws.String("console-1")}); err != nil {
		t.Fatal(err)
	}
}

func TestBusyStack(t *testing.T) {
	e := newEnv(t)
	if _, err := e.engine(nil, answers(new([]deploy.Question), deploy.AskExecute)).Deploy(context.Background(), request(t, nil)); err != nil {
		t.Fatal(err)
	}
	startSlowUpdate(t, e, 150*time.Millisecond)
	var asked []deploy.Question
	creates := e.fake.Count("CreateChangeSet")
	_, err := e.engine(nil, answers(&asked)).Deploy(context.Background(), request(t, nil))
	var be *deploy.BusyError
	if !errors.As(err, &be) || be.Status != "UPDATE_IN_PROGRESS" || len(asked) != 1 || asked[0].Kind != deploy.AskWaitBusy {
		t.Fatalf("busy without waiting: %v, questions %+v", err, asked)
	}
	if e.fake.Count("CreateChangeSet") != creates {
		t.Fatal("a change set was created on a busy stack")
	}

	// With consent it waits for the other operation, reporting its events, then deploys.
	obs := &recorder{}
	res, err := e.engine(obs, answers(new([]deploy.Question), deploy.AskWaitBusy, deploy.AskExecute)).Deploy(context.Background(), request(t, nil))
	if err != nil || res.Outcome != deploy.Updated {
		t.Fatalf("after waiting: %v %+v", err, res)
	}
	if !slices.Contains(obs.phases, deploy.PhaseWaitingForStack) || !slices.Contains(obs.lines(), stackName+" UPDATE_COMPLETE") {
		t.Fatalf("phases %v events %v", obs.phases, obs.lines())
	}
}

func TestCtrlCWhileWatchingLeavesTheStackRunning(t *testing.T) {
	e := newEnv(t, cfnfake.WithDelay(stacks.VendorRoleID, 150*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obs := &recorder{onEvent: func(ev deploy.Event) {
		if ev.LogicalID == stacks.VendorRoleID {
			cancel()
		}
	}}
	_, err := e.engine(obs, answers(new([]deploy.Question), deploy.AskExecute)).Deploy(ctx, request(t, nil))
	var ie *deploy.InterruptedError
	if !errors.As(err, &ie) || !ie.Running || ie.Status != "CREATE_IN_PROGRESS" || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v", err)
	}
	// The stack goes on and completes; status --watch follows it to the end.
	res, err := e.engine(nil, nil).Status(context.Background(), stackName, true)
	if err != nil || res.Status != "CREATE_COMPLETE" || len(res.Outputs) == 0 {
		t.Fatalf("status --watch: %v %+v", err, res)
	}
}

func TestStatusExplainsAFailure(t *testing.T) {
	e := newEnv(t)
	e.fake.FailResource(stacks.VendorRoleID, "boom")
	_, _ = e.engine(nil, answers(new([]deploy.Question), deploy.AskExecute)).Deploy(context.Background(), request(t, nil))
	res, err := e.engine(nil, nil).Status(context.Background(), stackName, false)
	if err != nil || res.Status != "ROLLBACK_COMPLETE" || res.Reason != "boom" || res.FailedResource != stacks.VendorRoleID {
		t.Fatalf("status: %v %+v", err, res)
	}
	_, err = e.engine(nil, nil).Status(context.Background(), "other", false)
	var nf *deploy.NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("missing stack: %v", err)
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	if _, err := e.engine(nil, answers(new([]deploy.Question), deploy.AskExecute)).Deploy(context.Background(), request(t, nil)); err != nil {
		t.Fatal(err)
	}
	req := deploy.DeleteRequest{StackName: stackName, DescriptionPrefix: "s3grant "}
	n := len(resourceIDs(t, request(t, nil).TemplateBody))

	var asked []deploy.Question
	if _, err := e.engine(nil, answers(&asked)).Delete(context.Background(), req); !errors.Is(err, deploy.ErrDeclined) {
		t.Fatalf("declined delete: %v", err)
	}
	if len(asked) != 1 || len(asked[0].Resources) != n {
		t.Fatalf("the question does not list the resources: %+v", asked)
	}
	if st, ok := e.fake.Stack(stackName); !ok || st.Status != "CREATE_COMPLETE" {
		t.Fatal("declined delete touched the stack")
	}

	_, err := e.engine(nil, answers(&asked, deploy.AskDelete)).Delete(context.Background(),
		deploy.DeleteRequest{StackName: stackName, DescriptionPrefix: "acme "})
	var no *deploy.NotOursError
	if !errors.As(err, &no) || e.fake.Count("DeleteStack") != 0 {
		t.Fatalf("a stack of another tool: %v", err)
	}

	obs := &recorder{}
	res, err := e.engine(obs, answers(&asked, deploy.AskDelete)).Delete(context.Background(), req)
	if err != nil || res.Status != "DELETE_COMPLETE" || res.Done != n {
		t.Fatalf("delete: %v %+v", err, res)
	}
	if _, ok := e.fake.Stack(stackName); ok {
		t.Fatal("the stack still exists")
	}
	if l := obs.lines(); l[len(l)-1] != stackName+" DELETE_COMPLETE" {
		t.Fatalf("events: %v", l)
	}
	_, err = e.engine(nil, answers(&asked, deploy.AskDelete)).Delete(context.Background(), req)
	var nf *deploy.NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("deleting a missing stack: %v", err)
	}
}

func TestBadCredentialsTouchNothing(t *testing.T) {
	e := newEnv(t)
	e.fake.CheckCredentials(func(key string) *awsquery.Error {
		return awsquery.Sender("InvalidClientTokenId", "The security token included in the request is invalid.")
	})
	_, err := e.engine(nil, answers(new([]deploy.Question), deploy.AskExecute)).Deploy(context.Background(), request(t, nil))
	var ce *deploy.CredentialsError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "InvalidClientTokenId") {
		t.Fatalf("error %v", err)
	}
	if got := e.fake.Actions(); !slices.Equal(got, []string{"DescribeStacks"}) {
		t.Fatalf("calls: %v", got)
	}
}

// fastRetries makes the SDK's retryer back off for milliseconds, as it would for seconds.
func fastRetries(e *env) {
	e.cfn = cloudformation.New(e.cfn.Options(), func(o *cloudformation.Options) {
		o.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(), 2*time.Millisecond)
	})
}

func TestThrottlingIsRetried(t *testing.T) {
	e := newEnv(t)
	fastRetries(e)
	e.fake.Throttle("DescribeStackEvents", 6) // more than the SDK's 3 attempts
	e.fake.Throttle("DescribeStacks", 3)
	res, err := e.engine(nil, answers(new([]deploy.Question), deploy.AskExecute)).Deploy(context.Background(), request(t, nil))
	if err != nil || res.Status != "CREATE_COMPLETE" {
		t.Fatalf("%v %+v", err, res)
	}
	throttled := 0
	for _, c := range e.fake.Calls() {
		if c.Throttled {
			throttled++
		}
	}
	if throttled != 9 {
		t.Fatalf("%d throttled calls, want 9", throttled)
	}
}

func TestEndlessThrottlingIsBounded(t *testing.T) {
	e := newEnv(t)
	fastRetries(e)
	before := 0
	obs := &recorder{onPhase: func(p deploy.Phase) {
		if p == deploy.PhaseExecuting {
			before = e.fake.Count("DescribeStackEvents")
			e.fake.Throttle("DescribeStackEvents", 1_000_000)
		}
	}}
	_, err := e.engine(obs, answers(new([]deploy.Question), deploy.AskExecute)).Deploy(context.Background(), request(t, nil))
	var we *deploy.WatchError
	if !errors.As(err, &we) || !strings.Contains(err.Error(), "Throttling: Rate exceeded") {
		t.Fatalf("error %v", err)
	}
	// The SDK makes 3 attempts per call; the engine gives up after 8 more throttled polls.
	if n := e.fake.Count("DescribeStackEvents") - before; n != 3*(8+1) {
		t.Fatalf("%d calls: not bounded", n)
	}
}

func TestTemplateTooLarge(t *testing.T) {
	e := newEnv(t)
	req := request(t, nil)
	req.TemplateBody = append(req.TemplateBody, make([]byte, deploy.MaxTemplateBody)...)
	_, err := e.engine(nil, nil).Deploy(context.Background(), req)
	var tl *deploy.TemplateTooLargeError
	if !errors.As(err, &tl) || len(e.fake.Calls()) != 0 {
		t.Fatalf("error %v, calls %v", err, e.fake.Actions())
	}
}

func TestRequiredCapabilities(t *testing.T) {
	cases := []struct {
		name, template string
		params         map[string]string
		want           []types.Capability
	}{
		{"no IAM", `{"Resources": {"A": {"Type": "AWS::S3::AccessPoint"}}}`, nil, nil},
		{"unnamed role", `{"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {}}}}`, nil,
			[]types.Capability{types.CapabilityCapabilityIam}},
		{"literal name", `{"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "r"}}}}`, nil,
			[]types.Capability{types.CapabilityCapabilityNamedIam}},
		{"optional name unset", `{"Parameters": {"N": {"Default": ""}}, "Resources": {"R": {"Type": "AWS::IAM::Role",
			"Properties": {"RoleName": {"Fn::If": ["HasN", {"Ref": "N"}, {"Ref": "AWS::NoValue"}]}}}}}`, nil,
			[]types.Capability{types.CapabilityCapabilityIam}},
		{"optional name set", `{"Parameters": {"N": {"Default": ""}}, "Resources": {"R": {"Type": "AWS::IAM::Role",
			"Properties": {"RoleName": {"Fn::If": ["HasN", {"Ref": "N"}, {"Ref": "AWS::NoValue"}]}}}}}`,
			map[string]string{"N": "reader"}, []types.Capability{types.CapabilityCapabilityNamedIam}},
		{"name from default", `{"Parameters": {"N": {"Default": "reader"}}, "Resources": {"P": {"Type": "AWS::IAM::ManagedPolicy",
			"Properties": {"ManagedPolicyName": {"Ref": "N"}}}}}`, nil, []types.Capability{types.CapabilityCapabilityNamedIam}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := deploy.RequiredCapabilities([]byte(c.template), c.params)
			if err != nil || !slices.Equal(got, c.want) {
				t.Fatalf("got %v, %v; want %v", got, err, c.want)
			}
		})
	}
}
