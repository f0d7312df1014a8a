package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runCLI runs s3grant in-process and returns its exit code and output streams.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// wantBadInput checks the contract for bad input: exit 2, one line on stderr naming the
// flag or field, nothing on stdout.
func wantBadInput(t *testing.T, code int, stdout, stderr, field string) {
	t.Helper()
	if code != exitBadInput {
		t.Errorf("exit code %d, want %d (stderr: %q)", code, exitBadInput, stderr)
	}
	if stdout != "" {
		t.Errorf("bad input printed on stdout: %.200q", stdout)
	}
	if strings.Count(stderr, "\n") != 1 {
		t.Errorf("want one line on stderr, got %q", stderr)
	}
	if !strings.Contains(stderr, field) {
		t.Errorf("stderr %q does not name %q", stderr, field)
	}
}
