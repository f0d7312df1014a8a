package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/internal/awsfake/cfnfake"
	"github.com/isahit/s3grant/internal/awsfake/s3fake"
	"github.com/isahit/s3grant/internal/cfneval"
)

// addBuckets puts n more buckets in the world's region, each with an image, and returns their names.
func addBuckets(w *aw.World, n int) []string {
	var names []string
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("acme-data-%04d-images", i)
		w.S3.PutBucket(s3fake.Bucket{Name: name, Region: aw.Region,
			Objects: map[string][]byte{"raw/cat.jpg": []byte("\xff\xd8cat"), "cat.jpg": []byte("\xff\xd8cat")}})
		names = append(names, name)
	}
	return names
}

func bucketArgs(names []string) []string {
	args := []string{"--bucket", aw.Bucket}
	for i, n := range names {
		if i%2 == 0 {
			n += "/raw/"
		}
		args = append(args, "--bucket", n)
	}
	return args
}

// deployedPolicies measures every managed policy the stack deployed as IAM counts it: the
// template evaluated with the stack's parameters, whitespace-free JSON.
func deployedPolicies(t *testing.T, st cfnfake.StackState) map[string]int {
	t.Helper()
	ev, err := cfneval.Parse([]byte(st.Body), st.Parameters, map[string]string{"AWS::Region": aw.Region, "AWS::AccountId": aw.CustomerAccount,
		"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"})
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal([]byte(st.Body), &tmpl); err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int{}
	for id, r := range tmpl.Resources {
		if r.Type != "AWS::IAM::ManagedPolicy" {
			continue
		}
		doc, err := ev.Eval(r.Properties["PolicyDocument"])
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(doc)
		sizes[id] = utf8.RuneCount(raw)
	}
	return sizes
}

