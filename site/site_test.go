package site_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/isahit/s3grant/site"
	"github.com/isahit/s3grant/site/sitetest"
)

func TestBuild_LinksResolveAndNoExternalAssets(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []site.Option
	}{
		{"relative", nil},
		{"with base URL", []site.Option{site.WithBaseURL("https://docs.example.com/s3")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := buildFixture(t, []site.Var{externalID, bucket, region}, tc.opts...)
			for _, err := range sitetest.CheckLinks(files.FS()) {
				t.Error(err)
			}
		})
	}
}

// The checker itself must catch what it is for.
func TestCheckLinks_CatchesProblems(t *testing.T) {
	page := func(body string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("<!DOCTYPE html><html><head></head><body>" + body + "</body></html>")}
	}
	for _, tc := range []struct {
		name, body, want string
	}{
		{"missing page", `<a href="nope.html">x</a>`, "no such file nope.html"},
		{"missing fragment", `<a href="other.html#gone">x</a>`, `no id "gone"`},
		{"missing local fragment", `<a href="#gone">x</a>`, `no id "gone"`},
		{"external script", `<script src="https://cdn.example.com/x.js"></script>`, "asset outside the site"},
		{"external stylesheet", `<link rel="stylesheet" href="//fonts.example.com/f.css">`, "asset outside the site"},
		{"external image", `<img src="http://example.com/a.png" alt="">`, "asset outside the site"},
		{"root path", `<a href="/other.html">x</a>`, "absolute path"},
		{"leaves the site", `<a href="../x.html">x</a>`, "leaves the site"},
		{"javascript link", `<a href="javascript:alert(1)">x</a>`, `scheme "javascript"`},
		{"duplicate id", `<p id="a"></p><p id="a"></p>`, `duplicate id "a"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{"index.html": page(tc.body), "other.html": page(`<h2 id="here">h</h2>`)}
			errs := sitetest.CheckLinks(fsys)
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want) {
				t.Fatalf("CheckLinks = %v, want one error containing %q", errs, tc.want)
			}
		})
	}
	t.Run("css import", func(t *testing.T) {
		errs := sitetest.CheckLinks(fstest.MapFS{"a.css": {Data: []byte(`@import "x.css"; b { background: url(https://x.example/a.png) }`)}})
		if len(errs) != 2 {
			t.Fatalf("CheckLinks = %v, want the @import and the url()", errs)
		}
	})
}

func TestBuild_NotFoundAndSitemap(t *testing.T) {
	vars := []site.Var{externalID, bucket, region}
	t.Run("without base URL", func(t *testing.T) {
		files := buildFixture(t, vars)
		if _, ok := files[site.NotFoundPage]; !ok {
			t.Error("no 404 page")
		}
		if _, ok := files[site.SitemapFile]; ok {
			t.Error("sitemap written without a base URL: the protocol needs absolute URLs")
		}
	})
	t.Run("with base URL", func(t *testing.T) {
		files := buildFixture(t, vars, site.WithBaseURL("https://docs.example.com/s3"))
		var set struct {
			NS   string `xml:"xmlns,attr"`
			URLs []struct {
				Loc string `xml:"loc"`
			} `xml:"url"`
		}
		if err := xml.Unmarshal(files[site.SitemapFile], &set); err != nil {
			t.Fatalf("sitemap: %v", err)
		}
		var locs []string
		for _, u := range set.URLs {
			locs = append(locs, u.Loc)
		}
		want := []string{
			"https://docs.example.com/s3/index.html",
			"https://docs.example.com/s3/setup.html",
			"https://docs.example.com/s3/guide/deep.html",
		}
		if set.NS != "http://www.sitemaps.org/schemas/sitemap/0.9" || !slices.Equal(locs, want) {
			t.Errorf("sitemap = %s %v, want %v", set.NS, locs, want)
		}
		doc := parse(t, files[site.NotFoundPage])
		bases := doc.All(func(n *sitetest.Node) bool { return n.Tag == "base" })
		if len(bases) != 1 || bases[0].Attr["href"] != "https://docs.example.com/s3/" {
			t.Errorf("404 page <base> = %v, want https://docs.example.com/s3/", bases)
		}
	})
}

func TestBuild_NavigationOrderAndTOC(t *testing.T) {
	files := buildFixture(t, []site.Var{externalID, bucket, region})
	doc := parse(t, files["guide/deep.html"])
	var nav []string
	for _, a := range doc.All(func(n *sitetest.Node) bool {
		return n.Tag == "a" && n.Parent.Tag == "li" && n.Parent.Parent.Parent.HasClass("sidebar")
	}) {
		nav = append(nav, a.Attr["href"]+" "+a.TextContent())
	}
	// Ordered by front matter "order", relative to the nested page.
	want := []string{"../index.html Overview", "../setup.html Set up", "../guide/deep.html A nested page"}
	if !slices.Equal(nav, want) {
		t.Errorf("nav = %q, want %q", nav, want)
	}
	doc = parse(t, files["setup.html"])
	var toc []string
	for _, li := range doc.All(func(n *sitetest.Node) bool { return n.Tag == "li" && n.Parent.Parent.HasClass("toc") }) {
		toc = append(toc, li.Attr["class"]+" "+li.TextContent())
	}
	want = []string{"l2 Paste the policy", "l2 Run the command", "l3 A block with no language", "l3 A very long line", "l2 Launch", "l2 Flags"}
	if !slices.Equal(toc, want) {
		t.Errorf("toc = %q, want %q", toc, want)
	}
	for _, h := range doc.All(func(n *sitetest.Node) bool {
		return n.Tag == "h2" && n.Attr["id"] != "" && n.Attr["id"] != "toc-title" && n.Attr["id"] != "values-title"
	}) {
		a := h.All(func(n *sitetest.Node) bool { return n.Tag == "a" && n.HasClass("anchor") })
		if len(a) != 1 || a[0].Attr["href"] != "#"+h.Attr["id"] || a[0].Attr["aria-label"] == "" {
			t.Errorf("heading %q: anchor %v, want one labelled link to #%s", h.Attr["id"], a, h.Attr["id"])
		}
	}
}

func TestBuild_Vars(t *testing.T) {
	alice := externalID
	alice.Value = "alice-6b0c"
	bob := bucket
	bob.Value = "bob-bucket"
	for _, tc := range []struct {
		name               string
		vars               []site.Var
		wantID, wantBucket string
		wantForm           []string
		wantHref, wantTmpl string
	}{{
		name:       "generic: placeholders and a form",
		vars:       []site.Var{externalID, bucket, region},
		wantID:     "<YOUR-EXTERNAL-ID>",
		wantBucket: "<YOUR-BUCKET>",
		wantForm:   []string{"ExternalId", "Bucket"},
		wantHref:   "https://eu-west-3.console.aws.amazon.com/cloudformation/home#/stacks/create/review?param_BucketName=%3CYOUR-BUCKET%3E&param_ExternalId=%3CYOUR-EXTERNAL-ID%3E&stackName=isahit-lab&templateURL=https%3A%2F%2Fexample-bucket.s3.amazonaws.com%2Ft.json",
		wantTmpl:   "https://eu-west-3.console.aws.amazon.com/cloudformation/home#/stacks/create/review?param_BucketName={Bucket}&param_ExternalId={ExternalId}&stackName=isahit-lab&templateURL=https%3A%2F%2Fexample-bucket.s3.amazonaws.com%2Ft.json",
	}, {
		name:       "personalised: values baked in, no form",
		vars:       []site.Var{alice, bob, region},
		wantID:     "alice-6b0c",
		wantBucket: "bob-bucket",
		wantHref:   "https://eu-west-3.console.aws.amazon.com/cloudformation/home#/stacks/create/review?param_BucketName=bob-bucket&param_ExternalId=alice-6b0c&stackName=isahit-lab&templateURL=https%3A%2F%2Fexample-bucket.s3.amazonaws.com%2Ft.json",
	}, {
		name:       "partly personalised",
		vars:       []site.Var{externalID, bob, region},
		wantID:     "<YOUR-EXTERNAL-ID>",
		wantBucket: "bob-bucket",
		wantForm:   []string{"ExternalId"},
		wantHref:   "https://eu-west-3.console.aws.amazon.com/cloudformation/home#/stacks/create/review?param_BucketName=bob-bucket&param_ExternalId=%3CYOUR-EXTERNAL-ID%3E&stackName=isahit-lab&templateURL=https%3A%2F%2Fexample-bucket.s3.amazonaws.com%2Ft.json",
		wantTmpl:   "https://eu-west-3.console.aws.amazon.com/cloudformation/home#/stacks/create/review?param_BucketName=bob-bucket&param_ExternalId={ExternalId}&stackName=isahit-lab&templateURL=https%3A%2F%2Fexample-bucket.s3.amazonaws.com%2Ft.json",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			files := buildFixture(t, tc.vars)
			doc := parse(t, files["setup.html"])
			code := sitetest.CodeBlocks(doc)
			if len(code) != 4 {
				t.Fatalf("got %d code blocks, want 4", len(code))
			}
			// The JSON went through encoding/json, goldmark and chroma with
			// the marker inside; the page must show valid JSON with the value.
			var policy struct {
				Statement []struct {
					Condition map[string]map[string]string
				}
			}
			if err := json.Unmarshal([]byte(code[0].Text), &policy); err != nil {
				t.Fatalf("JSON snippet does not parse: %v\n%s", err, code[0].Text)
			}
			if got := policy.Statement[0].Condition["StringEquals"]["sts:ExternalId"]; got != tc.wantID || code[0].Language != "json" {
				t.Errorf("JSON snippet (%s) external ID = %q, want %q", code[0].Language, got, tc.wantID)
			}
			wantCmd := "s3grant deploy --bucket " + tc.wantBucket + " --external-id " + tc.wantID + " --region eu-west-3"
			if code[1].Text != wantCmd {
				t.Errorf("command snippet = %q, want %q", code[1].Text, wantCmd)
			}
			if want := `plain <text> & "quotes" stay as they are`; code[2].Text != want {
				t.Errorf("plain snippet = %q, want %q", code[2].Text, want)
			}
			spans := doc.All(func(n *sitetest.Node) bool {
				return n.Tag == "span" && n.HasClass("v") && n.Attr["data-var"] == "ExternalId"
			})
			if len(spans) != 2 {
				t.Errorf("external ID spans = %d, want 2 (policy and command)", len(spans))
			}
			for _, s := range spans {
				if s.TextContent() != tc.wantID {
					t.Errorf("external ID span shows %q, want %q", s.TextContent(), tc.wantID)
				}
			}
			launch := doc.All(func(n *sitetest.Node) bool { return n.Tag == "a" && strings.Contains(n.TextContent(), "Launch Stack") })
			if len(launch) != 2 {
				t.Fatalf("got %d launch links, want 2", len(launch))
			}
			for _, a := range launch {
				if a.Attr["href"] != tc.wantHref || a.Attr["data-href"] != tc.wantTmpl {
					t.Errorf("launch link\n href %s\n data-href %s\nwant\n href %s\n data-href %s", a.Attr["href"], a.Attr["data-href"], tc.wantHref, tc.wantTmpl)
				}
			}
			var form []string
			for _, in := range doc.All(func(n *sitetest.Node) bool { return n.Tag == "input" }) {
				form = append(form, in.Attr["name"])
			}
			if !slices.Equal(form, tc.wantForm) {
				t.Errorf("form fields = %q, want %q", form, tc.wantForm)
			}
		})
	}
}

