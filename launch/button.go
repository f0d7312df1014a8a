package launch

import (
	"html"
	"strings"
)

// ButtonLabel is the text of the "Launch Stack" buttons.
const ButtonLabel = "Launch Stack"

// MarkdownButton returns a "Launch Stack" link for link (as returned by Link.Build) in Markdown.
// Markdown cannot style a link, and the AWS button image would be a request to an external
// host, so the button is bold text with an arrow; it renders the same on GitHub and in goldmark.
func MarkdownButton(link string) string {
	return "[**" + ButtonLabel + " ▸**](" + markdownDestination(link) + ")"
}

// HTMLButton returns a "Launch Stack" button for link (as returned by Link.Build) in HTML: an
// anchor styled inline like the AWS console's orange button, with no image and no external
// request, so it works on a site whose policy forbids them. The class s3grant-launch lets a
// stylesheet restyle it.
func HTMLButton(link string) string {
	return `<a class="s3grant-launch" href="` + html.EscapeString(link) + `" target="_blank" rel="noopener noreferrer"` +
		` style="display:inline-block;padding:6px 14px;border-radius:4px;background:#ec7211;color:#fff;` +
		`font:bold 14px/20px Arial,Helvetica,sans-serif;text-decoration:none;white-space:nowrap">` +
		ButtonLabel + ` &#9656;</a>`
}

// markdownDestination escapes the characters that would end or break a Markdown link destination.
var markdownDestination = strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E").Replace
