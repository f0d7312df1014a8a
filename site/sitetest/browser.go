package sitetest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/isahit/s3grant/internal/chromium"
)

// Browser is a headless Chromium driven through chromedp, with axe-core at
// hand, for tests of a served site.
type Browser struct {
	ctx context.Context // the browser's first tab; tabs of pages are its children
	axe string          // axe.min.js
}

// unavailable skips the test with why, or fails it when CI=true: in CI the
// browser tests must run.
func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("browser tests cannot run in CI: %s", why)
	}
	t.Skipf("skipping browser test: %s (make deps installs what is missing; CI=true turns this skip into a failure)", why)
}

// axePath finds axe.min.js: $AXE_CORE_JS, else node_modules/axe-core of the
// module root (npm ci at the repository root installs it).
func axePath() (string, error) {
	if p := os.Getenv("AXE_CORE_JS"); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "node_modules", "axe-core", "axe.min.js")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("axe-core is not installed (%s missing): run npm ci at the repository root", p)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the test's directory, so no node_modules/axe-core")
		}
		dir = parent
	}
}

// NewBrowser starts headless Chromium for the test and stops it when the
// test ends. Without chromium or axe-core it skips the test, or fails it when
// CI=true.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	exe, err := chromium.Path()
	if err != nil {
		unavailable(t, err.Error())
	}
	axePath, err := axePath()
	if err != nil {
		unavailable(t, err.Error())
	}
	axe, err := os.ReadFile(axePath)
	if err != nil {
		unavailable(t, err.Error())
	}
	opts := chromium.Options(exe)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		unavailable(t, fmt.Sprintf("chromium (%s) does not start: %v", exe, err))
	}
	return &Browser{ctx: ctx, axe: string(axe)}
}

// Viewports the pages are checked at.
var (
	Desktop = Viewport{Name: "desktop", Width: 1280, Height: 900}
	Phone   = Viewport{Name: "phone", Width: 375, Height: 812, Mobile: true}
)

// A Viewport is a window size, optionally emulating a phone.
type Viewport struct {
	Name          string
	Width, Height int64
	Mobile        bool
}

// A Tab is one page open in the browser. It records, from the moment it is
// opened, everything that went wrong: console errors, uncaught exceptions,
// failed requests and requests that leave the test server.
type Tab struct {
	t        testing.TB
	ctx      context.Context
	origin   string
	mu       sync.Mutex
	problems []string
}

// Open opens a new tab at the viewport and loads pageURL. Requests to any
// other origin than pageURL's are recorded as problems.
func (b *Browser) Open(t testing.TB, pageURL string, vp Viewport) *Tab {
	t.Helper()
	return b.open(t, pageURL, vp, true)
}

// OpenWithoutScript is Open with JavaScript turned off in the page.
// Evaluations from the test still run.
func (b *Browser) OpenWithoutScript(t testing.TB, pageURL string, vp Viewport) *Tab {
	t.Helper()
	return b.open(t, pageURL, vp, false)
}

func (b *Browser) open(t testing.TB, pageURL string, vp Viewport, script bool) *Tab {
	t.Helper()
	u, err := url.Parse(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelTimeout)
	tab := &Tab{t: t, ctx: ctx, origin: u.Scheme + "://" + u.Host}
	if err := chromedp.Listen(ctx, tab.record); err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.EmulateViewportOption{}
	if vp.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	_, err = chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-read"}, Setting: browser.PermissionSettingGranted, Origin: tab.origin,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-write", AllowWithoutSanitization: true}, Setting: browser.PermissionSettingGranted, Origin: tab.origin,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(vp.Width, vp.Height, opts...),
		chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
			// Headless tabs are not focused; the clipboard API needs focus.
			_, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
			if err != nil || script {
				return err
			}
			_, err = chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}),
		chromedp.Navigate(pageURL),
		chromedp.WaitReady(chromedp.CSS("body")),
	); err != nil {
		t.Fatalf("open %s: %v", pageURL, err)
	}
	return tab
}

