package main

import (
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isahit/s3grant/deploy"
	"github.com/isahit/s3grant/internal/awsfake/awsquery"
	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
)

// stallingEndpoint accepts TCP connections and never answers, as a hung proxy or a
// firewalled load balancer does. It counts the connections it accepted.
type stallingEndpoint struct {
	URL      string
	mu       sync.Mutex
	accepted int
	conns    []net.Conn
	first    chan struct{}
}

func newStallingEndpoint(t *testing.T) *stallingEndpoint {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stallingEndpoint{URL: "http://" + l.Addr().String(), first: make(chan struct{})}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.accepted++
			s.conns = append(s.conns, c)
			if s.accepted == 1 {
				close(s.first)
			}
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.conns {
			c.Close()
		}
	})
	return s
}

// shortDeadlines make a stalled call fail in a fraction of a second.
var shortDeadlines = deadlines{connect: 200 * time.Millisecond, response: 200 * time.Millisecond, request: time.Second}

func runWithDeadlines(ctx context.Context, d *deadlines, args ...string) (int, string, string) {
	var stdout, stderr syncBuffer
	a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, deadlines: d,
		deployOptions: []deploy.Option{deploy.WithPolling(5*time.Millisecond, 20*time.Millisecond)}}
	code := runApp(ctx, a, args)
	return code, stdout.String(), stderr.String()
}

