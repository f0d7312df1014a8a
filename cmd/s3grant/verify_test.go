package main

import (
	"encoding/json"
	"strings"
	"testing"

	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/internal/awsfake/s3fake"
	"github.com/isahit/s3grant/verify"
)

// verifyEnv gives the SDK the customer's credentials through the environment, isolated from
// the machine's AWS configuration; the endpoint comes from --endpoint-url.
func verifyEnv(t *testing.T) {
	t.Helper()
	aw.Isolate(t, "", aw.CustomerKey, aw.Secret, aw.Region)
}

func TestVerifyCommandCustomerSide(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	w.DeployStack(t, aw.StackOutputs)
	args := []string{"verify", "--stack-name", aw.StackName, "--endpoint-url", w.URL}

	code, stdout, stderr := runCLI(t, "", args...)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	want := []string{verify.CheckStack, verify.CheckTrust, verify.CheckPermissions, verify.CheckLeastPrivilege,
		verify.CheckAccessPoint, verify.CheckCORS, verify.CheckEncryption, verify.CheckBucketPolicy, verify.CheckAPPolicy, verify.CheckRegion,
		verify.CheckObjectEncryption, verify.CheckObjectOwner}
	if len(lines) != len(want)+1 {
		t.Fatalf("want one line per check and a summary, got:\n%s", stdout)
	}
	for i, id := range want {
		if !strings.HasPrefix(lines[i], "✓ ") || !strings.HasSuffix(lines[i], "["+id+"]") {
			t.Errorf("line %d = %q, want a passed %s", i+1, lines[i], id)
		}
	}
	if lines[len(want)] != "All 12 checks passed (customer side)." {
		t.Errorf("summary %q", lines[len(want)])
	}

	// One fault: the failed check, its cause and fix under it, exit 1, one line on stderr.
	b := aw.GoodBucket()
	b.CORS = []s3fake.CORSRule{{AllowedOrigins: aw.Origins[:1], AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"*"}}}
	w.S3.PutBucket(b)
	code, stdout, stderr = runCLI(t, "", args...)
	if code != exitFailure {
		t.Fatalf("exit %d, want %d", code, exitFailure)
	}
	if stderr != "s3grant: verify: 1 of 12 checks failed\n" {
		t.Errorf("stderr %q", stderr)
	}
	failed := "✗ Bucket CORS allows the vendor's origins [bucket-cors]\n" +
		"    cause: https://work.isahit.com: no rule allows the origin https://work.isahit.com\n" +
		"    fix:   add the rule {\"AllowedHeaders\":[\"*\"],\"AllowedMethods\":[\"GET\"],\"AllowedOrigins\":[\"https://lab.isahit.com\",\"https://work.isahit.com\"],\"ExposeHeaders\":[]} to bucket customer-images's CORS configuration"
	if !strings.Contains(stdout, failed) {
		t.Errorf("output lacks the failure with cause and fix:\n%s", stdout)
	}

	code, stdout, _ = runCLI(t, "", append(args, "--output", "json")...)
	var rep verify.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitFailure {
		t.Fatalf("exit %d, JSON %v:\n%s", code, err, stdout)
	}
	if f := rep.Failed(); rep.Side != "customer" || len(rep.Checks) != 12 || len(f) != 1 || f[0].ID != verify.CheckCORS || f[0].Fix == "" {
		t.Errorf("JSON report %+v", rep)
	}
}

func TestVerifyCommandExplicitResources(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	w.IAM.Deny("SimulatePrincipalPolicy")
	code, stdout, stderr := runCLI(t, "", "verify", "--endpoint-url", w.URL, "--role-arn", aw.RoleARN,
		"--bucket", aw.Bucket, "--external-id", aw.ExternalID, "--output", "json")
	var rep verify.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitOK {
		t.Fatalf("exit %d, stderr %q, JSON %v:\n%s", code, stderr, err, stdout)
	}
	// The profile's access point name is the default; no stack means no stack check.
	if len(rep.Checks) != 11 || rep.Checks[0].ID != verify.CheckTrust || !strings.Contains(rep.Checks[1].Detail, "parsed") {
		t.Errorf("report %+v", rep)
	}
}

