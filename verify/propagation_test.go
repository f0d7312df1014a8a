package verify_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/verify"
)

// waits records the observer's calls and the sleeps asked for, and never sleeps.
type waits struct {
	what  []string
	slept time.Duration
}

func (w *waits) Waiting(what string, retry, _ time.Duration) { w.what = append(w.what, what) }
func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.slept += d
	return ctx.Err()
}

// Right after the role changed STS refuses it for a while: verify says it waits for IAM to
// propagate, retries, and passes; with no wait allowed the refusal is a failure. A trust
// policy that really refuses is reported after one bounded wait, never more.
func TestVendorWaitsForIAMPropagation(t *testing.T) {
	t.Run("lagging role", func(t *testing.T) {
		w := aw.Start(t)
		w.STS.Lag(3)
		rec := &waits{}
		rep := runVendor(t, w, input(), verify.WithObserver(rec), verify.WithSleep(rec.sleep))
		for _, f := range rep.Failed() {
			t.Errorf("%s failed: %s", f.ID, f.Cause)
		}
		if len(rec.what) != 3 || !strings.HasPrefix(rec.what[0], "AssumeRole on "+aw.RoleARN) {
			t.Errorf("observer told %q, want three waits on AssumeRole", rec.what)
		}
		if rec.slept <= 0 || rec.slept > verify.DefaultPropagationWait {
			t.Errorf("slept %s", rec.slept)
		}
	})
	t.Run("no wait allowed", func(t *testing.T) {
		w := aw.Start(t)
		w.STS.Lag(1)
		rec := &waits{}
		rep := runVendor(t, w, input(), verify.WithObserver(rec), verify.WithPropagationWait(0))
		if got := ids(rep.Failed()); !slices.Equal(got, []string{verify.CheckAssume}) || len(rec.what) != 0 {
			t.Errorf("failed %v, waits %q", got, rec.what)
		}
	})
	t.Run("really refused", func(t *testing.T) {
		w := aw.Start(t)
		w.IAM.PutRole(aw.RoleName, aw.TrustPolicy(aw.VendorRoot, map[string]any{"StringEquals": map[string]any{"sts:ExternalId": "other-id"}}))
		rec := &waits{}
		rep := runVendor(t, w, input(), verify.WithObserver(rec), verify.WithSleep(rec.sleep))
		if got := ids(rep.Failed()); !slices.Equal(got, []string{verify.CheckAssume}) {
			t.Errorf("failed %v", got)
		}
		if rec.slept != verify.DefaultPropagationWait {
			t.Errorf("waited %s in all, want the whole budget %s once", rec.slept, verify.DefaultPropagationWait)
		}
	})
}
