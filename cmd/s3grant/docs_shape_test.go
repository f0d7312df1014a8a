package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/isahit/s3grant/internal/awsfake/s3public"
	"github.com/isahit/s3grant/stacks"
)

// A guide for several buckets with --template-url must launch the template s3grant publish
// --bucket published for those buckets: the URL's content-addressed key is checked offline (the
// buckets in any order are the same shape); the generic template, latest.json or another
// shape's template is refused naming publish --bucket, and nothing is written.
func TestDocsBuildSeveralBucketsChecksTheShapeURL(t *testing.T) {
	f := s3public.New(t)
	f.CreateBucket(t, "isahit-templates")
	f.MakePublic("isahit-templates", "s3grant")
	publishEnv(t, f)
	buckets := []string{"--bucket", "my-bucket", "--bucket", "team-b-data/raw/", "--bucket", "s3://team-c.video"}
	generic := publishCLI(t, exitOK, "--template-bucket", "isahit-templates", "--region", "eu-west-3")
	shape := publishCLI(t, exitOK, append([]string{"--template-bucket", "isahit-templates", "--region", "eu-west-3"}, buckets...)...)
	other := publishCLI(t, exitOK, "--template-bucket", "isahit-templates", "--region", "eu-west-3",
		"--bucket", "my-bucket", "--bucket", "team-b-data/raw/")
	if !strings.HasPrefix(shape.Key, "s3grant/shapes/") {
		t.Fatalf("shape published at %s", shape.Key)
	}
	// What the shape URL serves holds the buckets after the first (read from S3, not rebuilt).
	more, _, err := stacks.ShapeOf(f.Object(t, "isahit-templates", shape.Key))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range more {
		names = append(names, b.Name+"/"+b.Prefix)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"team-b-data/raw/", "team-c.video/"}) {
		t.Fatalf("the shape template holds %v", names)
	}

	build := func(url string, args ...string) (int, string, string) {
		dir := filepath.Join(t.TempDir(), "g")
		code, _, errOut := runCLI(t, "", append([]string{"docs", "build", "--dir", dir, "--external-id", exampleID, "--region", "eu-west-3",
			"--template-url", url}, args...)...)
		return code, dir, errOut
	}
	for name, args := range map[string][]string{
		"the same flags":   buckets,
		"in another order": {"--bucket", "my-bucket", "--bucket", "s3://team-c.video", "--bucket", "team-b-data/raw/"},
		"other spellings":  {"--bucket", "s3://my-bucket", "--bucket", "team-c.video", "--bucket", "team-b-data/raw/"},
	} {
		code, dir, errOut := build(shape.TemplateURL, args...)
		if code != exitOK || errOut != "" {
			t.Fatalf("%s: exit %d, stderr %q", name, code, errOut)
		}
		ref, err := os.ReadFile(filepath.Join(dir, "reference.html"))
		if err != nil {
			t.Fatal(err)
		}
		// The reference names the key of the template its button launches.
		if key := strings.TrimPrefix(shape.Key, "s3grant/"); !strings.Contains(string(ref), key) {
			t.Errorf("%s: the reference does not name %s", name, key)
		}
	}
	for name, url := range map[string]string{
		"the generic template": generic.TemplateURL,
		"latest.json":          "https://isahit-templates.s3.eu-west-3.amazonaws.com/s3grant/latest.json",
		"another shape":        other.TemplateURL,
	} {
		code, dir, errOut := build(url, buckets...)
		if code != exitBadInput || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "s3grant: --template-url: ") ||
			!strings.Contains(errOut, "s3grant publish") || !strings.Contains(errOut, "--bucket") {
			t.Errorf("%s: exit %d, stderr %q", name, code, errOut)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s: %s was written", name, dir)
		}
	}
	// link checks the same key: the shape's URL needs no --template; another still gets the warning.
	for url, warned := range map[string]bool{shape.TemplateURL: false, generic.TemplateURL: true} {
		code, _, errOut := runCLI(t, "", append([]string{"link", "--template-url", url, "--region", "eu-west-3", "--external-id", exampleID}, buckets...)...)
		if code != exitOK || strings.Contains(errOut, "the link is for 3 buckets") != warned {
			t.Errorf("link to %s: exit %d, stderr %q", url, code, errOut)
		}
	}
}
