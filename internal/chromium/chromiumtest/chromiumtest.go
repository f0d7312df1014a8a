// Package chromiumtest holds the one rule for tests that need headless Chromium: they skip
// where it is missing, except in CI (CI=true), where make deps installs it and a skip would
// hide a browser test that never ran.
package chromiumtest

import (
	"os"
	"testing"

	"github.com/isahit/s3grant/internal/chromium"
)

// Require skips the test without Chromium, or fails it when CI=true.
func Require(tb testing.TB) {
	tb.Helper()
	if _, err := chromium.Path(); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("browser test cannot run in CI: %v", err)
		}
		tb.Skipf("skipping browser test: %v (CI=true turns this skip into a failure)", err)
	}
}
