package verify

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/isahit/s3grant/internal/arn"
	"github.com/isahit/s3grant/stacks"
)

// stackOutputs are the outputs the customer pastes back into the vendor's app.
var stackOutputs = stacks.PasteOutputs()

// judge runs every customer-side check on facts already read. in must be resolved: RoleARN,
// Bucket, AccessPointName, ExternalID and Region filled in (from flags or the stack).
func judge(in Input, exp expectation, f Facts) []Result {
	var out []Result
	if in.StackName != "" {
		out = append(out, judgeStack(in, f))
	}
	return append(out,
		judgeTrust(in, exp, f),
		judgePermissions(in, exp, f),
		judgeLeastPrivilege(in, exp, f),
		judgeAccessPoint(in, f),
		judgeCORS(in, exp, f),
		judgeEncryption(in, exp, f),
		judgeResourcePolicy(CheckBucketPolicy, "bucket policy of "+in.BucketName, in, exp, f.BucketPolicy, f.BucketPolicyErr, in.bucketResource,
			fmt.Sprintf("the caller needs s3:GetBucketPolicy on %s", in.bucketARN())),
		judgeResourcePolicy(CheckAPPolicy, "access point policy of "+in.AccessPointName, in, exp, f.AccessPointPolicy, f.AccessPointPolicyErr, func(r string) string { return r },
			fmt.Sprintf("the caller needs s3:GetAccessPointPolicy on %s", in.accessPointARN())),
		judgeRegion(in, f),
		judgeObjectEncryption(in, exp, f),
		judgeObjectOwner(in, f),
	)
}

func judgeStack(in Input, f Facts) Result {
	redeploy := fmt.Sprintf("run `s3grant deploy --stack-name %s` (it shows the failing resource and its reason)", in.StackName)
	if f.StackErr != nil {
		return fail(CheckStack, fmt.Sprintf("cannot read stack %s in %s: %s", in.StackName, in.Region, describeCallError(f.StackErr)),
			callFix(f.StackErr, fmt.Sprintf("check the stack name and --region, or %s", redeploy)))
	}
	s := f.Stack
	switch s.Status {
	case "CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE":
	case "UPDATE_ROLLBACK_COMPLETE":
		// The previous version is back in place and working; say so rather than fail.
	case "ROLLBACK_COMPLETE":
		return fail(CheckStack, fmt.Sprintf("stack %s is ROLLBACK_COMPLETE: its creation failed and nothing is in place (%s)", s.Name, s.StatusReason),
			fmt.Sprintf("delete it (`aws cloudformation delete-stack --stack-name %s --region %s`; it never touches the bucket), then %s",
				s.Name, in.Region, redeploy))
	default:
		cause := fmt.Sprintf("stack %s is %s", s.Name, s.Status)
		if s.StatusReason != "" {
			cause += ": " + s.StatusReason
		}
		if strings.HasSuffix(s.Status, "_IN_PROGRESS") {
			return fail(CheckStack, cause, fmt.Sprintf("wait for stack %s to finish, then run verify again", s.Name))
		}
		return fail(CheckStack, cause, redeploy)
	}
	var missing []string
	for _, o := range stackOutputs {
		if s.Outputs[o] == "" {
			missing = append(missing, o)
		}
	}
	if len(missing) > 0 {
		return fail(CheckStack, fmt.Sprintf("stack %s lacks the outputs %s: it was not made from the s3grant template", s.Name, strings.Join(missing, ", ")),
			fmt.Sprintf("update stack %s with the current template: %s", s.Name, redeploy))
	}
	detail := fmt.Sprintf("%s %s", s.Name, s.Status)
	if s.Status == "UPDATE_ROLLBACK_COMPLETE" {
		detail += " (the last update was rolled back; the previous version is in place)"
	}
	return pass(CheckStack, detail)
}