func TestBuild_Errors(t *testing.T) {
	good := "---\ntitle: Home\n---\nHello.\n"
	for _, tc := range []struct {
		name     string
		src      fstest.MapFS
		opts     []site.Option
		wantPage string // "" when the error is not about one page
		want     string
	}{
		{"no index", fstest.MapFS{"a.md": {Data: []byte(good)}}, nil, "", "no index.md"},
		{"no title", fstest.MapFS{"index.md": {Data: []byte("Hello.\n")}}, nil, "index.md", "title is required"},
		{"bad front matter", fstest.MapFS{"index.md": {Data: []byte("---\ntitle: [\n---\n")}}, nil, "index.md", "front matter"},
		{"unknown front matter key", fstest.MapFS{"index.md": {Data: []byte("---\ntitle: Home\ntitel: Home\n---\n")}}, nil, "index.md", "field titel not found"},
		{"front matter not closed", fstest.MapFS{"index.md": {Data: []byte("---\ntitle: Home\nHello.\n")}}, nil, "index.md", `no closing "---"`},
		{"two YAML documents", fstest.MapFS{"index.md": {Data: []byte("---\ntitle: Home\n...\norder: 2\n---\n")}}, nil, "index.md", "one YAML document"},
		{"empty front matter", fstest.MapFS{"index.md": {Data: []byte("---\n---\nHello.\n")}}, nil, "index.md", "title is required"},
		{"title template", fstest.MapFS{"index.md": {Data: []byte("---\ntitle: A {{.Nope}}\n---\n")}}, []site.Option{site.WithData(map[string]string{})}, "index.md", `title: template: index.md#title:1:4: executing "index.md#title" at <.Nope>: map has no entry for key "Nope"`},
		{"description template", fstest.MapFS{"index.md": {Data: []byte("---\ntitle: A\ndescription: '{{'\n---\n")}}, nil, "index.md", "description: template: index.md#description:1: unclosed action"},
		{"title empty once executed", fstest.MapFS{"index.md": {Data: []byte("---\ntitle: \"{{.}}\"\n---\n")}}, []site.Option{site.WithData(" ")}, "index.md", "is empty once executed"},
		{"body error on its source line", fstest.MapFS{"index.md": {Data: []byte("---\ntitle: Home\n---\nHello.\n\n{{.Nope}}\n")}}, []site.Option{site.WithData(map[string]string{})}, "index.md", "index.md:6:2"},
		{"reserved character in the data", fstest.MapFS{"index.md": {Data: []byte(good + "{{.}}\n")}}, []site.Option{site.WithData("a\uE121b")}, "index.md", "U+E121, which the site reserves"},
		{"reserved character in a title", fstest.MapFS{"index.md": {Data: []byte("---\ntitle: A {{.}}\n---\n")}}, []site.Option{site.WithData("\uE13C")}, "index.md", "title: template"},
		{"level-1 heading", fstest.MapFS{"index.md": {Data: []byte(good + "# Again\n")}}, nil, "index.md", "use ## and deeper"},
		{"template syntax", fstest.MapFS{"index.md": {Data: []byte(good + "{{.Nope\n")}}, nil, "index.md", "unclosed action"},
		{"missing data field", fstest.MapFS{"index.md": {Data: []byte(good + "{{.Nope}}\n")}}, []site.Option{site.WithData(map[string]string{})}, "index.md", `map has no entry for key "Nope"`},
		{"unknown var", fstest.MapFS{"index.md": {Data: []byte(good + `{{var "Nope"}}` + "\n")}}, nil, "index.md", `unknown var "Nope"`},
		{"var in an attribute", fstest.MapFS{"index.md": {Data: []byte(good + `<img alt="{{var "Bucket"}}" src="x.png">` + "\n")}}, []site.Option{site.WithVars(bucket)}, "index.md", "attribute other than href"},
		{"marker of an undeclared var", fstest.MapFS{"index.md": {Data: []byte(good + "{{.}}\n")}}, []site.Option{site.WithData(bucket.Mark())}, "index.md", `unknown var "Bucket"`},
		{"file clashes", fstest.MapFS{"index.md": {Data: []byte(good)}, "assets/site.0123456789.css": {Data: []byte("x")}}, nil, "assets/site.0123456789.css", "clashes"},
		{"code in a language without a lexer", fstest.MapFS{"index.md": {Data: []byte(good + "```cobol\nDISPLAY \"X\".\n```\n")}}, nil, "index.md", `no highlighter for code blocks in "cobol"`},
		{"bad base URL", fstest.MapFS{"index.md": {Data: []byte(good)}}, []site.Option{site.WithBaseURL("docs.example.com")}, "", "base URL"},
		{"bad var name", fstest.MapFS{"index.md": {Data: []byte(good)}}, []site.Option{site.WithVars(site.Var{Name: "a-b", Value: "x"})}, "", "name must be"},
		{"form var without placeholder", fstest.MapFS{"index.md": {Data: []byte(good)}}, []site.Option{site.WithVars(site.Var{Name: "A", Label: "A"})}, "", "Placeholder"},
		{"var twice", fstest.MapFS{"index.md": {Data: []byte(good)}}, []site.Option{site.WithVars(region, region)}, "", "defined twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := site.Files{}
			err := site.New(tc.opts...).Build(context.Background(), tc.src, out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build error = %v, want one containing %q", err, tc.want)
			}
			var pe *site.PageError
			if got := errors.As(err, &pe); got != (tc.wantPage != "") || (got && pe.Page != tc.wantPage) {
				t.Errorf("PageError = %v, want page %q", pe, tc.wantPage)
			}
		})
	}
}

