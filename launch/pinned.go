package launch

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strings"
)

// TemplateKeyName is the content-addressed part of a published template's key,
// VERSION/<16 hex digits of its sha256>.json, which Publish puts under the prefix: the same
// bytes always get the same name, and other bytes another one.
func TemplateKeyName(version string, template []byte) string {
	sum := sha256.Sum256(template)
	return version + "/" + hex.EncodeToString(sum[:8]) + ".json"
}

// ShapesDir is the folder under the template prefix that holds the templates of one customer's
// shape (several buckets, s3grant publish --bucket), so PREFIX/latest.json stays the generic
// template.
const ShapesDir = "shapes"

// ShapeKeyName is TemplateKeyName for the template of a shape: shapes/VERSION/HASH.json.
func ShapeKeyName(version string, template []byte) string {
	return ShapesDir + "/" + TemplateKeyName(version, template)
}

// Serves reports whether loc names the content-addressed key name (TemplateKeyName or
// ShapeKeyName, under any prefix): Publish read those exact bytes back there, so the URL serves
// that template and no other.
func Serves(loc S3Location, name string) bool {
	return loc.Key == name || strings.HasSuffix(loc.Key, "/"+name)
}

// Moving reports whether key names a template that changes under its readers: the prefix's
// latest.json that Publish keeps pointing at the newest template, or another "latest" object.
// Links and guides should name an immutable key instead, so what a customer launches is what
// they were shown.
func Moving(key string) bool {
	base := strings.ToLower(path.Base(key))
	return strings.TrimSuffix(base, path.Ext(base)) == "latest"
}

// PinWarning says what is wrong with pointing a link or guide at loc for template (of version),
// or "" when loc is the immutable key Publish gives those exact bytes. A key of another
// template is not an error: an older s3grant may have published it. But it is not the one
// described, so the caller should say so.
func PinWarning(loc S3Location, version string, template []byte) string {
	want := TemplateKeyName(version, template)
	switch {
	case Moving(loc.Key):
		return MovingWarning(loc.Key, ".../"+want)
	case Serves(loc, want):
		return ""
	}
	return fmt.Sprintf("names %s, not the key s3grant publish gives the template described here (.../%s): "+
		"a customer launching it may get another template", loc.Key, want)
}

// MovingWarning says why a link or guide should not name key, a Moving one, and which key to
// name instead (immutable, e.g. ".../v1/HASH.json"; "" for the general form).
func MovingWarning(key, immutable string) string {
	if immutable == "" {
		immutable = "PREFIX/VERSION/HASH.json"
	}
	return fmt.Sprintf("names %s, which changes with every publish: a customer could launch another template "+
		"than the one described; use the immutable key s3grant publish prints (%s)", path.Base(key), immutable)
}
