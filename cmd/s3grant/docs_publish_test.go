package main

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/internal/awsfake/s3fake"
	"github.com/isahit/s3grant/site/sitetest"
)

const docsBucket = "isahit-docs"

// docsWorld is a vendor bucket in the S3 fake, with the environment aimed at it.
func docsWorld(t *testing.T) *s3fake.Fake {
	t.Helper()
	f, url := s3fake.Start(t)
	f.PutBucket(s3fake.Bucket{Name: docsBucket, Region: "eu-west-3", Objects: map[string][]byte{"other/keep.txt": []byte("x")}})
	awsworld.Isolate(t, url, "AKIDTEST", "secret", "eu-west-3")
	return f
}

func TestDocsPublish(t *testing.T) {
	f := docsWorld(t)
	args := []string{"docs", "publish", "--site-bucket", docsBucket, "--site-prefix", "s3", "--website", "--bucket", "acme-images"}

	code, out, errOut := runCLI(t, "", append(args, "--dry-run")...)
	if code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "upload new     s3/index.html (text/html; charset=utf-8; public, max-age=300)") ||
		!strings.Contains(out, "Dry run: nothing changed.") || !strings.Contains(out, "create a website configuration") {
		t.Errorf("dry run output:\n%s", out)
	}
	if keys := f.Keys(docsBucket); !slices.Equal(keys, []string{"other/keep.txt"}) || f.Bucket(docsBucket).Website != nil {
		t.Fatalf("the dry run changed the bucket: %v, website %+v", keys, f.Bucket(docsBucket).Website)
	}

	code, out, errOut = runCLI(t, "", args...)
	if code != 0 {
		t.Fatalf("publish: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Site: ") || !strings.Contains(out, "/"+docsBucket+"/s3/index.html") {
		t.Errorf("publish output does not give the site's URL:\n%s", out)
	}
	if w := f.Bucket(docsBucket).Website; w == nil || w.IndexSuffix != "index.html" || w.ErrorKey != "s3/404.html" {
		t.Errorf("website configuration %+v", w)
	}

	code, out, errOut = runCLI(t, "", args...)
	if code != 0 || !strings.Contains(out, "Published: 0 uploaded,") || !strings.Contains(out, "0 deleted") {
		t.Errorf("second publish: exit %d, stderr %s, output:\n%s", code, errOut, out)
	}

	// The site served from the bucket's website endpoint renders with its assets in a real
	// browser, every page and the 404 page, without a failed request.
	srv := httptest.NewServer(f.Website(docsBucket))
	t.Cleanup(srv.Close)
	b := sitetest.NewBrowser(t)
	var pages []string
	for _, k := range f.Keys(docsBucket) {
		if p, ok := strings.CutPrefix(k, "s3/"); ok && strings.HasSuffix(p, ".html") {
			pages = append(pages, p)
		}
	}
	if len(pages) < 5 {
		t.Fatalf("published pages: %v", pages)
	}
	for _, p := range append([]string{""}, pages...) {
		tab := b.Open(t, srv.URL+"/s3/"+p, sitetest.Desktop)
		state := sitetest.Eval[struct {
			Sheets int    `json:"sheets"`
			Font   string `json:"font"`
			Script bool   `json:"script"`
		}](tab, `({sheets: Array.from(document.styleSheets).filter(s => s.cssRules.length > 50).length,
			font: getComputedStyle(document.body).fontFamily,
			script: !document.getElementById("values-box") || !document.getElementById("values-box").hidden})`)
		if state.Sheets != 1 || !strings.Contains(state.Font, "system-ui") || !state.Script {
			t.Errorf("/s3/%s: stylesheet applied %d, body font %q, script ran %v", p, state.Sheets, state.Font, state.Script)
		}
		for _, problem := range tab.Problems() {
			if !(p == "404.html" && strings.Contains(problem, "HTTP 404 for "+srv.URL+"/s3/404.html")) {
				t.Errorf("/s3/%s: %s", p, problem)
			}
		}
	}
	missing := b.Open(t, srv.URL+"/s3/no-such-page.html", sitetest.Desktop)
	title := sitetest.Eval[string](missing, `document.title`)
	if !strings.Contains(title, "Page not found") {
		t.Errorf("a missing page shows %q, want the guide's 404 page", title)
	}
}

func TestDocsPublish_BadInput(t *testing.T) {
	docsWorld(t)
	for _, tc := range []struct {
		args  []string
		field string
	}{
		{nil, "--site-bucket"},
		{[]string{"--site-bucket", "Bad_Name"}, "--site-bucket"},
		{[]string{"--site-bucket", docsBucket, "--site-prefix", "a/../b"}, "--site-prefix"},
		{[]string{"--site-bucket", docsBucket, "--external-id", "x"}, "--external-id"},
	} {
		code, out, errOut := runCLI(t, "", append([]string{"docs", "publish"}, tc.args...)...)
		wantBadInput(t, code, out, errOut, tc.field)
	}
}
