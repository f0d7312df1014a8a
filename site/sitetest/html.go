// Package sitetest is test support for built sites: an HTML reader for unit
// tests and a headless Chromium harness for browser tests. Import it only
// from _test.go files.
package sitetest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// A Node is an element or a text node of a parsed HTML page.
type Node struct {
	Tag      string // lower-case element name; "" for text
	Attr     map[string]string
	Text     string // text nodes only
	Children []*Node
	Parent   *Node
}

// Parse reads an HTML page with encoding/xml in its lenient HTML mode (void
// elements, HTML entities, attributes without values). It is a reader for the
// pages our own layout writes, not a general HTML5 parser: it fails on
// mismatched tags, which is itself a useful check of the output.
func Parse(page []byte) (*Node, error) {
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	root := &Node{Tag: "#document", Attr: map[string]string{}}
	cur := root
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse html: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &Node{Tag: strings.ToLower(t.Name.Local), Attr: map[string]string{}, Parent: cur}
			for _, a := range t.Attr {
				name := strings.ToLower(a.Name.Local)
				if a.Name.Space != "" {
					name = strings.ToLower(a.Name.Space) + ":" + name
				}
				n.Attr[name] = a.Value
			}
			cur.Children = append(cur.Children, n)
			cur = n
		case xml.EndElement:
			if strings.ToLower(t.Name.Local) != cur.Tag {
				return nil, fmt.Errorf("parse html: </%s> closes <%s>", t.Name.Local, cur.Tag)
			}
			cur = cur.Parent
		case xml.CharData:
			cur.Children = append(cur.Children, &Node{Text: string(t), Parent: cur})
		}
	}
	if cur != root {
		return nil, fmt.Errorf("parse html: <%s> not closed", cur.Tag)
	}
	return root, nil
}

// All returns every element under n (n included) for which match is true, in
// document order.
func (n *Node) All(match func(*Node) bool) []*Node {
	var out []*Node
	var walk func(*Node)
	walk = func(m *Node) {
		if m.Tag != "" && match(m) {
			out = append(out, m)
		}
		for _, c := range m.Children {
			walk(c)
		}
	}
	walk(n)
	return out
}

// HasClass reports whether the element's class attribute lists class.
func (n *Node) HasClass(class string) bool {
	for _, c := range strings.Fields(n.Attr["class"]) {
		if c == class {
			return true
		}
	}
	return false
}

// TextContent returns the text under n, as the DOM's textContent does.
func (n *Node) TextContent() string {
	var b strings.Builder
	var walk func(*Node)
	walk = func(m *Node) {
		b.WriteString(m.Text)
		for _, c := range m.Children {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// A CodeBlock is a fenced code block of a built page.
type CodeBlock struct {
	Language string // the fence's info string (data-lang), "" when none
	Text     string // the code as shown, without the final newline
}

// CodeBlocks returns the code blocks (div.code > pre > code) of a page.
func CodeBlocks(page *Node) []CodeBlock {
	var out []CodeBlock
	for _, box := range page.All(func(n *Node) bool { return n.Tag == "div" && n.HasClass("code") }) {
		for _, code := range box.All(func(n *Node) bool { return n.Tag == "code" }) {
			out = append(out, CodeBlock{Language: box.Attr["data-lang"], Text: strings.TrimSuffix(code.TextContent(), "\n")})
		}
	}
	return out
}