func roleUnreadable(id string, in Input, err error) Result {
	return fail(id, fmt.Sprintf("cannot read role %s: %s", in.RoleARN, describeCallError(err)),
		callFix(err, fmt.Sprintf("check the role ARN (--role-arn or the stack's RoleArn output); the caller needs iam:GetRole, iam:ListRolePolicies, iam:GetRolePolicy, iam:ListAttachedRolePolicies, iam:GetPolicy and iam:GetPolicyVersion on %s", in.RoleARN)))
}

func judgeTrust(in Input, exp expectation, f Facts) Result {
	if f.RoleErr != nil {
		return roleUnreadable(CheckTrust, in, f.RoleErr)
	}
	problems := append(trustProblems(in, f.Role.Trust), trustDenies(in, f.Role.Trust)...)
	if len(problems) == 0 {
		return pass(CheckTrust, fmt.Sprintf("trusts %s with sts:ExternalId %s", in.Vendor.AccountID, strings.Join(in.liveExternalIDs(), " and ")))
	}
	name := arn.RoleName(in.RoleARN)
	hand := fmt.Sprintf(
		"set the trust policy of role %s: aws iam update-assume-role-policy --role-name %s --policy-document '%s' (or IAM console → Roles → %s → Trust relationships → Edit trust policy, and paste that document)",
		name, name, exp.trust, name)
	if flag, ok := stackDiffers(in, f, "ExternalId", "--external-id", in.ExternalID); ok {
		return fail(CheckTrust, strings.Join(problems, "; ")+fmt.Sprintf("; stack %s holds the external ID %s", f.ManagedBy.Name, f.ManagedBy.Parameters["ExternalId"]),
			deployOr(in, f, flag, in.ExternalID, hand)+"; deploy asks you to confirm that the stack's old external ID stops being accepted")
	}
	return fail(CheckTrust, strings.Join(problems, "; "), hand+driftNote(in, f))
}

// accountOf returns the account of an AWS principal: a bare account ID or an IAM/STS ARN.
func accountOf(principal string) string {
	if a, err := arn.Parse(principal); err == nil {
		return a.Account
	}
	return principal
}

// trustProblems lists what is wrong with a trust policy: every principal must be the vendor's
// account and every statement letting it assume the role must require the expected external ID.
func trustProblems(in Input, trust Policy) []string {
	var problems []string
	vendorTrusted := false
	for i, s := range trust.Statement {
		if !strings.EqualFold(s.Effect, "Allow") {
			continue
		}
		where := fmt.Sprintf("statement %d", i+1)
		if s.Sid != "" {
			where = fmt.Sprintf("statement %q", s.Sid)
		}
		if s.Principal.Any {
			problems = append(problems, where+` trusts any principal ("*")`)
		}
		vendorHere := false
		for _, kind := range slices.Sorted(maps.Keys(s.Principal.ByKey)) {
			for _, p := range s.Principal.ByKey[kind] {
				switch {
				case kind != "AWS":
					problems = append(problems, fmt.Sprintf("%s trusts the %s principal %s", where, kind, p))
				case p == "*":
					problems = append(problems, where+` trusts every AWS account ("*")`)
				case accountOf(p) != in.Vendor.AccountID:
					problems = append(problems, fmt.Sprintf("%s trusts account %s, not %s's account %s", where, accountOf(p), in.vendor(), in.Vendor.AccountID))
				default:
					vendorHere = true
				}
			}
		}
		if !vendorHere || !s.matchesAction("sts:AssumeRole") {
			continue
		}
		ids, op := externalIDCondition(s)
		switch {
		case op == "":
			problems = append(problems, where+" has no StringEquals sts:ExternalId condition: anyone at the vendor could reach this bucket (confused deputy)")
		case op != "StringEquals":
			problems = append(problems, fmt.Sprintf("%s checks sts:ExternalId with %s, not StringEquals", where, op))
		case in.PreviousExternalID != "" && slices.Contains(ids, in.PreviousExternalID):
			problems = append(problems, fmt.Sprintf("%s still accepts the previous external ID %s (requires one of %s): the rotation is not finished", where, in.PreviousExternalID, strings.Join(ids, ", ")))
		case !sameIDs(ids, in.liveExternalIDs()) && in.NextExternalID == "":
			problems = append(problems, fmt.Sprintf("%s requires the external ID %s, but %s generated %s", where, strings.Join(ids, ", "), in.vendor(), in.ExternalID))
		case !sameIDs(ids, in.liveExternalIDs()):
			problems = append(problems, fmt.Sprintf("%s requires the external ID %s, but during the rotation exactly %s must be accepted (current %s, next %s)",
				where, strings.Join(ids, ", "), strings.Join(in.liveExternalIDs(), " and "), in.ExternalID, in.NextExternalID))
		default:
			vendorTrusted = true
		}
	}
	if !vendorTrusted && len(problems) == 0 {
		problems = append(problems, fmt.Sprintf("no statement lets %s's account %s call sts:AssumeRole", in.vendor(), in.Vendor.AccountID))
	}
	return problems
}

