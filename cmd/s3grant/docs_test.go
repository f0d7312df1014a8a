package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/isahit/s3grant/site/sitetest"
)

func TestDocsBuild(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "guide")
	code, out, errOut := runCLI(t, "", "docs", "build", "--dir", dir, "--bucket", "acme-images", "--external-id", exampleID,
		"--region", "eu-west-3", "--account-id", "111122223333",
		"--template-url", "https://isahit-templates.s3.eu-west-3.amazonaws.com/s3grant/v1/abc.json",
		"--base-url", "https://docs.example.com/s3/")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, filepath.Join(dir, "index.html")) {
		t.Errorf("stdout %q does not say where the guide is", out)
	}
	html, err := os.ReadFile(filepath.Join(dir, "console.html"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := sitetest.Parse(html)
	if err != nil {
		t.Fatal(err)
	}
	console := doc.TextContent()
	for _, want := range []string{"arn:aws:s3:::acme-images", exampleID, "arn:aws:s3:eu-west-3:111122223333:accesspoint/isahit-lab-access-point"} {
		if !strings.Contains(console, want) {
			t.Errorf("the manual page does not bake in %q", want)
		}
	}
	sitemap, err := os.ReadFile(filepath.Join(dir, "sitemap.xml"))
	if err != nil || !strings.Contains(string(sitemap), "<loc>https://docs.example.com/s3/console.html</loc>") {
		t.Errorf("sitemap: %v %.200s", err, sitemap)
	}
	// A second build into the same directory replaces the first.
	if code, _, errOut := runCLI(t, "", "docs", "build", "--dir", dir); code != 0 {
		t.Fatalf("rebuild: exit %d: %s", code, errOut)
	}
}

func TestDocsBuild_BadInput(t *testing.T) {
	foreign := t.TempDir()
	if err := os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(t.TempDir(), "guide")
	for _, tc := range []struct {
		name  string
		args  []string
		field string
	}{
		{"no output", []string{"docs", "build"}, "--dir"},
		{"foreign directory", []string{"docs", "build", "--dir", foreign}, "--dir"},
		{"external ID", []string{"docs", "build", "--dir", fresh, "--external-id", "no spaces allowed"}, "--external-id"},
		{"bucket", []string{"docs", "build", "--dir", fresh, "--bucket", "Not_A_Bucket"}, "--bucket"},
		{"account ID", []string{"docs", "build", "--dir", fresh, "--account-id", "12345"}, "--account-id"},
		{"template URL", []string{"docs", "build", "--dir", fresh, "--template-url", "https://example.com/t.json"}, "--template-url"},
		{"base URL", []string{"docs", "build", "--dir", fresh, "--base-url", "docs.example.com"}, "--base-url"},
		{"serve address", []string{"docs", "serve", "--addr", "8080"}, "--addr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tc.args...)
			wantBadInput(t, code, out, errOut, tc.field)
		})
	}
	if data, err := os.ReadFile(filepath.Join(foreign, "notes.txt")); err != nil || string(data) != "mine" {
		t.Errorf("the foreign directory was touched: %q %v", data, err)
	}
	if entries, _ := os.ReadDir(foreign); len(entries) != 1 {
		t.Errorf("files were added to the foreign directory: %d entries", len(entries))
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("bad input created the output directory: %v", err)
	}
}

func TestDocsServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errOut strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"docs", "serve", "--addr", "127.0.0.1:0", "--bucket", "acme-images"}, strings.NewReader(""), pw, &errOut)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no address printed: %v (stderr %q)", err, errOut.String())
	}
	go io.Copy(io.Discard, pr)
	addr := strings.Fields(strings.TrimPrefix(line, "Serving the guide at "))[0]
	for path, want := range map[string]int{"index.html": 200, "console.html": 200, "nope.html": 404} {
		resp, err := http.Get(addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s%s = %d, want %d", addr, path, resp.StatusCode, want)
		}
		if want == 200 && !strings.Contains(string(body), "acme-images") {
			t.Errorf("GET %s: the bucket flag is not baked in", path)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after interrupt: %s", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop when its context ended")
	}
}
