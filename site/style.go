package site

import (
	"bytes"
	"slices"
	"strings"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
)

// Highlighting styles for the light and the dark theme.
const (
	lightStyle = "github"
	darkStyle  = "github-dark"
)

// chromaOptions are shared by the highlighter and the stylesheet, so that the
// classes in the pages match the rules in the CSS. Every token gets its class,
// because the dark theme may style a token the light one leaves plain; every
// <pre> is focusable, so a keyboard can scroll a wide snippet.
var chromaOptions = []chromahtml.Option{
	chromahtml.WithClasses(true),
	chromahtml.WithAllClasses(true),
	chromahtml.WithPreWrapper(focusablePre{}),
}

// focusablePre writes <pre tabindex="0" class="chroma"><code>.
type focusablePre struct{}

// Start implements chromahtml.PreWrapper.
func (focusablePre) Start(code bool, styleAttr string) string {
	if code {
		return `<pre tabindex="0"` + styleAttr + `><code>`
	}
	return `<pre tabindex="0"` + styleAttr + `>`
}

// End implements chromahtml.PreWrapper.
func (focusablePre) End(code bool) string {
	if code {
		return `</code></pre>`
	}
	return `</pre>`
}

// stylesheet returns the site's CSS: the layout rules, then the highlighting
// rules of the light style, then those of the dark style inside a
// prefers-color-scheme media query (screen only: print stays light). The
// dark block first resets the colours and fonts of every token class, since
// the dark style leaves some tokens (punctuation, for one) to the default text
// colour and the light rules would otherwise show through.
func stylesheet() ([]byte, error) {
	base, err := embedded.ReadFile(styleSource)
	if err != nil {
		return nil, err
	}
	f := chromahtml.New(append(slices.Clone(chromaOptions), chromahtml.WithCSSComments(false))...)
	var b bytes.Buffer
	b.Write(base)
	b.WriteString("\n/* Highlighting: " + lightStyle + " */\n")
	light, err := style(lightStyle)
	if err != nil {
		return nil, err
	}
	dark, err := style(darkStyle)
	if err != nil {
		return nil, err
	}
	if err := f.WriteCSS(&b, light); err != nil {
		return nil, err
	}
	b.WriteString("@media screen and (prefers-color-scheme: dark) {\n/* Highlighting: " + darkStyle + " */\n")
	b.WriteString(tokenReset())
	if err := f.WriteCSS(&b, dark); err != nil {
		return nil, err
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}

// tokenReset returns one rule that gives every token class the colours and
// font of the surrounding code.
func tokenReset() string {
	var sel []string
	for _, class := range chroma.StandardTypes {
		if class != "" && class != "chroma" && class != "bg" {
			sel = append(sel, ".chroma ."+class)
		}
	}
	slices.Sort(sel)
	sel = slices.Compact(sel)
	return strings.Join(sel, ",") + " { color: inherit; background-color: transparent; font-weight: inherit; font-style: inherit; text-decoration: inherit }\n"
}
