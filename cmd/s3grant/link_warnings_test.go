package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLinkWarnings(t *testing.T) {
	latest := "https://isahit-templates.s3.eu-west-3.amazonaws.com/s3grant/latest.json"
	for _, tc := range []struct {
		name string
		args []string
		want []string // flags named by the warnings, in order
	}{
		{"complete", []string{"--template-url", exampleTemplateURL, "--external-id", exampleID}, nil},
		{"new external ID", []string{"--template-url", exampleTemplateURL, "--new-external-id"}, nil},
		{"no external ID", []string{"--template-url", exampleTemplateURL}, []string{"--external-id"}},
		{"latest.json", []string{"--template-url", latest, "--external-id", exampleID}, []string{"--template-url"}},
		{"both", []string{"--template-url", latest}, []string{"--external-id", "--template-url"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"link", "--region", "eu-west-3", "--bucket", "my-bucket"}, tc.args...)
			code, out, errOut := runCLI(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d, want 0 (warnings do not fail): %s", code, errOut)
			}
			lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
			if errOut == "" {
				lines = nil
			}
			if len(lines) != len(tc.want) {
				t.Fatalf("stderr %q, want %d warning line(s)", errOut, len(tc.want))
			}
			for i, flag := range tc.want {
				if !strings.HasPrefix(lines[i], "warning: "+flag+": ") {
					t.Errorf("warning %q does not start with warning: %s:", lines[i], flag)
				}
			}
			l := firstLink(t, out)
			if _, ok := l.Parameters["ExternalId"]; ok == (len(tc.want) > 0 && tc.want[0] == "--external-id") {
				t.Errorf("link parameters %v, warnings %v", l.Parameters, tc.want)
			}
			if strings.Contains(errOut, "--external-id") && !strings.Contains(errOut, "param_ExternalId") {
				t.Errorf("the warning does not say the link lacks param_ExternalId: %q", errOut)
			}

			code, out, errOut = runCLI(t, "", append(args, "--output", "json")...)
			var res struct {
				Warnings []struct{ Flag, Message string }
			}
			if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil {
				t.Fatalf("json: exit %d, %v: %s", code, err, out)
			}
			if len(res.Warnings) != len(tc.want) || strings.Count(errOut, "warning: ") != len(tc.want) {
				t.Errorf("json warnings %v, stderr %q, want %v", res.Warnings, errOut, tc.want)
			}
		})
	}
}

// template -o yaml writes YAML; link --template reads it, as it reads JSON.
func TestLinkReadsYAMLAndJSONTemplates(t *testing.T) {
	dir := t.TempDir()
	for _, format := range []string{"yaml", "json"} {
		file := filepath.Join(dir, "integration."+format)
		if code, _, errOut := runCLI(t, "", "template", "-o", format, "--file", file); code != 0 {
			t.Fatalf("template -o %s: exit %d: %s", format, code, errOut)
		}
		code, out, errOut := runCLI(t, "", "link", "--template", file, "--template-url", exampleTemplateURL,
			"--region", "eu-west-3", "--bucket", "my-bucket", "--external-id", exampleID, "--prefix", "images/")
		if code != 0 || errOut != "" {
			t.Fatalf("%s: exit %d: %s", format, code, errOut)
		}
		if l := firstLink(t, out); l.Parameters["ObjectPrefix"] != "images/" {
			t.Errorf("%s: parameters %v", format, l.Parameters)
		}
	}
	// The parameter check works on YAML too: a template without ObjectPrefix refuses --prefix.
	small := filepath.Join(dir, "small.yaml")
	body := "Parameters:\n  BucketName: {Type: String}\n  ExternalId: {Type: String}\nResources:\n  R: {Type: AWS::SNS::Topic}\n"
	if err := os.WriteFile(small, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "link", "--template", small, "--template-url", exampleTemplateURL,
		"--region", "eu-west-3", "--bucket", "my-bucket", "--external-id", exampleID, "--prefix", "images/")
	wantBadInput(t, code, out, errOut, "param_ObjectPrefix")
}