// sameIDs reports whether a condition lists exactly the IDs want, in any order.
func sameIDs(got, want []string) bool {
	return len(got) == len(want) && !slices.ContainsFunc(want, func(id string) bool { return !slices.Contains(got, id) })
}

// trustDenies lists the Deny statements of a trust policy that refuse the vendor's
// AssumeRole with the external ID: an explicit Deny wins over the Allow that trusts it.
func trustDenies(in Input, trust Policy) []string {
	vendorRoot := arn.AccountRoot(in.Region, in.Vendor.AccountID)
	req := Request{Action: "sts:AssumeRole", Resource: in.RoleARN, Context: map[string]string{
		"sts:ExternalId": in.ExternalID, "aws:PrincipalAccount": in.Vendor.AccountID, "aws:PrincipalArn": vendorRoot}}
	var out []string
	for i, s := range trust.Statement {
		if strings.EqualFold(s.Effect, "Deny") && s.namesPrincipal(vendorRoot, in.Vendor.AccountID) && s.applies(req) {
			out = append(out, fmt.Sprintf("%s denies %s's account %s sts:AssumeRole, which wins over the statement allowing it", statementName(i, s), in.vendor(), in.Vendor.AccountID))
		}
	}
	return out
}

// externalIDCondition returns the sts:ExternalId values a statement requires and the operator.
func externalIDCondition(s Statement) ([]string, string) {
	for op, keys := range s.Condition {
		for k, v := range keys {
			if strings.EqualFold(k, "sts:ExternalId") {
				return v, op
			}
		}
	}
	return nil, ""
}

// decide answers one request from the simulator when it ran, from the parsed policies otherwise.
func (r *Role) decide(req Request) Decision {
	if d, ok := r.Simulated[req.Key()]; ok {
		return d
	}
	docs := make([]Policy, len(r.Policies))
	for i, p := range r.Policies {
		docs[i] = p.Document
	}
	d := Evaluate(docs, req)
	if r.Boundary != nil && d != ExplicitDeny {
		// Boundaries intersect: nothing outside the boundary is allowed, and its Deny wins.
		if b := Evaluate([]Policy{r.Boundary.Document}, req); b != Allowed {
			return b
		}
	}
	return d
}

func (r *Role) method() string {
	if r.Simulated != nil {
		return "IAM policy simulator"
	}
	m := "parsed the role's policies"
	if r.Boundary != nil {
		m += " within its permissions boundary " + r.Boundary.Name
	}
	return m + ": " + r.SimulatorSkipped
}

