package site

import (
	"fmt"
	"html"
	"net/url"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
)

// Data in a page is inert: every value a page template prints (from the data, such as a
// vendor profile or a flag) shows literally and can never become Markdown, HTML or YAML.
//
// Markdown has no escaping that holds in every context (text, code spans, fenced blocks,
// link destinations, tables, the YAML front matter), so a value's ASCII punctuation travels
// as private-use characters, one for each punctuation character, which none of those readers
// gives any meaning: a name such as `Acme <script>` or `Acme: Lab` or `Acme #1 Lab` is plain
// text to goldmark, to the highlighter and to the YAML decoder. The built page gets each
// character back, HTML-escaped (restore), and link destinations get it back before rendering
// (restoreLink). Like html/template, the page's parse tree is rewritten so that every
// action's output passes through this escaping (escapeTree); only the functions that return
// text built for the page (trustedFuncs) are left alone.

// dataBase is the first of the private-use code points that carry ASCII punctuation: the
// character c travels as dataBase+c. The var markers (U+E000, U+E001) are outside the range.
const dataBase = 0xE100

// isDataPunct reports whether c is ASCII punctuation, the characters Markdown may treat
// specially (CommonMark lets any of them be backslash-escaped).
func isDataPunct(c rune) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

// isDataChar reports whether r is a private-use character standing for punctuation.
func isDataChar(r rune) bool {
	return r >= dataBase && r < dataBase+0x80 && (isDataPunct(r-dataBase) || r == dataBase+' ')
}

// inert returns s with its ASCII punctuation replaced by the private-use characters that
// stand for it. A leading space also travels so, so that a value at the start of a line
// cannot make an indented code block.
func inert(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return isDataPunct(r) || r == ' ' }) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) * 2)
	leading := true
	for _, r := range s {
		switch {
		case isDataPunct(r), leading && r == ' ':
			b.WriteRune(dataBase + r)
		default:
			b.WriteRune(r)
		}
		leading = leading && r == ' '
	}
	return b.String()
}

// dataFunc is the template function every action's output passes through.
func dataFunc(v any) string { return inert(fmt.Sprint(v)) }

// hasDataChars reports whether s holds any character standing for punctuation.
func hasDataChars(s string) bool { return strings.ContainsFunc(s, isDataChar) }

// restore gives an HTML page its data characters back, HTML-escaped: correct in text, in
// attribute values and in <title>, where the page carries them.
func restore(page string) string {
	if !hasDataChars(page) {
		return page
	}
	var b strings.Builder
	b.Grow(len(page))
	for _, r := range page {
		if isDataChar(r) {
			b.WriteString(html.EscapeString(string(r - dataBase)))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// plain returns s with its data characters back, unescaped, for plain text.
func plain(s string) string {
	return strings.Map(func(r rune) rune {
		if isDataChar(r) {
			return r - dataBase
		}
		return r
	}, s)
}

// restoreLink gives a link destination its data characters back before goldmark encodes it
// as a URL, and refuses a scheme that would run code or load data in the page.
func restoreLink(dest []byte) ([]byte, error) {
	s := string(dest)
	if !hasDataChars(s) {
		return dest, nil
	}
	s = plain(s)
	if u, err := url.Parse(s); err == nil {
		switch strings.ToLower(u.Scheme) {
		case "", "http", "https", "mailto":
		default:
			return nil, fmt.Errorf("link to %q: a link built from data must be http, https, mailto or relative", s)
		}
	} else if i := strings.IndexByte(s, ':'); i >= 0 && !strings.ContainsAny(s[:i], "/?#") {
		return nil, fmt.Errorf("link to %q: not a URL", s)
	}
	return []byte(s), nil
}

// trustedFuncs return text made for the page, not data: var's marker, json's snippet
// (inertJSON keeps its strings inert), the built-in html (already escaped for raw HTML) and
// markdown (Markdown built by code that quotes its values, such as a statement's summary).
var trustedFuncs = map[string]bool{"var": true, "json": true, "html": true, "markdown": true}

// escapeTree makes every action of the template print through the data function, as
// html/template does with its escapers; actions that only declare variables print nothing.
func escapeTree(t *texttemplate.Template) {
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			escapeNode(tt.Tree.Root)
		}
	}
}

func escapeNode(n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			escapeNode(c)
		}
	case *parse.ActionNode:
		p := n.Pipe
		if len(p.Decl) > 0 || len(p.Cmds) == 0 {
			return
		}
		if id, ok := p.Cmds[len(p.Cmds)-1].Args[0].(*parse.IdentifierNode); ok && trustedFuncs[id.Ident] {
			return
		}
		p.Cmds = append(p.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: p.Pos,
			Args: []parse.Node{parse.NewIdentifier("data").SetTree(nil).SetPos(p.Pos)}})
	case *parse.IfNode:
		escapeNode(n.List)
		escapeNode(n.ElseList)
	case *parse.RangeNode:
		escapeNode(n.List)
		escapeNode(n.ElseList)
	case *parse.WithNode:
		escapeNode(n.List)
		escapeNode(n.ElseList)
	}
}

// inertJSON keeps the characters that could end a code block or start HTML inert inside a
// JSON snippet (they occur only inside its strings); the rest stays as it is, so the
// highlighter still reads JSON.
func inertJSON(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '<', '>', '&', '`', '~':
			return dataBase + r
		}
		return r
	}, s)
}
