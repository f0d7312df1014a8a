package verify

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// internetIP stands for the aws:SourceIp of the vendor's requests: its servers' and the
// annotators' browsers' addresses, on the Internet, unknown here and in no range a customer's
// policy lists (an annotator's browser loads presigned URLs from its own network).
const internetIP = "internet"

// vendorContext is the request context of the vendor's requests as far as the customer side
// knows it: the role's session, over HTTPS, from the Internet (no VPC endpoint), plus the
// probe's own keys (s3:prefix).
func (in Input) vendorContext(probe Request) map[string]string {
	ctx := map[string]string{"aws:PrincipalArn": in.RoleARN, "aws:PrincipalAccount": in.account(),
		"aws:SecureTransport": "true", "aws:SourceIp": internetIP}
	maps.Copy(ctx, probe.Context)
	return ctx
}

// bucketResource is the ARN a bucket policy sees for a request: through an access point too,
// it is the bucket's own (arn:aws:s3:::BUCKET[/KEY]).
func (in Input) bucketResource(resource string) string {
	ap := in.accessPointARN()
	if rest, ok := strings.CutPrefix(resource, ap); ok {
		return in.bucketARN() + strings.TrimPrefix(rest, "/object")
	}
	return resource
}

// policyDeny is a resource policy statement that refuses one of the vendor's requests.
type policyDeny struct {
	where string // statement N or "Sid"
	req   Request
	// condition is the condition that makes it refuse, as written, "" when unconditional.
	condition string
	// orgOnly is set when the statement refuses only principals outside an organization,
	// which a member account cannot read: it is reported as an assumption, not a failure.
	orgOnly bool
}

func statementName(i int, s Statement) string {
	if s.Sid != "" {
		return fmt.Sprintf("statement %q", s.Sid)
	}
	return fmt.Sprintf("statement %d", i+1)
}

// denials lists the Deny statements of a resource policy that apply to the vendor's requests.
func denials(in Input, p *Policy, probes []Request, resourceOf func(string) string) []policyDeny {
	if p == nil {
		return nil
	}
	var out []policyDeny
	for _, probe := range probes {
		req := Request{Action: probe.Action, Resource: resourceOf(probe.Resource), Context: in.vendorContext(probe)}
		for i, s := range p.Statement {
			if !strings.EqualFold(s.Effect, "Deny") || !s.namesPrincipal(in.RoleARN, in.account()) {
				continue
			}
			orgOnly := false
			if ids, ok := s.Condition["StringNotEquals"]["aws:PrincipalOrgID"]; ok {
				// The account's organization is not readable here: assume it is that one.
				req.Context["aws:PrincipalOrgID"] = ids[0]
				orgOnly = !s.applies(req)
				delete(req.Context, "aws:PrincipalOrgID")
			}
			if !orgOnly && !s.applies(req) {
				continue
			}
			out = append(out, policyDeny{where: statementName(i, s), req: probe, condition: conditionText(s), orgOnly: orgOnly})
		}
	}
	return out
}

// conditionText writes a statement's condition as the policy does, keys sorted.
func conditionText(s Statement) string {
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(s.Condition)) {
		for _, k := range slices.Sorted(maps.Keys(s.Condition[op])) {
			parts = append(parts, fmt.Sprintf("%s %s %s", op, k, strings.Join(s.Condition[op][k], ", ")))
		}
	}
	return strings.Join(parts, " and ")
}

// allowsToRole lists the Allow statements of a resource policy that grant the role (by its
// ARN, or everyone): they grant as identity policies do, and so count for least privilege.
func allowsToRole(in Input, p *Policy) Policy {
	var out Policy
	if p == nil {
		return out
	}
	for _, s := range p.Statement {
		if !strings.EqualFold(s.Effect, "Allow") {
			continue
		}
		if s.Principal.Any || slices.Contains(s.Principal.ByKey["AWS"], in.RoleARN) || slices.Contains(s.Principal.ByKey["AWS"], "*") {
			out.Statement = append(out.Statement, s)
		}
	}
	return out
}

func judgeResourcePolicy(id, what string, in Input, exp expectation, p *Policy, err error, resourceOf func(string) string, readFix string) Result {
	if err != nil {
		return fail(id, fmt.Sprintf("cannot read the %s: %s", what, describeCallError(err)), callFix(err, readFix))
	}
	if p == nil {
		return pass(id, "no "+what)
	}
	var refused, assumed []string
	seen := map[string]bool{}
	for _, d := range denials(in, p, exp.probes("s3"), resourceOf) {
		line := fmt.Sprintf("%s denies %s on %s", d.where, d.req.Action, resourceOf(d.req.Resource))
		if d.condition != "" {
			line += " (condition " + d.condition + ")"
		}
		if d.orgOnly {
			if !seen[d.where] {
				assumed = append(assumed, d.where+" refuses principals outside the organization ("+d.condition+"): assumed this account is in it (Organizations is not read)")
				seen[d.where] = true
			}
			continue
		}
		refused = append(refused, line)
	}
	note := "SCPs and RCPs of an AWS Organization cannot be read from a member account; a Deny there shows only in `s3grant verify --as-vendor`"
	if len(refused) > 0 {
		r := fail(id, fmt.Sprintf("the %s refuses the role: %s. aws:SourceIp is the vendor's servers' and the annotators' browsers' own, on the Internet, and no VPC endpoint is on their path", what, strings.Join(refused, "; ")),
			fmt.Sprintf("exempt the role from those Deny statements: add to each one's Condition \"ArnNotEquals\": {\"aws:PrincipalArn\": %q} (a Deny applies only when all its conditions hold), keeping the restriction for everyone else", in.RoleARN))
		r.Detail = note
		return r
	}
	detail := "no statement refuses the role's list and read requests; " + note
	if len(assumed) > 0 {
		detail = strings.Join(assumed, "; ") + "; " + detail
	}
	return pass(id, detail)
}
