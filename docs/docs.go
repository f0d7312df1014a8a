// Package docs holds the Markdown sources of the s3grant guide, and nothing
// else. Each page is a Go text/template that package guide executes with the
// integration model's values (guide.Data) before package site renders it.
package docs

import "embed"

// FS holds the guide's pages (*.md), with front matter giving each page's
// title and order.
//
//go:embed *.md
var FS embed.FS
