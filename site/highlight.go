package site

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
)

// chromaDefs holds chroma's definitions of the languages and styles the guide uses
// (chroma/README.md says why they are copied rather than imported).
//
//go:embed chroma/lexers/*.xml chroma/styles/*.xml
var chromaDefs embed.FS

// lexers and styles are read from chromaDefs on first use, so that only the commands that
// render a page pay for them.
var (
	lexers = sync.OnceValues(func() (*chroma.LexerRegistry, error) {
		reg := chroma.NewLexerRegistry()
		paths, err := fs.Glob(chromaDefs, "chroma/lexers/*.xml")
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			l, err := chroma.NewXMLLexer(chromaDefs, p)
			if err != nil {
				return nil, fmt.Errorf("site: lexer %s: %w", p, err)
			}
			reg.Register(l)
		}
		return reg, nil
	})
	styles = sync.OnceValues(func() (map[string]*chroma.Style, error) {
		paths, err := fs.Glob(chromaDefs, "chroma/styles/*.xml")
		if err != nil {
			return nil, err
		}
		reg := map[string]*chroma.Style{}
		for _, p := range paths {
			raw, err := chromaDefs.ReadFile(p)
			if err != nil {
				return nil, err
			}
			s, err := chroma.NewXMLStyle(bytes.NewReader(raw))
			if err != nil {
				return nil, fmt.Errorf("site: style %s: %w", p, err)
			}
			reg[strings.ToLower(s.Name)] = s
		}
		return reg, nil
	})
)

// style returns the chroma style called name.
func style(name string) (*chroma.Style, error) {
	reg, err := styles()
	if err != nil {
		return nil, err
	}
	s, ok := reg[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("site: no highlighting style %q in site/chroma/styles", name)
	}
	return s, nil
}

// lexer returns the chroma lexer for a code block's language (a name, alias or file
// extension, as chroma reads them), or an error naming a language the guide has no lexer for.
func lexer(language string) (chroma.Lexer, error) {
	reg, err := lexers()
	if err != nil {
		return nil, err
	}
	l := reg.Get(language)
	if l == nil {
		return nil, fmt.Errorf("site: no highlighter for code blocks in %q: add chroma's lexer for it to site/chroma/lexers", language)
	}
	return chroma.Coalesce(l), nil
}

// highlighting is the goldmark extension that renders fenced code blocks with chroma into
// CSS classes (chromaOptions), each inside codeWrapper's frame. A block without a language
// is shown as it is.
type highlighting struct{}

// Extend implements goldmark.Extender.
func (highlighting) Extend(m goldmark.Markdown) {
	m.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(highlighting{}, 200)))
}

// RegisterFuncs implements renderer.NodeRenderer.
func (highlighting) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindFencedCodeBlock, renderFencedCode)
}

func renderFencedCode(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.FencedCodeBlock)
	lines := n.Lines()
	language := n.Language(source)
	if language == nil {
		codeWrapper(w, nil, false, true)
		for i := 0; i < lines.Len(); i++ {
			line := lines.At(i)
			html.DefaultWriter.RawWrite(w, line.Value(source))
		}
		codeWrapper(w, nil, false, false)
		return ast.WalkContinue, nil
	}
	l, err := lexer(string(language))
	if err != nil {
		return ast.WalkStop, err
	}
	st, err := style(lightStyle)
	if err != nil {
		return ast.WalkStop, err
	}
	var code strings.Builder
	for i := 0; i < lines.Len(); i++ {
		line := lines.At(i)
		code.Write(line.Value(source))
	}
	tokens, err := l.Tokenise(nil, code.String())
	if err != nil {
		return ast.WalkStop, fmt.Errorf("site: highlighting a %s code block: %w", language, err)
	}
	codeWrapper(w, language, true, true)
	if err := chromahtml.New(chromaOptions...).Format(w, st, tokens); err != nil {
		return ast.WalkStop, err
	}
	codeWrapper(w, language, true, false)
	return ast.WalkContinue, nil
}
