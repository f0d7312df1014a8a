package site_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/chromedp/chromedp"

	"github.com/isahit/s3grant/site"
	"github.com/isahit/s3grant/site/sitetest"
)

// serveFixture builds the generic fixture site and serves it on 127.0.0.1.
func serveFixture(t *testing.T) (site.Files, string) {
	t.Helper()
	files := buildFixture(t, []site.Var{externalID, bucket, region})
	srv := httptest.NewServer(site.Handler(files.FS()))
	t.Cleanup(srv.Close)
	return files, srv.URL + "/"
}

func TestBrowser_EveryPage(t *testing.T) {
	b := sitetest.NewBrowser(t)
	files, base := serveFixture(t)
	pages, err := sitetest.Pages(files.FS())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pages, "404.html") || len(pages) != 4 {
		t.Fatalf("pages = %v, want the 3 fixture pages and 404.html", pages)
	}
	b.CheckPages(t, base, pages, sitetest.ScreenshotDir())
}

// The values form fills the external ID into every snippet and the launch
// link, on this page and, once saved, on the others; Clear brings the
// placeholders back.
func TestBrowser_ValuesForm(t *testing.T) {
	b := sitetest.NewBrowser(t)
	_, base := serveFixture(t)
	const id = "f00d-4a41-812d:x/y"
	tab := b.Open(t, base+"setup.html", sitetest.Desktop)
	tab.Fill("ExternalId", id)

	var policy struct {
		Statement []struct{ Condition map[string]map[string]string }
	}
	if err := json.Unmarshal([]byte(tab.Copy(0)), &policy); err != nil {
		t.Fatalf("copied policy does not parse: %v", err)
	}
	if got := policy.Statement[0].Condition["StringEquals"]["sts:ExternalId"]; got != id {
		t.Errorf("copied policy external ID = %q, want %q", got, id)
	}
	if got, want := tab.Copy(1), "s3grant deploy --bucket <YOUR-BUCKET> --external-id "+id+" --region eu-west-3"; got != want {
		t.Errorf("copied command = %q, want %q", got, want)
	}
	for _, href := range sitetest.Eval[[]string](tab, `Array.from(document.querySelectorAll("a.launch, main p > a[data-href]"), a => a.href)`) {
		u, err := url.Parse(href)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(href, "stacks/create/review") {
			continue
		}
		q, err := url.ParseQuery(strings.SplitN(u.Fragment, "?", 2)[1])
		if err != nil {
			t.Fatal(err)
		}
		if q.Get("param_ExternalId") != id || q.Get("param_BucketName") != "<YOUR-BUCKET>" || q.Get("templateURL") != "https://example-bucket.s3.amazonaws.com/t.json" {
			t.Errorf("launch link %s: param_ExternalId=%q param_BucketName=%q, want %q and the placeholder", href, q.Get("param_ExternalId"), q.Get("param_BucketName"), id)
		}
	}

	other := b.Open(t, base+"index.html", sitetest.Desktop)
	if got := sitetest.Eval[[]string](other, `Array.from(document.querySelectorAll('span.v[data-var="ExternalId"]'), s => s.textContent)`); len(got) != 1 || got[0] != id {
		t.Errorf("another page shows the external ID as %q, want the saved %q", got, id)
	}
	other.Click(`#values button[type=reset]`)
	if got := sitetest.Eval[[]string](other, `Array.from(document.querySelectorAll('span.v[data-var="ExternalId"]'), s => s.textContent)`); len(got) != 1 || got[0] != "<YOUR-EXTERNAL-ID>" {
		t.Errorf("after Clear the external ID shows %q, want the placeholder", got)
	}
	for _, p := range append(tab.Problems(), other.Problems()...) {
		t.Error(p)
	}
}

