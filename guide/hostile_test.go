package guide_test

import (
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/isahit/s3grant/guide"
	"github.com/isahit/s3grant/profile"
	"github.com/isahit/s3grant/site"
	"github.com/isahit/s3grant/site/sitetest"
	"github.com/isahit/s3grant/stacks"
)

// hostileNames are product names a vendor profile accepts (at most 64 printable Latin-1
// characters, no "${") that would run script, make markup or break YAML if the guide pasted
// them into a page.
var hostileNames = []string{
	`Acme <script>alert(1)</script><img src=x onerror=alert(2)>`,
	`<img src=x onerror="window.pwned=1"><svg onload=alert(3)>`,
	"A`<script>window.pwned=2</script>` *b* [c](javascript:alert(4))",
	`Acme: Lab`,
	`Acme #1 Lab`,
	`- "x": {{.Vendor}} | --- &amp; <!-- \`,
	// Every YAML indicator a plain scalar may not start with or hold, and Latin-1 letters.
	`- 'Acme' "Ñaño": #1 [x] {y} &a *b !t % @ ? > ,`,
}

// hostilePrefix is an object prefix the --prefix flag accepts (S3 keys are UTF-8; only control
// characters and * ? $ are refused) with markup in it.
const hostilePrefix = `<img src=x onerror=alert(5)>/été/`

func hostileConfig(t *testing.T, name string) guide.Config {
	t.Helper()
	yaml := fmt.Sprintf(`id: acme
name: '%s'
account_id: "111122223333"
access_point_name: acme-access-point
cors:
  origins: ["https://app.acme.example:8443"]
  methods: [GET]
  headers: ["x-a|b", "x-`+"`"+`c"]
  expose_headers: ["ETag"]
example:
  region: eu-west-3
  external_id: a6fa9c7f-7f53-4a41-812d-a29f48288a94
  bucket: my-bucket
`, strings.ReplaceAll(name, "'", "''"))
	v, err := profile.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("the hostile profile %q is refused (the test wants the most hostile accepted one): %v", name, err)
	}
	in := stacks.New(v)
	in.ObjectPrefix = hostilePrefix
	return guide.Config{Integration: in, TemplateURL: exampleTemplate, Flags: cliFlags}
}

// Every page shows a hostile name and prefix literally: the built HTML has no element from
// them, and the text holds them character for character.
func TestGuide_HostileProfileShowsLiterally(t *testing.T) {
	for _, name := range hostileNames {
		t.Run(name, func(t *testing.T) {
			files := build(t, hostileConfig(t, name))
			index := page(t, files, "index.html")
			if h1 := index.All(func(n *sitetest.Node) bool { return n.Tag == "h1" }); len(h1) != 1 || h1[0].TextContent() != "Connect your S3 bucket to "+name {
				t.Errorf("index.html's title heading is not the name, literally")
			}
			text := index.TextContent()
			if !strings.Contains(text, name+" shows your annotators") {
				t.Errorf("index.html's text does not show the name literally")
			}
			if !strings.Contains(text, "only under the prefix "+hostilePrefix) {
				t.Errorf("index.html does not show the prefix literally")
			}
			for p, data := range files {
				if !strings.HasSuffix(p, ".html") {
					continue
				}
				doc := page(t, files, p)
				for _, n := range doc.All(func(n *sitetest.Node) bool {
					return slices.Contains([]string{"script", "img", "svg"}, n.Tag) || n.Attr["onerror"] != "" || n.Attr["onload"] != ""
				}) {
					if n.Tag == "script" && n.Attr["src"] != "" && !strings.Contains(n.Attr["src"], "<") {
						continue // the site's own script file
					}
					t.Errorf("%s: an element from the data: <%s %v>", p, n.Tag, n.Attr)
				}
				for _, a := range doc.All(func(n *sitetest.Node) bool { return n.Tag == "a" }) {
					if strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Attr["href"])), "javascript:") {
						t.Errorf("%s: a javascript: link", p)
					}
				}
				if strings.ContainsFunc(string(data), func(r rune) bool { return r >= 0xE000 && r <= 0xF8FF }) {
					t.Errorf("%s: a private-use data character reached the page", p)
				}
			}
		})
	}
}

// In a real browser, no script from a hostile profile runs on any page (no dialog, no flag,
// no error), and the name shows literally in the title and the masthead.
func TestBrowser_HostileProfile(t *testing.T) {
	b := sitetest.NewBrowser(t)
	for _, name := range hostileNames[:3] {
		t.Run(name, func(t *testing.T) {
			files := build(t, hostileConfig(t, name))
			srv := httptest.NewServer(site.Handler(files.FS()))
			defer srv.Close()
			pages, err := sitetest.Pages(files.FS())
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pages {
				tab := b.Open(t, srv.URL+"/"+p, sitetest.Desktop)
				type state struct {
					Pwned  bool   `json:"pwned"`
					Brand  string `json:"brand"`
					Title  string `json:"title"`
					Images int    `json:"images"`
					Script bool   `json:"script"`
				}
				got := sitetest.Eval[state](tab, `({
					pwned: "pwned" in window,
					brand: document.querySelector(".brand").textContent,
					title: document.title,
					images: document.querySelectorAll("img, svg").length,
					script: !document.getElementById("values-box").hidden,
				})`)
				if got.Pwned || got.Images != 0 {
					t.Errorf("%s: a script or element from the data ran or rendered: %+v", p, got)
				}
				if !got.Script {
					t.Errorf("%s: the site's own script did not run", p)
				}
				if got.Brand != name+" · S3 integration guide" || !strings.Contains(got.Title, name) {
					t.Errorf("%s: masthead %q, title %q: want the name literally", p, got.Brand, got.Title)
				}
				for _, problem := range tab.Problems() {
					t.Errorf("%s: %s", p, problem)
				}
			}
		})
	}
}
