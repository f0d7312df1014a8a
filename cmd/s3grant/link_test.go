package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/isahit/s3grant/launch"
)

const exampleTemplateURL = "https://isahit-templates.s3.eu-west-3.amazonaws.com/s3grant/v1/abc.json"

// firstLink returns the link printed on the first line of link's text output, parsed.
func firstLink(t *testing.T, stdout string) launch.Link {
	t.Helper()
	line, _, _ := strings.Cut(stdout, "\n")
	l, err := launch.Parse(line)
	if err != nil {
		t.Fatalf("first line %q: %v", line, err)
	}
	return l
}

func TestLinkDoneWhen(t *testing.T) {
	code, out, errOut := runCLI(t, "", "link", "--template-url", exampleTemplateURL,
		"--external-id", exampleID, "--bucket", "my-bucket", "--region", "eu-west-3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	l := firstLink(t, out)
	if l.Region != "eu-west-3" || l.TemplateURL != exampleTemplateURL || l.StackName != "isahit-lab-my-bucket" {
		t.Errorf("link = %+v", l)
	}
	want := map[string]string{"ExternalId": exampleID, "BucketName": "my-bucket"}
	if len(l.Parameters) != len(want) || l.Parameters["ExternalId"] != want["ExternalId"] || l.Parameters["BucketName"] != want["BucketName"] {
		t.Errorf("parameters = %v, want exactly %v", l.Parameters, want)
	}
	if !strings.Contains(out, "Region eu-west-3: the link creates the stack in this region, which must be the region of my-bucket.") {
		t.Errorf("no region line in %q", out)
	}
}

func TestLinkPrefillsOnlyGivenFlags(t *testing.T) {
	code, out, errOut := runCLI(t, "", "link", "--template-url", exampleTemplateURL, "--region", "eu-west-3",
		"--bucket", "my.dotted.bucket", "--manage-cors=false", "--prefix", "images/", "--stack-name", "Custom-1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	l := firstLink(t, out)
	want := map[string]string{"BucketName": "my.dotted.bucket", "ManageCors": "false", "ObjectPrefix": "images/"}
	if len(l.Parameters) != len(want) {
		t.Errorf("parameters = %v, want %v", l.Parameters, want)
	}
	for k, v := range want {
		if l.Parameters[k] != v {
			t.Errorf("param_%s = %q, want %q", k, l.Parameters[k], v)
		}
	}
	if l.StackName != "Custom-1" {
		t.Errorf("stack name %q", l.StackName)
	}
}

func TestLinkNewExternalID(t *testing.T) {
	code, out, errOut := runCLI(t, "", "link", "--template-url", exampleTemplateURL, "--region", "eu-west-3",
		"--bucket", "my-bucket", "--new-external-id", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct{ Link, NewExternalID, MarkdownButton, HTMLButton string }
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(res.NewExternalID) {
		t.Fatalf("newExternalId %q is not a random UUID", res.NewExternalID)
	}
	l, err := launch.Parse(res.Link)
	if err != nil {
		t.Fatal(err)
	}
	if l.Parameters["ExternalId"] != res.NewExternalID {
		t.Errorf("link prefills ExternalId %q, printed %q", l.Parameters["ExternalId"], res.NewExternalID)
	}
	if !strings.Contains(res.MarkdownButton, res.Link) || !strings.Contains(res.HTMLButton, "Launch Stack") {
		t.Errorf("buttons %q %q", res.MarkdownButton, res.HTMLButton)
	}

	code, out, _ = runCLI(t, "", "link", "--template-url", exampleTemplateURL, "--region", "eu-west-3", "--new-external-id")
	if code != 0 || !strings.Contains(out, "New external ID, record it for this customer in isahit Lab: ") {
		t.Errorf("text output (exit %d) does not show the new external ID: %q", code, out)
	}
}

func TestLinkBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// An older template without KmsKeyArn, whose ExternalId is NoEcho.
	old := write("old.json", `{"Parameters": {"BucketName": {"Type": "String"}, "ExternalId": {"Type": "String", "NoEcho": true}},
		"Resources": {"R": {"Type": "AWS::SNS::Topic"}}}`)
	notJSON := write("t.yaml", "Parameters: {}\n")
	base := []string{"link", "--template-url", exampleTemplateURL, "--region", "eu-west-3", "--bucket", "my-bucket"}
	cases := []struct {
		name  string
		args  []string
		field string
	}{
		{"no region", []string{"link", "--template-url", exampleTemplateURL, "--bucket", "my-bucket"}, "--region"},
		{"bad region", []string{"link", "--template-url", exampleTemplateURL, "--region", "Paris"}, "--region"},
		{"no template URL", []string{"link", "--region", "eu-west-3"}, "--template-url"},
		{"non-S3 URL", []string{"link", "--region", "eu-west-3", "--template-url", "https://example.com/t.json"}, "--template-url"},
		{"http URL", []string{"link", "--region", "eu-west-3", "--template-url", "http://b-b.s3.eu-west-3.amazonaws.com/t.json"}, "--template-url"},
		{"too long URL", []string{"link", "--region", "eu-west-3", "--template-url",
			"https://b-b.s3.eu-west-3.amazonaws.com/" + strings.Repeat("k", 1000)}, "--template-url"},
		{"bad stack name", append(base, "--stack-name", "my_stack"), "--stack-name"},
		{"bad bucket", []string{"link", "--template-url", exampleTemplateURL, "--region", "eu-west-3", "--bucket", "My_Bucket"}, "--bucket"},
		{"bad external ID", append(base, "--external-id", "x"), "--external-id"},
		{"unknown parameter", append(base, "--template", old,
			"--kms-key-arn", "arn:aws:kms:eu-west-3:123456789012:key/abcd"), "--kms-key-arn (param_KmsKeyArn)"},
		{"NoEcho parameter", append(base, "--template", old, "--external-id", exampleID), "--external-id (param_ExternalId)"},
		{"template not JSON", append(base, "--template", notJSON), "--template"},
		{"template missing", append(base, "--template", filepath.Join(dir, "none.json")), "--template"},
		{"both external IDs", append(base, "--external-id", exampleID, "--new-external-id"), "--new-external-id"},
		{"bad output", append(base, "--output", "yaml"), "--output"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tc.args...)
			wantBadInput(t, code, out, errOut, tc.field)
		})
	}
}
