package site

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// A Var is one customer-specific value shown in the guide, such as the
// external ID. Pages mark where it appears (the template func "var", or a
// string from Mark inside the data), and the site renders each place as
// <span class="v" data-var="NAME">. A Var without a Value is a form field:
// the page shows its Placeholder, and the "your values" form fills the
// marked places (snippets, text and links) in the browser. A Var with a
// Value is baked in: the page shows the value and the form leaves it alone.
type Var struct {
	// Name identifies the value in markers, data-var attributes and the
	// browser's saved values; letters, digits and underscores.
	Name string
	// Label names the form field, e.g. "External ID".
	Label string
	// Placeholder stands in for the value in generic builds and must look
	// like one, e.g. "<YOUR-EXTERNAL-ID>".
	Placeholder string
	// Example is shown under the form field as an example ("e.g. ..."), never inside
	// the field, where a realistic value would read as one already filled in.
	Example string
	// Value, when set, is the customer's value, baked into every page.
	Value string
}

// shown is the text the built page carries for v.
func (v Var) shown() string {
	if v.Value != "" {
		return v.Value
	}
	return v.Placeholder
}

// inForm reports whether the "your values" form offers a field for v.
func (v Var) inForm() bool { return v.Value == "" }

// Mark returns the marker that stands for v in a page. Use it when the value
// travels through other code before reaching a page, for example inside a
// policy document that a template prints as JSON: the marker survives JSON and
// URL encoding, and the site replaces it with v's shown text (its Value, or
// else its Placeholder) only when the page is built, so neither Markdown nor
// the highlighter ever sees a placeholder like <YOUR-EXTERNAL-ID>.
func (v Var) Mark() string { return markStart + v.Name + markEnd }

// The markers are Unicode private-use characters: they pass unchanged through
// text/template, encoding/json, goldmark and chroma, and never occur in the
// guide's own text.
const (
	markStart = "\uE000"
	markEnd   = "\uE001"
)

// The same markers after percent-encoding (UTF-8 bytes), as they appear in
// link destinations.
var (
	encStart = url.PathEscape(markStart)
	encEnd   = url.PathEscape(markEnd)
)