func judgePermissions(in Input, exp expectation, f Facts) Result {
	if f.RoleErr != nil {
		return roleUnreadable(CheckPermissions, in, f.RoleErr)
	}
	var missing []string
	resourceDenied := map[string]string{}
	for _, d := range denials(in, f.BucketPolicy, exp.probes("s3"), in.bucketResource) {
		if !d.orgOnly {
			resourceDenied[d.req.Key()] = "explicitDeny in the bucket policy, " + d.where
		}
	}
	for _, d := range denials(in, f.AccessPointPolicy, exp.probes("s3"), func(r string) string { return r }) {
		if !d.orgOnly {
			resourceDenied[d.req.Key()] = "explicitDeny in the access point policy, " + d.where
		}
	}
	for _, req := range exp.probes("s3") {
		if d := f.Role.decide(req); d != Allowed {
			missing = append(missing, fmt.Sprintf("%s on %s (%s)", req.Action, req.Resource, d))
		} else if why, ok := resourceDenied[req.Key()]; ok {
			missing = append(missing, fmt.Sprintf("%s on %s (%s)", req.Action, req.Resource, why))
		}
	}
	method := "method: " + f.Role.method()
	if len(missing) == 0 {
		return pass(CheckPermissions, method)
	}
	name := arn.RoleName(in.RoleARN)
	fix := fmt.Sprintf(
		"give role %s the policy %s (IAM console → Roles → %s → Permissions → edit its policy), and remove any Deny on these actions",
		name, exp.policyJSON, name)
	if flag, ok := stackDiffers(in, f, "ObjectPrefix", "--prefix", in.ObjectPrefix); ok && in.ObjectPrefix != "" {
		fix = deployOr(in, f, flag, in.ObjectPrefix, fix)
	} else if len(resourceDenied) == 0 {
		fix += driftNote(in, f)
	}
	r := fail(CheckPermissions, "the role is not allowed "+strings.Join(missing, ", "), fix)
	r.Detail = method
	return r
}

func judgeLeastPrivilege(in Input, exp expectation, f Facts) Result {
	if f.RoleErr != nil {
		return roleUnreadable(CheckLeastPrivilege, in, f.RoleErr)
	}
	var excess, fixes []string
	for _, rp := range []struct {
		what string
		p    *Policy
		fix  string
	}{
		{"the bucket policy of " + in.BucketName, f.BucketPolicy, "remove the statements granting the role more from the bucket policy (S3 console → " + in.BucketName + " → Permissions → Bucket policy → Edit)"},
		{"the access point policy of " + in.AccessPointName, f.AccessPointPolicy, "remove the statements granting the role more from the access point policy (S3 console → Access points → " + in.AccessPointName + " → Permissions → Access point policy → Edit)"},
		{"the key policy of " + f.Encryption.customerKey(), f.Encryption.keyPolicy(), "remove the statements granting the role more than kms:Decrypt through S3 from the key policy (KMS console → the key → Key policy → Edit)"},
	} {
		if found := excessGrants(allowsToRole(in, rp.p), exp); len(found) > 0 {
			excess = append(excess, fmt.Sprintf("%s %s", rp.what, strings.Join(found, ", ")))
			fixes = append(fixes, rp.fix)
		}
	}
	for _, p := range f.Role.Policies {
		found := excessGrants(p.Document, exp)
		if len(found) == 0 {
			continue
		}
		excess = append(excess, fmt.Sprintf("policy %s %s", p.Name, strings.Join(found, ", ")))
		fixes = append(fixes, policyFix(in, p))
	}
	if len(excess) == 0 {
		var names []string
		for _, p := range f.Role.Policies {
			names = append(names, p.Name)
		}
		return pass(CheckLeastPrivilege, "policies read: "+strings.Join(names, ", "))
	}
	return fail(CheckLeastPrivilege, strings.Join(excess, "; "), strings.Join(fixes, "; "))
}

func policyFix(in Input, p RolePolicy) string {
	name := arn.RoleName(in.RoleARN)
	switch {
	case p.ARN == "":
		return fmt.Sprintf("remove the extra statements from inline policy %s of role %s (IAM console → Roles → %s → Permissions → %s → Edit)", p.Name, name, name, p.Name)
	case strings.Contains(p.ARN, ":iam::aws:policy/"):
		return fmt.Sprintf("detach the AWS managed policy %s from role %s: aws iam detach-role-policy --role-name %s --policy-arn %s", p.Name, name, name, p.ARN)
	}
	return fmt.Sprintf("remove the extra statements from managed policy %s (IAM console → Policies → %s → Edit), or detach it from role %s: aws iam detach-role-policy --role-name %s --policy-arn %s", p.ARN, p.Name, name, name, p.ARN)
}