// deployAndVerify deploys the integration of aw.Bucket and n more buckets, checks what the
// stack holds, then provisions it in the fakes and verifies every bucket.
func deployAndVerify(t *testing.T, w *aw.World, n int, extra ...string) cfnfake.StackState {
	t.Helper()
	ctx := context.Background()
	names := addBuckets(w, n)
	args := append(append([]string{"deploy"}, bucketArgs(names)...), "--external-id", aw.ExternalID,
		"--kms-key-arn", aw.KeyARN, "--endpoint-url", w.URL, "--yes")
	start := time.Now()
	code, out, errOut := runDeployCLI(ctx, t, strings.NewReader(""), nil, append(args, extra...)...)
	t.Logf("deploy of %d buckets: %v", n+1, time.Since(start))
	if code != exitOK {
		t.Fatalf("deploy: exit %d, stderr %q\n%s", code, errOut, out)
	}
	st, ok := w.CFN.Stack(deployStack)
	if !ok || st.Status != "CREATE_COMPLETE" {
		t.Fatalf("stack %+v", st.Status)
	}
	if want := fmt.Sprintf("Every bucket's access point (%d buckets, one role):", n+1); !strings.Contains(out, want) {
		t.Errorf("output lacks %q", want)
	}
	for _, name := range append(names, aw.Bucket) {
		if !strings.Contains(out, "\n  "+name+" ") {
			t.Errorf("no paste line for bucket %s", name)
		}
	}
	roles := 0
	for id := range st.Resources {
		if strings.HasPrefix(id, "VendorRole") {
			roles++
		}
	}
	if roles != 1 || len(st.Resources) > 500 {
		t.Errorf("%d vendor roles, %d resources", roles, len(st.Resources))
	}
	for id, n := range deployedPolicies(t, st) {
		if n > 6144 {
			t.Errorf("deployed policy %s is %d characters, over IAM's 6,144", id, n)
		}
	}
	w.Provision(t, deployStack, aw.Region)
	start = time.Now()
	defer func() { t.Logf("verify of %d buckets: %v", n+1, time.Since(start)) }()
	code, out, errOut = runDeployCLI(ctx, t, nil, nil, "verify", "--stack-name", deployStack, "--endpoint-url", w.URL, "--output", "json")
	if code != exitOK {
		t.Fatalf("verify: exit %d, stderr %q\n%s", code, errOut, out)
	}
	var rep struct {
		Checks []struct {
			ID, Bucket string
			Pass       bool
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	checked := map[string]int{}
	for _, c := range rep.Checks {
		if c.Pass && c.ID == "role-permissions" {
			checked[c.Bucket]++
		}
	}
	for _, name := range append(names, aw.Bucket) {
		if checked[name] != 1 {
			t.Errorf("verify checked bucket %s's permissions %d times", name, checked[name])
		}
	}
	return st
}

func TestDeployAndVerifyThreeBuckets(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	deployAndVerify(t, w, 2)
	// The same buckets again: nothing to do.
	code, out, _ := runDeployCLI(context.Background(), t, strings.NewReader(""), nil, "deploy", "--stack-name", deployStack,
		"--endpoint-url", w.URL, "--yes")
	if code != exitOK || !strings.Contains(out, "is up to date") {
		t.Fatalf("re-deploy keeping the stack's buckets: exit %d\n%s", code, out)
	}
}

func TestDeployAndVerifyTwoHundredBuckets(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: 200 buckets")
	}
	verifyEnv(t)
	w := aw.Start(t)
	names := addBuckets(w, 199)
	// Without a bucket for the template: one clear line, nothing created.
	args := append(append([]string{"deploy"}, bucketArgs(names)...), "--external-id", aw.ExternalID, "--endpoint-url", w.URL, "--yes")
	code, out, errOut := runDeployCLI(context.Background(), t, strings.NewReader(""), nil, args...)
	if code != exitBadInput || !strings.Contains(errOut, "--template-bucket") || w.CFN.Count("CreateChangeSet") != 0 {
		t.Fatalf("exit %d, stderr %q, %d change sets\n%s", code, errOut, w.CFN.Count("CreateChangeSet"), out)
	}
	w.S3.PutBucket(s3fake.Bucket{Name: "acme-cfn-templates", Region: aw.Region, Objects: map[string][]byte{}})
	st := deployAndVerify(t, w, 199, "--template-bucket", "acme-cfn-templates")
	if len(w.S3.Keys("acme-cfn-templates")) != 1 || len(st.Body) <= 51200 {
		t.Errorf("template of %d bytes; uploaded %v", len(st.Body), w.S3.Keys("acme-cfn-templates"))
	}
}

// A stack from the v1 one-bucket template, and one from today's, upgrade to two buckets with
// the same role and access point, no --allow-replacement needed.
func TestUpgradeOneBucketStackToTwo(t *testing.T) {
	v1, err := os.ReadFile("../../deploy/testdata/v1-example.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{"v1", "v2"} {
		t.Run(from, func(t *testing.T) {
			verifyEnv(t)
			w := aw.Start(t)
			ctx := context.Background()
			if from == "v1" {
				cf := cloudformation.NewFromConfig(w.Config(aw.CustomerKey))
				cs, err := cfnfake.CreateChangeSet(ctx, cf, &cloudformation.CreateChangeSetInput{StackName: aws.String(deployStack),
					ChangeSetName: aws.String("v1"), ChangeSetType: cfntypes.ChangeSetTypeCreate, TemplateBody: aws.String(string(v1)),
					Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityIam},
					Parameters: []cfntypes.Parameter{{ParameterKey: aws.String("BucketName"), ParameterValue: aws.String(aw.Bucket)},
						{ParameterKey: aws.String("ExternalId"), ParameterValue: aws.String(aw.ExternalID)}}})
				if err != nil || cs.Status != cfntypes.ChangeSetStatusCreateComplete {
					t.Fatalf("v1 change set: %v %+v", err, cs)
				}
				if _, err := cf.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: cs.ChangeSetId}); err != nil {
					t.Fatal(err)
				}
				for st, _ := w.CFN.Stack(deployStack); st.Status != "CREATE_COMPLETE"; st, _ = w.CFN.Stack(deployStack) {
					if strings.HasSuffix(st.Status, "FAILED") || strings.Contains(st.Status, "ROLLBACK") {
						t.Fatalf("v1 stack: %s", st.Status)
					}
				}
			} else if code, out, _ := runDeployCLI(ctx, t, strings.NewReader(""), nil, deployArgs(w, "--yes")...); code != exitOK {
				t.Fatalf("one-bucket deploy: %d\n%s", code, out)
			}
			before, _ := w.CFN.Stack(deployStack)
			names := addBuckets(w, 1)
			code, out, errOut := runDeployCLI(ctx, t, strings.NewReader(""), nil, "deploy", "--stack-name", deployStack,
				"--bucket", names[0], "--bucket", aw.Bucket, "--endpoint-url", w.URL, "--yes")
			if code != exitOK || strings.Contains(out, "!!") {
				t.Fatalf("grow: exit %d, stderr %q\n%s", code, errOut, out)
			}
			after, _ := w.CFN.Stack(deployStack)
			for _, k := range []string{"RoleArn", "AccessPointArn", "AccessPointAlias", "BucketName"} {
				if before.Outputs[k] == "" || after.Outputs[k] != before.Outputs[k] {
					t.Errorf("%s: %q → %q", k, before.Outputs[k], after.Outputs[k])
				}
			}
			if !strings.Contains(after.Outputs["MoreBuckets1"], names[0]+"=") {
				t.Errorf("MoreBuckets1 = %q", after.Outputs["MoreBuckets1"])
			}
			// Removing it again: its access point goes, which the vendor holds: a second yes.
			code, out, _ = runDeployCLI(ctx, t, strings.NewReader(""), nil, "deploy", "--stack-name", deployStack,
				"--bucket", aw.Bucket, "--endpoint-url", w.URL, "--yes")
			if code != exitBadInput || !strings.Contains(out, "bucket "+names[0]+" leaves the integration") {
				t.Fatalf("shrink without --allow-replacement: exit %d\n%s", code, out)
			}
			code, out, _ = runDeployCLI(ctx, t, strings.NewReader(""), nil, "deploy", "--stack-name", deployStack,
				"--bucket", aw.Bucket, "--endpoint-url", w.URL, "--yes", "--allow-replacement")
			last, _ := w.CFN.Stack(deployStack)
			if code != exitOK || last.Outputs["RoleArn"] != before.Outputs["RoleArn"] || last.Outputs["AccessPointArn"] != before.Outputs["AccessPointArn"] {
				t.Fatalf("shrink: exit %d, outputs %v\n%s", code, last.Outputs, out)
			}
			for id := range last.Resources {
				if strings.HasPrefix(id, "AccessPoint") && id != "AccessPoint" {
					t.Errorf("%s left after its bucket was removed", id)
				}
			}
		})
	}
}

