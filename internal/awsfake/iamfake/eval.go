package iamfake

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Evaluate decides one request against identity policy documents the way IAM does: an
// explicit Deny wins, then an Allow, else implicitDeny. Conditions support the String and Arn
// operators (with IfExists); a condition key absent from ctx (keys lower-case) makes its
// condition false and is reported as missing, like the simulator's MissingContextValues.
func Evaluate(docs []string, action, resource string, ctx map[string][]string) (decision string, missing []string) {
	decision = "implicitDeny"
	for _, doc := range docs {
		for _, st := range statements(doc) {
			if !matchAny(st["Action"], action, true) || !matchAny(st["Resource"], resource, false) {
				continue
			}
			ok, miss := conditionsHold(st["Condition"], ctx)
			missing = append(missing, miss...)
			if !ok {
				continue
			}
			switch st["Effect"] {
			case "Deny":
				return "explicitDeny", missing
			case "Allow":
				decision = "allowed"
			}
		}
	}
	return decision, missing
}

// TrustAllows reports whether a trust policy lets principal (an IAM user or role ARN) call
// action with the request context ctx (keys lower-case, e.g. "sts:externalid").
func TrustAllows(doc, principal, action string, ctx map[string][]string) bool {
	account := strings.Split(principal, ":")[4]
	allowed := false
	for _, st := range statements(doc) {
		if !matchAny(st["Action"], action, true) || !principalMatches(st["Principal"], principal, account) {
			continue
		}
		if ok, _ := conditionsHold(st["Condition"], ctx); !ok {
			continue
		}
		if st["Effect"] == "Deny" {
			return false
		}
		allowed = allowed || st["Effect"] == "Allow"
	}
	return allowed
}

func principalMatches(p any, principal, account string) bool {
	if p == "*" {
		return true
	}
	m, _ := p.(map[string]any)
	for _, v := range list(m["AWS"]) {
		if v == "*" || v == principal || v == account || v == "arn:aws:iam::"+account+":root" {
			return true
		}
	}
	return false
}

func statements(doc string) []map[string]any {
	var d struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &d) != nil {
		return nil
	}
	var many []map[string]any
	if json.Unmarshal(d.Statement, &many) == nil {
		return many
	}
	var one map[string]any
	if json.Unmarshal(d.Statement, &one) == nil {
		return []map[string]any{one}
	}
	return nil
}

func list(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func matchAny(patterns any, value string, fold bool) bool {
	for _, p := range list(patterns) {
		if glob(p, fold).MatchString(value) {
			return true
		}
	}
	return false
}

// globs caches compiled patterns: a policy of hundreds of resources is matched many times.
var globs sync.Map // "fold\x00pattern" -> *regexp.Regexp

func glob(pattern string, fold bool) *regexp.Regexp {
	key := fmt.Sprint(fold) + "\x00" + pattern
	if re, ok := globs.Load(key); ok {
		return re.(*regexp.Regexp)
	}
	re := compileGlob(pattern, fold)
	globs.Store(key, re)
	return re
}

func compileGlob(pattern string, fold bool) *regexp.Regexp {
	q := regexp.QuoteMeta(pattern)
	q = strings.ReplaceAll(strings.ReplaceAll(q, `\*`, `.*`), `\?`, `.`)
	if fold {
		q = "(?i)" + q
	}
	return regexp.MustCompile("^" + q + "$")
}

func conditionsHold(cond any, ctx map[string][]string) (bool, []string) {
	ops, _ := cond.(map[string]any)
	var missing []string
	holds := true
	for op, block := range ops {
		op, ifExists := strings.CutSuffix(op, "IfExists")
		keys, _ := block.(map[string]any)
		for key, want := range keys {
			got, ok := ctx[strings.ToLower(key)]
			if !ok {
				if !ifExists {
					missing = append(missing, key)
					holds = false
				}
				continue
			}
			if !operatorHolds(op, list(want), got) {
				holds = false
			}
		}
	}
	return holds, missing
}

func operatorHolds(op string, want, got []string) bool {
	for _, g := range got {
		for _, w := range want {
			switch op {
			case "StringEquals", "ArnEquals":
				if w == g {
					return true
				}
			case "StringLike", "ArnLike":
				if glob(w, false).MatchString(g) {
					return true
				}
			}
		}
	}
	return false
}