// excessGrants lists what a policy allows beyond the grants: other actions, wildcard actions,
// NotAction/NotResource allows, and needed actions on resources other than the integration's.
func excessGrants(p Policy, exp expectation) []string {
	grants := exp.grants()
	var out []string
	for _, s := range p.Statement {
		if !strings.EqualFold(s.Effect, "Allow") {
			continue
		}
		if len(s.NotAction) > 0 {
			out = append(out, fmt.Sprintf("allows every action except %s (NotAction)", strings.Join(s.NotAction, ", ")))
			continue
		}
		if len(s.NotResource) > 0 {
			out = append(out, fmt.Sprintf("allows %s on every resource except %s (NotResource)", strings.Join(s.Action, ", "), strings.Join(s.NotResource, ", ")))
			continue
		}
		for _, a := range s.Action {
			i := slices.IndexFunc(grants, func(g grant) bool { return strings.EqualFold(g.action, a) })
			if i < 0 {
				out = append(out, "allows "+a)
				continue
			}
			g := grants[i]
			for _, r := range s.Resource {
				if kind := s3Kind(r); g.kind != kindAny && kind != kindAny && kind != g.kind {
					continue // e.g. s3:ListBucket on objects: grants nothing
				}
				if !within(r, g.resources) {
					out = append(out, fmt.Sprintf("allows %s on %s", a, r))
				} else if missing := exp.missingConditions(s, a, r); missing != "" {
					out = append(out, fmt.Sprintf("allows %s on %s without the condition %s (broader than the template's)", a, r, missing))
				}
			}
		}
	}
	return out
}

func judgeAccessPoint(in Input, f Facts) Result {
	name, acct := in.AccessPointName, in.account()
	recreate := fmt.Sprintf("access point settings cannot be changed after creation: delete access point %s (aws s3control delete-access-point --account-id %s --name %s --region %s; the bucket and its objects are untouched) and create it again: aws s3control create-access-point --account-id %s --name %s --bucket %s --region %s --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
		name, acct, name, in.Region, acct, name, in.BucketName, in.Region)
	if f.AccessPointErr != nil {
		return fail(CheckAccessPoint, fmt.Sprintf("cannot read access point %s in %s: %s", name, in.Region, describeCallError(f.AccessPointErr)),
			callFix(f.AccessPointErr, fmt.Sprintf("check --access-point-name and --region; if it is missing, create it: aws s3control create-access-point --account-id %s --name %s --bucket %s --region %s (the stack creates it)", acct, name, in.BucketName, in.Region)))
	}
	ap := f.AccessPoint
	var problems []string
	if ap.Bucket != in.BucketName {
		problems = append(problems, fmt.Sprintf("it is on bucket %s, not %s", ap.Bucket, in.BucketName))
	}
	if ap.NetworkOrigin != "Internet" {
		problems = append(problems, fmt.Sprintf("its network origin is %s: the vendor reaches it from the Internet", ap.NetworkOrigin))
	}
	for i, flag := range []string{"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"} {
		if !ap.PublicAccessBlock[i] {
			problems = append(problems, flag+" is off")
		}
	}
	if len(problems) > 0 {
		return fail(CheckAccessPoint, fmt.Sprintf("access point %s: %s", name, strings.Join(problems, "; ")), recreate)
	}
	return pass(CheckAccessPoint, ap.ARN)
}

