package stacks

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Policy names the policy documents of the stack, for Grant.Policy.
const (
	PolicyTrust        = "trust"
	PolicyPermissions  = "permissions"
	PolicyCORSFunction = "cors-function"
)

// Grant is one statement of what the stack grants, resolved for concrete values, and to whom.
// It is the one description of the grants: deploy's preview, the guide's reference page and
// verify's fixes all print it.
type Grant struct {
	// Who the statement is about, in words: the vendor, the vendor's role, the CORS function.
	Who string
	// Policy is PolicyTrust, PolicyPermissions or PolicyCORSFunction.
	Policy    string
	Statement Statement
}

// Grants lists, statement by statement, who may assume the vendor's role, what the role may do
// and (when the stack manages CORS) what the CORS function may do, resolved with vals (see
// SubstitutionValues): what a careful admin reads before saying yes.
func (in Integration) Grants(vals map[string]string) ([]Grant, error) {
	type policy struct {
		who, name string
		doc       Document
	}
	plan, err := in.plan()
	if err != nil {
		return nil, err
	}
	var docs []policy
	if _, attached := in.Role.Attached(); !attached {
		docs = append(docs, policy{in.Vendor.Name, PolicyTrust, TrustPolicy()})
	}
	docs = append(docs, policy{in.Vendor.Name + "'s role", PolicyPermissions, PermissionsPolicy()})
	for _, p := range plan.read {
		docs = append(docs, policy{in.Vendor.Name + "'s role", PolicyPermissions, p.Document})
	}
	if in.ManageCORS {
		docs = append(docs, policy{"CORS function", PolicyCORSFunction, CorsFunctionPolicy()})
		for _, p := range plan.cors {
			docs = append(docs, policy{"CORS function", PolicyCORSFunction, p.Document})
		}
	}
	var out []Grant
	for _, d := range docs {
		doc, err := d.doc.Resolve(vals)
		if err != nil {
			return nil, err
		}
		for _, st := range doc.Statement {
			out = append(out, Grant{Who: d.who, Policy: d.name, Statement: st})
		}
	}
	return out, nil
}

// String is the grant in one plain line: "WHO: Allow ACTIONS by PRINCIPAL on RESOURCES if KEY
// OPERATOR VALUES".
func (g Grant) String() string { return g.Who + ": " + g.Statement.describe(plain) }

// Text is the statement in one plain line, without the principal it is granted to.
func (s Statement) Text() string { return s.describe(plain) }

// Markdown is the statement in one line of Markdown, names and values as code.
func (s Statement) Markdown() string { return s.describe(code) }

func plain(s string) string { return s }

// code is s as a Markdown code span: fenced by more backticks than any run in s, and padded
// where s starts or ends with one, so no value can end the span early (CommonMark's rule).
func code(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

func (s Statement) describe(q func(string) string) string {
	quoted := func(vs []string) string {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = q(v)
		}
		return strings.Join(out, ", ")
	}
	line := s.Effect + " " + quoted(s.Action)
	if p := s.Principal["AWS"]; p != "" {
		line += " by " + q(p)
	}
	if len(s.Resource) > 0 {
		line += " on " + quoted(s.Resource)
	}
	for _, op := range slices.Sorted(maps.Keys(s.Condition)) {
		for _, k := range slices.Sorted(maps.Keys(s.Condition[op])) {
			line += fmt.Sprintf(" if %s %s %s", q(k), op, quoted(s.Condition[op][k]))
		}
	}
	return line
}
