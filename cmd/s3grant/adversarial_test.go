package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
)

// callRecorder is an AWS endpoint that answers nothing useful and records every request, so a
// test can prove that bad input made no AWS call.
type callRecorder struct {
	URL   string
	mu    sync.Mutex
	calls []string
}

func newCallRecorder(t *testing.T) *callRecorder {
	t.Helper()
	r := &callRecorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.calls = append(r.calls, req.Method+" "+req.Host+req.URL.String())
		r.mu.Unlock()
		http.Error(w, "the adversarial test expects no AWS call", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *callRecorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

const (
	advID     = "a6fa9c7f-7f53-4a41-812d-a29f48288a94"
	comURL    = "https://isahit-templates.s3.eu-west-3.amazonaws.com/s3grant/v1/abc.json"
	chinaURL  = "https://isahit-templates.s3.cn-north-1.amazonaws.com.cn/s3grant/v1/abc.json"
	hostileNm = `Acme <script>alert(1)</script>${Evil}`
)

// The adversarial cases of issue 16: each is refused with exit 2 and one line naming the flag
// or key, prints nothing on stdout, writes no file and makes no AWS call; the wrongly refused
// ones are accepted.
func TestAdversarialInputs(t *testing.T) {
	dir := t.TempDir()
	hostile := filepath.Join(dir, "hostile.yaml")
	if err := os.WriteFile(hostile, []byte(strings.Replace(string(mustRead(t, "../../profile/isahit-lab.yaml")),
		"name: isahit Lab", "name: '"+hostileNm+"'", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "no-such-dir", "t.json")
	tmpl := []string{"template", "--bucket", "my-bucket", "--external-id", advID}
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string // substring of the one line on stderr
	}{
		{"KMS key in no partition", append(tmpl, "--kms-key-arn", "arn:aws-bogus:kms:eu-west-3:123456789012:key/abc"), 2, "--kms-key-arn"},
		{"KMS key with China region in aws", append(tmpl, "--kms-key-arn", "arn:aws:kms:cn-north-1:123456789012:key/abc"), 2, "partition aws-cn"},
		{"KMS key in another region", append(tmpl, "--region", "eu-west-3", "--kms-key-arn", "arn:aws:kms:eu-west-1:123456789012:key/abc"), 2, "--kms-key-arn"},
		{"template prefix with ..", []string{"publish", "--template-bucket", "isahit-templates", "--template-prefix", "../x", "--region", "eu-west-3"}, 2, "--template-prefix"},
		{"template prefix with .", []string{"publish", "--template-bucket", "isahit-templates", "--template-prefix", "a/./b", "--region", "eu-west-3"}, 2, "--template-prefix"},
		{"template prefix with //", []string{"publish", "--template-bucket", "isahit-templates", "--template-prefix", "a//b", "--region", "eu-west-3"}, 2, "--template-prefix"},
		{"template prefix with %", []string{"publish", "--template-bucket", "isahit-templates", "--template-prefix", "a%2e%2e", "--region", "eu-west-3"}, 2, "--template-prefix"},
		{"role ARN with a 3-digit account", []string{"verify", "--role-arn", "arn:aws:iam::123:role/x", "--bucket", "my-bucket", "--external-id", advID}, 2, "--role-arn"},
		{"role ARN of a user", []string{"verify", "--role-arn", "arn:aws:iam::123456789012:user/x", "--bucket", "my-bucket", "--external-id", advID}, 2, "--role-arn"},
		{"role ARN of another partition", []string{"verify", "--role-arn", "arn:aws:iam::123456789012:role/x", "--region", "cn-north-1", "--bucket", "my-bucket", "--external-id", advID}, 2, "--role-arn"},
		{"link in an isolated partition", []string{"link", "--region", "us-iso-east-1", "--template-url", "https://b-b.s3.us-iso-east-1.c2s.ic.gov/t.json"}, 2, "--region"},
		{"unknown docs subcommand", []string{"docs", "frob"}, 2, `unknown command "frob"`},
		{"unknown command", []string{"frob"}, 2, `unknown command "frob"`},
		{"listen port out of range", []string{"docs", "serve", "--addr", "127.0.0.1:99999"}, 2, "--addr"},
		{"listen address without port", []string{"docs", "serve", "--addr", "127.0.0.1"}, 2, "--addr"},
		{"--file into a missing directory", append(tmpl, "--file", missing), 2, missing},
		{"prefix with a control character", append(tmpl, "--prefix", "images/\x01/"), 2, "--prefix"},
		{"prefix with a private-use character", append(tmpl, "--prefix", "images/\ue000/"), 2, "--prefix"},
		{"prefix starting with /", append(tmpl, "--prefix", "/images/"), 2, "--prefix"},
		{"prefix with a wildcard", append(tmpl, "--prefix", "images/*"), 2, "--prefix"},
		{"prefix with a policy variable", append(tmpl, "--prefix", "images/${aws:username}/"), 2, "--prefix"},
		{"prefix over 1024 bytes", append(tmpl, "--prefix", strings.Repeat("é", 513)), 2, "--prefix"},
		{"vendor name with ${", append([]string{"--vendor", hostile}, tmpl...), 2, "name"},
		{"docs template URL of another partition", []string{"docs", "build", "--region", "cn-north-1", "--template-url", comURL, "--dir", filepath.Join(dir, "site")}, 2, "--template-url"},
		{"link template URL of another partition", []string{"link", "--region", "cn-north-1", "--template-url", comURL, "--bucket", "my-bucket", "--external-id", advID}, 2, "--template-url"},
		{"bad region", append(tmpl, "--region", "mars-1"), 2, "--region"},
		{"bad endpoint URL", []string{"status", "--stack-name", "x", "--region", "eu-west-3", "--endpoint-url", "ftp://x"}, 2, "--endpoint-url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := newCallRecorder(t)
			aw.Isolate(t, rec.URL, aw.CustomerKey, aw.Secret, aw.Region)
			code, stdout, stderr := runWithDeadlines(context.Background(), &shortDeadlines, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, c.code, stderr)
			}
			if !strings.Contains(stderr, c.stderr) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q: want one line with %q", stderr, c.stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %.200q: want nothing", stdout)
			}
			if calls := rec.Calls(); len(calls) != 0 {
				t.Errorf("AWS was called: %q", calls)
			}
			if strings.Contains(stderr, ".t.json.") {
				t.Errorf("stderr names a temporary file: %q", stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "site")); err == nil {
		t.Error("a refused docs build wrote its directory")
	}
}

// Valid input that used to be refused is accepted, and a prefix without its trailing slash
// gets a warning proposing it.
func TestAdversarialAccepted(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		stderr string // "" for nothing on stderr
	}{
		{"UTF-8 prefix", []string{"template", "--bucket", "my-bucket", "--external-id", advID, "--prefix", "images/été/日本/"}, ""},
		{"prefix with spaces and quotes", []string{"template", "--bucket", "my-bucket", "--external-id", advID, "--prefix", `my "photos" & <more>/`}, ""},
		{"prefix without trailing slash", []string{"template", "--bucket", "my-bucket", "--external-id", advID, "--prefix", "images"}, `use --prefix "images/"`},
		{"China KMS key in China", []string{"template", "--bucket", "my-bucket", "--external-id", advID, "--region", "cn-north-1",
			"--kms-key-arn", "arn:aws-cn:kms:cn-north-1:123456789012:key/abc"}, ""},
		{"China template URL in China", []string{"link", "--region", "cn-north-1", "--template-url", chinaURL, "--bucket", "my-bucket", "--external-id", advID}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := newCallRecorder(t)
			aw.Isolate(t, rec.URL, aw.CustomerKey, aw.Secret, aw.Region)
			code, stdout, stderr := runWithDeadlines(context.Background(), &shortDeadlines, c.args...)
			if code != exitOK || stdout == "" {
				t.Fatalf("exit %d, stderr %q: want 0 and output", code, stderr)
			}
			if c.stderr == "" && stderr != "" || !strings.Contains(stderr, c.stderr) {
				t.Errorf("stderr %q, want %q", stderr, c.stderr)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
