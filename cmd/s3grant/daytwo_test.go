package main

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/isahit/s3grant/deploy"
	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/internal/awsfake/cfnfake"
	"github.com/isahit/s3grant/internal/awsfake/s3fake"
	"github.com/isahit/s3grant/stacks"
)

// ttyReader is standard input that says it is a terminal, as a user typing answers at one.
type ttyReader struct{ io.Reader }

func (ttyReader) IsTerminal() bool { return true }

// tty is a terminal on which the user types s.
func tty(s string) io.Reader { return ttyReader{strings.NewReader(s)} }

// createStack deploys the integration with extra flags and returns the stack's state.
func createStack(t *testing.T, w *aw.World, extra ...string) cfnfake.StackState {
	t.Helper()
	code, out, errOut := runDeployCLI(context.Background(), t, nil, nil, deployArgs(w, append(extra, "--yes")...)...)
	st, _ := w.CFN.Stack(deployStack)
	if code != exitOK || st.Status != "CREATE_COMPLETE" {
		t.Fatalf("create: exit %d, stderr %q\n%s", code, errOut, out)
	}
	return st
}

// onStack runs a command on the existing stack, naming it only (no --bucket).
func onStack(t *testing.T, w *aw.World, stdin io.Reader, cmd string, extra ...string) (int, string, string) {
	t.Helper()
	return runDeployCLI(context.Background(), t, stdin, nil,
		append([]string{cmd, "--stack-name", deployStack, "--endpoint-url", w.URL}, extra...)...)
}

