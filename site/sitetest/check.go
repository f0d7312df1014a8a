package sitetest

import (
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Pages returns the paths of the HTML pages of a built site, sorted.
func Pages(site fs.FS) ([]string, error) {
	var pages []string
	err := fs.WalkDir(site, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(name, ".html") {
			pages = append(pages, name)
		}
		return err
	})
	slices.Sort(pages)
	return pages, err
}

// A ref is one URL an element of a page points at.
type ref struct {
	page, tag, attr, value string
}

// asset reports whether the browser fetches the ref while loading the page
// (as opposed to a link the reader may follow).
func (r ref) asset() bool {
	return !(r.tag == "a" && r.attr == "href") && r.attr != "action"
}

// urlAttrs are the attributes that hold URLs.
var urlAttrs = []string{"href", "src", "srcset", "poster", "data", "action", "formaction", "cite", "background"}

// CheckLinks checks every page of a built site and returns one error per
// problem: a link or asset that does not resolve to a file of the site (or to
// an id in the target page), an asset fetched from anywhere else, an absolute
// path (it breaks under a path prefix), or a CSS url()/@import that leaves the
// site. Links to other sites (a href="https://…") are allowed.
func CheckLinks(site fs.FS) []error {
	pages, err := Pages(site)
	if err != nil {
		return []error{err}
	}
	var errs []error
	ids := map[string]map[string]bool{}
	var refs []ref
	bases := map[string]string{}
	for _, p := range pages {
		doc, err := parseFile(site, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		ids[p] = map[string]bool{}
		for _, n := range doc.All(func(*Node) bool { return true }) {
			if id := n.Attr["id"]; id != "" {
				if ids[p][id] {
					errs = append(errs, fmt.Errorf("%s: duplicate id %q", p, id))
				}
				ids[p][id] = true
			}
			if n.Tag == "base" {
				bases[p] = n.Attr["href"]
				continue
			}
			for _, a := range urlAttrs {
				if v, ok := n.Attr[a]; ok {
					refs = append(refs, ref{page: p, tag: n.Tag, attr: a, value: v})
				}
			}
			if s, ok := n.Attr["style"]; ok && strings.Contains(s, "url(") {
				errs = append(errs, fmt.Errorf("%s: <%s style> loads a url()", p, n.Tag))
			}
		}
	}
	for _, r := range refs {
		if err := checkRef(site, r, bases[r.page], ids); err != nil {
			errs = append(errs, fmt.Errorf("%s: <%s %s=%q>: %w", r.page, r.tag, r.attr, r.value, err))
		}
	}
	errs = append(errs, checkCSS(site)...)
	return errs
}

// checkRef checks one reference. A page with a <base href> resolves its
// relative references from the site root.
func checkRef(site fs.FS, r ref, base string, ids map[string]map[string]bool) error {
	if r.attr == "srcset" {
		return fmt.Errorf("srcset is not checked; do not use it")
	}
	u, err := url.Parse(r.value)
	if err != nil {
		return err
	}
	switch {
	case u.Scheme != "" || u.Host != "":
		if r.asset() {
			return fmt.Errorf("asset outside the site")
		}
		if u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "mailto" {
			return fmt.Errorf("scheme %q", u.Scheme)
		}
		return nil
	case strings.HasPrefix(u.Path, "/"):
		return fmt.Errorf("absolute path: breaks under a path prefix")
	}
	target := r.page
	if u.Path != "" {
		dir := path.Dir(r.page)
		if base != "" {
			dir = "."
		}
		target = path.Join(dir, u.Path)
		if strings.HasPrefix(target, "../") {
			return fmt.Errorf("leaves the site")
		}
		info, err := fs.Stat(site, target)
		if err != nil {
			return fmt.Errorf("no such file %s", target)
		}
		if info.IsDir() {
			return fmt.Errorf("%s is a directory: file:// would not open its index", target)
		}
	} else if base != "" && u.Fragment != "" {
		target = "" // a fragment under <base> points at the base page
	}
	if u.Fragment == "" {
		return nil
	}
	if target == "" {
		return fmt.Errorf("fragment link on a page with <base>: it would leave the page")
	}
	if pageIDs, ok := ids[target]; ok && !pageIDs[u.Fragment] {
		return fmt.Errorf("no id %q in %s", u.Fragment, target)
	}
	return nil
}

var cssURL = regexp.MustCompile(`url\(\s*['"]?([^'")\s]*)`)

// checkCSS checks that the stylesheets import nothing and load only files of
// the site.
func checkCSS(site fs.FS) []error {
	var errs []error
	_ = fs.WalkDir(site, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".css") {
			return err
		}
		css, err := fs.ReadFile(site, name)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if strings.Contains(string(css), "@import") {
			errs = append(errs, fmt.Errorf("%s: @import", name))
		}
		for _, m := range cssURL.FindAllStringSubmatch(string(css), -1) {
			u, err := url.Parse(m[1])
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("%s: url(%s): %w", name, m[1], err))
			case u.Scheme == "data":
			case u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "/"):
				errs = append(errs, fmt.Errorf("%s: url(%s) outside the site", name, m[1]))
			default:
				if _, err := fs.Stat(site, path.Join(path.Dir(name), u.Path)); err != nil {
					errs = append(errs, fmt.Errorf("%s: url(%s): no such file", name, m[1]))
				}
			}
		}
		return nil
	})
	return errs
}

// PageWeights returns, for each page of a built site, its size in bytes plus
// the size of every file of the site it loads (stylesheets, scripts, images),
// which is what a first visit downloads.
func PageWeights(site fs.FS) (map[string]int, error) {
	pages, err := Pages(site)
	if err != nil {
		return nil, err
	}
	weights := map[string]int{}
	for _, p := range pages {
		doc, err := parseFile(site, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		size, err := fileSize(site, p)
		if err != nil {
			return nil, err
		}
		dir := path.Dir(p)
		if doc.All(func(n *Node) bool { return n.Tag == "base" }) != nil {
			dir = "."
		}
		seen := map[string]bool{}
		for _, n := range doc.All(func(*Node) bool { return true }) {
			for _, a := range urlAttrs {
				r := ref{tag: n.Tag, attr: a, value: n.Attr[a]}
				if r.value == "" || !r.asset() || n.Tag == "base" {
					continue
				}
				u, err := url.Parse(r.value)
				if err != nil || u.Scheme != "" || u.Host != "" || u.Path == "" {
					continue // CheckLinks reports these
				}
				target := path.Join(dir, u.Path)
				if seen[target] {
					continue
				}
				seen[target] = true
				s, err := fileSize(site, target)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", p, err)
				}
				size += s
			}
		}
		weights[p] = size
	}
	return weights, nil
}

func fileSize(site fs.FS, name string) (int, error) {
	info, err := fs.Stat(site, name)
	if err != nil {
		return 0, err
	}
	return int(info.Size()), nil
}

func parseFile(site fs.FS, name string) (*Node, error) {
	data, err := fs.ReadFile(site, name)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}