// The harness must see the problems it is for: otherwise a passing browser
// test proves nothing.
func TestBrowser_HarnessCatchesProblems(t *testing.T) {
	b := sitetest.NewBrowser(t)
	page := `<!DOCTYPE html><html lang="en"><head><title>Bad</title></head><body><main>
<h1>Bad page</h1><img src="missing.png"><div style="width:2000px">wide</div>
<script>console.error("boom")</script></main></body></html>`
	srv := httptest.NewServer(site.Handler(fstest.MapFS{"index.html": {Data: []byte(page)}}))
	defer srv.Close()
	tab := b.Open(t, srv.URL+"/index.html", sitetest.Phone)
	var ids []string
	for _, v := range b.Axe(tab) {
		ids = append(ids, v.ID)
	}
	if !slices.Contains(ids, "image-alt") {
		t.Errorf("axe violations = %v, want image-alt", ids)
	}
	if _, _, ok := tab.NoHorizontalScroll(); ok {
		t.Error("a 2000px wide element did not register as horizontal scroll")
	}
	problems := strings.Join(tab.Problems(), "\n")
	for _, want := range []string{"console.error: boom", "HTTP 404 for " + srv.URL + "/missing.png"} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems = %q, want one with %q", problems, want)
		}
	}
}

// Printed, a page is its content: no menu, contents, form or buttons.
func TestBrowser_Print(t *testing.T) {
	b := sitetest.NewBrowser(t)
	_, base := serveFixture(t)
	tab := b.Open(t, base+"setup.html", sitetest.Desktop)
	tab.Print()
	shown := sitetest.Eval[[]string](tab, `Array.from(document.querySelectorAll(".sidebar, .toc, .values, button.copy, .anchor, main h1, main pre"))
		.filter(e => getComputedStyle(e).display !== "none").map(e => e.tagName.toLowerCase() + "." + e.className)`)
	if want := []string{"h1.", "pre.chroma", "pre.chroma", "pre.chroma", "pre.chroma"}; !slices.Equal(shown, want) {
		t.Errorf("printed, the page shows %q, want only %q", shown, want)
	}
	tab.Screenshot(sitetest.ScreenshotDir(), "setup-print")
}