func TestBuild_Canceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := site.New().Build(ctx, os.DirFS("testdata/basic"), site.Files{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Build error = %v, want context.Canceled", err)
	}
}

func TestBuild_WritesDir(t *testing.T) {
	dir := t.TempDir()
	keep := dir + "/keep.txt"
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := []site.Var{externalID, bucket, region}
	err := site.New(site.WithVars(vars...), site.WithData(newFixtureData(vars...))).Build(context.Background(), os.DirFS("testdata/basic"), site.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"index.html", "guide/deep.html", "404.html"} {
		if _, err := os.Stat(dir + "/" + name); err != nil {
			t.Error(err)
		}
	}
	for _, pattern := range []string{"assets/site.*.css", "assets/site.*.js", "assets/favicon.*.svg"} {
		if m, _ := filepath.Glob(filepath.Join(dir, pattern)); len(m) != 1 {
			t.Errorf("%s: %v, want one file", pattern, m)
		}
	}
	if !site.HasBuild(os.DirFS(dir)) || site.HasBuild(os.DirFS("testdata")) {
		t.Error("HasBuild does not tell a build from another directory")
	}
	if data, err := os.ReadFile(keep); err != nil || string(data) != "mine" {
		t.Errorf("the build touched an unrelated file: %q, %v", data, err)
	}
}

