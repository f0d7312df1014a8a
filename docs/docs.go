// Package docs holds the Markdown sources of the s3grant guide and builds it.
// Each page is a Go text/template executed with Data, the integration model's
// values (policies, CORS rule, parameters, outputs, launch link), before
// package site renders it, so every snippet comes from the same code as the
// CloudFormation template.
package docs

import "embed"

// FS holds the guide's pages (*.md), with front matter giving each page's
// title and order.
//
//go:embed *.md
var FS embed.FS