// The first trial: a custom access point name and CORS off, then a KMS key added by
// naming the stack only. Nothing goes back to its default.
func TestDeployKeepsPreviousValues(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	before := createStack(t, w, "--access-point-name", "second-ap", "--manage-cors=false")
	code, out, errOut := onStack(t, w, nil, "deploy", "--kms-key-arn", aw.KeyARN, "--yes")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	after, _ := w.CFN.Stack(deployStack)
	want := map[string]string{}
	for k, v := range before.Parameters {
		want[k] = v
	}
	want["KmsKeyArn"] = aw.KeyARN
	if !maps.Equal(after.Parameters, want) || after.Outputs["AccessPointArn"] != before.Outputs["AccessPointArn"] {
		t.Fatalf("parameters %v\nwant %v", after.Parameters, want)
	}
	for _, s := range []string{
		"Template: " + stacks.TemplateVersion + " (unchanged version)",
		"Parameters that change (all others keep their current value):\n  KmsKeyArn: \"\" → " + aw.KeyARN + "\n",
		"+ isahit Lab's role: Allow kms:Decrypt on " + aw.KeyARN,
		"  isahit Lab: Allow sts:AssumeRole by arn:aws:iam::" + aw.VendorAccount + ":root if sts:ExternalId StringEquals " + aw.ExternalID,
	} {
		if !strings.Contains(out, s) {
			t.Errorf("the preview lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "CorsFunction") || strings.Contains(out, "!!") {
		t.Errorf("adding a key touched CORS or the vendor's ARNs:\n%s", out)
	}
	// The stack alone: the same template, the same values, nothing to do.
	code, out, _ = onStack(t, w, nil, "deploy", "--yes")
	if code != exitOK || !strings.Contains(out, "is up to date") {
		t.Fatalf("re-apply: exit %d\n%s", code, out)
	}
}

// A change that replaces the access point needs --allow-replacement or a second answer typed
// at a terminal; --yes alone never runs it.
func TestReplacementGuard(t *testing.T) {
	cases := []struct {
		name  string
		stdin io.Reader
		flags []string
		code  int
	}{
		{"--yes without a terminal", nil, []string{"--yes"}, exitBadInput},
		{"--yes at a terminal, second answer no", tty("\n"), []string{"--yes"}, exitFailure},
		{"--yes at a terminal, second answer yes", tty("y\n"), []string{"--yes"}, exitOK},
		{"two answers at a terminal", tty("y\ny\n"), nil, exitOK},
		{"--yes --allow-replacement", nil, []string{"--yes", "--allow-replacement"}, exitOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			verifyEnv(t)
			w := aw.Start(t)
			before := createStack(t, w)
			code, out, errOut := onStack(t, w, c.stdin, "deploy", append([]string{"--access-point-name", "other-ap"}, c.flags...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr %q\n%s", code, c.code, errOut, out)
			}
			warn := strings.Index(out, "!! This change breaks isahit Lab's access")
			if warn < 0 || warn > strings.Index(out, "Change set ") || !strings.Contains(out, "tell isahit Lab the new AccessPointArn, AccessPointAlias") {
				t.Errorf("the vendor change is not called out first:\n%s", out)
			}
			st, _ := w.CFN.Stack(deployStack)
			executed := w.CFN.Count("ExecuteChangeSet") == 2
			if executed != (c.code == exitOK) || (c.code != exitOK && st.Outputs["AccessPointArn"] != before.Outputs["AccessPointArn"]) {
				t.Fatalf("executed %v, access point %s", executed, st.Outputs["AccessPointArn"])
			}
			if c.code == exitBadInput && (!strings.Contains(errOut, "--allow-replacement") || strings.Count(errOut, "\n") != 1) {
				t.Errorf("stderr %q", errOut)
			}
			if c.code == exitOK && st.Parameters["AccessPointName"] != "other-ap" {
				t.Errorf("parameters %v", st.Parameters)
			}
		})
	}
}

func TestNoTerminalWithoutYesChangesNothing(t *testing.T) {
	for _, args := range [][]string{{"deploy", "--bucket", aw.Bucket, "--external-id", aw.ExternalID},
		{"delete", "--stack-name", deployStack}, {"rotate", "--stack-name", deployStack, "--new-external-id"}} {
		verifyEnv(t)
		w := aw.Start(t)
		code, out, errOut := runDeployCLI(context.Background(), t, strings.NewReader("y\n"), nil, append(args, "--endpoint-url", w.URL)...)
		if code != exitBadInput || !strings.Contains(errOut, "no terminal: pass --yes") || out != "" || len(w.CFN.Actions()) != 0 {
			t.Errorf("%s: exit %d, stderr %q, CloudFormation %v\n%s", args[0], code, errOut, w.CFN.Actions(), out)
		}
	}
}

func TestNoExecuteKeepsTheChangeSet(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	createStack(t, w)
	code, out, errOut := onStack(t, w, nil, "deploy", "--prefix", "images/", "--no-execute", "--output", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Outcome, ChangeSetName, ChangeSetID, ChangeSetConsoleURL string
		Outputs                                                  map[string]string
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	st, _ := w.CFN.Stack(deployStack)
	if res.Outcome != "change set kept" || len(st.ChangeSets) != 1 || st.ChangeSets[0] != res.ChangeSetName ||
		st.Parameters["ObjectPrefix"] != "" || w.CFN.Count("ExecuteChangeSet") != 1 {
		t.Fatalf("%+v; stack %v %v", res, st.ChangeSets, st.Parameters)
	}
	if !strings.HasPrefix(res.ChangeSetConsoleURL, "https://"+aw.Region+".console.aws.amazon.com/cloudformation/home?region="+aw.Region+"#/stacks/changesets/changes?stackId=") ||
		!strings.Contains(res.ChangeSetConsoleURL, url.QueryEscape(res.ChangeSetID)) {
		t.Errorf("console URL %s", res.ChangeSetConsoleURL)
	}
	code, out, _ = onStack(t, w, nil, "deploy", "--prefix", "images/", "--no-execute")
	if code != exitOK || !strings.Contains(out, "kept for review; nothing changed.") || !strings.Contains(out, "aws cloudformation execute-change-set") {
		t.Errorf("text: exit %d\n%s", code, out)
	}
}

func TestServiceRole(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	const role = "arn:aws:iam::" + aw.CustomerAccount + ":role/cfn-deployer"
	createStack(t, w, "--role-arn", role)
	if st, _ := w.CFN.Stack(deployStack); st.RoleARN != role {
		t.Fatalf("service role %q", st.RoleARN)
	}
	code, out, errOut := onStack(t, w, nil, "delete", "--role-arn", "role/cfn", "--yes")
	wantBadInput(t, code, out, errOut, "--role-arn")
}

// trustAccepts puts the role's trust policy, as CloudFormation resolves the stack's template
// with the stack's values, into IAM, and returns which external IDs STS accepts from the vendor.
func trustAccepts(t *testing.T, w *aw.World, ids ...string) (accepted []string, condition any) {
	t.Helper()
	_, res := stackResources(t, w)
	doc := res[stacks.VendorRoleID]["Properties"].(map[string]any)["AssumeRolePolicyDocument"]
	condition = doc.(map[string]any)["Statement"].([]any)[0].(map[string]any)["Condition"]
	arn := w.IAM.PutRole("rotating", aw.Doc(doc))
	client := sts.NewFromConfig(w.Config(aw.VendorKey))
	for _, id := range ids {
		_, err := client.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: &arn, RoleSessionName: aws.String("check"), ExternalId: aws.String(id)})
		if err == nil {
			accepted = append(accepted, id)
		}
	}
	return accepted, condition
}

func TestRotation(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	createStack(t, w)
	const next = "0b7d3c1e-51a4-4f0e-9d6b-8c2f7e1a9b30"
	const other = "ffffffff-0000-4000-8000-000000000000"
	if got, _ := trustAccepts(t, w, aw.ExternalID, next, other); !slices.Equal(got, []string{aw.ExternalID}) {
		t.Fatalf("before: STS accepts %v", got)
	}
	code, out, errOut := onStack(t, w, nil, "rotate", "--external-id", next, "--yes")
	if code != exitOK || !strings.Contains(out, "NextExternalId: \"\" → "+next) || !strings.Contains(out, "Rotation started") {
		t.Fatalf("start: exit %d, stderr %q\n%s", code, errOut, out)
	}
	st, _ := w.CFN.Stack(deployStack)
	if st.Parameters["ExternalId"] != aw.ExternalID || st.Parameters["NextExternalId"] != next || st.Outputs["LiveExternalIds"] != aw.ExternalID+","+next {
		t.Fatalf("overlap: %v %v", st.Parameters, st.Outputs)
	}
	got, cond := trustAccepts(t, w, aw.ExternalID, next, other)
	if !slices.Equal(got, []string{aw.ExternalID, next}) {
		t.Fatalf("overlap: STS accepts %v (condition %v)", got, cond)
	}
	if want := map[string]any{"StringEquals": map[string]any{"sts:ExternalId": []any{aw.ExternalID, next}}}; !reflect.DeepEqual(cond, want) {
		t.Errorf("overlap trust condition %v", cond)
	}
	_, out, _ = onStack(t, w, nil, "status")
	if !strings.Contains(out, "Live external IDs: "+aw.ExternalID+" (current) and "+next+" (next)") {
		t.Errorf("status during the overlap:\n%s", out)
	}
	// A second start while one is in progress would drop an ID the vendor may use.
	code, _, errOut = onStack(t, w, nil, "rotate", "--new-external-id", "--yes")
	if code != exitBadInput || !strings.Contains(errOut, "already in progress") {
		t.Errorf("second start: exit %d %q", code, errOut)
	}

	code, out, errOut = onStack(t, w, nil, "rotate", "--finish", "--yes")
	if code != exitOK || strings.Contains(out, "!!") || !strings.Contains(out, "Rotation finished") {
		t.Fatalf("finish: exit %d, stderr %q\n%s", code, errOut, out)
	}
	st, _ = w.CFN.Stack(deployStack)
	if st.Parameters["ExternalId"] != next || st.Parameters["NextExternalId"] != "" || st.Outputs["ExternalId"] != next {
		t.Fatalf("after: %v", st.Parameters)
	}
	if got, _ := trustAccepts(t, w, aw.ExternalID, next, other); !slices.Equal(got, []string{next}) {
		t.Fatalf("after: STS accepts %v", got)
	}
	_, out, _ = onStack(t, w, nil, "status")
	if !strings.Contains(out, "Live external ID: "+next+" (only this one)") {
		t.Errorf("status after:\n%s", out)
	}
	code, _, errOut = onStack(t, w, nil, "rotate", "--finish", "--yes")
	if code != exitBadInput || !strings.Contains(errOut, "no rotation is in progress") {
		t.Errorf("finish twice: exit %d %q", code, errOut)
	}
}

// Setting a new external ID with deploy cuts the vendor off at once: guarded like a replacement.
func TestDeployExternalIDResetIsGuarded(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	createStack(t, w)
	code, out, errOut := onStack(t, w, nil, "deploy", "--external-id", "0b7d3c1e-51a4-4f0e-9d6b-8c2f7e1a9b30", "--yes")
	if code != exitBadInput || !strings.Contains(out, "s3grant rotate") || w.CFN.Count("ExecuteChangeSet") != 1 {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
}

func TestRepairCORS(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	before := createStack(t, w)
	code, out, errOut := onStack(t, w, nil, "deploy", "--repair-cors", "--yes")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	if !regexp.MustCompile(`(?m)^  ~ modify\s+BucketCors\s+Custom::BucketCors\s+updated in place \(RepairToken\)$`).MatchString(out) ||
		!strings.Contains(out, ": 1 resource change(s)") {
		t.Errorf("the repair must re-run the CORS custom resource only:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)\]\s+BucketCors\s+Custom::BucketCors\s+UPDATE_COMPLETE`).MatchString(out) {
		t.Errorf("CloudFormation did not update the custom resource:\n%s", out)
	}
	after, _ := w.CFN.Stack(deployStack)
	if after.Parameters["CorsRepairToken"] == "" || !maps.Equal(stacks.Overlay(before.Parameters, map[string]string{"CorsRepairToken": after.Parameters["CorsRepairToken"]}), after.Parameters) {
		t.Errorf("parameters %v, before %v", after.Parameters, before.Parameters)
	}
	// A second repair runs it again (a new token).
	if code, _, _ := onStack(t, w, nil, "deploy", "--repair-cors", "--yes"); code != exitOK || w.CFN.Count("ExecuteChangeSet") != 3 {
		t.Errorf("second repair: exit %d", code)
	}
}

func TestRepairCORSWithoutManagedCORS(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	createStack(t, w, "--manage-cors=false")
	code, out, errOut := onStack(t, w, nil, "deploy", "--repair-cors", "--yes")
	if code != exitBadInput || !strings.Contains(errOut, "does not manage CORS") || w.CFN.Count("CreateChangeSet") != 1 {
		t.Errorf("exit %d, stderr %q\n%s", code, errOut, out)
	}
}

func TestDeleteTellsTheVendor(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	st := createStack(t, w)
	code, out, errOut := onStack(t, w, nil, "delete", "--yes", "--output", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	removed, _ := res["removed"].(map[string]any)
	if _, has := res["outputs"]; has || res["outcome"] != "deleted" || removed["RoleArn"] != st.Outputs["RoleArn"] ||
		!strings.Contains(res["tellVendor"].(string), "Tell isahit Lab that the integration with bucket "+aw.Bucket+" is removed") {
		t.Fatalf("json %v", res)
	}

	w = aw.Start(t)
	st = createStack(t, w)
	code, out, _ = onStack(t, w, nil, "delete", "--yes")
	if code != exitOK || strings.Contains(out, "Paste") || !strings.Contains(out, "Tell isahit Lab that the integration") ||
		!strings.Contains(out, st.Outputs["RoleArn"]) || !strings.Contains(out, "Nothing is left to paste.") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

// status says whether the vendor's CORS rule is on the bucket and whether drift detection
// finds the vendor's resources changed, with what repairs each.
func TestStatusReportsCORSRuleAndDrift(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	st := createStack(t, w)
	repair := "s3grant deploy --stack-name " + deployStack + " --region " + aw.Region + " --repair-cors"
	code, out, _ := onStack(t, w, nil, "status")
	// The fake runs no Lambda: the bucket holds only the customer's rules and an old isahit one.
	if code != exitOK || !strings.Contains(out, "CORS: the vendor's rule is MISSING from bucket "+aw.Bucket) || !strings.Contains(out, repair) ||
		!strings.Contains(out, "Drift: none;") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	b := aw.GoodBucket()
	// Look-alikes are not the stack's rule: another stack's (the name extended, another UUID).
	ids := stacks.CORSRuleIDs("isahit-lab", st.ID)
	for _, id := range []string{"s3grant:isahit-lab:" + deployStack + "-2:" + st.ID[strings.LastIndex(st.ID, "/")+1:],
		"s3grant:isahit-lab:" + deployStack + ":00000000-0000-4000-8000-000000000000", ids[1] + "-copy"} {
		b.CORS = append(b.CORS, s3fake.CORSRule{ID: id, AllowedOrigins: aw.Origins, AllowedMethods: []string{"GET"}})
	}
	w.S3.PutBucket(b)
	if code, out, _ = onStack(t, w, nil, "status", "--drift=false"); code != exitOK || !strings.Contains(out, "CORS: the vendor's rule is MISSING") {
		t.Fatalf("look-alike rules taken for the stack's: exit %d\n%s", code, out)
	}
	b.CORS = append(b.CORS, s3fake.CORSRule{ID: ids[0], AllowedOrigins: aw.Origins, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"*"}})
	w.S3.PutBucket(b)
	w.CFN.SetDrift(deployStack, stacks.VendorRoleID, "MODIFIED", cfnfake.PropertyDifference{Path: "/AssumeRolePolicyDocument/Statement/0/Condition",
		Expected: `{"StringEquals":{"sts:ExternalId":"` + aw.ExternalID + `"}}`, Actual: "null", Type: "REMOVE"})
	code, out, _ = onStack(t, w, nil, "status")
	if code != exitOK || !strings.Contains(out, "CORS: the vendor's rule is on bucket "+aw.Bucket+".") || strings.Contains(out, repair) ||
		!strings.Contains(out, "Drift: changed outside CloudFormation:\n  VendorRole (AWS::IAM::Role) MODIFIED\n    /AssumeRolePolicyDocument/Statement/0/Condition REMOVE") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	code, out, _ = onStack(t, w, nil, "status", "--output", "json")
	var res struct {
		Health struct {
			CORSRulePresent bool
			Drift           []deploy.ResourceDrift
		}
		LiveExternalIds []string
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != exitOK {
		t.Fatalf("exit %d %v\n%s", code, err, out)
	}
	if !res.Health.CORSRulePresent || len(res.Health.Drift) != 1 || res.Health.Drift[0].LogicalID != stacks.VendorRoleID ||
		!slices.Equal(res.LiveExternalIds, []string{st.Parameters["ExternalId"]}) {
		t.Errorf("json %+v", res)
	}
}