// Least privilege is judged per bucket with its conditions: a statement listing the second
// bucket (granted under raw/ only) without the template's s3:prefix condition fails, named.
func TestVerifyLeastPrivilegeOtherBucketCondition(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	st := deployAndVerify(t, w, 2)
	second := "acme-data-0001-images" // bucketArgs gives it the prefix raw/
	role := st.Outputs["RoleArn"][strings.LastIndex(st.Outputs["RoleArn"], "/")+1:]
	w.IAM.PutRolePolicy(role, "broad", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::`+second+`"}]}`)
	code, out, errOut := runDeployCLI(context.Background(), t, nil, nil, "verify", "--stack-name", deployStack, "--endpoint-url", w.URL, "--output", "json")
	if code != exitFailure {
		t.Fatalf("verify: exit %d, stderr %q\n%s", code, errOut, out)
	}
	var rep struct {
		Checks []struct {
			ID, Cause string
			Pass      bool
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checks {
		if c.ID == "role-least-privilege" {
			if c.Pass || !strings.Contains(c.Cause, second) || !strings.Contains(c.Cause, "s3:prefix") {
				t.Errorf("least privilege: pass %v, %q", c.Pass, c.Cause)
			}
			return
		}
	}
	t.Error("no least-privilege check")
}

// A prefix without a trailing slash is warned about however it is given: --prefix, or each
// --bucket NAME/PREFIX by its own spelling; a folder prefix is not.
func TestPrefixWarningPerBucket(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		warnings int
		want     []string
	}{
		{[]string{"--bucket", "acme-a", "--prefix", "images"}, 1, []string{`--prefix "images" also matches`}},
		{[]string{"--bucket", "acme-a/images", "--bucket", "acme-b/raw/", "--bucket", "s3://acme-c/video"}, 2,
			[]string{"--bucket acme-a/images also matches", `use --bucket acme-a/images/`, "--bucket acme-c/video also matches"}},
		{[]string{"--bucket", "acme-a/images/", "--bucket", "acme-b"}, 0, nil},
	} {
		code, _, errOut := runCLI(t, "", append([]string{"template", "--external-id", aw.ExternalID}, tc.args...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d, %s", tc.args, code, errOut)
		}
		if got := strings.Count(errOut, "s3grant: warning: "); got != tc.warnings {
			t.Errorf("%v: %d warnings, want %d:\n%s", tc.args, got, tc.warnings, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tc.args, w, errOut)
			}
		}
	}
}

// A later bucket's failure is fixed without the stack's first-bucket values: the stack's
// ObjectPrefix is the first bucket's, so a second bucket with another prefix is no reason to
// print `deploy --prefix`, which would change the first bucket's grant.
func TestVerifyLaterBucketFixKeepsFirstBucketsValues(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	st := deployAndVerify(t, w, 2)
	second := "acme-data-0001-images" // under raw/
	role := st.Outputs["RoleArn"][strings.LastIndex(st.Outputs["RoleArn"], "/")+1:]
	w.IAM.PutRolePolicy(role, "deny-second", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::`+second+`/*"}]}`)
	code, out, errOut := runDeployCLI(context.Background(), t, nil, nil, "verify", "--stack-name", deployStack, "--endpoint-url", w.URL, "--output", "json")
	if code != exitFailure {
		t.Fatalf("verify: exit %d, stderr %q\n%s", code, errOut, out)
	}
	var rep struct {
		Checks []struct {
			ID, Bucket, Fix string
			Pass            bool
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, c := range rep.Checks {
		if c.ID == "role-permissions" && !c.Pass {
			failed++
			if c.Bucket != second || strings.Contains(c.Fix, "--prefix") {
				t.Errorf("bucket %s: fix %q", c.Bucket, c.Fix)
			}
		}
	}
	if failed != 1 {
		t.Errorf("%d permission checks failed, want the second bucket's", failed)
	}
}

// status checks the vendor's CORS rule on every bucket of the stack, names the bucket it is
// missing from, and runs drift detection over every bucket's resources.
func TestStatusChecksEveryBucket(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	deployAndVerify(t, w, 2) // Provision put the stack's rule on each bucket
	status := func(extra ...string) (int, string) {
		code, out, _ := runDeployCLI(context.Background(), t, nil, nil, append([]string{"status", "--stack-name", deployStack,
			"--region", aw.Region, "--endpoint-url", w.URL}, extra...)...)
		return code, out
	}
	if code, out := status(); code != exitOK || !strings.Contains(out, "CORS: the vendor's rule is on each of the 3 buckets.") ||
		!strings.Contains(out, "Drift: none; the role, its policies and the 3 buckets' access points") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	third := "acme-data-0002-images"
	b := w.S3.Bucket(third)
	b.CORS = nil // someone replaced the bucket's CORS configuration
	w.S3.PutBucket(*b)
	st, _ := w.CFN.Stack(deployStack)
	var apID string
	for id := range st.Resources {
		if strings.HasPrefix(id, "AccessPointAcmeData0002") {
			apID = id
		}
	}
	w.CFN.SetDrift(deployStack, apID, "DELETED")
	code, out := status()
	if code != exitOK || !strings.Contains(out, "CORS: the vendor's rule is MISSING from bucket "+third+":") ||
		!strings.Contains(out, "--repair-cors") || !strings.Contains(out, "  "+apID+" (AWS::S3::AccessPoint) DELETED") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	code, out = status("--output", "json", "--drift=false")
	var res struct {
		Health struct {
			CORSRulePresent bool
			CORSBuckets     []struct {
				Bucket  string
				Present bool
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != exitOK {
		t.Fatalf("exit %d %v\n%s", code, err, out)
	}
	if res.Health.CORSRulePresent || len(res.Health.CORSBuckets) != 3 {
		t.Fatalf("json %+v", res)
	}
	for _, c := range res.Health.CORSBuckets {
		if c.Present == (c.Bucket == third) {
			t.Errorf("bucket %s: present %v", c.Bucket, c.Present)
		}
	}
}
