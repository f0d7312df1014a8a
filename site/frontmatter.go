package site

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// Front matter is the page's own YAML, written by the guide's authors: it is split off the
// page source and decoded before any template runs, so no value from the data ever reaches
// a YAML parser and none can add, change or end a key. Its title and description are
// templates of their own, executed afterwards with the page's data (see builder.page).

// frontMatter is the YAML block at the top of a page, between a first line "---" and the
// next line "---". Unknown keys are refused, so a misspelt key is not silently ignored.
type frontMatter struct {
	// Title is the page's title template: its text is the <title>, the heading and the
	// page's entry in the menu.
	Title string `yaml:"title"`
	// Description is the page's description template, for <meta name="description">.
	Description string `yaml:"description"`
	// Order places the page in the menu: lower first, then by path.
	Order int `yaml:"order"`
}

// fmDelim is the line that opens and closes the front matter.
const fmDelim = "---"

// splitFrontMatter returns the YAML of the front matter at the start of src and the page
// body after it. The body keeps one empty line for each line of the front matter, so that
// template and Markdown positions in the body are those of the source file; Markdown
// ignores blank lines at the start. A page that does not start with "---" has no front
// matter: yaml is "" and body is src.
func splitFrontMatter(src string) (yaml, body string, err error) {
	first, rest, _ := strings.Cut(src, "\n")
	if !isDelim(first) {
		return "", src, nil
	}
	var b strings.Builder
	for n := 1; rest != ""; n++ {
		line, after, _ := strings.Cut(rest, "\n")
		if isDelim(line) {
			return b.String(), strings.Repeat("\n", n+1) + after, nil
		}
		b.WriteString(line)
		b.WriteByte('\n')
		rest = after
	}
	return "", "", errors.New(`front matter: no closing "---" line`)
}

// isDelim reports whether line is the front matter delimiter, maybe with trailing spaces
// or a carriage return.
func isDelim(line string) bool { return strings.TrimRight(line, " \t\r") == fmDelim }

// decodeFrontMatter decodes the YAML of a front matter: one document, known keys only.
func decodeFrontMatter(src string) (frontMatter, error) {
	var fm frontMatter
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&fm); err != nil && !errors.Is(err, io.EOF) {
		return frontMatter{}, fmt.Errorf("front matter: %w", err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return frontMatter{}, errors.New("front matter: must be one YAML document")
	}
	return fm, nil
}
