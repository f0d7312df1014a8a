package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const exampleID = "a6fa9c7f-7f53-4a41-812d-a29f48288a94"

func TestTemplateCommand(t *testing.T) {
	code, out, errOut := runCLI(t, "", "template", "--bucket", "my-bucket", "--external-id", exampleID)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var tmpl struct {
		Resources map[string]struct{ Type, Condition string }
		Outputs   map[string]any
	}
	if err := json.Unmarshal([]byte(out), &tmpl); err != nil {
		t.Fatalf("stdout is not a JSON template: %v", err)
	}
	// The vendor's access is exactly one access point, one policy and one role; the CORS
	// custom resource's own resources exist only under the ManageCors condition.
	types := map[string]int{}
	for _, r := range tmpl.Resources {
		if r.Condition != "ManageCors" {
			types[r.Type]++
		}
	}
	for _, typ := range []string{"AWS::S3::AccessPoint", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role"} {
		if types[typ] != 1 {
			t.Errorf("%d resources of type %s, want 1", types[typ], typ)
		}
	}
	if len(types) != 3 {
		t.Errorf("unconditional resource types %v, want only the access point, the policy and the role", types)
	}
	for _, o := range []string{"RoleArn", "ExternalId", "AccessPointArn", "AccessPointAlias", "BucketName"} {
		if tmpl.Outputs[o] == nil {
			t.Errorf("output %s is missing", o)
		}
	}
	for _, args := range [][]string{{"--output", "yaml"}, {"-o", "YAML"}, {"--format", "yaml"}} {
		code, yamlOut, _ := runCLI(t, "", append([]string{"template", "--bucket", "my-bucket", "--external-id", exampleID}, args...)...)
		if code != 0 || !strings.Contains(yamlOut, "AWSTemplateFormatVersion: \"2010-09-09\"") {
			t.Errorf("%v: exit %d, output starts %.80q", args, code, yamlOut)
		}
	}
}

// The new user: --output json prints the template, and writes no file named json.
func TestTemplateOutputIsAFormat(t *testing.T) {
	t.Chdir(t.TempDir())
	code, out, errOut := runCLI(t, "", "template", "--output", "json")
	if code != 0 || !json.Valid([]byte(out)) {
		t.Fatalf("exit %d, stdout %.80q, stderr %q", code, out, errOut)
	}
	if _, err := os.Stat("json"); !os.IsNotExist(err) {
		t.Error("--output json wrote a file named json")
	}
}

func TestTemplateToFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "integration.json")
	code, out, errOut := runCLI(t, "", "template", "--bucket", "my-bucket", "--file", path)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	b, err := os.ReadFile(path)
	if err != nil || !json.Valid(b) {
		t.Fatalf("the file is not a JSON template: %v", err)
	}
}

func TestVendorFile(t *testing.T) {
	good := writeVendor(t, "", "")
	code, out, errOut := runCLI(t, "", "template", "--vendor", good, "--bucket", "photos")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{`"123456789012"`, `"acme-access-point"`, "Acme Vision", `"https://app.acme.example"`} {
		if !strings.Contains(out, want) {
			t.Errorf("template for the Acme profile lacks %s", want)
		}
	}
	if strings.Contains(out, "999888496268") || strings.Contains(out, "isahit") {
		t.Error("the Acme template still mentions isahit Lab")
	}
}

// acmeProfile is a valid vendor profile of another SaaS.
const acmeProfile = `id: acme
name: Acme Vision
account_id: "123456789012"
access_point_name: acme-access-point
cors:
  origins: [https://app.acme.example]
  methods: [GET]
  headers: ["*"]
example: {region: us-east-1, external_id: acme-123, bucket: acme-example}
`