// Each page, with everything it loads, stays under the weight budget.
func TestBuild_PageWeight(t *testing.T) {
	const budget = 60 << 10
	files := buildFixture(t, []site.Var{externalID, bucket, region})
	weights, err := sitetest.PageWeights(files.FS())
	if err != nil {
		t.Fatal(err)
	}
	for page, w := range weights {
		t.Logf("%s: %d bytes with its assets", page, w)
		if w > budget {
			t.Errorf("%s weighs %d bytes with its assets, budget %d", page, w, budget)
		}
		if w <= len(files[page]) {
			t.Errorf("%s: weight %d does not count its assets", page, w)
		}
	}
}

// Every highlighting class the light theme colours is reset or recoloured in
// the dark theme, so no light colour shows through on the dark background.
func TestStylesheet_DarkCoversLight(t *testing.T) {
	files := buildFixture(t, []site.Var{externalID, bucket, region})
	css := string(files[assetNamed(t, files, "assets/site.", ".css")])
	i := strings.Index(css, "/* Highlighting: github */")
	j := strings.Index(css, "/* Highlighting: github-dark */")
	if i < 0 || j < i {
		t.Fatal("highlighting blocks not found")
	}
	light, dark := css[i:j], css[j:]
	if !strings.Contains(css[:j], "@media screen and (prefers-color-scheme: dark)") {
		t.Error("dark block is not inside a prefers-color-scheme media query")
	}
	for _, rule := range strings.Split(light, "\n") {
		sel, decl, ok := strings.Cut(rule, "{")
		if !ok || !strings.HasPrefix(sel, ".chroma .") || !strings.Contains(decl, "color") {
			continue
		}
		if !strings.Contains(dark, strings.TrimSpace(sel)+",") && !strings.Contains(dark, strings.TrimSpace(sel)+" {") {
			t.Errorf("dark theme has no rule for %s", strings.TrimSpace(sel))
		}
	}
}

