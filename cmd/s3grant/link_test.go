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

// A link for several buckets opens the template of those buckets (publish --bucket): checked
// with --template in JSON and YAML; the generic template, another shape, or a shape for a
// one-bucket link is refused, since the stack would not grant what the link says.
func TestLinkSeveralBuckets(t *testing.T) {
	dir := t.TempDir()
	shapesURL := "https://isahit-templates.s3.eu-west-3.amazonaws.com/s3grant/shapes/v2/abc.json"
	buckets := []string{"--bucket", "my-bucket", "--bucket", "team-b-data/raw/", "--bucket", "s3://team-c.video"}
	write := func(name string, args ...string) string {
		file := filepath.Join(dir, name)
		if code, _, errOut := runCLI(t, "", append([]string{"template", "--file", file}, args...)...); code != 0 {
			t.Fatalf("template %v: exit %d: %s", args, code, errOut)
		}
		return file
	}
	link := func(args ...string) (int, string, string) {
		return runCLI(t, "", append([]string{"link", "--template-url", shapesURL, "--region", "eu-west-3", "--external-id", exampleID}, args...)...)
	}
	for _, format := range []string{"json", "yaml"} {
		shape := write("shape."+format, append([]string{"-o", format}, buckets...)...)
		code, out, errOut := link(append([]string{"--template", shape}, buckets...)...)
		if code != 0 || errOut != "" {
			t.Fatalf("%s: exit %d: %s", format, code, errOut)
		}
		l := firstLink(t, out)
		if len(l.Parameters) != 2 || l.Parameters["BucketName"] != "my-bucket" || l.Parameters["ExternalId"] != exampleID ||
			l.StackName != "isahit-lab-my-bucket" {
			t.Errorf("%s: link %+v", format, l)
		}
		// The same buckets in another order are the same shape.
		if code, _, errOut := link("--template", shape, "--bucket", "my-bucket", "--bucket", "team-c.video", "--bucket", "team-b-data/raw/"); code != 0 {
			t.Errorf("%s: reordered: exit %d: %s", format, code, errOut)
		}
	}
	shape := filepath.Join(dir, "shape.json")
	generic := write("generic.json")
	other := write("other.json", "--bucket", "my-bucket", "--bucket", "team-b-data")
	noSlash := write("noslash.json", "--bucket", "my-bucket", "--bucket", "team-b-data/raw", "--bucket", "s3://team-c.video")
	for name, args := range map[string][]string{
		"generic template":    append([]string{"--template", generic}, buckets...),
		"another prefix":      {"--template", other, "--bucket", "my-bucket", "--bucket", "team-b-data/raw/"},
		"a bucket missing":    {"--template", shape, "--bucket", "my-bucket", "--bucket", "team-b-data/raw/"},
		"one bucket, a shape": {"--template", shape, "--bucket", "my-bucket"},
		// The template's raw also grants raw-private/: not the link's raw/.
		"a prefix without its slash": append([]string{"--template", noSlash}, buckets...),
	} {
		code, out, errOut := link(args...)
		wantBadInput(t, code, out, errOut, "--template")
		if !strings.Contains(errOut, "s3grant publish") {
			t.Errorf("%s: %s", name, errOut)
		}
	}
	// Without --template the link is printed, with the warning that its template must be the shape's.
	code, out, errOut := link(buckets...)
	if code != 0 || !strings.Contains(errOut, "warning: --template-url: the link is for 3 buckets") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if l := firstLink(t, out); l.Parameters["BucketName"] != "my-bucket" {
		t.Errorf("link %+v", l)
	}
}