// The site works opened from disk and served under a path prefix: styles and
// script load, no request fails, and links lead to the right files.
func TestBrowser_FileAndPathPrefix(t *testing.T) {
	b := sitetest.NewBrowser(t)
	files := buildFixture(t, []site.Var{externalID, bucket, region})
	dir := t.TempDir()
	for name, data := range files {
		if err := site.Dir(dir).WriteFile(name, data); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(http.StripPrefix("/docs/v1", site.Handler(files.FS())))
	defer srv.Close()
	for name, root := range map[string]string{
		"file://":     "file://" + filepath.ToSlash(dir) + "/",
		"path prefix": srv.URL + "/docs/v1/",
	} {
		t.Run(name, func(t *testing.T) {
			tab := b.Open(t, root+"guide/deep.html", sitetest.Desktop)
			type state struct {
				Grid   bool     `json:"grid"`
				Script bool     `json:"script"`
				Nav    []string `json:"nav"`
			}
			got := sitetest.Eval[state](tab, `({
				grid: getComputedStyle(document.querySelector(".layout")).display === "grid",
				script: !document.getElementById("values-box").hidden,
				nav: Array.from(document.querySelectorAll("nav.sidebar a"), a => a.href),
			})`)
			if !got.Grid || !got.Script {
				t.Errorf("stylesheet applied %v, script ran %v; want both", got.Grid, got.Script)
			}
			want := []string{root + "index.html", root + "setup.html", root + "guide/deep.html"}
			if !slices.Equal(got.Nav, want) {
				t.Errorf("menu links = %q, want %q", got.Nav, want)
			}
			next := b.Open(t, got.Nav[1], sitetest.Desktop)
			if title := sitetest.Eval[string](next, `document.querySelector("main h1").textContent`); title != "Set up" {
				t.Errorf("the menu's second link opened %q", title)
			}
			for _, p := range append(tab.Problems(), next.Problems()...) {
				t.Error(p)
			}
		})
	}
}

// codeLayout measures, for every code block, the end of its last line (scrolled into view)
// against its copy button, and the rects of flag names in the first column of tables.
const codeLayout = `(() => {
	const out = {overlaps: [], wrapped: []};
	document.querySelectorAll("div.code").forEach((box, i) => {
		const pre = box.querySelector("pre"), code = box.querySelector("code"), button = box.querySelector("button.copy");
		if (!button || button.hidden) { return; }
		pre.scrollLeft = pre.scrollWidth;
		const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
		let last = null;
		for (let n = walker.nextNode(); n; n = walker.nextNode()) { if (n.textContent.trim()) { last = n; } }
		const text = last.textContent.replace(/\s+$/, "");
		const range = document.createRange();
		range.setStart(last, text.length - 1);
		range.setEnd(last, text.length);
		const c = range.getBoundingClientRect(), b = button.getBoundingClientRect();
		const overlap = c.right > b.left && c.left < b.right && c.bottom > b.top && c.top < b.bottom;
		const lines = code.textContent.replace(/\n$/, "").split("\n").length;
		if (overlap && lines === 1) { out.overlaps.push(i + ": " + text.slice(-20)); }
		pre.scrollLeft = 0;
	});
	document.querySelectorAll("td:first-child > code").forEach(code => {
		if (code.getClientRects().length > 1) { out.wrapped.push(code.textContent); }
	});
	return out;
})()`

// A copy button never covers the end of a one-line command, at any width, whether or not
// the line scrolls, and a flag name in a table never wraps at its hyphens.
func TestBrowser_CodeLayout(t *testing.T) {
	b := sitetest.NewBrowser(t)
	_, base := serveFixture(t)
	for _, vp := range []sitetest.Viewport{sitetest.Desktop, sitetest.Phone, {Name: "tablet", Width: 820, Height: 1000}} {
		tab := b.Open(t, base+"setup.html", vp)
		for _, label := range []string{"Copy", "Press Ctrl+C"} {
			sitetest.Eval[chromedp.Void](tab, `document.querySelectorAll("button.copy").forEach(b => b.textContent = `+strconv.Quote(label)+`)`)
			got := sitetest.Eval[struct {
				Overlaps []string `json:"overlaps"`
				Wrapped  []string `json:"wrapped"`
			}](tab, codeLayout)
			for _, o := range got.Overlaps {
				t.Errorf("%s, button %q: the copy button covers the end of code block %s", vp.Name, label, o)
			}
			for _, w := range got.Wrapped {
				t.Errorf("%s: flag %s wraps in its table cell", vp.Name, w)
			}
		}
		if n := sitetest.Eval[int](tab, `document.querySelectorAll("td:first-child > code").length`); n != 2 {
			t.Errorf("%s: %d flag cells measured, want 2", vp.Name, n)
		}
	}
}

// An empty "your values" field shows nothing that reads like a value: the example is a
// hint under it, in its own muted style, tied to the field for screen readers.
func TestBrowser_FormHints(t *testing.T) {
	b := sitetest.NewBrowser(t)
	_, base := serveFixture(t)
	tab := b.Open(t, base+"index.html", sitetest.Desktop)
	got := sitetest.Eval[struct {
		Placeholder string `json:"placeholder"`
		Value       string `json:"value"`
		Hint        string `json:"hint"`
		Italic      bool   `json:"italic"`
	}](tab, `(() => {
		const input = document.getElementById("var-ExternalId");
		const hint = document.getElementById(input.getAttribute("aria-describedby"));
		return {placeholder: input.placeholder, value: input.value, hint: hint ? hint.textContent : "",
			italic: hint ? getComputedStyle(hint).fontStyle === "italic" : false};
	})()`)
	if got.Placeholder != "" || got.Value != "" {
		t.Errorf("the empty external ID field shows %q / %q; the example belongs in the hint", got.Placeholder, got.Value)
	}
	if got.Hint != "e.g. "+externalID.Example || !got.Italic {
		t.Errorf("hint %q (italic %v), want %q in the hint style", got.Hint, got.Italic, "e.g. "+externalID.Example)
	}
}
