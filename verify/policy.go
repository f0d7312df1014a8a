package verify

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// Policy is an IAM policy document: identity, trust or KMS key policy.
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one policy statement. Fields IAM writes as "a string or a list" are lists here.
type Statement struct {
	Sid         string     `json:"Sid,omitempty"`
	Effect      string     `json:"Effect"`
	Principal   Principal  `json:"Principal,omitempty"`
	Action      stringList `json:"Action,omitempty"`
	NotAction   stringList `json:"NotAction,omitempty"`
	Resource    stringList `json:"Resource,omitempty"`
	NotResource stringList `json:"NotResource,omitempty"`
	// Condition maps an operator (StringEquals, ArnLike, ...) to condition keys and values.
	Condition map[string]map[string]stringList `json:"Condition,omitempty"`
}

// Principal is a statement's Principal: "*" (Any is true) or principals by kind (AWS, Service,
// Federated, CanonicalUser).
type Principal struct {
	Any   bool
	ByKey map[string]stringList
}

// IsZero reports whether the statement names no principal: identity policies carry none.
func (p Principal) IsZero() bool { return !p.Any && len(p.ByKey) == 0 }

// MarshalJSON writes the principal as IAM does: "*" or the principals by kind.
func (p Principal) MarshalJSON() ([]byte, error) {
	if p.Any {
		return []byte(`"*"`), nil
	}
	return json.Marshal(p.ByKey)
}

// MarshalJSON writes the statement as IAM accepts it: without a Principal when it names none
// (IAM rejects a Principal in an identity policy), and without empty fields.
func (s Statement) MarshalJSON() ([]byte, error) {
	type plain Statement
	out := struct {
		plain
		Principal *Principal `json:"Principal,omitempty"`
	}{plain: plain(s)}
	if !s.Principal.IsZero() {
		out.Principal = &s.Principal
	}
	return json.Marshal(out)
}

// UnmarshalJSON accepts both "*" and {"AWS": ...}.
func (p *Principal) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if s != "*" {
			return fmt.Errorf("principal %q: a string principal must be \"*\"", s)
		}
		p.Any = true
		return nil
	}
	return json.Unmarshal(b, &p.ByKey)
}

// stringList is a policy field that IAM accepts as one string or a list of strings; condition
// values may also be booleans or numbers, kept in their JSON text form.
type stringList []string

// UnmarshalJSON accepts a string, a number, a boolean or a list of them.
func (l *stringList) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		raw = []json.RawMessage{b}
	}
	out := make(stringList, 0, len(raw))
	for _, r := range raw {
		var s string
		if err := json.Unmarshal(r, &s); err != nil {
			var v any
			if err := json.Unmarshal(r, &v); err != nil {
				return err
			}
			s = strings.TrimSpace(string(r))
		}
		out = append(out, s)
	}
	*l = out
	return nil
}

// ParsePolicy decodes a policy document. IAM returns documents URL-encoded (GetRole,
// GetRolePolicy, GetPolicyVersion); KMS returns them plain: both forms are accepted.
func ParsePolicy(doc string) (Policy, error) {
	text := strings.TrimSpace(doc)
	if !strings.HasPrefix(text, "{") {
		dec, err := url.QueryUnescape(text)
		if err != nil {
			return Policy{}, fmt.Errorf("policy document is neither JSON nor URL-encoded JSON: %w", err)
		}
		text = dec
	}
	var p Policy
	if err := json.Unmarshal([]byte(text), &p); err != nil {
		return Policy{}, fmt.Errorf("policy document: %w", err)
	}
	return p, nil
}

// UnmarshalJSON accepts Statement as one object or a list of objects.
func (p *Policy) UnmarshalJSON(b []byte) error {
	var raw struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	p.Version = raw.Version
	if len(raw.Statement) == 0 {
		return nil
	}
	if strings.HasPrefix(strings.TrimSpace(string(raw.Statement)), "{") {
		var s Statement
		if err := json.Unmarshal(raw.Statement, &s); err != nil {
			return err
		}
		p.Statement = []Statement{s}
		return nil
	}
	return json.Unmarshal(raw.Statement, &p.Statement)
}

// Decision is the outcome of evaluating policies for one request, as IAM names them.
type Decision string

// The three outcomes of policy evaluation.
const (
	Allowed      Decision = "allowed"
	ImplicitDeny Decision = "implicitDeny"
	ExplicitDeny Decision = "explicitDeny"
)