// record is the tab's event listener: it must return fast and run no command.
func (tab *Tab) record(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert || ev.Type == runtime.ConsoleAPICalledTypeWarning {
			var args []string
			for _, a := range ev.Args {
				var text string
				if json.Unmarshal(a.Value, &text) != nil {
					text = string(a.Value) + a.Description
				}
				args = append(args, text)
			}
			problem = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		problem = "uncaught exception: " + ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			problem += " " + ev.ExceptionDetails.Exception.Description
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
			problem = fmt.Sprintf("browser log %s: %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		if u := ev.Request.URL; !strings.HasPrefix(u, tab.origin+"/") && !strings.HasPrefix(u, "data:") {
			problem = "request outside the site: " + u
		}
	case *page.EventJavascriptDialogOpening:
		// A dialog no page of the site opens: a script from data would. Dismiss it (from
		// outside the listener, which must not run commands) so the page goes on.
		problem = fmt.Sprintf("a %s dialog opened: %q", ev.Type, ev.Message)
		go func() {
			_ = chromedp.Do(tab.ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{})
				return err
			}))
		}()
	case *network.EventLoadingFailed:
		problem = fmt.Sprintf("request failed: %s %s", ev.ErrorText, ev.BlockedReason)
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			problem = fmt.Sprintf("HTTP %d for %s", ev.Response.Status, ev.Response.URL)
		}
	}
	if problem != "" {
		tab.mu.Lock()
		tab.problems = append(tab.problems, problem)
		tab.mu.Unlock()
	}
}

// Problems returns what went wrong in the tab so far.
func (tab *Tab) Problems() []string {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.problems...)
}

// Do runs actions in the tab and fails the test on error.
func (tab *Tab) Do(actions ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	if err := chromedp.Do(tab.ctx, actions...); err != nil {
		tab.t.Fatal(err)
	}
}

// Eval evaluates a JavaScript expression in the tab, awaiting a promise, and
// decodes its value into T.
func Eval[T any](tab *Tab, expr string) T {
	tab.t.Helper()
	v, err := chromedp.Run(tab.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tab.t.Fatalf("evaluate %.60q: %v", expr, err)
	}
	return v
}

// Copy clicks the copy button of the i-th code block (0-based) and returns
// what the clipboard then holds.
func (tab *Tab) Copy(i int) string {
	tab.t.Helper()
	Eval[chromedp.Void](tab, `navigator.clipboard.writeText("")`)
	tab.Do(chromedp.Click(chromedp.JSPath(fmt.Sprintf(`document.querySelectorAll("div.code > button.copy")[%d]`, i))))
	// The button writes asynchronously: wait up to a second for the text.
	return Eval[string](tab, `(async () => {
		for (let i = 0; i < 50; i++) {
			const text = await navigator.clipboard.readText();
			if (text) { return text; }
			await new Promise(r => setTimeout(r, 20));
		}
		return "";
	})()`)
}

// Fill types value into the "your values" field of the var name.
func (tab *Tab) Fill(name, value string) {
	tab.t.Helper()
	id, _ := json.Marshal("var-" + name)
	Eval[chromedp.Void](tab, `document.getElementById(`+string(id)+`).value = ""`)
	tab.Do(chromedp.SendKeys(chromedp.ID("var-"+name), value))
}