// Against an endpoint that accepts and never answers, status and deploy end with one line
// naming the endpoint, instead of hanging.
func TestStalledEndpointEnds(t *testing.T) {
	for name, args := range map[string][]string{
		"status": {"status", "--stack-name", "isahit-lab-my-bucket", "--region", "eu-west-3"},
		"deploy": {"deploy", "--bucket", "my-bucket", "--external-id", aw.ExternalID, "--yes"},
		"verify": {"verify", "--stack-name", "isahit-lab-my-bucket", "--region", "eu-west-3"},
	} {
		t.Run(name, func(t *testing.T) {
			verifyEnv(t)
			stall := newStallingEndpoint(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard, not the deadline under test
			defer cancel()
			code, stdout, stderr := runWithDeadlines(ctx, &shortDeadlines, append(args, "--endpoint-url", stall.URL)...)
			if ctx.Err() != nil {
				t.Fatalf("the command ran until the test's guard: %q", stderr)
			}
			want, said := "no answer from "+stall.URL, stderr
			if name == "verify" {
				// verify reports each check's cause on stdout (in its own words, package
				// verify's) and fails on stderr.
				want, said = stall.URL, stdout
			}
			if code != exitFailure || !strings.Contains(said, want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q, stdout %q: want 1 and one line naming %s", code, stderr, stdout, stall.URL)
			}
			if stdout != "" && name != "verify" {
				t.Errorf("stdout %q", stdout)
			}
			if stall.accepted == 0 {
				t.Error("the endpoint was never called")
			}
		})
	}
}

// Ctrl-C (the run's context cancelled) exits 130 with "interrupted" in every phase: before the
// first call, and while a call waits on a stalled endpoint.
func TestInterruptedExits130(t *testing.T) {
	for name, args := range map[string][]string{
		"status":  {"status", "--stack-name", "isahit-lab-my-bucket", "--region", "eu-west-3"},
		"deploy":  {"deploy", "--bucket", "my-bucket", "--external-id", aw.ExternalID, "--yes"},
		"publish": {"publish", "--template-bucket", "isahit-templates", "--region", "eu-west-3"},
		"verify":  {"verify", "--stack-name", "isahit-lab-my-bucket", "--region", "eu-west-3"},
		"delete":  {"delete", "--stack-name", "isahit-lab-my-bucket", "--region", "eu-west-3", "--yes"},
	} {
		t.Run(name, func(t *testing.T) {
			verifyEnv(t)
			stall := newStallingEndpoint(t)
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				select {
				case <-stall.first:
				case <-time.After(30 * time.Second):
				}
				cancel()
			}()
			code, _, stderr := runWithDeadlines(ctx, nil, append(args, "--endpoint-url", stall.URL)...)
			if code != exitInterrupted || !strings.Contains(stderr, "interrupted") || strings.Contains(stderr, "context canceled") {
				t.Errorf("exit %d, stderr %q: want 130 and \"interrupted\"", code, stderr)
			}
		})
	}
	t.Run("before any call", func(t *testing.T) {
		verifyEnv(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		code, _, stderr := runWithDeadlines(ctx, nil, "status", "--stack-name", "x", "--region", "eu-west-3", "--endpoint-url", "http://127.0.0.1:1")
		if code != exitInterrupted {
			t.Errorf("exit %d, stderr %q: want 130", code, stderr)
		}
	})
}

// Credentials problems say "credentials" and what to do, whatever call first meets them, an
// S3 HEAD (which carries no error code) included.
func TestCredentialsErrorsSayCredentials(t *testing.T) {
	cases := []struct {
		name, key string
		setup     func(*aw.World)
		args      func(*aw.World) []string
		want      string
	}{
		{"unknown key on deploy's HEAD", "AKIAUNKNOWNKEY000000", nil,
			func(w *aw.World) []string { return deployArgs(w, "--yes") },
			"AWS does not accept these credentials (InvalidClientTokenId)"},
		{"expired token on deploy's HEAD", aw.CustomerKey, func(w *aw.World) {
			w.STS.CheckCredentials(func(string) *awsquery.Error {
				return awsquery.Sender("ExpiredToken", "The security token included in the request is expired")
			})
			w.S3.SetAuthorizer(func(string, string, string, map[string][]string) bool { return false })
		}, func(w *aw.World) []string { return deployArgs(w, "--yes") }, "the AWS credentials have expired (ExpiredToken): sign in again"},
		{"expired token on status", aw.CustomerKey, func(w *aw.World) {
			w.CFN.CheckCredentials(func(string) *awsquery.Error {
				return awsquery.Sender("ExpiredToken", "The security token included in the request is expired")
			})
		}, func(w *aw.World) []string {
			return []string{"status", "--stack-name", deployStack, "--region", aw.Region, "--endpoint-url", w.URL}
		}, "the AWS credentials have expired (ExpiredToken)"},
		{"publish to a missing bucket", aw.CustomerKey, nil, func(w *aw.World) []string {
			return []string{"publish", "--template-bucket", "no-such-bucket", "--region", aw.Region, "--endpoint-url", w.URL}
		}, "bucket no-such-bucket does not exist"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			aw.Isolate(t, "", c.key, aw.Secret, aw.Region)
			w := aw.Start(t)
			if c.setup != nil {
				c.setup(w)
			}
			code, stdout, stderr := runWithDeadlines(context.Background(), &shortDeadlines, c.args(w)...)
			if code != exitFailure || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 || stdout != "" {
				t.Errorf("exit %d, stderr %q, stdout %q: want 1 and one line with %q", code, stderr, stdout, c.want)
			}
			if strings.Contains(stderr, "StatusCode:") || strings.Contains(stderr, "operation error") {
				t.Errorf("stderr shows the SDK's raw error: %q", stderr)
			}
		})
	}
	// A valid key without the permission keeps the permission message: the probe tells the two apart.
	t.Run("valid key without permission", func(t *testing.T) {
		aw.Isolate(t, "", aw.VendorKey, aw.Secret, aw.Region)
		w := aw.Start(t)
		code, _, stderr := runWithDeadlines(context.Background(), &shortDeadlines, deployArgs(w, "--yes")...)
		if code != exitFailure || !strings.Contains(stderr, "s3:ListBucket") || strings.Contains(stderr, "does not accept") {
			t.Errorf("exit %d, stderr %q: want the permission message", code, stderr)
		}
	})
}

// An unknown --profile and a missing region are bad input, one line naming the flag.
func TestProfileAndRegionProblems(t *testing.T) {
	verifyEnv(t)
	if err := os.WriteFile(os.Getenv("AWS_CONFIG_FILE"), []byte("[profile other]\nregion = eu-west-3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runWithDeadlines(context.Background(), &shortDeadlines,
		"status", "--stack-name", "x", "--profile", "nosuchprofile", "--endpoint-url", "http://127.0.0.1:1")
	wantBadInput(t, code, stdout, stderr, "--profile")
	if !strings.Contains(stderr, `"nosuchprofile"`) || strings.Contains(stderr, "failed to get shared config") {
		t.Errorf("stderr %q", stderr)
	}
}