// Request is one action on one resource with its request context (condition keys).
type Request struct {
	Action   string
	Resource string
	Context  map[string]string
}

// Key identifies the request by action and resource.
func (r Request) Key() string { return r.Action + " " + r.Resource }

// Evaluate applies IAM's rule to identity policies: an explicit Deny wins, then any Allow,
// otherwise the request is implicitly denied. Conditions with operators this evaluator does not
// know never match, so an Allow is only reported when it is proven.
func Evaluate(policies []Policy, req Request) Decision {
	allowed := false
	for _, p := range policies {
		for _, s := range p.Statement {
			if !s.applies(req) {
				continue
			}
			if strings.EqualFold(s.Effect, "Deny") {
				return ExplicitDeny
			}
			if strings.EqualFold(s.Effect, "Allow") {
				allowed = true
			}
		}
	}
	if allowed {
		return Allowed
	}
	return ImplicitDeny
}

func (s Statement) applies(req Request) bool {
	return s.matchesAction(req.Action) && s.matchesResource(req.Resource) && s.conditionsHold(req.Context)
}

func (s Statement) matchesAction(action string) bool {
	if len(s.NotAction) > 0 {
		return !anyMatch(s.NotAction, action, true)
	}
	return anyMatch(s.Action, action, true)
}

func (s Statement) matchesResource(resource string) bool {
	if len(s.NotResource) > 0 {
		return !anyMatch(s.NotResource, resource, false)
	}
	// Trust and key policies may leave Resource out: it then means the policy's own resource.
	if len(s.Resource) == 0 {
		return true
	}
	return anyMatch(s.Resource, resource, false)
}

func anyMatch(patterns []string, value string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			if wildcardMatch(strings.ToLower(p), strings.ToLower(value)) {
				return true
			}
		} else if wildcardMatch(p, value) {
			return true
		}
	}
	return false
}

// conditionsHold evaluates the condition block against the request context. Supported:
// String*/Arn* operators, their IfExists forms and Bool; anything else does not hold.
func (s Statement) conditionsHold(ctx map[string]string) bool {
	for op, keys := range s.Condition {
		base, ifExists := strings.CutSuffix(op, "IfExists")
		for key, want := range keys {
			got, present := lookupFold(ctx, key)
			if !present {
				if ifExists || strings.HasPrefix(base, "StringNot") || strings.HasPrefix(base, "ArnNot") || base == "NotIpAddress" {
					continue
				}
				return false
			}
			if !conditionMatches(base, want, got) {
				return false
			}
		}
	}
	return true
}

func conditionMatches(op string, want []string, got string) bool {
	switch op {
	case "StringEquals", "ArnEquals":
		return contains(want, got, false)
	case "StringEqualsIgnoreCase":
		return contains(want, got, true)
	case "StringNotEquals", "ArnNotEquals":
		return !contains(want, got, false)
	case "StringLike", "ArnLike":
		return anyMatch(want, got, false)
	case "StringNotLike", "ArnNotLike":
		return !anyMatch(want, got, false)
	case "Bool":
		return contains(want, got, true)
	case "IpAddress":
		return slices.ContainsFunc(want, func(cidr string) bool { return ipIn(cidr, got) })
	case "NotIpAddress":
		return !slices.ContainsFunc(want, func(cidr string) bool { return ipIn(cidr, got) })
	}
	return false
}

// ipIn reports whether ip is in cidr (or is that address). The request context of a vendor's
// request from the Internet holds internetIP, in no range a policy lists.
func ipIn(cidr, ip string) bool {
	if ip == internetIP {
		return false
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	if p, err := netip.ParsePrefix(cidr); err == nil {
		return p.Contains(addr)
	}
	a, err := netip.ParseAddr(cidr)
	return err == nil && a == addr
}

func contains(list []string, v string, fold bool) bool {
	for _, s := range list {
		if s == v || (fold && strings.EqualFold(s, v)) {
			return true
		}
	}
	return false
}

func lookupFold(ctx map[string]string, key string) (string, bool) {
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// wildcardMatch reports whether value matches pattern, where * matches any run of characters
// (including none) and ? exactly one, as in IAM actions, resources and String/ArnLike.
func wildcardMatch(pattern, value string) bool {
	p, v := 0, 0
	star, mark := -1, 0
	for v < len(value) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == value[v]):
			p++
			v++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, v
			p++
		case star >= 0:
			p = star + 1
			mark++
			v = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
