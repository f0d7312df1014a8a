package verify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/isahit/s3grant/internal/arn"
	"github.com/isahit/s3grant/stacks"
)

// resourceKind is what an S3 resource ARN pattern can name: buckets (and access points),
// objects, or both when wildcards leave it open.
type resourceKind int

const (
	kindAny resourceKind = iota
	kindBucket
	kindObject
)

// grant is one permission the integration needs: an action on resources of one kind.
type grant struct {
	action    string
	kind      resourceKind
	resources []string
}

// actionKinds says which resources an action applies to; actions not listed take any.
var actionKinds = map[string]resourceKind{"s3:listbucket": kindBucket, "s3:getobject": kindObject}

// account is the customer's account: the role's.
func (in Input) account() string { return arn.Account(in.RoleARN) }

func (in Input) bucketARN() string { return arn.Bucket(in.Region, in.BucketName) }

func (in Input) accessPointARN() string {
	return arn.AccessPoint(in.Region, in.account(), in.AccessPointName)
}

// expectation is what the template would have set up for the input: its permissions and
// trust policies and its grants, resolved with the customer's values. keyARN is the customer
// managed key the role must decrypt with, if any.
type expectation struct {
	policy Policy
	// policyJSON is the permissions policy as the template and the manual page write it.
	policyJSON string
	trust      string
	keyARN     string
	// roleGrants are the permissions policy's statements, described for fixes.
	roleGrants []stacks.Grant
	// cors is the rule the stack adds to the bucket.
	cors stacks.CORSRule
	// others are the role's grants for the integration's other buckets: allowed, not probed.
	others Policy
}

// expect resolves the model's policies for the input, with keyARN as the integration's key, so
// verify checks exactly what the template grants, never a restatement of it.
func (in Input) expect(keyARN string) (expectation, error) {
	model := in.Integration
	model.KMSKeyARN = keyARN
	vals := model.SubstitutionValues(in.Region, in.account())
	perms, err := stacks.PermissionsPolicy().Resolve(vals)
	if err != nil {
		return expectation{}, err
	}
	trust, err := stacks.TrustPolicy().Resolve(vals)
	if err != nil {
		return expectation{}, err
	}
	permsJSON, err := json.Marshal(perms)
	if err != nil {
		return expectation{}, err
	}
	trustJSON, err := json.Marshal(trust)
	if err != nil {
		return expectation{}, err
	}
	p, err := ParsePolicy(string(permsJSON))
	if err != nil {
		return expectation{}, fmt.Errorf("the template's permissions policy: %w", err)
	}
	grants, err := model.Grants(vals)
	if err != nil {
		return expectation{}, err
	}
	exp := expectation{policy: p, policyJSON: string(permsJSON), trust: string(trustJSON), keyARN: keyARN, cors: model.CORSRule()}
	for _, g := range grants {
		if g.Policy == stacks.PolicyPermissions {
			exp.roleGrants = append(exp.roleGrants, g)
		}
	}
	if in.others != nil {
		exp.others = *in.others
	}
	return exp, nil
}

// grantOf returns the described role grant of action, for a fix that restores it.
func (e expectation) grantOf(action string) (stacks.Grant, bool) {
	for _, g := range e.roleGrants {
		if slices.ContainsFunc(g.Statement.Action, func(a string) bool { return strings.EqualFold(a, action) }) {
			return g, true
		}
	}
	return stacks.Grant{}, false
}

// grants lists what the role may be allowed: the actions and resources of the template's policy.
func (e expectation) grants() []grant {
	var out []grant
	for _, s := range append(slices.Clone(e.policy.Statement), e.others.Statement...) {
		for _, a := range s.Action {
			i := slices.IndexFunc(out, func(g grant) bool { return strings.EqualFold(g.action, a) })
			if i < 0 {
				out = append(out, grant{action: a, kind: actionKinds[strings.ToLower(a)]})
				i = len(out) - 1
			}
			out[i].resources = append(out[i].resources, s.Resource...)
		}
	}
	return out
}