func judgeCORS(in Input, exp expectation, f Facts) Result {
	if f.CORSErr != nil {
		return fail(CheckCORS, fmt.Sprintf("cannot read the CORS configuration of bucket %s: %s", in.BucketName, describeCallError(f.CORSErr)),
			callFix(f.CORSErr, fmt.Sprintf("the caller needs s3:GetBucketCORS on %s", in.bucketARN())))
	}
	headers, anyHeader := requestHeaders(in.Vendor.CORS.Headers)
	var problems []string
	for _, o := range in.Vendor.CORS.Origins {
		for _, m := range in.Vendor.CORS.Methods {
			if p := corsProblem(f.CORS, o, m, headers, anyHeader); p != "" {
				problems = append(problems, fmt.Sprintf("%s: %s", o, p))
			}
		}
	}
	if len(problems) == 0 {
		return pass(CheckCORS, fmt.Sprintf("preflight %s allowed from %s", strings.Join(in.Vendor.CORS.Methods, ", "), strings.Join(in.Vendor.CORS.Origins, ", ")))
	}
	if f.ManagedBy != nil && f.ManagedBy.Parameters["ManageCors"] == "true" {
		return fail(CheckCORS, strings.Join(problems, "; "), fmt.Sprintf(
			"stack %s manages the vendor's CORS rule, and something removed or changed it: put it back with `%s` (it touches no other rule)",
			f.ManagedBy.Name, deployCommand(f.ManagedBy, in.Region, "--repair-cors", "")))
	}
	// The rule as the stack and the manual page write it: it allows every vendor origin,
	// failing or not, so the fix is one rule to paste whatever the bucket has.
	rule, _ := json.Marshal(exp.cors) // plain strings always marshal
	return fail(CheckCORS, strings.Join(problems, "; "), fmt.Sprintf(
		"add the rule %s to bucket %s's CORS configuration, keeping its other rules (S3 console → %s → Permissions → Cross-origin resource sharing (CORS) → Edit); `aws s3api put-bucket-cors` replaces the whole configuration, so include the existing rules",
		rule, in.BucketName, in.BucketName))
}

// requestHeaders splits the vendor's header list into the named headers a preflight sends and
// whether the apps may send any header ("*").
func requestHeaders(headers []string) ([]string, bool) {
	var named []string
	anyHeader := false
	for _, h := range headers {
		if h == "*" {
			anyHeader = true
		} else {
			named = append(named, h)
		}
	}
	return named, anyHeader
}

func judgeEncryption(in Input, exp expectation, f Facts) Result {
	if f.EncryptionErr != nil {
		return fail(CheckEncryption, fmt.Sprintf("cannot read the default encryption of bucket %s: %s", in.BucketName, describeCallError(f.EncryptionErr)),
			callFix(f.EncryptionErr, fmt.Sprintf("the caller needs s3:GetEncryptionConfiguration on %s", in.bucketARN())))
	}
	e := f.Encryption
	key := e.customerKey()
	switch {
	case e.Algorithm == "":
		return pass(CheckEncryption, "no default encryption configured (S3 encrypts new objects with SSE-S3)")
	case e.Algorithm == "AES256":
		return pass(CheckEncryption, "SSE-S3: nothing to grant")
	case key == "":
		return pass(CheckEncryption, "SSE-KMS with the AWS managed key aws/s3: S3 decrypts for any reader it authorizes")
	}
	name := arn.RoleName(in.RoleARN)
	if f.RoleErr != nil {
		return roleUnreadable(CheckEncryption, in, f.RoleErr)
	}
	probes := exp.probes("kms")
	if len(probes) == 0 {
		return fail(CheckEncryption, "internal: the template grants no kms:Decrypt for "+key, "report this as a bug")
	}
	probe := probes[0]
	if d := f.Role.decide(probe); d != Allowed {
		grant, _ := exp.grantOf("kms:Decrypt")
		hand := fmt.Sprintf("grant role %s: %s", name, grant.Statement.Text())
		fix := hand + driftNote(in, f)
		if flag, ok := stackDiffers(in, f, "KmsKeyArn", "--kms-key-arn", key); ok {
			fix = deployOr(in, f, flag, key, hand)
		}
		return fail(CheckEncryption, fmt.Sprintf("bucket %s encrypts with the customer managed key %s, and role %s may not kms:Decrypt with it (%s): object reads fail with AccessDenied", in.BucketName, key, name, d), fix)
	}
	detail := "role may kms:Decrypt " + key + " (method: " + f.Role.method() + ")"
	if e.KeyPolicy == nil {
		return pass(CheckEncryption, detail+"; key policy not readable, skipped ("+e.KeyPolicySkipped+")")
	}
	if p := keyPolicyProblem(in, *e.KeyPolicy, probe); p != "" {
		return fail(CheckEncryption, fmt.Sprintf("the key policy of %s %s", key, p), fmt.Sprintf(
			"add to the key policy of %s (KMS console → Customer managed keys → the key → Key policy → Edit) a statement allowing kms:Decrypt to %s, or keep the default statement that lets the account's IAM policies grant use of the key (principal %s)",
			key, in.RoleARN, arn.AccountRoot(in.Region, in.account())))
	}
	return pass(CheckEncryption, detail+"; the key policy allows it")
}

