package site_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/isahit/s3grant/site"
	"github.com/isahit/s3grant/site/sitetest"
)

// yamlHostile are values that would add a key, change one, end the front matter or be read
// as another YAML node if they were pasted into it: every indicator, at the start of the
// value where YAML gives it meaning, and line breaks.
var yamlHostile = []string{
	`Acme: Lab`,
	`Acme #1 Lab`,
	`# only a comment`,
	`"double" and 'single' quotes`,
	`'single first`,
	`"double first`,
	`- leading dash`,
	`-leading dash`,
	`&anchor value`,
	`*alias`,
	`!tag value`,
	`!!int 12`,
	`{flow: mapping}`,
	`[list, of, items]`,
	`| literal`,
	`> folded`,
	`% directive`,
	`@at`,
	"`backtick",
	`? key`,
	`, comma`,
	"line\u2028separator",
	"line\nbreak",
	"x\norder: 99",
	"x\ndescription: injected",
	"x\n---\norder: 99",
	"x\n...\norder: 99",
	`&amp; <b>bold</b> <script>window.pwned=1</script>`,
	`{{.V}} ${x} %41`,
	"- 'Acme' \"Ñaño\": #1 [x] {y} &a *b !t % @ ? | > ,\n\u2028order: 99",
}

// A value from the data in a page's title and description shows literally in <title>,
// <meta name="description">, the menu and the heading (escaped once: a double escape would
// show "&amp;"), and it cannot add or change a front matter key: the page keeps its order.
func TestFrontMatter_DataIsLiteralAndCannotChangeKeys(t *testing.T) {
	const page = "---\n" +
		"title: \"{{.V}}\"\n" +
		"description: D {{.V}} \u00e9\n" +
		"order: 1\n" +
		"---\n" +
		"Body.\n"
	const other = "---\ntitle: Other\ndescription: The other page.\norder: 5\n---\nOther.\n"
	for _, v := range yamlHostile {
		t.Run(v, func(t *testing.T) {
			files := site.Files{}
			src := fstest.MapFS{"index.md": {Data: []byte(page)}, "other.md": {Data: []byte(other)}}
			if err := site.New(site.WithTitle("S"), site.WithData(struct{ V string }{v})).Build(context.Background(), src, files); err != nil {
				t.Fatalf("Build: %v", err)
			}
			for _, name := range []string{"index.html", "other.html"} {
				doc, err := sitetest.Parse(files[name])
				if err != nil {
					t.Fatal(err)
				}
				nav := doc.All(func(n *sitetest.Node) bool {
					return n.Tag == "a" && strings.HasSuffix(n.Attr["href"], ".html") && n.Attr["class"] != "brand"
				})
				if len(nav) != 2 || nav[0].TextContent() != v || nav[1].TextContent() != "Other" {
					var got []string
					for _, a := range nav {
						got = append(got, a.TextContent())
					}
					t.Errorf("%s: menu = %q, want [%q Other]: the page's order or title changed", name, got, v)
				}
				if name != "index.html" {
					continue
				}
				if got := text(doc, "title"); got != v+" · S" {
					t.Errorf("<title> = %q, want %q", got, v+" · S")
				}
				if got := text(doc, "h1"); got != v {
					t.Errorf("<h1> = %q, want %q", got, v)
				}
				desc := doc.All(func(n *sitetest.Node) bool { return n.Tag == "meta" && n.Attr["name"] == "description" })
				if want := "D " + v + " é"; len(desc) != 1 || desc[0].Attr["content"] != want {
					t.Errorf("description = %v, want %q", desc, want)
				}
				if n := doc.All(func(n *sitetest.Node) bool { return n.Tag == "b" || n.Tag == "script" && n.Attr["src"] == "" }); len(n) != 0 {
					t.Errorf("an element from the data: %v", n)
				}
			}
		})
	}
}

// text returns the text of the page's only element tag, or a note that there is not one.
func text(doc *sitetest.Node, tag string) string {
	n := doc.All(func(n *sitetest.Node) bool { return n.Tag == tag })
	if len(n) != 1 {
		return fmt.Sprintf("(%d %s elements)", len(n), tag)
	}
	return n[0].TextContent()
}

// The front matter is the page author's YAML, decoded before any template runs: its title
// and description may print values (and var markers), its other keys are plain YAML.
func TestFrontMatter_TemplatesAndVars(t *testing.T) {
	src := fstest.MapFS{"index.md": {Data: []byte("---\r\n" +
		"title: Grant {{var \"Bucket\"}} to {{.Name}}\r\n" +
		"description: |\r\n  Two lines\r\n  for {{.Name | printf \"%q\"}}.\r\n" +
		"---  \r\n" +
		"Body.\n")}}
	files := site.Files{}
	vars := site.WithVars(site.Var{Name: "Bucket", Value: "my-bucket"})
	if err := site.New(site.WithTitle("S"), vars, site.WithData(map[string]string{"Name": "A&B"})).Build(context.Background(), src, files); err != nil {
		t.Fatal(err)
	}
	doc, err := sitetest.Parse(files["index.html"])
	if err != nil {
		t.Fatal(err)
	}
	if got := text(doc, "h1"); got != "Grant my-bucket to A&B" {
		t.Errorf("<h1> = %q", got)
	}
	if desc := doc.All(func(n *sitetest.Node) bool { return n.Tag == "meta" && n.Attr["name"] == "description" }); len(desc) != 1 || desc[0].Attr["content"] != "Two lines\nfor \"A&B\".\n" {
		t.Errorf("description = %v", desc)
	}
	if text := doc.TextContent(); strings.Contains(text, "title:") || strings.Contains(text, "---") {
		t.Errorf("the front matter shows in the page: %q", text)
	}
}