// writeVendor writes the Acme profile with old replaced by new.
func writeVendor(t *testing.T, old, new string) string {
	t.Helper()
	body := strings.Replace(acmeProfile, old, new, 1)
	path := filepath.Join(t.TempDir(), "vendor.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBadInput(t *testing.T) {
	long := func(s string, n int) string { return strings.Repeat(s, n) }
	cases := []struct {
		name  string
		args  []string
		field string
	}{
		{"bucket too short", []string{"--bucket", "ab"}, "--bucket"},
		{"bucket too long", []string{"--bucket", long("a", 64)}, "--bucket"},
		{"bucket uppercase", []string{"--bucket", "My-Bucket"}, "--bucket"},
		{"bucket underscore", []string{"--bucket", "my_bucket"}, "--bucket"},
		{"bucket starts with hyphen", []string{"--bucket", "-bucket"}, "--bucket"},
		{"bucket ends with dot", []string{"--bucket", "bucket."}, "--bucket"},
		{"bucket adjacent dots", []string{"--bucket", "my..bucket"}, "--bucket"},
		{"bucket IP address", []string{"--bucket", "192.168.5.4"}, "--bucket"},
		{"bucket xn-- prefix", []string{"--bucket", "xn--bucket"}, "--bucket"},
		{"bucket -s3alias suffix", []string{"--bucket", "bucket-s3alias"}, "--bucket"},
		{"bucket with a bad prefix", []string{"--bucket", "bucket/images/*"}, "--bucket"}, // NAME/PREFIX is a bucket and its prefix
		{"bucket given twice", []string{"--bucket", "bucket-one", "--bucket", "bucket-one/x/"}, "--bucket"},
		{"prefix with several buckets", []string{"--bucket", "bucket-one", "--bucket", "bucket-two", "--prefix", "x/"}, "--prefix"},
		{"external id too short", []string{"--external-id", "a"}, "--external-id"},
		{"external id too long", []string{"--external-id", long("a", 1225)}, "--external-id"},
		{"external id space", []string{"--external-id", "abc def"}, "--external-id"},
		{"external id bad char", []string{"--external-id", "abc#def"}, "--external-id"},
		{"access point too short", []string{"--access-point-name", "ap"}, "--access-point-name"},
		{"access point too long", []string{"--access-point-name", long("a", 51)}, "--access-point-name"},
		{"access point uppercase", []string{"--access-point-name", "Isahit-AP"}, "--access-point-name"},
		{"access point leading hyphen", []string{"--access-point-name", "-isahit"}, "--access-point-name"},
		{"access point trailing hyphen", []string{"--access-point-name", "isahit-"}, "--access-point-name"},
		{"access point underscore", []string{"--access-point-name", "isahit_ap"}, "--access-point-name"},
		{"role name too long", []string{"--role-name", long("r", 65)}, "--role-name"},
		{"role name slash", []string{"--role-name", "team/role"}, "--role-name"},
		{"role name space", []string{"--role-name", "my role"}, "--role-name"},
		{"prefix leading slash", []string{"--prefix", "/images/"}, "--prefix"},
		{"prefix wildcard", []string{"--prefix", "images/*"}, "--prefix"},
		{"prefix policy variable", []string{"--prefix", "${aws:username}/"}, "--prefix"},
		{"prefix too long", []string{"--prefix", long("p", 1025)}, "--prefix"},
		{"kms alias not key", []string{"--kms-key-arn", "arn:aws:kms:eu-west-3:111122223333:alias/my-key"}, "--kms-key-arn"},
		{"kms not an arn", []string{"--kms-key-arn", "1234abcd-12ab-34cd-56ef-1234567890ab"}, "--kms-key-arn"},
		{"kms short account", []string{"--kms-key-arn", "arn:aws:kms:eu-west-3:1111:key/abc"}, "--kms-key-arn"},
		{"kms other region than bucket", []string{"--region", "eu-west-3", "--kms-key-arn", "arn:aws:kms:us-east-1:111122223333:key/abc"}, "--kms-key-arn"},
		{"region made up", []string{"--region", "europe"}, "--region"},
		{"region uppercase", []string{"--region", "EU-WEST-3"}, "--region"},
		{"region no number", []string{"--region", "eu-west"}, "--region"},
		{"format", []string{"--output", "xml"}, "--output"},
		{"old format flag", []string{"--format", "xml"}, "--output"},
		{"old and new format flags", []string{"--format", "yaml", "--output", "json"}, "--format"},
		{"unknown flag", []string{"--bukcet", "my-bucket"}, "--bukcet"},
		{"manage-cors not a bool", []string{"--manage-cors=maybe"}, "manage-cors"},
		{"extra argument", []string{"my-bucket"}, "my-bucket"},
		{"vendor file missing", []string{"--vendor", "/nonexistent/vendor.yaml"}, "--vendor"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "template.json")
			args := append([]string{"template", "--file", out}, c.args...)
			code, stdout, stderr := runCLI(t, "", args...)
			wantBadInput(t, code, stdout, stderr, c.field)
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Error("bad input wrote the output file")
			}
		})
	}
}

func TestBadVendorFile(t *testing.T) {
	cases := []struct {
		name, old, new, field string
	}{
		{"unknown key", "name: Acme Vision", "name: Acme Vision\nwebsite: https://acme.example", `unknown key "website"`},
		{"account id", `account_id: "123456789012"`, `account_id: "12345"`, "account_id"},
		{"http origin", "https://app.acme.example", "http://app.acme.example", "cors.origins[0]"},
		{"origin with path", "https://app.acme.example", "https://app.acme.example/app", "cors.origins[0]"},
		{"write method", "methods: [GET]", "methods: [GET, PUT]", "cors.methods[1]"},
		{"access point", "access_point_name: acme-access-point", "access_point_name: Acme", "access_point_name"},
		{"missing name", "name: Acme Vision", "name: ''", "name"},
		{"bad id", "id: acme", "id: Acme Corp", "id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeVendor(t, c.old, c.new)
			code, stdout, stderr := runCLI(t, "", "template", "--vendor", path, "--bucket", "photos")
			wantBadInput(t, code, stdout, stderr, c.field)
			if !strings.Contains(stderr, path) {
				t.Errorf("the error does not name the vendor file: %q", stderr)
			}
		})
	}
}
