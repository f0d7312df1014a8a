package verify_test

import (
	"testing"

	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/internal/chromium/chromiumtest"
	"github.com/isahit/s3grant/verify"
)

// On a correct setup, --browser passes in real headless Chromium against the local S3 fake:
// every vendor-side check passes, browser-load included, and it says Chromium loaded them.
func TestVendorBrowserPassesInChromium(t *testing.T) {
	chromiumtest.Require(t)
	w := aw.Start(t)
	in := input()
	in.Browser = true
	rep := runVendor(t, w, in)
	for _, c := range rep.Failed() {
		t.Errorf("%s failed: %s (fix: %s)", c.ID, c.Cause, c.Fix)
	}
	last := rep.Checks[len(rep.Checks)-1]
	if last.ID != verify.CheckBrowser || !last.Pass {
		t.Fatalf("last check %+v, want a passed %s", last, verify.CheckBrowser)
	}
}
