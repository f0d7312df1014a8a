package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
)

// status --output json says what it did: it described the stack; with --watch on a stack with
// no running operation there was nothing to watch either.
func TestStatusJSONOutcome(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	ctx := context.Background()
	if code, out, errOut := runDeployCLI(ctx, t, strings.NewReader(""), nil, deployArgs(w, "--yes")...); code != exitOK {
		t.Fatalf("deploy: exit %d, stderr %q\n%s", code, errOut, out)
	}
	for _, args := range [][]string{{"-o", "json"}, {"--output", "JSON", "--watch"}} {
		code, out, errOut := runDeployCLI(ctx, t, nil, nil, append([]string{"status", "--bucket", aw.Bucket, "--endpoint-url", w.URL}, args...)...)
		var res struct{ Outcome, Status string }
		if err := json.Unmarshal([]byte(out), &res); code != exitOK || err != nil {
			t.Fatalf("status %v: exit %d, %v, stderr %q\n%s", args, code, err, errOut, out)
		}
		if res.Outcome != "described" || res.Status != "CREATE_COMPLETE" {
			t.Errorf("status %v: outcome %q status %q, want described CREATE_COMPLETE", args, res.Outcome, res.Status)
		}
	}
}
