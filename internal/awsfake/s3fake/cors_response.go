package s3fake

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// corsResponse adds the CORS headers S3 sends on an actual (non-preflight) request carrying
// Origin, when the bucket's CORS evaluation succeeds: the first rule matching the origin and
// the request's method answers (an actual request has no Access-Control-Request-Headers to
// match). S3's common response headers: Access-Control-Allow-Origin is the origin, or "*" when
// a "*" AllowedOrigin matched; Access-Control-Allow-Credentials is "true" unless it is "*";
// Access-Control-Allow-Methods, Expose-Headers and Max-Age come from the rule; Vary names the
// request headers the evaluation depends on. Without a matching rule S3 still serves the
// object, with no CORS headers, and the browser then refuses it to the page.
// The caller holds f.mu.
func corsResponse(w http.ResponseWriter, r *http.Request, b *Bucket) {
	origin := r.Header.Get("Origin")
	if origin == "" || b == nil {
		return
	}
	for _, rule := range b.CORS {
		allow, ok := matchOrigin(rule.AllowedOrigins, origin)
		if !ok || !slices.Contains(rule.AllowedMethods, r.Method) {
			continue
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", allow)
		if allow != "*" {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		h.Set("Access-Control-Allow-Methods", strings.Join(rule.AllowedMethods, ", "))
		if len(rule.ExposeHeaders) > 0 {
			h.Set("Access-Control-Expose-Headers", strings.Join(rule.ExposeHeaders, ", "))
		}
		if rule.MaxAgeSeconds > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(rule.MaxAgeSeconds))
		}
		h.Set("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
		return
	}
}
