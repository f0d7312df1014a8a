package iamfake

import (
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
)

// Evaluate decides one request against identity policy documents the way IAM does: an
// explicit Deny wins, then an Allow, else implicitDeny. Conditions support the String, Arn,
// IpAddress, Bool and Null operators (with IfExists); a condition key absent from ctx (keys
// lower-case) makes a positive condition false, and is reported as missing like the
// simulator's MissingContextValues, while a negated one (StringNotEquals, NotIpAddress, ...)
// holds, as AWS documents.
func Evaluate(docs []string, action, resource string, ctx map[string][]string) (decision string, missing []string) {
	return evaluate(docs, "", action, resource, ctx)
}

// EvaluateResource decides a request of principal (a role ARN) against resource-based policy
// documents (bucket, access point, key policies): only statements whose Principal names it
// (the ARN, "*", or its account) apply.
func EvaluateResource(docs []string, principal, action, resource string, ctx map[string][]string) string {
	d, _ := evaluate(docs, principal, action, resource, ctx)
	return d
}

// namesDirectly reports whether a resource policy Allow names principal itself or
// "*", rather than its account (which delegates to the account's IAM policies).
func namesDirectly(p any, principal string) bool {
	if p == "*" {
		return true
	}
	m, _ := p.(map[string]any)
	for _, v := range list(m["AWS"]) {
		if v == "*" || v == principal {
			return true
		}
	}
	return false
}

// KeyPolicyDecision decides kms:Decrypt-like requests as KMS does for a caller of the key's
// account: an explicit Deny in the key policy wins; the key policy allows the principal
// itself, or allows the account root (delegating to IAM) and identity decides.
func KeyPolicyDecision(keyPolicy, principal, action, resource string, ctx map[string][]string, identity string) string {
	account := strings.Split(principal, ":")[4]
	direct, delegated := false, false
	for _, st := range statements(keyPolicy) {
		if !matchAny(st["Action"], action, true) || !principalMatches(st["Principal"], principal, account) {
			continue
		}
		if ok, _ := conditionsHold(st["Condition"], ctx); !ok {
			continue
		}
		if st["Effect"] == "Deny" {
			return "explicitDeny"
		}
		if namesDirectly(st["Principal"], principal) {
			direct = true
		} else {
			delegated = true
		}
	}
	switch {
	case identity == "explicitDeny":
		return identity
	case direct, delegated && identity == "allowed":
		return "allowed"
	}
	return "implicitDeny"
}

func evaluate(docs []string, principal, action, resource string, ctx map[string][]string) (decision string, missing []string) {
	decision = "implicitDeny"
	account := ""
	if principal != "" {
		account = strings.Split(principal, ":")[4]
	}
	for _, doc := range docs {
		for _, st := range statements(doc) {
			if !matchAction(st, action) || !matchResource(st, resource) {
				continue
			}
			if principal != "" && !principalMatches(st["Principal"], principal, account) {
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

func matchAction(st map[string]any, action string) bool {
	if na, ok := st["NotAction"]; ok {
		return !matchAny(na, action, true)
	}
	return matchAny(st["Action"], action, true)
}

func matchResource(st map[string]any, resource string) bool {
	if nr, ok := st["NotResource"]; ok {
		return !matchAny(nr, resource, false)
	}
	if _, ok := st["Resource"]; !ok {
		return true // key and trust policies: the policy's own resource
	}
	return matchAny(st["Resource"], resource, false)
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
	case bool:
		if t {
			return []string{"true"}
		}
		return []string{"false"}
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
			switch {
			case op == "Null":
				// Null true: the key must be absent; false: present.
				if (list(want)[0] == "true") == ok {
					holds = false
				}
				continue
			case !ok && negated(op):
				continue
			case !ok:
				if !ifExists {
					missing = append(missing, key)
					holds = false
				}
				continue
			}
			if negated(op) {
				if !operatorHolds(strings.Replace(strings.Replace(op, "Not", "", 1), "NotIp", "Ip", 1), list(want), got) {
					continue
				}
				holds = false
				continue
			}
			if !operatorHolds(op, list(want), got) {
				holds = false
			}
		}
	}
	return holds, missing
}

// negated reports whether op is a negated operator, which holds when its key is absent.
func negated(op string) bool {
	return strings.HasPrefix(op, "StringNot") || strings.HasPrefix(op, "ArnNot") || op == "NotIpAddress"
}

func operatorHolds(op string, want, got []string) bool {
	for _, g := range got {
		for _, w := range want {
			switch op {
			case "StringEqualsIgnoreCase":
				if strings.EqualFold(w, g) {
					return true
				}
			case "Bool":
				if strings.EqualFold(w, g) {
					return true
				}
			case "IpAddress":
				if ipIn(w, g) {
					return true
				}
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

// ipIn reports whether ip is in cidr (or equals a bare address).
func ipIn(cidr, ip string) bool {
	addr := net.ParseIP(ip)
	if !strings.Contains(cidr, "/") {
		return addr != nil && addr.Equal(net.ParseIP(cidr))
	}
	_, n, err := net.ParseCIDR(cidr)
	return err == nil && addr != nil && n.Contains(addr)
}
