package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/internal/awsfake/s3public"
	"github.com/isahit/s3grant/launch"
)

// publishEnv aims the AWS SDK at the fake through the environment, as a user would with
// LocalStack, and isolates it from the machine's AWS configuration.
func publishEnv(t *testing.T, f *s3public.Fake) {
	t.Helper()
	awsworld.Isolate(t, f.URL, "AKIDTEST", "secret", "eu-west-3")
}

type publishJSON struct {
	Bucket, Region, Key, LatestKey, TemplateURL, CheckedURL, Link string
	Uploaded, Public                                              bool
	PolicyStatement                                               map[string]any
}

// publishCLI publishes with --output json; a template that is not public exits 1 (after the
// JSON object, which says so), one that is exits 0.
func publishCLI(t *testing.T, wantCode int, args ...string) publishJSON {
	t.Helper()
	code, out, errOut := runCLI(t, "", append([]string{"publish", "--output", "json"}, args...)...)
	if code != wantCode {
		t.Fatalf("exit %d, want %d: %s", code, wantCode, errOut)
	}
	if wantCode == exitFailure && (strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "is not publicly readable")) {
		t.Errorf("stderr %q", errOut)
	}
	var res publishJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return res
}

func TestPublishCommand(t *testing.T) {
	f := s3public.New(t)
	f.CreateBucket(t, "isahit-templates")
	publishEnv(t, f)

	first := publishCLI(t, exitFailure, "--template-bucket", "isahit-templates", "--region", "eu-west-3")
	if !strings.HasPrefix(first.Key, "s3grant/v2/") || !first.Uploaded || first.LatestKey != "s3grant/latest.json" {
		t.Errorf("first publish %+v", first)
	}
	if first.TemplateURL != "https://isahit-templates.s3.eu-west-3.amazonaws.com/"+first.Key {
		t.Errorf("template URL %s", first.TemplateURL)
	}
	// What was uploaded is the template s3grant builds for the vendor.
	code, tmpl, _ := runCLI(t, "", "template")
	if code != 0 || string(f.Object(t, "isahit-templates", first.Key)) != tmpl {
		t.Errorf("the published object is not the output of s3grant template")
	}
	l, err := launch.Parse(first.Link)
	if err != nil || l.TemplateURL != first.TemplateURL || l.Region != "eu-west-3" {
		t.Errorf("link %s parses to %+v, %v", first.Link, l, err)
	}
	if first.Public || first.PolicyStatement["Resource"] != "arn:aws:s3:::isahit-templates/s3grant/*" {
		t.Errorf("private template: public=%v statement %v", first.Public, first.PolicyStatement)
	}

	again := publishCLI(t, exitFailure, "--template-bucket", "isahit-templates")
	if again.Key != first.Key || again.TemplateURL != first.TemplateURL || again.Uploaded {
		t.Errorf("republish %+v, want the same key, not uploaded", again)
	}

	// A changed template (another vendor profile) gets a new key; latest.json follows.
	profile, err := os.ReadFile("../../profile/isahit-lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	vendor := filepath.Join(t.TempDir(), "vendor.yaml")
	other := strings.Replace(string(profile), `"999888496268"`, `"123456789012"`, 1)
	if err := os.WriteFile(vendor, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	changed := publishCLI(t, exitFailure, "--template-bucket", "isahit-templates", "--vendor", vendor)
	if changed.Key == first.Key || !changed.Uploaded {
		t.Errorf("changed template published as %+v", changed)
	}
	if latest := f.Object(t, "isahit-templates", "s3grant/latest.json"); string(latest) != string(f.Object(t, "isahit-templates", changed.Key)) {
		t.Error("latest.json does not follow the changed template")
	}

	// In text, a private template: the statement that fixes it, then exit 1.
	code, out, errOut := runCLI(t, "", "publish", "--template-bucket", "isahit-templates")
	if code != exitFailure || !strings.Contains(out, "Public read: NO") || !strings.Contains(out, `"Resource": "arn:aws:s3:::isahit-templates/s3grant/*"`) ||
		!strings.Contains(errOut, "not publicly readable") {
		t.Errorf("private, text: exit %d, stderr %q\n%s", code, errOut, out)
	}

	f.MakePublic("isahit-templates", "s3grant")
	if pub := publishCLI(t, exitOK, "--template-bucket", "isahit-templates"); !pub.Public {
		t.Errorf("public template reported %+v", pub)
	}
	code, out, errOut = runCLI(t, "", "publish", "--template-bucket", "isahit-templates")
	if code != 0 || !strings.Contains(out, "Public read: yes") || !strings.Contains(out, "[**Launch Stack ▸**](https://eu-west-3.console.aws.amazon.com/") {
		t.Errorf("text output (exit %d, %s):\n%s", code, errOut, out)
	}
}

func TestPublishCommandErrors(t *testing.T) {
	f := s3public.New(t)
	f.CreateBucket(t, "isahit-templates")
	publishEnv(t, f)
	for _, tc := range []struct {
		args  []string
		field string
	}{
		{[]string{"--template-bucket", "Bad_Bucket"}, "--template-bucket"},
		{[]string{}, "--template-bucket"},
		{[]string{"--template-bucket", "isahit-templates", "--template-prefix", ""}, "--template-prefix"},
		{[]string{"--template-bucket", "isahit-templates", "--region", "paris"}, "--region"},
		{[]string{"--template-bucket", "isahit-templates", "--output", "xml"}, "--output"},
	} {
		code, out, errOut := runCLI(t, "", append([]string{"publish"}, tc.args...)...)
		wantBadInput(t, code, out, errOut, tc.field)
	}
	if f.Requests() != 0 {
		t.Errorf("bad input made %d S3 requests", f.Requests())
	}
	code, out, errOut := runCLI(t, "", "publish", "--template-bucket", "no-such-bucket")
	if code != exitFailure || out != "" || !strings.Contains(errOut, "template bucket no-such-bucket") {
		t.Errorf("missing bucket: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
