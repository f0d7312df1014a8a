package site

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"strings"
	texttemplate "text/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
	"go.abhg.dev/goldmark/frontmatter"
)

// page is one rendered source page.
type page struct {
	src         string // path in the source file system, e.g. "setup/cli.md"
	out         string // path in the site, e.g. "setup/cli.html"
	title       string
	description string
	order       int
	body        template.HTML
	toc         []heading
}

// heading is one entry of a page's table of contents.
type heading struct {
	ID    string
	Text  string
	Level int
}

// frontMatter is the YAML block at the top of a page.
type frontMatter struct {
	Title       string `yaml:"title"`
	Description string `yaml:"description"`
	Order       int    `yaml:"order"`
}

// newMarkdown returns the goldmark converter of the site: GFM, front matter,
// automatic heading IDs, raw HTML (the guide's own), and chroma highlighting
// into CSS classes, each code block wrapped with a copy button.
func newMarkdown() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(
			extension.GFM,
			&frontmatter.Extender{},
			highlighting{},
		),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
		goldmark.WithRendererOptions(
			html.WithUnsafe(),
			renderer.WithNodeRenderers(util.Prioritized(anchorRenderer{}, 100)),
		),
	)
}

// codeWrapper puts a copy button before each fenced code block. The button is
// hidden until the script shows it, so a page without JavaScript shows no
// button that does nothing. Blocks without a language are not highlighted,
// and the wrapper writes their <pre><code> itself.
func codeWrapper(w util.BufWriter, lang []byte, highlighted, entering bool) {
	if entering {
		_, _ = w.WriteString(`<div class="code"`)
		if lang != nil {
			_, _ = w.WriteString(` data-lang="` + template.HTMLEscapeString(string(lang)) + `"`)
		}
		_, _ = w.WriteString(`><button type="button" class="copy" aria-live="polite" hidden>Copy</button>`)
		if !highlighted {
			_, _ = w.WriteString(focusablePre{}.Start(true, ` class="chroma"`))
		}
		return
	}
	if !highlighted {
		_, _ = w.WriteString(focusablePre{}.End(true))
	}
	_, _ = w.WriteString("</div>\n")
}

// page executes the template of the source page name and renders it.
func (b *builder) page(name string) (*page, error) {
	raw, err := fs.ReadFile(b.src, name)
	if err != nil {
		return nil, err
	}
	tmpl, err := texttemplate.New(name).Option("missingkey=error").Funcs(b.funcs()).Parse(string(raw))
	if err != nil {
		return nil, err
	}
	escapeTree(tmpl)
	var src bytes.Buffer
	if err := tmpl.Execute(&src, b.site.data); err != nil {
		return nil, err
	}
	source := src.Bytes()
	pctx := parser.NewContext()
	doc := b.md.Parser().Parse(text.NewReader(source), parser.WithContext(pctx))
	var fm frontMatter
	if d := frontmatter.Get(pctx); d != nil {
		if err := d.Decode(&fm); err != nil {
			return nil, fmt.Errorf("front matter: %w", err)
		}
	}
	if fm.Title == "" {
		return nil, errors.New("front matter: title is required")
	}
	p := &page{
		src:         name,
		out:         strings.TrimSuffix(name, ".md") + ".html",
		title:       fm.Title,
		description: fm.Description,
		order:       fm.Order,
	}
	if err := b.transform(doc, source, p); err != nil {
		return nil, err
	}
	var body bytes.Buffer
	if err := b.md.Renderer().Render(&body, source, doc); err != nil {
		return nil, err
	}
	p.body = template.HTML(body.String())
	return p, nil
}

// funcs are the functions page templates can call besides the built-ins.
func (b *builder) funcs() texttemplate.FuncMap {
	return texttemplate.FuncMap{
		// var marks the place of a customer-specific value; see Var.
		"var": func(name string) (string, error) {
			v, ok := b.exp.vars[name]
			if !ok {
				return "", fmt.Errorf("unknown var %q", name)
			}
			return v.Mark(), nil
		},
		// data makes a printed value inert; escapeTree adds it to every action.
		"data": dataFunc,
		// markdown prints Markdown built by code that quotes the values in it (a statement's
		// summary puts them in code spans), as it is.
		"markdown": func(s string) string { return s },
		// json prints a value as indented JSON, as a console expects it.
		"json": func(v any) (string, error) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(v); err != nil {
				return "", err
			}
			return inertJSON(strings.TrimSuffix(buf.String(), "\n")), nil
		},
	}
}

// transform rewrites links to other pages (x.md becomes x.html), collects the
// table of contents (levels 2 and 3) and adds an anchor link to every heading.
// The page's only level-1 heading is its title, written by the layout.
func (b *builder) transform(doc ast.Node, source []byte, p *page) error {
	var headings []*ast.Heading
	err := ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			headings = append(headings, n)
		case *ast.Link:
			dest, err := restoreLink(n.Destination)
			if err != nil {
				return ast.WalkStop, err
			}
			n.Destination = pageLink(dest)
		case *ast.Image:
			dest, err := restoreLink(n.Destination)
			if err != nil {
				return ast.WalkStop, err
			}
			n.Destination = dest
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		return err
	}
	for _, h := range headings {
		words := plainText(h, source)
		if h.Level == 1 {
			return fmt.Errorf("heading %q: use ## and deeper; the page title comes from the front matter", words)
		}
		id, ok := h.AttributeString("id")
		if !ok {
			return fmt.Errorf("heading %q has no id", words)
		}
		idb, _ := id.([]byte)
		if h.Level <= 3 {
			p.toc = append(p.toc, heading{ID: string(idb), Text: words, Level: h.Level})
		}
		h.AppendChild(h, &anchor{id: string(idb), label: "Link to this section: " + b.exp.unmark(words)})
	}
	return nil
}

// pageLink turns a relative link to a Markdown page into a link to its HTML
// page, keeping the fragment; other links are returned unchanged.
func pageLink(dest []byte) []byte {
	u, err := url.Parse(string(dest))
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "/") || path.Ext(u.Path) != ".md" {
		return dest
	}
	u.Path = strings.TrimSuffix(u.Path, ".md") + ".html"
	return []byte(u.String())
}

// plainText returns the text of n's inline content.
func plainText(n ast.Node, source []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Value(source))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}

// anchor is the "#" link added to the end of a heading.
type anchor struct {
	ast.BaseInline
	id, label string
}

var kindAnchor = ast.NewNodeKind("HeadingAnchor")

// Kind implements ast.Node.
func (a *anchor) Kind() ast.NodeKind { return kindAnchor }

// Dump implements ast.Node.
func (a *anchor) Dump(source []byte, level int) {
	ast.DumpHelper(a, source, level, map[string]string{"ID": a.id}, nil)
}

// anchorRenderer renders anchor nodes.
type anchorRenderer struct{}

// RegisterFuncs implements renderer.NodeRenderer.
func (anchorRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindAnchor, func(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			a := n.(*anchor)
			fmt.Fprintf(w, ` <a class="anchor" href="#%s" aria-label="%s">#</a>`,
				template.HTMLEscapeString(a.id), template.HTMLEscapeString(a.label))
		}
		return ast.WalkContinue, nil
	})
}
