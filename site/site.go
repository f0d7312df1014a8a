// Package site renders a guide written in Markdown into a static HTML site:
// one layout with a navigation sidebar, an on-page table of contents, heading
// anchors, copy buttons on code blocks, light and dark themes, a 404 page and
// a sitemap. Pages are Go text/template templates executed with the caller's
// data before goldmark renders them, so snippets come from Go values; a page's
// YAML front matter (title, description, order) is decoded before any template
// runs, and its title and description are templates of plain text. The site
// makes no external request and every link is relative, so it works under any
// path prefix and from file://.
package site

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing/fstest"

	"github.com/yuin/goldmark"
)

// Names of the files every build writes besides the pages and the assets.
const (
	NotFoundPage = "404.html"
	SitemapFile  = "sitemap.xml"
)

// AssetDir is the directory of the stylesheet, the script and the icon. Their names carry
// the start of the SHA-256 of their content, NAME.HASH.EXT (see AssetName), so a page
// always names the exact stylesheet it was built with and a cache may keep an asset for
// good: a changed stylesheet is a new file.
const AssetDir = "assets"

// The embedded sources of the assets.
const (
	styleSource  = "assets/site.css"
	scriptSource = "assets/site.js"
	iconSource   = "assets/favicon.svg"
)

// AssetName returns the content-hashed name of an asset: "assets/site.css" with data
// becomes "assets/site.<first 10 hex digits of sha256(data)>.css".
func AssetName(name string, data []byte) string {
	sum := sha256.Sum256(data)
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:])[:10] + ext
}

var assetPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^site(\.[0-9a-f]{10})?\.css$`) })

// HasBuild reports whether fsys holds a build of a site: its stylesheet in AssetDir,
// hashed or (from builds before hashing) not.
func HasBuild(fsys fs.FS) bool {
	entries, err := fs.ReadDir(fsys, AssetDir)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(entries, func(e fs.DirEntry) bool { return !e.IsDir() && assetPattern().MatchString(e.Name()) })
}

// Site renders a guide. Build it with New; it is safe to Build several times.
type Site struct {
	title   string
	data    any
	vars    []Var
	baseURL string
}

// An Option configures a Site.
type Option func(*Site)

// WithTitle sets the site's name, shown in the header and in every <title>.
func WithTitle(title string) Option { return func(s *Site) { s.title = title } }

// WithData sets the value the page templates are executed with ("." in a
// page), typically the integration model's values.
func WithData(data any) Option { return func(s *Site) { s.data = data } }

// WithVars declares the customer-specific values the pages mark; see Var.
func WithVars(vars ...Var) Option {
	return func(s *Site) { s.vars = append(s.vars, vars...) }
}

// WithBaseURL sets the absolute URL the site is published at, such as
// https://docs.example.com/s3/. The sitemap protocol requires absolute URLs,
// so sitemap.xml is written only when the base URL is known; the 404 page
// also uses it (<base href>) so its links work from any missing path.
// Without it every link stays relative and no sitemap is written.
func WithBaseURL(u string) Option { return func(s *Site) { s.baseURL = u } }

// New returns a Site configured by opts.
func New(opts ...Option) *Site {
	s := &Site{title: "Guide"}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Output receives the files of a built site.
type Output interface {
	// WriteFile stores data under name, a slash-separated relative path.
	WriteFile(name string, data []byte) error
}

// Dir writes a built site under a directory, creating it and its
// subdirectories as needed. It overwrites the site's own files and leaves any
// other file in the directory alone.
type Dir string

// WriteFile implements Output.
func (d Dir) WriteFile(name string, data []byte) error {
	p := filepath.Join(string(d), filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

// Files keeps a built site in memory, keyed by slash-separated path.
type Files map[string][]byte

// WriteFile implements Output.
func (f Files) WriteFile(name string, data []byte) error {
	f[name] = bytes.Clone(data)
	return nil
}

// FS returns the files as a file system, for Handler or for tests.
func (f Files) FS() fs.FS {
	m := make(fstest.MapFS, len(f))
	for name, data := range f {
		m[name] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	return m
}

// A PageError reports a source page that could not be built.
type PageError struct {
	Page string // path in the source file system
	Err  error
}

func (e *PageError) Error() string { return e.Page + ": " + e.Err.Error() }
func (e *PageError) Unwrap() error { return e.Err }

//go:embed assets layout.html
var embedded embed.FS

// layout is parsed on first use: only the commands that render a page pay for it.
var layout = sync.OnceValue(func() *template.Template {
	return template.Must(template.ParseFS(embedded, "layout.html"))
})

// Build renders every *.md file of src into out, next to the stylesheet, the
// script, the 404 page and (with a base URL) the sitemap. Other files of src,
// such as images, are copied as they are; .go files are skipped. src must hold
// index.md, the site's entry page.
func (s *Site) Build(ctx context.Context, src fs.FS, out Output) error {
	if err := checkVars(s.vars); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	base, err := s.base()
	if err != nil {
		return err
	}
	b := &builder{site: s, src: src, exp: newExpander(s.vars), md: newMarkdown()}
	var others []string
	err = fs.WalkDir(src, ".", func(name string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case ctx.Err() != nil:
			return ctx.Err()
		case d.IsDir() || path.Ext(name) == ".go":
			return nil
		case path.Ext(name) == ".md":
			p, err := b.page(name)
			if err != nil {
				return &PageError{Page: name, Err: err}
			}
			b.pages = append(b.pages, p)
		default:
			others = append(others, name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("site: %w", err)
	}
	assets, err := b.assets()
	if err != nil {
		return fmt.Errorf("site: %w", err)
	}
	for _, name := range others {
		if slices.Contains([]string{NotFoundPage, SitemapFile}, name) || path.Ext(name) == ".html" || path.Dir(name) == AssetDir {
			return &PageError{Page: name, Err: errors.New("clashes with a file the site writes (" + NotFoundPage + ", " + SitemapFile + ", pages, " + AssetDir + "/)")}
		}
	}
	if !slices.ContainsFunc(b.pages, func(p *page) bool { return p.out == "index.html" }) {
		return errors.New("site: the source has no index.md")
	}
	slices.SortStableFunc(b.pages, func(x, y *page) int {
		if x.order != y.order {
			return x.order - y.order
		}
		return strings.Compare(x.src, y.src)
	})
	for _, p := range b.pages {
		html, err := b.render(p, "")
		if err != nil {
			return &PageError{Page: p.src, Err: err}
		}
		if err := out.WriteFile(p.out, html); err != nil {
			return fmt.Errorf("site: %w", err)
		}
	}
	notFound, err := b.render(b.notFound(), base)
	if err != nil {
		return fmt.Errorf("site: 404 page: %w", err)
	}
	files := map[string][]byte{NotFoundPage: notFound}
	maps.Copy(files, assets)
	if base != "" {
		files[SitemapFile], err = b.sitemap(base)
		if err != nil {
			return fmt.Errorf("site: sitemap: %w", err)
		}
	}
	for _, name := range others {
		if files[name], err = fs.ReadFile(src, name); err != nil {
			return fmt.Errorf("site: %w", err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := out.WriteFile(name, files[name]); err != nil {
			return fmt.Errorf("site: %w", err)
		}
	}
	return nil
}

// assets returns the stylesheet, the script and the icon by their hashed names, and
// records the names for the layout.
func (b *builder) assets() (map[string][]byte, error) {
	css, err := stylesheet()
	if err != nil {
		return nil, fmt.Errorf("stylesheet: %w", err)
	}
	js, err := embedded.ReadFile(scriptSource)
	if err != nil {
		return nil, err
	}
	icon, err := embedded.ReadFile(iconSource)
	if err != nil {
		return nil, err
	}
	b.style, b.script, b.icon = AssetName(styleSource, css), AssetName(scriptSource, js), AssetName(iconSource, icon)
	return map[string][]byte{b.style: css, b.script: js, b.icon: icon}, nil
}

// base returns the validated base URL with a trailing slash, or "".
func (s *Site) base() (string, error) {
	if s.baseURL == "" {
		return "", nil
	}
	u, err := url.Parse(s.baseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("site: base URL %q: must be an absolute http(s) URL without query or fragment", s.baseURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u.String(), nil
}

// builder holds the state of one Build.
type builder struct {
	site  *Site
	src   fs.FS
	exp   expander
	md    goldmark.Markdown
	pages []*page
	// style, script and icon are the hashed names of the assets.
	style, script, icon string
}

// render executes the layout for p and expands the var markers. base, when
// set, becomes the page's <base href>.
func (b *builder) render(p *page, base string) ([]byte, error) {
	data := layoutData{
		Site:        b.site.title,
		Title:       b.exp.unmark(p.title),
		Description: b.exp.unmark(p.description),
		Root:        strings.Repeat("../", strings.Count(p.out, "/")),
		Base:        base,
		Body:        p.body,
		TOC:         p.toc,
		Style:       b.style,
		Script:      b.script,
		Icon:        b.icon,
	}
	for _, q := range b.pages {
		data.Nav = append(data.Nav, navItem{Title: b.exp.unmark(q.title), Href: data.Root + q.out, Current: q == p})
	}
	for _, v := range b.site.vars {
		if v.inForm() {
			data.Form = append(data.Form, v)
		}
	}
	var buf bytes.Buffer
	if err := layout().Execute(&buf, data); err != nil {
		return nil, err
	}
	html, err := b.exp.expand(buf.String())
	if err != nil {
		return nil, err
	}
	return []byte(restore(html)), nil
}

// layoutData is what layout.html is executed with.
type layoutData struct {
	Site, Title, Description string
	Root                     string // relative path from the page to the site root: "" or "../"…
	Base                     string // <base href>, for the 404 page only
	Nav                      []navItem
	TOC                      []heading
	Body                     template.HTML
	Form                     []Var
	// Style, Script and Icon are the assets' paths from the site root.
	Style, Script, Icon string
}

type navItem struct {
	Title, Href string
	Current     bool
}

// notFound returns the 404 page.
func (b *builder) notFound() *page {
	return &page{
		src:   NotFoundPage,
		out:   NotFoundPage,
		title: "Page not found",
		body:  template.HTML(`<p>There is no page at this address. The <a href="index.html">first page of the guide</a> and the menu lead to every page.</p>`),
	}
}

// sitemap returns sitemap.xml for the pages, with absolute URLs under base.
func (b *builder) sitemap(base string) ([]byte, error) {
	type loc struct {
		Loc string `xml:"loc"`
	}
	set := struct {
		XMLName xml.Name `xml:"urlset"`
		NS      string   `xml:"xmlns,attr"`
		URLs    []loc    `xml:"url"`
	}{NS: "http://www.sitemaps.org/schemas/sitemap/0.9"}
	for _, p := range b.pages {
		set.URLs = append(set.URLs, loc{Loc: base + p.out})
	}
	out, err := xml.MarshalIndent(set, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}
