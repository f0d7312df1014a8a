package site_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/isahit/s3grant/site"
	"github.com/isahit/s3grant/site/sitetest"
)

// escapePage prints .V in every context a page has: front matter, text, a heading, emphasis,
// a code span, a fenced block, a table cell, a link's text and destination, a raw HTML
// attribute.
const escapePage = "---\ntitle: T {{.V}}\ndescription: D {{.V}}\n---\n" +
	"{{.V}} starts a line.\n\n" +
	"## About {{.V}}\n\n" +
	"Text *{{.V}}* and `{{.V}}`.\n\n" +
	"```bash\necho {{.V}}\n```\n\n" +
	"| a | b |\n| --- | --- |\n| {{.V}} | x |\n\n" +
	"[{{.V}}](page.html#{{.V}})\n\n" +
	`<p title="{{.V}}">raw</p>` + "\n"

func buildEscape(t *testing.T, v string) (site.Files, *sitetest.Node) {
	t.Helper()
	files := site.Files{}
	src := fstest.MapFS{"index.md": {Data: []byte(escapePage)}}
	if err := site.New(site.WithTitle("S"), site.WithData(struct{ V string }{v})).Build(context.Background(), src, files); err != nil {
		t.Fatalf("Build with %q: %v", v, err)
	}
	doc, err := sitetest.Parse(files["index.html"])
	if err != nil {
		t.Fatalf("%q: %v", v, err)
	}
	return files, doc
}

// A value printed by a page is text in every context: no element, no YAML, no Markdown
// comes from it, and the page shows it character for character.
func TestEscape_DataIsLiteralInEveryContext(t *testing.T) {
	for _, v := range []string{
		`<script>alert(1)</script>`,
		`Acme: Lab`,
		`Acme #1 Lab`,
		"a`b``c ` *x* _y_ ~~z~~ [l](javascript:alert(1)) \\ & &amp; \" '",
		`- item`,
		`1. item`,
		`    four spaces`,
		`| pipe | cell |`,
		`{{.V}} ${x} %41`,
		`été 日本`,
	} {
		t.Run(v, func(t *testing.T) {
			_, doc := buildEscape(t, v)
			main := doc.All(func(n *sitetest.Node) bool { return n.Tag == "main" })[0]
			for _, n := range main.All(func(n *sitetest.Node) bool {
				switch n.Tag {
				case "script", "strong", "del", "li", "img", "h3", "blockquote", "pre":
					return true
				}
				return false
			}) {
				if n.Tag != "pre" || !strings.Contains(n.TextContent(), "echo") {
					t.Errorf("an element from the data: <%s>", n.Tag)
				}
			}
			if n := len(main.All(func(n *sitetest.Node) bool { return n.Tag == "em" })); n != 1 {
				t.Errorf("%d <em>, want the page's own one", n)
			}
			text := doc.TextContent()
			for _, want := range []string{
				"T " + v, v + " starts a line.", "About " + v, "Text " + v + " and " + v, "echo " + v,
			} {
				if !strings.Contains(text, want) {
					t.Errorf("the page does not show %q", want)
				}
			}
			desc := doc.All(func(n *sitetest.Node) bool { return n.Tag == "meta" && n.Attr["name"] == "description" })
			if len(desc) != 1 || desc[0].Attr["content"] != "D "+v {
				t.Errorf("description is not the value literally")
			}
			raw := doc.All(func(n *sitetest.Node) bool { return n.Tag == "p" && n.Attr["title"] != "" })
			if len(raw) != 1 || raw[0].Attr["title"] != v {
				t.Errorf("raw HTML attribute is not the value literally")
			}
			cells := doc.All(func(n *sitetest.Node) bool { return n.Tag == "td" })
			if len(cells) != 2 || strings.TrimSpace(cells[0].TextContent()) != strings.TrimSpace(v) {
				t.Errorf("the table cell is not the value: %d cells", len(cells))
			}
		})
	}
}

// A link destination built from data keeps the characters of the value and can only be a
// web link: a javascript: URL from data fails the build.
func TestEscape_LinkFromData(t *testing.T) {
	_, doc := buildEscape(t, "a-b.c")
	links := doc.All(func(n *sitetest.Node) bool { return n.Tag == "a" && strings.HasPrefix(n.Attr["href"], "page.html") })
	if len(links) != 1 || links[0].Attr["href"] != "page.html#a-b.c" {
		t.Errorf("link = %v, want page.html#a-b.c", links)
	}
	src := fstest.MapFS{"index.md": {Data: []byte("---\ntitle: T\n---\n[x]({{.V}})\n")}}
	err := site.New(site.WithData(struct{ V string }{"javascript:alert(1)"})).Build(context.Background(), src, site.Files{})
	if err == nil || !strings.Contains(err.Error(), "javascript:alert(1)") {
		t.Errorf("a javascript: link from data: err = %v, want the build refused", err)
	}
}

// The Content-Security-Policy of every page lets no inline script run, even one the guide's
// own raw HTML would hold: the site runs its script file only.
func TestBrowser_CSPBlocksInlineScript(t *testing.T) {
	b := sitetest.NewBrowser(t)
	files := site.Files{}
	src := fstest.MapFS{"index.md": {Data: []byte("---\ntitle: T\n---\n" +
		`<script>window.pwned = 1</script><img src="data:," onload="window.pwned = 2"><p style="color: red" id="p">x</p>` + "\n")}}
	if err := site.New().Build(context.Background(), src, files); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if strings.HasSuffix(name, ".html") && !strings.Contains(string(data), `http-equiv="Content-Security-Policy"`) {
			t.Errorf("%s has no Content-Security-Policy", name)
		}
	}
	srv := httptest.NewServer(site.Handler(files.FS()))
	defer srv.Close()
	tab := b.Open(t, srv.URL+"/index.html", sitetest.Desktop)
	type state struct {
		Pwned bool   `json:"pwned"`
		Color string `json:"color"`
		Site  bool   `json:"site"`
	}
	got := sitetest.Eval[state](tab, `({pwned: "pwned" in window, color: getComputedStyle(document.getElementById("p")).color,
		site: getComputedStyle(document.querySelector(".masthead")).display !== "inline"})`)
	if got.Pwned || got.Color == "rgb(255, 0, 0)" {
		t.Errorf("inline script or style ran: %+v", got)
	}
	if !got.Site {
		t.Errorf("the site's own stylesheet did not apply")
	}
	blocked := 0
	for _, p := range tab.Problems() {
		if strings.Contains(p, "Content Security Policy") {
			blocked++
		}
	}
	if blocked == 0 {
		t.Errorf("the browser reported no blocked inline code: %q", tab.Problems())
	}
}
