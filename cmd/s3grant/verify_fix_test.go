package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/internal/awsfake/cfnfake"
	"github.com/isahit/s3grant/internal/cfneval"
	"github.com/isahit/s3grant/stacks"
	"github.com/isahit/s3grant/verify"
)

// stackResources are the stack's resources as CloudFormation resolves its template with the
// stack's current values.
func stackResources(t *testing.T, w *aw.World) (cfnfake.StackState, map[string]map[string]any) {
	t.Helper()
	st, _ := w.CFN.Stack(deployStack)
	pseudo := stacks.PseudoValues(aw.Region, aw.CustomerAccount)
	pseudo["AWS::StackName"], pseudo["AWS::StackId"] = st.Name, st.ID
	tmpl, err := cfneval.Parse([]byte(st.Body), st.Parameters, pseudo)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tmpl.Resources()
	if err != nil {
		t.Fatal(err)
	}
	return st, res
}

// provision puts the stack's role and policy (stackResources) into the world's IAM (the
// CloudFormation fake does not create them), the role with the Tags its template gives it and
// no others, as CloudFormation makes IAM roles.
func provision(t *testing.T, w *aw.World) {
	t.Helper()
	_, res := stackResources(t, w)
	props := func(id string) map[string]any { return res[id]["Properties"].(map[string]any) }
	w.PutTemplateRole(aw.RoleName, props(stacks.VendorRoleID))
	w.IAM.CreatePolicy(aw.PolicyName, aw.Doc(props(stacks.ReadPolicyID)["PolicyDocument"]))
}

// printedCommand is the one `s3grant ...` command a fix prints between backticks.
var printedCommand = regexp.MustCompile("`(s3grant deploy [^`]+)`")

// A stack made without the bucket's KMS key: verify, knowing the stack from the role's tag,
// prints the exact deploy command; run as printed (a user answering yes at the terminal),
// it changes only that value, and verify then passes.
func TestVerifyFixDeployRunsAsPrinted(t *testing.T) {
	w := aw.Start(t)
	aw.Isolate(t, w.URL, aw.CustomerKey, aw.Secret, aw.Region) // the printed command names no endpoint
	before := createStack(t, w)
	provision(t, w)
	args := []string{"verify", "--role-arn", aw.RoleARN, "--bucket", aw.Bucket, "--external-id", aw.ExternalID, "--output", "json"}

	code, stdout, stderr := runCLI(t, "", args...)
	var rep verify.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitFailure {
		t.Fatalf("exit %d, stderr %q, JSON %v:\n%s", code, stderr, err, stdout)
	}
	failed := rep.Failed()
	if len(failed) != 1 || failed[0].ID != verify.CheckEncryption {
		t.Fatalf("failed %+v, want only %s", failed, verify.CheckEncryption)
	}
	m := printedCommand.FindStringSubmatch(failed[0].Fix)
	want := "s3grant deploy --stack-name " + deployStack + " --region " + aw.Region + " --kms-key-arn " + aw.KeyARN
	if m == nil || m[1] != want {
		t.Fatalf("fix %q, want the command %q", failed[0].Fix, want)
	}

	code, out, errOut := runDeployCLI(context.Background(), t, tty("y\n"), nil, strings.Fields(m[1])[1:]...)
	if code != exitOK {
		t.Fatalf("the printed command: exit %d, stderr %q\n%s", code, errOut, out)
	}
	after, _ := w.CFN.Stack(deployStack)
	for k, v := range before.Parameters {
		if got := after.Parameters[k]; k != "KmsKeyArn" && got != v {
			t.Errorf("deploy changed %s from %q to %q", k, v, got)
		}
	}
	if after.Parameters["KmsKeyArn"] != aw.KeyARN {
		t.Fatalf("KmsKeyArn = %q", after.Parameters["KmsKeyArn"])
	}
	provision(t, w)
	if code, stdout, stderr := runCLI(t, "", args...); code != exitOK {
		t.Errorf("verify after the fix: exit %d, stderr %q\n%s", code, stderr, stdout)
	}
}

// A stack that manages CORS: a dropped rule is fixed by --repair-cors, not a hand edit.
func TestVerifyFixCORSThroughTheStack(t *testing.T) {
	w := aw.Start(t)
	aw.Isolate(t, w.URL, aw.CustomerKey, aw.Secret, aw.Region)
	createStack(t, w, "--kms-key-arn", aw.KeyARN)
	provision(t, w)
	b := aw.GoodBucket()
	b.CORS = b.CORS[:1] // the customer's own rule only: the vendor's was removed
	w.S3.PutBucket(b)
	code, stdout, _ := runCLI(t, "", "verify", "--role-arn", aw.RoleARN, "--bucket", aw.Bucket, "--external-id", aw.ExternalID, "--output", "json")
	var rep verify.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitFailure {
		t.Fatalf("exit %d, JSON %v:\n%s", code, err, stdout)
	}
	failed := rep.Failed()
	if len(failed) != 1 || failed[0].ID != verify.CheckCORS {
		t.Fatalf("failed %+v", failed)
	}
	want := "`s3grant deploy --stack-name " + deployStack + " --region " + aw.Region + " --repair-cors`"
	if !strings.Contains(failed[0].Fix, want) || strings.Contains(failed[0].Fix, "put-bucket-cors") {
		t.Errorf("fix %q, want %s and no hand edit", failed[0].Fix, want)
	}
}

// A role with no s3grant stack tags (made by hand, or by a stack of a template older than the
// tags): verify claims no stack and gives the hand fix, saying how to let it find the stack.
func TestVerifyFixWithoutRoleTagsIsTheHandFix(t *testing.T) {
	w := aw.Start(t)
	aw.Isolate(t, w.URL, aw.CustomerKey, aw.Secret, aw.Region)
	createStack(t, w)
	_, res := stackResources(t, w)
	props := func(id string) map[string]any { return res[id]["Properties"].(map[string]any) }
	w.IAM.PutRole(aw.RoleName, aw.Doc(props(stacks.VendorRoleID)["AssumeRolePolicyDocument"])) // no Tags
	w.IAM.CreatePolicy(aw.PolicyName, aw.Doc(props(stacks.ReadPolicyID)["PolicyDocument"]))

	code, stdout, stderr := runCLI(t, "", "verify", "--role-arn", aw.RoleARN, "--bucket", aw.Bucket, "--external-id", aw.ExternalID, "--output", "json")
	var rep verify.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitFailure {
		t.Fatalf("exit %d, stderr %q, JSON %v:\n%s", code, stderr, err, stdout)
	}
	failed := rep.Failed()
	if len(failed) != 1 || failed[0].ID != verify.CheckEncryption {
		t.Fatalf("failed %+v, want only %s", failed, verify.CheckEncryption)
	}
	fix := failed[0].Fix
	if strings.Contains(fix, "s3grant deploy --stack-name") || strings.Contains(fix, "managed by stack") {
		t.Errorf("fix claims a stack the role does not name: %q", fix)
	}
	for _, want := range []string{"grant role " + aw.RoleName, stacks.RoleStackNameTag, "deploy the current template to let verify find the stack"} {
		if !strings.Contains(fix, want) {
			t.Errorf("fix %q lacks %q", fix, want)
		}
	}
}
