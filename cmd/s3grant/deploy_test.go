package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isahit/s3grant/deploy"
	"github.com/isahit/s3grant/internal/awsfake/awsquery"
	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
)

const deployStack = "isahit-lab-" + aw.Bucket

// syncBuffer is a bytes.Buffer safe to read while the CLI writes it; onWrite sees each write.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	onWrite func(string)
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	n, err := b.buf.Write(p)
	b.mu.Unlock()
	if b.onWrite != nil {
		b.onWrite(string(p))
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runDeployCLI runs s3grant in-process with the deploy engine polling every few
// milliseconds instead of every second.
func runDeployCLI(ctx context.Context, t *testing.T, stdin io.Reader, stdout *syncBuffer, args ...string) (int, string, string) {
	t.Helper()
	if stdout == nil {
		stdout = &syncBuffer{}
	}
	var stderr syncBuffer
	a := &app{stdin: stdin, stdout: stdout, stderr: &stderr,
		deployOptions: []deploy.Option{deploy.WithPolling(5*time.Millisecond, 20*time.Millisecond)}}
	code := runApp(ctx, a, args)
	return code, stdout.String(), stderr.String()
}

func deployArgs(w *aw.World, extra ...string) []string {
	return append([]string{"deploy", "--bucket", aw.Bucket, "--external-id", aw.ExternalID, "--endpoint-url", w.URL}, extra...)
}

// eventLine matches one printed stack event: time, count, logical ID, type, status.
var eventLine = regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d \[\d+/\d+\]\s+(\S+)\s+(\S+)\s+(\S+)`)

func TestDeployUpdateStatusDelete(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	ctx := context.Background()

	code, out, errOut := runDeployCLI(ctx, t, strings.NewReader(""), nil, deployArgs(w, "--yes", "--tag", "cost-center=42")...)
	if code != exitOK || errOut != "" {
		t.Fatalf("deploy: exit %d, stderr %q\n%s", code, errOut, out)
	}
	st, ok := w.CFN.Stack(deployStack)
	if !ok || st.Status != "CREATE_COMPLETE" {
		t.Fatalf("stack %+v", st)
	}
	if st.Tags["cost-center"] != "42" || st.Tags["integration"] != "isahit-lab" {
		t.Errorf("tags %v: want --tag and the profile's default tags", st.Tags)
	}
	if !regexp.MustCompile(`(?m)^  \+ add\s+VendorRole\s+AWS::IAM::Role$`).MatchString(out) {
		t.Errorf("the preview lacks the role:\n%s", out)
	}
	// Before asking, the admin reads what is granted, with this deploy's values.
	for _, want := range []string{
		"isahit Lab: Allow sts:AssumeRole by arn:aws:iam::" + aw.VendorAccount + ":root if sts:ExternalId StringEquals " + aw.ExternalID,
		"isahit Lab's role: Allow s3:GetObject on arn:aws:s3:::" + aw.Bucket + "/*, arn:aws:s3:" + aw.Region + ":" + aw.CustomerAccount + ":accesspoint/" + aw.AccessPoint + "/object/*",
		"CORS function: Allow s3:GetBucketCORS, s3:PutBucketCORS on arn:aws:s3:::" + aw.Bucket,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the preview does not say %q:\n%s", want, out)
		}
	}
	for _, want := range []string{"acknowledges CAPABILITY_IAM", "[y/N] yes (--yes)",
		"Stack " + deployStack + ": CREATE_COMPLETE (", "Paste these into isahit Lab:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	events := eventLine.FindAllStringSubmatch(out, -1)
	if len(events) < len(st.Resources)*2 || events[len(events)-1][1] != deployStack || events[len(events)-1][3] != "CREATE_COMPLETE" {
		t.Errorf("event lines:\n%s", out)
	}
	// The pasted values are the stack's outputs.
	for _, k := range []string{"RoleArn", "ExternalId", "AccessPointArn", "AccessPointAlias", "BucketName"} {
		if !regexp.MustCompile(`(?m)^  ` + k + ` +` + regexp.QuoteMeta(st.Outputs[k]) + `$`).MatchString(out) {
			t.Errorf("output lacks %s = %s:\n%s", k, st.Outputs[k], out)
		}
	}

	// Again: no changes, exit 0, nothing executed.
	code, out, _ = runDeployCLI(ctx, t, strings.NewReader(""), nil, deployArgs(w, "--yes", "--tag", "cost-center=42")...)
	if code != exitOK || !strings.Contains(out, "is up to date") || w.CFN.Count("ExecuteChangeSet") != 1 {
		t.Fatalf("re-deploy: exit %d\n%s", code, out)
	}

	code, out, _ = runDeployCLI(ctx, t, nil, nil, "status", "--bucket", aw.Bucket, "--endpoint-url", w.URL)
	if code != exitOK || !strings.Contains(out, "Stack "+deployStack+": CREATE_COMPLETE") {
		t.Fatalf("status: exit %d\n%s", code, out)
	}

	// Delete asks, default no.
	code, out, _ = runDeployCLI(ctx, t, tty("\n"), nil, "delete", "--stack-name", deployStack, "--endpoint-url", w.URL)
	if code != exitFailure || !strings.Contains(out, "Delete stack "+deployStack+"? [y/N]") || w.CFN.Count("DeleteStack") != 0 {
		t.Fatalf("delete answered with Enter: exit %d\n%s", code, out)
	}
	code, out, errOut = runDeployCLI(ctx, t, tty("y\n"), nil, "delete", "--stack-name", deployStack, "--endpoint-url", w.URL)
	if code != exitOK || !strings.Contains(out, "Stack "+deployStack+" deleted.") {
		t.Fatalf("delete: exit %d, stderr %q\n%s", code, errOut, out)
	}
	if _, ok := w.CFN.Stack(deployStack); ok {
		t.Fatal("the stack still exists")
	}
	for _, c := range w.S3.Calls() {
		if c.Method != "GET" && c.Method != "HEAD" {
			t.Errorf("deploy or delete changed the bucket: %+v", c)
		}
	}
}

func TestDeployJSONThroughEnvironmentEndpoint(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	t.Setenv("AWS_ENDPOINT_URL", w.URL)
	t.Setenv("AWS_REGION", "")
	code, out, errOut := runDeployCLI(context.Background(), t, nil, nil,
		"deploy", "--bucket", aw.Bucket, "--external-id", aw.ExternalID, "--yes", "--output", "json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	var res struct {
		StackName, Region, Outcome, Status string
		Outputs                            map[string]string
		Changes                            []deploy.Change
	}
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&res); err != nil || dec.More() {
		t.Fatalf("stdout is not one JSON object (%v):\n%s", err, out)
	}
	st, _ := w.CFN.Stack(deployStack)
	if res.Outcome != "created" || res.Status != "CREATE_COMPLETE" || res.Region != aw.Region || len(res.Changes) != len(st.Resources) {
		t.Fatalf("result %+v", res)
	}
	if len(res.Outputs) != len(st.Outputs) {
		t.Fatalf("outputs %v, stack %v", res.Outputs, st.Outputs)
	}
	for k, v := range st.Outputs {
		if res.Outputs[k] != v {
			t.Errorf("output %s = %q, stack has %q", k, res.Outputs[k], v)
		}
	}
	if !strings.Contains(errOut, "CREATE_COMPLETE") {
		t.Errorf("progress should go to stderr with --output json:\n%s", errOut)
	}
}

func TestDeployFailureExitsOneWithTheRootCause(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	const reason = "Resource handler returned message: \"Role with name isahit-lab-role already exists.\""
	w.CFN.FailResource("VendorRole", reason)
	code, out, errOut := runDeployCLI(context.Background(), t, nil, nil, deployArgs(w, "--yes", "--role-name", "isahit-lab-role")...)
	if code != exitFailure {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "Root cause: VendorRole: "+reason) || !strings.Contains(out, "ROLLBACK_COMPLETE") {
		t.Errorf("output lacks the root cause:\n%s", out)
	}
	if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, reason) {
		t.Errorf("stderr %q", errOut)
	}
	if strings.Contains(out, "Paste these") {
		t.Error("outputs printed for a failed stack")
	}
	code, out, errOut = runDeployCLI(context.Background(), t, nil, nil, "status", "--stack-name", deployStack, "--endpoint-url", w.URL)
	if code != exitFailure || !strings.Contains(out, "Root cause: VendorRole: "+reason) ||
		!strings.Contains(errOut, "the last operation on stack "+deployStack+" failed: ROLLBACK_COMPLETE") {
		t.Fatalf("status of the failed stack: exit %d, stderr %q\n%s", code, errOut, out)
	}
	// The next deploy explains ROLLBACK_COMPLETE and replaces the stack only when told to.
	code, out, _ = runDeployCLI(context.Background(), t, tty("\n"), nil, deployArgs(w, "--role-name", "isahit-lab-role")...)
	if code != exitFailure || !strings.Contains(out, "is in ROLLBACK_COMPLETE: its first create failed (VendorRole: "+reason) {
		t.Fatalf("exit %d\n%s", code, out)
	}
	code, out, _ = runDeployCLI(context.Background(), t, tty("y\ny\n"), nil, deployArgs(w, "--role-name", "isahit-lab-role")...)
	if st, _ := w.CFN.Stack(deployStack); code != exitOK || st.Status != "CREATE_COMPLETE" {
		t.Fatalf("replacement: exit %d\n%s", code, out)
	}
}

func TestDeployAsksAndDefaultsToNo(t *testing.T) {
	for _, answer := range []string{"", "\n", "n\n", "whatever\n"} {
		verifyEnv(t)
		w := aw.Start(t)
		code, out, errOut := runDeployCLI(context.Background(), t, tty(answer), nil, deployArgs(w)...)
		if code != exitFailure || !strings.Contains(out, "Execute this change set on stack "+deployStack+"? [y/N]") {
			t.Fatalf("answer %q: exit %d\n%s", answer, code, out)
		}
		if !strings.Contains(errOut, "declined: nothing changed") {
			t.Errorf("stderr %q", errOut)
		}
		if _, ok := w.CFN.Stack(deployStack); ok && w.CFN.Count("ExecuteChangeSet") != 0 {
			t.Fatalf("answer %q executed the change set", answer)
		}
	}
}

func TestDeployDryRun(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	code, out, _ := runDeployCLI(context.Background(), t, nil, nil, deployArgs(w, "--dry-run")...)
	if code != exitOK || !strings.Contains(out, "Dry run: the change set was deleted; nothing changed.") ||
		strings.Contains(out, "[y/N]") || w.CFN.Count("ExecuteChangeSet") != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func TestDeployCtrlC(t *testing.T) {
	t.Run("at the prompt", func(t *testing.T) {
		verifyEnv(t)
		w := aw.Start(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		pipe, _ := io.Pipe() // nobody answers
		stdin := ttyReader{pipe}
		stdout := &syncBuffer{onWrite: func(s string) {
			if strings.Contains(s, "[y/N]") {
				cancel()
			}
		}}
		code, out, errOut := runDeployCLI(ctx, t, stdin, stdout, deployArgs(w)...)
		if code != exitInterrupted || !strings.Contains(errOut, "nothing changed") {
			t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
		}
		if st, ok := w.CFN.Stack(deployStack); ok && st.Status != "DELETE_IN_PROGRESS" {
			t.Fatalf("the stack awaiting review was left: %s", st.Status)
		}
	})
	t.Run("while watching", func(t *testing.T) {
		verifyEnv(t)
		w := aw.Start(t)
		w.CFN.SetDelay("VendorRole", 300*time.Millisecond)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stdout := &syncBuffer{onWrite: func(s string) {
			if strings.Contains(s, "VendorRole") && strings.Contains(s, "CREATE_IN_PROGRESS") {
				cancel()
			}
		}}
		code, _, errOut := runDeployCLI(ctx, t, nil, stdout, deployArgs(w, "--yes")...)
		resume := "s3grant status --watch --stack-name " + deployStack + " --region " + aw.Region + " --endpoint-url " + w.URL
		if code != exitInterrupted || !strings.Contains(errOut, "keeps going") || !strings.Contains(errOut, resume) {
			t.Fatalf("exit %d, stderr:\n%s", code, errOut)
		}
		// The printed command resumes watching to the end.
		code, out, _ := runDeployCLI(context.Background(), t, nil, nil, strings.Fields(resume)[1:]...)
		if code != exitOK || !strings.Contains(out, "CREATE_COMPLETE") {
			t.Fatalf("resume: exit %d\n%s", code, out)
		}
	})
}

func TestDeployRefusesBeforeAnyChange(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		setup  func(*aw.World)
		env    map[string]string
		code   int
		stderr string
	}{
		{"region of another bucket", []string{"--region", "us-east-1"}, nil, nil, exitBadInput,
			"--region is us-east-1 but bucket " + aw.Bucket + " is in " + aw.Region},
		{"missing bucket", []string{"--bucket", "no-such-bucket"}, nil, nil, exitFailure, "bucket no-such-bucket does not exist"},
		{"bad credentials", nil, func(w *aw.World) {
			w.CFN.CheckCredentials(func(string) *awsquery.Error {
				return awsquery.Sender("InvalidClientTokenId", "The security token included in the request is invalid.")
			})
		}, nil, exitFailure, "AWS does not accept these credentials (InvalidClientTokenId)"},
		{"no credentials", nil, nil, map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
			exitFailure, "s3grant: no usable AWS credentials: sign in"},
		{"bad tag", []string{"--tag", "nokey"}, nil, nil, exitBadInput, "--tag"},
		{"no external ID", []string{"--external-id", ""}, nil, nil, exitBadInput, "--external-id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			verifyEnv(t)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			w := aw.Start(t)
			if c.setup != nil {
				c.setup(w)
			}
			code, out, errOut := runDeployCLI(context.Background(), t, nil, nil, deployArgs(w, append(c.args, "--yes")...)...)
			// One line, which says what to do.
			if code != c.code || !strings.Contains(errOut, c.stderr) || strings.Count(errOut, "\n") != 1 {
				t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
			}
			for _, a := range w.CFN.Actions() {
				if a != "DescribeStacks" {
					t.Fatalf("CloudFormation was called: %v", w.CFN.Actions())
				}
			}
		})
	}
}

func TestStatusWithoutRegion(t *testing.T) {
	verifyEnv(t)
	t.Setenv("AWS_REGION", "")
	code, _, errOut := runDeployCLI(context.Background(), t, nil, nil, "status", "--stack-name", "x", "--endpoint-url", "http://127.0.0.1:1")
	if code != exitBadInput || !strings.Contains(errOut, "--region") || !strings.Contains(errOut, "no AWS region") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}
