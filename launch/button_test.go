package launch

import (
	"bytes"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/goldmark"

	"github.com/isahit/s3grant/internal/rules"
)

const sampleLink = "https://eu-west-3.console.aws.amazon.com/cloudformation/home?region=eu-west-3" +
	"#/stacks/create/review?templateURL=https%3A%2F%2Fb.s3.eu-west-3.amazonaws.com%2Fk.json&param_A=x%20(y)"

func TestMarkdownButtonRendersTheLink(t *testing.T) {
	var out bytes.Buffer
	if err := goldmark.Convert([]byte("Click: "+MarkdownButton(sampleLink)+"\n"), &out); err != nil {
		t.Fatal(err)
	}
	a := parseAnchor(t, out.String())
	// goldmark re-escapes the destination; the console sees the same characters.
	if want := strings.NewReplacer("(", "%28", ")", "%29").Replace(sampleLink); a.Href != want {
		t.Errorf("href = %s\nwant   %s", a.Href, want)
	}
	if !strings.Contains(a.Text, ButtonLabel) {
		t.Errorf("button text %q", a.Text)
	}
}

func TestHTMLButton(t *testing.T) {
	html := HTMLButton(sampleLink)
	a := parseAnchor(t, html)
	if a.Href != sampleLink {
		t.Errorf("href = %s\nwant   %s", a.Href, sampleLink)
	}
	if !strings.Contains(a.Text, ButtonLabel) {
		t.Errorf("button text %q", a.Text)
	}
	// No image, stylesheet or font fetched from anywhere: the docs site forbids external requests.
	if regexp.MustCompile(`(?i)<img|src=|url\(|@import`).MatchString(html) {
		t.Errorf("button references an external asset: %s", html)
	}
}

type anchor struct {
	Href string `xml:"href,attr"`
	Text string // the text inside the element, tags removed
}

// parseAnchor reads the first <a> element of rendered HTML.
func parseAnchor(t *testing.T, html string) anchor {
	t.Helper()
	start := strings.Index(html, "<a ")
	end := strings.Index(html, "</a>")
	if start < 0 || end < start {
		t.Fatalf("no <a> element in %s", html)
	}
	var a anchor
	d := xml.NewDecoder(strings.NewReader(html[start : end+len("</a>")]))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	if err := d.Decode(&a); err != nil {
		t.Fatalf("%s: %v", html, err)
	}
	a.Text = regexp.MustCompile(`<[^>]+>`).ReplaceAllString(html[start:end], "")
	return a
}

func TestNewExternalID(t *testing.T) {
	uuidV4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		id, err := NewExternalID()
		if err != nil {
			t.Fatal(err)
		}
		if !uuidV4.MatchString(id) {
			t.Fatalf("%q is not a version 4 UUID", id)
		}
		if err := rules.ExternalID.Validate("--external-id", id); err != nil {
			t.Fatal(err)
		}
		if seen[id] {
			t.Fatalf("%q generated twice", id)
		}
		seen[id] = true
	}
}