func TestHandler(t *testing.T) {
	files := buildFixture(t, []site.Var{externalID, bucket, region})
	srv := httptest.NewServer(site.Handler(files.FS()))
	defer srv.Close()
	for _, tc := range []struct {
		path       string
		wantStatus int
		wantTitle  string
	}{
		{"/", 200, "<title>Overview · Fixture guide</title>"},
		{"/setup.html", 200, "<title>Set up · Fixture guide</title>"},
		{"/guide/deep.html", 200, "<title>A nested page · Fixture guide</title>"},
		{"/guide/", 404, "<title>Page not found · Fixture guide</title>"},
		{"/nope.html", 404, "<title>Page not found · Fixture guide</title>"},
		{"/a/b/c", 404, "<title>Page not found · Fixture guide</title>"},
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.wantStatus || !strings.Contains(string(body), tc.wantTitle) {
			t.Errorf("GET %s = %d %.80q, want %d with %s", tc.path, resp.StatusCode, body, tc.wantStatus, tc.wantTitle)
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	vars := []site.Var{externalID, bucket, region}
	s := site.New(site.WithVars(vars...), site.WithData(newFixtureData(vars...)))
	src := os.DirFS("testdata/basic")
	for b.Loop() {
		if err := s.Build(context.Background(), src, site.Files{}); err != nil {
			b.Fatal(err)
		}
	}
}

func parse(t *testing.T, page []byte) *sitetest.Node {
	t.Helper()
	doc, err := sitetest.Parse(page)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// assetNamed returns the one file named PREFIX*SUFFIX.
func assetNamed(t *testing.T, files site.Files, prefix, suffix string) string {
	t.Helper()
	var found []string
	for name := range files {
		if strings.HasPrefix(name, prefix) && strings.HasSuffix(name, suffix) {
			found = append(found, name)
		}
	}
	if len(found) != 1 {
		t.Fatalf("assets %s*%s: %v, want one", prefix, suffix, found)
	}
	return found[0]
}

// Every asset's name carries the start of its content's SHA-256, and every page names the
// assets of its own build, relative to where it is.
func TestBuild_HashedAssets(t *testing.T) {
	files := buildFixture(t, []site.Var{externalID, bucket, region})
	for _, a := range [][2]string{{"assets/site.", ".css"}, {"assets/site.", ".js"}, {"assets/favicon.", ".svg"}} {
		name := assetNamed(t, files, a[0], a[1])
		sum := sha256.Sum256(files[name])
		if want := a[0] + hex.EncodeToString(sum[:])[:10] + a[1]; name != want {
			t.Errorf("asset %s, want %s", name, want)
		}
		for page, root := range map[string]string{"index.html": "", "guide/deep.html": "../"} {
			if !strings.Contains(string(files[page]), `"`+root+name+`"`) {
				t.Errorf("%s does not name %s%s", page, root, name)
			}
		}
	}
}