func TestVerifyCommandBadInput(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	ep := []string{"--endpoint-url", w.URL}
	tests := []struct {
		args  []string
		field string
	}{
		{[]string{"verify", "--output", "xml"}, "--output"},
		{[]string{"verify", "--bucket", aw.Bucket, "--external-id", aw.ExternalID}, "--role-arn"},
		{[]string{"verify", "--role-arn", aw.RoleARN, "--bucket", aw.Bucket}, "--external-id"},
		{[]string{"verify", "--role-arn", "arn:aws:iam::111122223333:user/x", "--bucket", aw.Bucket, "--external-id", aw.ExternalID}, "--role-arn"},
		{[]string{"verify", "--stack-name", "9lives"}, "--stack-name"},
		{[]string{"verify", "--as-vendor", "--stack-name", aw.StackName}, "--stack-name"},
		{[]string{"verify", "--as-vendor", "--role-arn", aw.RoleARN, "--bucket", aw.Bucket}, "--external-id"},
		{[]string{"verify", "--as-vendor", "--role-arn", aw.RoleARN, "--bucket", aw.Bucket, "--external-id", "a"}, "--external-id"},
		{[]string{"verify", "--stack-name", aw.StackName, "--region", "mars"}, "--region"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCLI(t, "", append(tt.args, ep...)...)
		wantBadInput(t, code, stdout, stderr, tt.field)
	}
	if n := len(w.IAM.Calls()) + len(w.STS.Calls()) + len(w.S3.Calls()) + len(w.CFN.Calls()); n != 0 {
		t.Errorf("bad input made %d AWS calls", n)
	}
}

// The rotation flags: the vendor checks both live IDs during the overlap and the old one after
// --finish; a previous ID that is still live, or a malformed next one, is bad input by its flag.
func TestVerifyRotationFlags(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	const next = "0b7d3c1e-51a4-4f0e-9d6b-8c2f7e1a9b30"
	vendor := []string{"verify", "--as-vendor", "--role-arn", aw.RoleARN, "--bucket", aw.Bucket, "--endpoint-url", w.URL}
	w.IAM.PutRole(aw.RoleName, aw.TrustPolicy(aw.VendorRoot, map[string]any{"StringEquals": map[string]any{"sts:ExternalId": []string{aw.ExternalID, next}}}))
	t.Setenv("AWS_ACCESS_KEY_ID", aw.VendorKey)
	code, stdout, stderr := runCLI(t, "", append(vendor, "--external-id", aw.ExternalID, "--next-external-id", next)...)
	if code != exitOK || !strings.Contains(stdout, "["+verify.CheckAssumeNextExternalID+"]") {
		t.Fatalf("overlap: exit %d, stderr %q\n%s", code, stderr, stdout)
	}
	// Not finished yet: the old ID still opens the role.
	code, stdout, _ = runCLI(t, "", append(vendor, "--external-id", next, "--previous-external-id", aw.ExternalID)...)
	if code != exitFailure || !strings.Contains(stdout, "✗ Role refuses the previous external ID (rotation finished) ["+verify.CheckAssumePreviousExternalID+"]") {
		t.Fatalf("unfinished: exit %d\n%s", code, stdout)
	}
	code, stdout, stderr = runCLI(t, "", append(vendor, "--external-id", next, "--previous-external-id", next)...)
	wantBadInput(t, code, stdout, stderr, "--previous-external-id")
	code, stdout, stderr = runCLI(t, "", append(vendor, "--external-id", next, "--next-external-id", "x")...)
	wantBadInput(t, code, stdout, stderr, "--next-external-id")
}

// The vendor side runs as the vendor runs it: the CLI itself, the SDK's own HTTP client
// dialing --endpoint-url (no test dialer), the access point reached there by its alias, given
// or read. A proxy stripping the GET's Access-Control-Allow-Origin fails that check alone.
func TestVerifyCommandVendorSideOnLocalEndpoint(t *testing.T) {
	aw.Isolate(t, "", aw.VendorKey, aw.Secret, aw.Region)
	w := aw.Start(t)
	base := []string{"verify", "--as-vendor", "--endpoint-url", w.URL, "--role-arn", aw.RoleARN, "--bucket", aw.Bucket,
		"--external-id", aw.ExternalID, "--iam-wait", "0"}
	want := []string{verify.CheckAssume, verify.CheckAssumeNoExternalID, verify.CheckAssumeBadExternalID,
		verify.CheckListAccessPoint, verify.CheckListBucket, verify.CheckReadObject, verify.CheckPreflight,
		verify.CheckPresignedGet, verify.CheckGetAllowOrigin, verify.CheckVary, verify.CheckRange, verify.CheckContentType}
	for _, extra := range [][]string{{"--access-point-alias", aw.StackOutputs["AccessPointAlias"]}, nil} {
		code, stdout, stderr := runCLI(t, "", append(base, extra...)...)
		if code != exitOK || stderr != "" {
			t.Fatalf("%v: exit %d, stderr %q, stdout:\n%s", extra, code, stderr, stdout)
		}
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if len(lines) != len(want)+1 {
			t.Fatalf("want one line per check and a summary, got:\n%s", stdout)
		}
		for i, id := range want {
			if !strings.HasPrefix(lines[i], "✓ ") || !strings.HasSuffix(lines[i], "["+id+"]") {
				t.Errorf("line %d = %q, want a passed %s", i+1, lines[i], id)
			}
		}
	}
	var aliased bool
	for _, c := range w.S3.Calls() {
		aliased = aliased || c.Operation == "GetAccessPoint"
	}
	if !aliased {
		t.Error("without --access-point-alias the vendor side did not read the alias")
	}

	w.S3.Inject(s3fake.StripAllowOrigin)
	code, stdout, stderr := runCLI(t, "", append(base, "--output", "json")...)
	var rep verify.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitFailure {
		t.Fatalf("exit %d, JSON %v, stderr %q:\n%s", code, err, stderr, stdout)
	}
	if f := rep.Failed(); len(f) != 1 || f[0].ID != verify.CheckGetAllowOrigin || !strings.Contains(f[0].Fix, "proxy") {
		t.Errorf("with a proxy stripping the header, failed: %+v", f)
	}
}

// --browser belongs to the vendor side, and --sample and --iam-wait have bounds (on both sides).
func TestVerifyCommandVendorFlagsBadInput(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	vendor := []string{"verify", "--as-vendor", "--endpoint-url", w.URL, "--role-arn", aw.RoleARN, "--bucket", aw.Bucket, "--external-id", aw.ExternalID}
	for _, tt := range []struct {
		args []string
		flag string
	}{
		{[]string{"verify", "--stack-name", aw.StackName, "--browser", "--endpoint-url", w.URL}, "--browser"},
		{append(vendor, "--sample", "0"), "--sample"},
		{[]string{"verify", "--stack-name", aw.StackName, "--sample", "101", "--endpoint-url", w.URL}, "--sample"},
		{append(vendor, "--iam-wait", "-1s"), "--iam-wait"},
	} {
		code, stdout, stderr := runCLI(t, "", tt.args...)
		wantBadInput(t, code, stdout, stderr, tt.flag)
	}
	if n := len(w.STS.Calls()) + len(w.S3.Calls()); n != 0 {
		t.Errorf("bad input made %d AWS calls", n)
	}
}

// A role refused a moment after it changed is waited for, visibly, on stderr.
func TestVerifyCommandShowsTheIAMWait(t *testing.T) {
	aw.Isolate(t, "", aw.VendorKey, aw.Secret, aw.Region)
	w := aw.Start(t)
	w.STS.Lag(1)
	code, stdout, stderr := runCLI(t, "", "verify", "--as-vendor", "--endpoint-url", w.URL, "--role-arn", aw.RoleARN,
		"--bucket", aw.Bucket, "--external-id", aw.ExternalID, "--access-point-alias", aw.StackOutputs["AccessPointAlias"], "--iam-wait", "2s")
	want := "waiting for IAM to propagate: AssumeRole on " + aw.RoleARN + " was refused; retrying in 1s (up to 2s more)\n"
	if code != exitOK || stderr != want {
		t.Errorf("exit %d, stderr %q, want %q; stdout:\n%s", code, stderr, want, stdout)
	}
}