// probeObject is the key the permission probes ask about: any key under the prefix would do.
const probeObject = "s3grant-verify-probe"

// probes are concrete requests the template's policy allows: one per action and resource, a
// wildcard standing for probeObject, with the context its conditions look at (a StringLike
// "images/*" on s3:prefix is probed with "images/"). service ("s3", "kms") selects actions.
func (e expectation) probes(service string) []Request {
	var out []Request
	for _, s := range e.policy.Statement {
		ctx := map[string]string{}
		for _, keys := range s.Condition {
			for k, v := range keys {
				if len(v) > 0 {
					ctx[k] = strings.ReplaceAll(v[0], "*", "")
				}
			}
		}
		for _, a := range s.Action {
			if !strings.HasPrefix(strings.ToLower(a), service+":") {
				continue
			}
			for _, r := range s.Resource {
				out = append(out, Request{Action: a, Resource: strings.ReplaceAll(r, "*", probeObject), Context: ctx})
			}
		}
	}
	return out
}

// s3Kind classifies an S3 ARN pattern. Bucket and access point ARNs have no "/" after the
// name, object ARNs do: a pattern with a literal "/" after a literal name names objects only.
func s3Kind(pattern string) resourceKind {
	a, err := arn.Parse(pattern)
	if err != nil || strings.ContainsAny(a.Partition+a.Service+a.Region+a.Account, "*?") {
		return kindAny
	}
	res, ap := strings.CutPrefix(a.Resource, "accesspoint/")
	if !ap && (a.Region != "" || a.Account != "") {
		return kindAny
	}
	name, _, hasSlash := strings.Cut(res, "/")
	switch {
	case strings.ContainsAny(name, "*?"):
		return kindAny
	case hasSlash:
		return kindObject
	}
	return kindBucket
}

// normalizeAccessPointObjects rewrites the common accesspoint/NAME/* form (the seed page's) to
// the object ARN form accesspoint/NAME/object/*: objects are the only thing under an access point.
func normalizeAccessPointObjects(pattern string) string {
	i := strings.Index(pattern, ":accesspoint/")
	if i < 0 {
		return pattern
	}
	name, rest, ok := strings.Cut(pattern[i+len(":accesspoint/"):], "/")
	if !ok || strings.HasPrefix(rest, "object/") || !strings.HasPrefix(rest, "*") {
		return pattern
	}
	return pattern[:i] + ":accesspoint/" + name + "/object/" + rest
}

// within reports whether every resource pattern names a subset of some allowed pattern.
func within(pattern string, allowed []string) bool {
	p := normalizeAccessPointObjects(pattern)
	for _, a := range allowed {
		if wildcardMatch(a, p) {
			return true
		}
	}
	return false
}

// missingConditions returns the template's condition that a statement granting action on
// resource lacks, written as the template writes it, or "". The template's statement that
// covers the grant sets the bar: each of its conditions must be in s with the same operator
// and key, every value within the template's (extra conditions only narrow a grant).
func (e expectation) missingConditions(s Statement, action, resource string) string {
	res := normalizeAccessPointObjects(resource)
	for _, t := range append(slices.Clone(e.policy.Statement), e.others.Statement...) {
		if !anyMatch(t.Action, action, true) || !slices.ContainsFunc(t.Resource, func(a string) bool { return wildcardMatch(a, res) }) {
			continue
		}
		for op, keys := range t.Condition {
			for k, want := range keys {
				got, ok := lookupCondition(s.Condition, op, k)
				if !ok || slices.ContainsFunc(got, func(v string) bool {
					return !slices.ContainsFunc(want, func(w string) bool { return wildcardMatch(w, v) })
				}) {
					return fmt.Sprintf("%s %s %s", op, k, strings.Join(want, ", "))
				}
			}
		}
		return ""
	}
	return ""
}

func lookupCondition(c map[string]map[string]stringList, op, key string) ([]string, bool) {
	for o, keys := range c {
		if o != op {
			continue
		}
		for k, v := range keys {
			if strings.EqualFold(k, key) {
				return v, len(v) > 0
			}
		}
	}
	return nil, false
}
