package site

import (
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Handler serves a built site from fsys, for preview: files as they are,
// directories by their index.html, and the site's 404.html, with status 404,
// for anything else.
func Handler(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name == "" {
			name = "."
		}
		info, err := fs.Stat(fsys, name)
		if err == nil && info.IsDir() {
			_, err = fs.Stat(fsys, path.Join(name, "index.html"))
		}
		if err != nil {
			notFound(w, r, fsys)
			return
		}
		files.ServeHTTP(w, r)
	})
}

// notFound writes the site's 404 page, or a plain 404 if it has none.
func notFound(w http.ResponseWriter, r *http.Request, fsys fs.FS) {
	page, err := fs.ReadFile(fsys, NotFoundPage)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write(page)
}