// NoHorizontalScroll reports whether the page fits the viewport's width.
func (tab *Tab) NoHorizontalScroll() (scrollWidth, clientWidth int, ok bool) {
	tab.t.Helper()
	w := Eval[[2]int](tab, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`)
	return w[0], w[1], w[0] <= w[1]
}

// Screenshot writes a full-page PNG to dir/name.png.
func (tab *Tab) Screenshot(dir, name string) {
	tab.t.Helper()
	png, err := chromedp.Run(tab.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tab.t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tab.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		tab.t.Fatal(err)
	}
}

// Print emulates the print media type, as when the page is printed.
func (tab *Tab) Print() {
	tab.t.Helper()
	tab.Do(chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	}))
}

// ColorScheme emulates prefers-color-scheme ("light" or "dark").
func (tab *Tab) ColorScheme(scheme string) {
	tab.t.Helper()
	tab.Do(chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	}))
}

// A Violation is one failed axe-core rule.
type Violation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
		Text   string `json:"failureSummary"`
	} `json:"nodes"`
}

func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    %v %s\n      %s", n.Target, n.HTML, strings.ReplaceAll(n.Text, "\n", " "))
	}
	return b.String()
}

// Axe runs axe-core on the tab's page (WCAG 2.x A and AA rules and best
// practices) and returns the violations.
func (b *Browser) Axe(tab *Tab) []Violation {
	tab.t.Helper()
	if !Eval[bool](tab, `typeof window.axe === "object"`) {
		Eval[chromedp.Void](tab, b.axe)
	}
	raw := Eval[[]byte](tab, `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`)
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		tab.t.Fatal(err)
	}
	var vs []Violation
	if err := json.Unmarshal([]byte(s), &vs); err != nil {
		tab.t.Fatal(err)
	}
	return vs
}

// ScreenshotDir is where screenshots go: $S3GRANT_SCREENSHOTS, else
// testdata/out under the test's package (ignored by git).
func ScreenshotDir() string {
	if d := os.Getenv("S3GRANT_SCREENSHOTS"); d != "" {
		return d
	}
	return filepath.Join("testdata", "out")
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// FileName turns a page path and a variant into a screenshot file name.
func FileName(page, variant string) string {
	return unsafeName.ReplaceAllString(strings.TrimSuffix(page, ".html"), "_") + "-" + variant
}

// CheckPages loads every page of the site served at baseURL (ending in "/")
// and fails t for any problem, page by page:
//   - with JavaScript, at desktop and phone width: console errors, uncaught
//     exceptions, failed requests, requests outside the site;
//   - axe-core violations, in the light and the dark colour scheme;
//   - horizontal scroll at phone width;
//   - each copy button puts on the clipboard exactly the text of its code
//     block as the served HTML has it (read by Parse, not by the script);
//   - without JavaScript: the title and every code block are there, and
//     the copy buttons and the values form, which need the script, are not
//     shown.
//
// Screenshots of each page (desktop light and dark, phone) go to dir.
func (b *Browser) CheckPages(t *testing.T, baseURL string, pages []string, dir string) {
	for _, p := range pages {
		t.Run(p, func(t *testing.T) {
			doc, err := fetch(baseURL + p)
			if err != nil {
				t.Fatal(err)
			}
			want := CodeBlocks(doc)

			tab := b.Open(t, baseURL+p, Desktop)
			for i, block := range want {
				if got := tab.Copy(i); got != block.Text {
					t.Errorf("copy button %d put %q on the clipboard, want %q", i, got, block.Text)
				}
			}
			for _, scheme := range []string{"light", "dark"} {
				tab.ColorScheme(scheme)
				for _, v := range b.Axe(tab) {
					t.Errorf("axe, %s scheme: %s", scheme, v)
				}
				tab.Screenshot(dir, FileName(p, "desktop-"+scheme))
			}
			for _, problem := range tab.Problems() {
				t.Errorf("desktop: %s", problem)
			}

			phone := b.Open(t, baseURL+p, Phone)
			if sw, cw, ok := phone.NoHorizontalScroll(); !ok {
				t.Errorf("phone width: the page scrolls sideways (scrollWidth %d > clientWidth %d)", sw, cw)
			}
			phone.Screenshot(dir, FileName(p, "phone"))
			for _, problem := range phone.Problems() {
				t.Errorf("phone: %s", problem)
			}

			b.checkWithoutScript(t, baseURL+p, doc, want)
		})
	}
}

// checkWithoutScript loads the page with JavaScript off and checks that it
// reads as it should.
func (b *Browser) checkWithoutScript(t *testing.T, pageURL string, doc *Node, want []CodeBlock) {
	t.Helper()
	tab := b.OpenWithoutScript(t, pageURL, Desktop)
	type state struct {
		Title   string   `json:"title"`
		Code    []string `json:"code"`
		Buttons int      `json:"buttons"`
		Form    bool     `json:"form"`
	}
	got := Eval[state](tab, `({
		title: document.querySelector("main h1").innerText,
		code: Array.from(document.querySelectorAll("div.code code"), c => c.textContent.replace(/\n$/, "")),
		buttons: Array.from(document.querySelectorAll("button.copy")).filter(b => b.offsetParent !== null).length,
		form: Array.from(document.querySelectorAll(".values")).some(f => f.offsetParent !== null),
	})`)
	h1 := doc.All(func(n *Node) bool { return n.Tag == "h1" })
	if len(h1) != 1 || got.Title != strings.TrimSpace(h1[0].TextContent()) {
		t.Errorf("without JavaScript: title %q, want the page's h1", got.Title)
	}
	if len(got.Code) != len(want) {
		t.Errorf("without JavaScript: %d code blocks, want %d", len(got.Code), len(want))
	}
	for i := range min(len(got.Code), len(want)) {
		if got.Code[i] != want[i].Text {
			t.Errorf("without JavaScript: code block %d = %q, want %q", i, got.Code[i], want[i].Text)
		}
	}
	if got.Buttons != 0 || got.Form {
		t.Errorf("without JavaScript: %d copy buttons and form shown=%v; they need the script and must stay hidden", got.Buttons, got.Form)
	}
	for _, problem := range tab.Problems() {
		t.Errorf("without JavaScript: %s", problem)
	}
}

// fetch GETs and parses a page.
func fetch(pageURL string) (*Node, error) {
	resp, err := http.Get(pageURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return Parse(body)
}

// Click clicks the first element matching a CSS selector.
func (tab *Tab) Click(selector string) {
	tab.t.Helper()
	tab.Do(chromedp.Click(chromedp.CSS(selector)))
}