// keyPolicyProblem says why a key policy does not let the role decrypt, or returns "". A key
// policy naming the account root delegates to IAM policies, which were checked already.
func keyPolicyProblem(in Input, p Policy, probe Request) string {
	ctx := map[string]string{"aws:PrincipalArn": in.RoleARN, "kms:CallerAccount": in.account()}
	for k, v := range probe.Context {
		ctx[k] = v
	}
	req := Request{Action: probe.Action, Resource: probe.Resource, Context: ctx}
	allowed := false
	for _, s := range p.Statement {
		if !s.namesPrincipal(in.RoleARN, in.account()) || !s.applies(req) {
			continue
		}
		if strings.EqualFold(s.Effect, "Deny") {
			return "denies kms:Decrypt to the role"
		}
		allowed = true
	}
	if !allowed {
		return "does not allow kms:Decrypt to the role, nor delegate to the account's IAM policies"
	}
	return ""
}

// namesPrincipal reports whether a resource policy statement applies to roleARN of account.
func (s Statement) namesPrincipal(roleARN, account string) bool {
	if s.Principal.Any {
		return true
	}
	for _, p := range s.Principal.ByKey["AWS"] {
		if p == "*" || p == roleARN || p == account || strings.HasSuffix(p, ":iam::"+account+":root") {
			return true
		}
	}
	return false
}

func judgeRegion(in Input, f Facts) Result {
	if f.BucketRegionErr != nil {
		return fail(CheckRegion, fmt.Sprintf("cannot read the region of bucket %s: %s", in.BucketName, describeCallError(f.BucketRegionErr)),
			callFix(f.BucketRegionErr, fmt.Sprintf("the caller needs s3:GetBucketLocation on %s", in.bucketARN())))
	}
	type where struct{ what, region string }
	places := []where{{"bucket " + in.BucketName, f.BucketRegion}}
	if f.AccessPoint != nil {
		if a, err := arn.Parse(f.AccessPoint.ARN); err == nil {
			places = append(places, where{"access point " + in.AccessPointName, a.Region})
		}
	}
	if in.StackName != "" {
		places = append(places, where{"stack " + in.StackName, in.Region})
	}
	if key := f.Encryption.customerKey(); key != "" {
		if a, err := arn.Parse(key); err == nil {
			places = append(places, where{"KMS key " + key, a.Region})
		}
	}
	var differ []string
	for _, p := range places[1:] {
		if p.region != f.BucketRegion {
			differ = append(differ, fmt.Sprintf("%s is in %s", p.what, p.region))
		}
	}
	if len(differ) == 0 {
		return pass(CheckRegion, f.BucketRegion)
	}
	cause := fmt.Sprintf("bucket %s is in %s but %s", in.BucketName, f.BucketRegion, strings.Join(differ, ", "))
	if in.StackName == "" {
		return fail(CheckRegion, cause, fmt.Sprintf(
			"access points and KMS keys must be in their bucket's region: create access point %s in %s (aws s3control create-access-point --account-id %s --name %s --bucket %s --region %s) and use a KMS key of %s",
			in.AccessPointName, f.BucketRegion, in.account(), in.AccessPointName, in.BucketName, f.BucketRegion, f.BucketRegion))
	}
	return fail(CheckRegion, cause, fmt.Sprintf(
		"access points and KMS keys must be in their bucket's region: delete stack %s in %s (aws cloudformation delete-stack --stack-name %s --region %s; the bucket is untouched) and deploy it in %s: s3grant deploy --region %s --bucket %s",
		in.StackName, in.Region, in.StackName, in.Region, f.BucketRegion, f.BucketRegion, in.BucketName))
}
