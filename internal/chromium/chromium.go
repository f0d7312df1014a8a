// Package chromium finds Debian's headless Chromium and gives the flags s3grant drives it
// with, through chromedp: for the site's browser tests and for verify's browser proof alike.
package chromium

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/chromedp/chromedp"
)

// ErrNotFound is returned by Path when no Chromium is installed; its message says how to
// install one.
var ErrNotFound = errors.New("no chromium in PATH (Debian: apt-get install chromium) and CHROMIUM is not set")

// Path finds the browser: $CHROMIUM, else chromium or chromium-browser in PATH.
func Path() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("CHROMIUM=%s: %w", p, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// Options returns chromedp's allocator options for a quiet headless Chromium at exe: no
// sandbox (containers), no GPU, no QUIC, and nothing that calls home (component updates,
// background networking, sync, first-run). Extra options come last and win.
func Options(exe string, extra ...chromedp.ExecAllocatorOption) []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
	)
	return append(opts, extra...)
}