var varName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`) })

// checkVars validates the configured variables.
func checkVars(vars []Var) error {
	seen := map[string]bool{}
	for _, v := range vars {
		switch {
		case !varName().MatchString(v.Name):
			return fmt.Errorf("var %q: name must be a letter then letters, digits or underscores", v.Name)
		case seen[v.Name]:
			return fmt.Errorf("var %q: defined twice", v.Name)
		case v.inForm() && v.Placeholder == "":
			return fmt.Errorf("var %q: needs a Placeholder or a Value", v.Name)
		case v.inForm() && v.Label == "":
			return fmt.Errorf("var %q: a form field needs a Label", v.Name)
		case strings.ContainsAny(v.shown(), markStart+markEnd):
			return fmt.Errorf("var %q: value contains a marker character", v.Name)
		}
		seen[v.Name] = true
	}
	return nil
}

// expander turns the markers in a built HTML page into spans and templated
// links.
type expander struct {
	vars map[string]Var
}

func newExpander(vars []Var) expander {
	m := make(map[string]Var, len(vars))
	for _, v := range vars {
		m[v.Name] = v
	}
	return expander{vars: m}
}

// expand rewrites every marker in page. In text, a marker becomes
// <span class="v" data-var="NAME">VALUE</span> with the HTML-escaped shown
// value; when the highlighter split a marker over token spans, the tags that
// were inside it follow the span, so the markup stays well nested. In an href,
// percent-encoded markers become the query-escaped value and, for form fields,
// a data-href template with {NAME} holes that the script fills. Markers
// anywhere else are an error: nothing could fill them.
func (e expander) expand(page string) (string, error) {
	var b strings.Builder
	b.Grow(len(page) + len(page)/8)
	for i := 0; i < len(page); {
		switch {
		case page[i] == '<':
			end := strings.IndexByte(page[i:], '>')
			if end < 0 {
				return "", fmt.Errorf("unterminated tag at byte %d", i)
			}
			tag, err := e.expandTag(page[i : i+end+1])
			if err != nil {
				return "", err
			}
			b.WriteString(tag)
			i += end + 1
		case strings.HasPrefix(page[i:], markStart):
			n, err := e.expandText(&b, page[i:])
			if err != nil {
				return "", err
			}
			i += n
		case strings.HasPrefix(page[i:], markEnd):
			return "", fmt.Errorf("stray var marker at byte %d", i)
		case strings.HasPrefix(page[i:], encStart):
			return "", fmt.Errorf("percent-encoded var marker in text near %q: only link destinations can hold encoded vars", clip(page[i:]))
		default:
			b.WriteByte(page[i])
			i++
		}
	}
	return b.String(), nil
}

// expandText writes the span for the marker at the start of s and returns how
// many bytes of s it consumed.
func (e expander) expandText(b *strings.Builder, s string) (int, error) {
	body := s[len(markStart):]
	end := strings.Index(body, markEnd)
	if end < 0 {
		return 0, fmt.Errorf("var marker not closed near %q", clip(body))
	}
	body = body[:end]
	if strings.Contains(body, markStart) {
		return 0, fmt.Errorf("var markers nested near %q", clip(body))
	}
	// Tags inside the marker come from the highlighter splitting it; the
	// remaining text is the name.
	var name, tags strings.Builder
	for rest := body; rest != ""; {
		lt := strings.IndexByte(rest, '<')
		if lt < 0 {
			name.WriteString(rest)
			break
		}
		name.WriteString(rest[:lt])
		gt := strings.IndexByte(rest[lt:], '>')
		if gt < 0 {
			return 0, fmt.Errorf("unterminated tag inside a var marker near %q", clip(body))
		}
		tags.WriteString(rest[lt : lt+gt+1])
		rest = rest[lt+gt+1:]
	}
	v, ok := e.vars[name.String()]
	if !ok {
		return 0, fmt.Errorf("unknown var %q", name.String())
	}
	fmt.Fprintf(b, `<span class="v" data-var="%s">%s</span>%s`, v.Name, html.EscapeString(v.shown()), tags.String())
	return len(markStart) + end + len(markEnd), nil
}

// expandTag rewrites the href of a tag that holds percent-encoded markers.
func (e expander) expandTag(tag string) (string, error) {
	// Raw HTML in a page can hold unencoded markers; treat them alike.
	tag = strings.NewReplacer(markStart, encStart, markEnd, encEnd).Replace(tag)
	if !strings.Contains(tag, encStart) {
		return tag, nil
	}
	const attr = ` href="`
	at := strings.Index(tag, attr)
	if at < 0 || strings.Contains(tag[:at], encStart) {
		return "", fmt.Errorf("var marker inside an HTML attribute other than href: %s", clip(tag))
	}
	start := at + len(attr)
	end := strings.IndexByte(tag[start:], '"')
	if end < 0 {
		return "", fmt.Errorf("unterminated href: %s", clip(tag))
	}
	end += start
	if strings.Contains(tag[end:], encStart) {
		return "", fmt.Errorf("var marker inside an HTML attribute other than href: %s", clip(tag))
	}
	href, tmpl, holes, err := e.expandURL(tag[start:end])
	if err != nil {
		return "", err
	}
	out := tag[:start] + href + `"`
	if holes {
		out += ` data-href="` + tmpl + `"`
	}
	return out + tag[end+1:], nil
}

// expandURL returns the URL with each marker replaced by its query-escaped
// value, the same URL with {NAME} holes for the form fields, and whether it
// has any hole.
func (e expander) expandURL(u string) (href, tmpl string, holes bool, err error) {
	var h, t strings.Builder
	for {
		i := strings.Index(u, encStart)
		if i < 0 {
			h.WriteString(u)
			t.WriteString(u)
			return h.String(), t.String(), holes, nil
		}
		h.WriteString(u[:i])
		t.WriteString(u[:i])
		u = u[i+len(encStart):]
		end := strings.Index(u, encEnd)
		if end < 0 {
			return "", "", false, fmt.Errorf("var marker not closed in a link near %q", clip(u))
		}
		v, ok := e.vars[u[:end]]
		if !ok {
			return "", "", false, fmt.Errorf("unknown var %q in a link", u[:end])
		}
		value := url.QueryEscape(v.shown())
		h.WriteString(value)
		if v.inForm() {
			t.WriteString("{" + v.Name + "}")
			holes = true
		} else {
			t.WriteString(value)
		}
		u = u[end+len(encEnd):]
	}
}

// unmark replaces each marker in s by the shown text of its var, for places
// that hold plain text only, such as the <title>.
func (e expander) unmark(s string) string {
	for {
		i := strings.Index(s, markStart)
		if i < 0 {
			return s
		}
		end := strings.Index(s[i:], markEnd)
		if end < 0 {
			return s
		}
		name := s[i+len(markStart) : i+end]
		s = s[:i] + e.vars[name].shown() + s[i+end+len(markEnd):]
	}
}

// clip shortens s for an error message.
func clip(s string) string {
	n := 60
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
