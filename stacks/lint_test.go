package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/isahit/s3grant/profile"
)

// lintProfiles are the vendor profiles templates are built from in these tests: the embedded
// one and every accepted profile under testdata/profiles (the edge-of-limit ones included).
func lintProfiles(t *testing.T) map[string]profile.Vendor {
	t.Helper()
	vendors := map[string]profile.Vendor{"embedded": profile.Default()}
	files, err := filepath.Glob(filepath.Join("testdata", "profiles", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test profiles under testdata/profiles: %v", err)
	}
	for _, f := range files {
		v, err := profile.Load(f)
		if err != nil {
			t.Fatalf("test profile %s is refused: %v", f, err)
		}
		vendors[strings.TrimSuffix(filepath.Base(f), ".yaml")] = v
	}
	return vendors
}

// lintIntegrations are, for each profile, the integration with its example values and the
// one with every option set.
func lintIntegrations(t *testing.T) map[string]Integration {
	t.Helper()
	out := map[string]Integration{}
	for name, v := range lintProfiles(t) {
		in := New(v)
		in.BucketName, in.ExternalID, in.Region = v.Example.Bucket, v.Example.ExternalID, v.Example.Region
		out[name] = in
		every := in
		every.ObjectPrefix = "images/2024/"
		every.KMSKeyARN = "arn:aws:kms:" + v.Example.Region + ":111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
		if strings.HasPrefix(v.Example.Region, "us-gov-") {
			every.KMSKeyARN = strings.Replace(every.KMSKeyARN, "arn:aws:", "arn:aws-us-gov:", 1)
		}
		every.RoleName = strings.Repeat("r", 64)
		out[name+"-every-option"] = every
	}
	return out
}

// The texts built from a profile stay within the limits AWS enforces on them, for every
// accepted profile, the longest name included.
func TestTemplateTextsWithinAWSLimits(t *testing.T) {
	for name, in := range lintIntegrations(t) {
		t.Run(name, func(t *testing.T) {
			var tpl struct {
				Description string
				Parameters  map[string]struct{ Default, Description string }
				Resources   map[string]struct {
					Type       string
					Properties map[string]any
				}
				Outputs map[string]struct{ Description string }
			}
			body := mustJSON(t, in)
			// A template from a profile at every limit at once (4 KB of origins, a 1,224-character
			// example external ID) outgrows the inline limit: `deploy` then refuses it with its own
			// message, and publish's S3 URL still carries it (460,800 bytes).
			limit := MaxInlineTemplateBytes
			if strings.HasPrefix(name, "limits") {
				limit = 460800
			}
			if len(body) > limit {
				t.Errorf("template is %d bytes, over CloudFormation's limit of %d", len(body), limit)
			}
			if err := json.Unmarshal(body, &tpl); err != nil {
				t.Fatal(err)
			}
			check := func(what, text string, limit int, bytes bool) {
				n := utf8.RuneCountInString(text)
				unit := "characters"
				if bytes {
					n, unit = len(text), "bytes"
				}
				if n > limit {
					t.Errorf("%s is %d %s, over the limit of %d", what, n, unit, limit)
				}
			}
			check("the template Description", tpl.Description, 1024, true)
			for p, v := range tpl.Parameters {
				check("parameter "+p+"'s Default", v.Default, 4096, true)
				check("parameter "+p+"'s Description", v.Description, 4000, false)
			}
			for o, v := range tpl.Outputs {
				check("output "+o+"'s Description", v.Description, 1024, true)
			}
			limits := map[string]int{"AWS::Lambda::Function": 256, "AWS::IAM::Role": 1000, "AWS::IAM::ManagedPolicy": 1000}
			for id, r := range tpl.Resources {
				if limit, ok := limits[r.Type]; ok {
					d, _ := json.Marshal(r.Properties["Description"])
					check(id+"'s Description", descriptionText(d), limit, false)
				}
			}
		})
	}
}

// descriptionText is a Description as it reaches the service: a plain string, or the text of an
// Fn::Sub (its ${...} variables are short values; the text around them is what a name can grow).
func descriptionText(raw []byte) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var sub struct {
		Sub string `json:"Fn::Sub"`
	}
	_ = json.Unmarshal(raw, &sub)
	return sub.Sub
}

// cfn-lint, AWS's template linter, is an independent reader: every template built from every
// accepted profile must have no error (E) finding. It runs once over all templates.
func TestTemplatesPassCfnLint(t *testing.T) {
	lint := cfnLintPath(t)
	dir := t.TempDir()
	var files []string
	integrations := lintIntegrations(t)
	// Many buckets (issue 13): three buckets, one with a prefix, and the same attaching to the
	// home stack's role from another region.
	three := manyBuckets(3)
	three.MoreBuckets[1].Prefix = "team/"
	three.KMSKeyARN = "arn:aws:kms:eu-west-3:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	integrations["three-buckets"] = three
	attach := three
	attach.Role, attach.ExternalID, attach.KMSKeyARN = RoleAttach("isahit-lab-reader"), "", ""
	integrations["three-buckets-attached"] = attach
	for name, in := range integrations {
		for _, cors := range []bool{true, false} {
			in.ManageCORS = cors
			f := filepath.Join(dir, fmt.Sprintf("%s-cors-%t.json", name, cors))
			if err := os.WriteFile(f, mustJSON(t, in), 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
	}
	cfnLint(t, lint, files)
}

// cfnLint runs cfn-lint on the template files and fails the test on every error finding.
func cfnLint(t *testing.T, lint string, files []string) {
	t.Helper()
	cmd := exec.Command(lint, append([]string{"--format", "json", "--"}, files...)...)
	cmd.Stderr = &strings.Builder{}
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running cfn-lint: %v", err)
	}
	var findings []struct {
		Rule     struct{ Id string }
		Message  string
		Filename string
		Location struct{ Path []any }
	}
	if err := json.Unmarshal(out, &findings); err != nil {
		t.Fatalf("cfn-lint output is not JSON (%v): %s %s", err, out, cmd.Stderr)
	}
	for _, f := range findings {
		if strings.HasPrefix(f.Rule.Id, "E") {
			t.Errorf("%s: %s at %v: %s", filepath.Base(f.Filename), f.Rule.Id, f.Location.Path, f.Message)
		}
	}
	// cfn-lint's exit code has bit 2 set for errors: it must agree with the findings we read.
	if exit != nil && exit.ExitCode()&2 != 0 && !t.Failed() {
		t.Errorf("cfn-lint exited %d (errors) but reported no E finding: %s", exit.ExitCode(), cmd.Stderr)
	}
}

// cfnLintPath is cfn-lint's path; without it the test is skipped, except in CI where it fails.
func cfnLintPath(t *testing.T) string {
	t.Helper()
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cfn-lint is required in CI (pip install cfn-lint): %v", err)
		}
		t.Log("cfn-lint is not on PATH: skipping the cfn-lint check of the templates (pip install cfn-lint)")
		t.SkipNow()
	}
	return lint
}
