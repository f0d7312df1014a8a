package verify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/isahit/s3grant/stacks"
)

// Preflight answers a browser preflight the way S3 does: the first rule whose origins, methods
// and headers all match is used, and its index is returned; -1 when no rule matches (S3 then
// answers 403 and the browser blocks the request).
func Preflight(rules []stacks.CORSRule, origin, method string, headers []string) int {
	for i, r := range rules {
		if allowsOrigin(r, origin) && slices.Contains(r.AllowedMethods, method) && allowsHeaders(r, headers) == "" {
			return i
		}
	}
	return -1
}

func allowsOrigin(r stacks.CORSRule, origin string) bool {
	for _, o := range r.AllowedOrigins {
		// S3 allows one * in an AllowedOrigin; it matches any run of characters.
		before, after, wild := strings.Cut(o, "*")
		if !wild && o == origin || wild && len(origin) >= len(before)+len(after) &&
			strings.HasPrefix(origin, before) && strings.HasSuffix(origin, after) {
			return true
		}
	}
	return false
}

// allowsHeaders returns the first requested header that no AllowedHeader matches, or "".
func allowsHeaders(r stacks.CORSRule, headers []string) string {
	for _, h := range headers {
		if !anyMatch(r.AllowedHeaders, h, true) {
			return h
		}
	}
	return ""
}

// corsProblem explains why a preflight from origin fails, or returns "" when it is allowed.
// wantAnyHeader means the vendor's apps may send any header, so the answering rule must allow "*".
func corsProblem(rules []stacks.CORSRule, origin, method string, headers []string, wantAnyHeader bool) string {
	if len(rules) == 0 {
		return "the bucket has no CORS configuration"
	}
	if i := Preflight(rules, origin, method, headers); i >= 0 {
		if wantAnyHeader && !slices.Contains(rules[i].AllowedHeaders, "*") {
			return fmt.Sprintf("%s answers %s from %s but allows only the headers %v, and the apps may send others",
				ruleName(rules, i), method, origin, rules[i].AllowedHeaders)
		}
		return ""
	}
	var withOrigin, withMethod []int
	for i, r := range rules {
		if !allowsOrigin(r, origin) {
			continue
		}
		withOrigin = append(withOrigin, i)
		if slices.Contains(r.AllowedMethods, method) {
			withMethod = append(withMethod, i)
		}
	}
	switch {
	case len(withOrigin) == 0:
		return fmt.Sprintf("no rule allows the origin %s", origin)
	case len(withMethod) == 0:
		var methods []string
		for _, i := range withOrigin {
			methods = append(methods, rules[i].AllowedMethods...)
		}
		return fmt.Sprintf("the rules allowing %s allow only %s, not %s", origin, strings.Join(methods, ", "), method)
	default:
		r := rules[withMethod[0]]
		return fmt.Sprintf("%s allows %s from %s but not the request header %q", ruleName(rules, withMethod[0]),
			method, origin, allowsHeaders(r, headers))
	}
}

func ruleName(rules []stacks.CORSRule, i int) string {
	if rules[i].ID != "" {
		return fmt.Sprintf("rule %d (%s)", i+1, rules[i].ID)
	}
	return fmt.Sprintf("rule %d", i+1)
}
