// Package iamfake is an in-process fake of the IAM API for tests: roles with trust policies,
// inline and managed policies with versions, and the policy simulator, served over the Query
// protocol to real aws-sdk-go-v2 clients. Documents are returned URL-encoded, as IAM does.
//
// It is test support: only _test.go files and other fakes import it.
package iamfake

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
)

// Namespace is the XML namespace of IAM responses.
const Namespace = "https://iam.amazonaws.com/doc/2010-05-08/"

// Fake is the fake IAM service. Its embedded Service records calls and injects throttling.
type Fake struct {
	*awsquery.Service

	mu       sync.Mutex
	account  string
	roles    map[string]*role
	policies map[string]*managedPolicy // by ARN
	denied   map[string]bool           // actions the caller may not call
	// policiesPerRole is the account's quota of managed policies attached to one role.
	policiesPerRole int
}

type role struct {
	name, arn, trust string
	inline           map[string]string
	attached         []string // policy ARNs, in attachment order
	boundary         string   // the permissions boundary's policy ARN, if any
	tags             map[string]string
}

type managedPolicy struct {
	name, arn, document string
}

// Option configures a Fake.
type Option func(*Fake)

// WithAccount sets the account the roles and policies belong to.
func WithAccount(id string) Option { return func(f *Fake) { f.account = id } }

// DefaultPoliciesPerRole is IAM's default quota of managed policies attached to one role.
const DefaultPoliciesPerRole = 10

// WithPoliciesPerRole sets the account's quota of managed policies per role (IAM allows
// raising it to 20 on request).
func WithPoliciesPerRole(n int) Option { return func(f *Fake) { f.policiesPerRole = n } }

// New returns a fake IAM; it is an http.Handler.
func New(opts ...Option) *Fake {
	f := &Fake{Service: awsquery.NewService(Namespace), account: "111122223333",
		roles: map[string]*role{}, policies: map[string]*managedPolicy{}, denied: map[string]bool{},
		policiesPerRole: DefaultPoliciesPerRole}
	for _, o := range opts {
		o(f)
	}
	for action, h := range map[string]func(*awsquery.Request) (any, *awsquery.Error){
		"GetRole":                  f.getRole,
		"ListRolePolicies":         f.listRolePolicies,
		"GetRolePolicy":            f.getRolePolicy,
		"ListAttachedRolePolicies": f.listAttachedRolePolicies,
		"GetPolicy":                f.getPolicy,
		"GetPolicyVersion":         f.getPolicyVersion,
		"SimulatePrincipalPolicy":  f.simulatePrincipalPolicy,
		"ListRoleTags":             f.listRoleTags,
	} {
		f.Handle(action, f.guard(action, h))
	}
	return f
}

// Deny makes every call of action fail with AccessDenied, as for a caller whose policies do
// not grant it (typically iam:SimulatePrincipalPolicy).
func (f *Fake) Deny(action string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.denied[action] = true
}

func (f *Fake) guard(action string, h func(*awsquery.Request) (any, *awsquery.Error)) awsquery.Handler {
	return func(r *awsquery.Request) (any, *awsquery.Error) {
		f.mu.Lock()
		denied := f.denied[action]
		f.mu.Unlock()
		if denied {
			return nil, &awsquery.Error{Status: http.StatusForbidden, Type: "Sender", Code: "AccessDenied",
				Message: fmt.Sprintf("User: arn:aws:iam::%s:user/caller is not authorized to perform: iam:%s", f.account, action)}
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		return h(r)
	}
}

// PutRole creates or replaces a role with the given trust policy and returns its ARN.
func (f *Fake) PutRole(name, trustPolicy string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := &role{name: name, arn: fmt.Sprintf("arn:aws:iam::%s:role/%s", f.account, name), trust: trustPolicy,
		inline: map[string]string{}}
	if old := f.roles[name]; old != nil {
		r.inline, r.attached, r.boundary, r.tags = old.inline, old.attached, old.boundary, old.tags
	}
	f.roles[name] = r
	return r.arn
}

// PutRolePolicy sets an inline policy of a role.
func (f *Fake) PutRolePolicy(roleName, policyName, document string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.roles[roleName].inline[policyName] = document
}

// CreatePolicy creates a customer managed policy and returns its ARN.
func (f *Fake) CreatePolicy(name, document string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	arn := fmt.Sprintf("arn:aws:iam::%s:policy/%s", f.account, name)
	f.policies[arn] = &managedPolicy{name: name, arn: arn, document: document}
	return arn
}

// AttachRolePolicy attaches a managed policy to a role, as IAM's AttachRolePolicy does: a
// role or policy that does not exist is NoSuchEntity, a policy already attached stays attached
// once, and an attachment beyond the account's quota of managed policies per role is
// LimitExceeded.
func (f *Fake) AttachRolePolicy(roleName, policyARN string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ro, ok := f.roles[roleName]
	if !ok {
		return fmt.Errorf("NoSuchEntity: The role with name %s cannot be found.", roleName)
	}
	if _, ok := f.policies[policyARN]; !ok {
		return fmt.Errorf("NoSuchEntity: Policy %s does not exist or is not attachable.", policyARN)
	}
	if slices.Contains(ro.attached, policyARN) {
		return nil
	}
	if len(ro.attached) >= f.policiesPerRole {
		return fmt.Errorf("LimitExceeded: Cannot exceed quota for PoliciesPerRole: %d", f.policiesPerRole)
	}
	ro.attached = append(ro.attached, policyARN)
	return nil
}

// AttachedPolicies returns the ARNs of the managed policies attached to a role, in attachment
// order.
func (f *Fake) AttachedPolicies(roleName string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ro, ok := f.roles[roleName]; ok {
		return slices.Clone(ro.attached)
	}
	return nil
}

// PutRolePermissionsBoundary sets a managed policy as the role's permissions boundary: the
// role's identity policies then grant only what the boundary allows too.
func (f *Fake) PutRolePermissionsBoundary(roleName, policyARN string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.roles[roleName].boundary = policyARN
}

// TrustPolicy returns the trust policy of the role with this ARN, for the STS fake.
func (f *Fake) TrustPolicy(roleARN string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.roles {
		if r.arn == roleARN {
			return r.trust, true
		}
	}
	return "", false
}

func noSuchEntity(format string, args ...any) *awsquery.Error {
	return &awsquery.Error{Status: http.StatusNotFound, Type: "Sender", Code: "NoSuchEntity", Message: fmt.Sprintf(format, args...)}
}

func (f *Fake) role(name string) (*role, *awsquery.Error) {
	r := f.roles[name]
	if r == nil {
		return nil, noSuchEntity("The role with name %s cannot be found.", name)
	}
	return r, nil
}

// created is the fixed creation date of every resource: the fake has no history.
var created = awsquery.Time(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))

type roleXML struct {
	Path                     string
	RoleName                 string
	RoleId                   string
	Arn                      string
	CreateDate               string
	AssumeRolePolicyDocument string
	PermissionsBoundary      *struct{ PermissionsBoundaryType, PermissionsBoundaryArn string } `xml:",omitempty"`
}

func (f *Fake) getRole(r *awsquery.Request) (any, *awsquery.Error) {
	ro, err := f.role(r.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	out := roleXML{Path: "/", RoleName: ro.name, RoleId: "AROA" + strings.ToUpper(ro.name),
		Arn: ro.arn, CreateDate: created, AssumeRolePolicyDocument: url.QueryEscape(ro.trust)}
	if ro.boundary != "" {
		out.PermissionsBoundary = &struct{ PermissionsBoundaryType, PermissionsBoundaryArn string }{"Policy", ro.boundary}
	}
	return struct{ Role roleXML }{out}, nil
}

type memberList struct {
	Member []string `xml:"member"`
}

func (f *Fake) listRolePolicies(r *awsquery.Request) (any, *awsquery.Error) {
	ro, err := f.role(r.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	return struct {
		PolicyNames memberList
		IsTruncated bool
	}{PolicyNames: memberList{awsquery.SortedKeys(ro.inline)}}, nil
}

func (f *Fake) getRolePolicy(r *awsquery.Request) (any, *awsquery.Error) {
	ro, err := f.role(r.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	doc, ok := ro.inline[r.Get("PolicyName")]
	if !ok {
		return nil, noSuchEntity("The role policy with name %s cannot be found.", r.Get("PolicyName"))
	}
	return struct {
		RoleName, PolicyName, PolicyDocument string
	}{ro.name, r.Get("PolicyName"), url.QueryEscape(doc)}, nil
}

func (f *Fake) listAttachedRolePolicies(r *awsquery.Request) (any, *awsquery.Error) {
	ro, err := f.role(r.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	type attached struct{ PolicyName, PolicyArn string }
	var out []attached
	for _, arn := range ro.attached {
		out = append(out, attached{f.policyName(arn), arn})
	}
	return struct {
		AttachedPolicies struct {
			Member []attached `xml:"member"`
		}
		IsTruncated bool
	}{AttachedPolicies: struct {
		Member []attached `xml:"member"`
	}{out}}, nil
}

func (f *Fake) policyName(arn string) string {
	if p := f.policies[arn]; p != nil {
		return p.name
	}
	return arn[strings.LastIndex(arn, "/")+1:]
}

func (f *Fake) policy(arn string) (*managedPolicy, *awsquery.Error) {
	p := f.policies[arn]
	if p == nil {
		return nil, noSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	return p, nil
}

func (f *Fake) getPolicy(r *awsquery.Request) (any, *awsquery.Error) {
	p, err := f.policy(r.Get("PolicyArn"))
	if err != nil {
		return nil, err
	}
	return struct {
		Policy struct {
			PolicyName, Arn, DefaultVersionId string
			AttachmentCount                   int
			IsAttachable                      bool
		}
	}{Policy: struct {
		PolicyName, Arn, DefaultVersionId string
		AttachmentCount                   int
		IsAttachable                      bool
	}{p.name, p.arn, "v1", 1, true}}, nil
}

func (f *Fake) getPolicyVersion(r *awsquery.Request) (any, *awsquery.Error) {
	p, err := f.policy(r.Get("PolicyArn"))
	if err != nil {
		return nil, err
	}
	if v := r.Get("VersionId"); v != "v1" {
		return nil, noSuchEntity("Policy %s version %s does not exist or is not attachable.", p.arn, v)
	}
	return struct {
		PolicyVersion struct {
			Document, VersionId string
			IsDefaultVersion    bool
		}
	}{PolicyVersion: struct {
		Document, VersionId string
		IsDefaultVersion    bool
	}{url.QueryEscape(p.document), "v1", true}}, nil
}

// documents returns the identity policies of a role: inline ones, then attached ones.
func (f *Fake) documents(ro *role) []string {
	var docs []string
	for _, name := range awsquery.SortedKeys(ro.inline) {
		docs = append(docs, ro.inline[name])
	}
	for _, arn := range ro.attached {
		if p := f.policies[arn]; p != nil {
			docs = append(docs, p.document)
		}
	}
	return docs
}

// RoleAllows reports whether the role's policies allow action on resource with the condition
// keys in ctx (lower-case names), for other fakes that authorize a role's session.
func (f *Fake) RoleAllows(roleARN, action, resource string, ctx map[string][]string) bool {
	return f.RoleDecision(roleARN, action, resource, ctx) == "allowed"
}

// RoleDecision is the identity-based decision for the role: its policies, intersected with
// its permissions boundary (an explicit Deny in either wins; outside the boundary nothing is
// allowed).
func (f *Fake) RoleDecision(roleARN, action, resource string, ctx map[string][]string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ro := range f.roles {
		if ro.arn == roleARN {
			d, _ := f.decide(ro, action, resource, ctx)
			return d
		}
	}
	return "implicitDeny"
}

// decide evaluates the role's identity policies and its boundary. The caller holds f.mu.
func (f *Fake) decide(ro *role, action, resource string, ctx map[string][]string) (string, []string) {
	d, missing := Evaluate(f.documents(ro), action, resource, ctx)
	if ro.boundary == "" || d == "explicitDeny" {
		return d, missing
	}
	var bdoc string
	if p := f.policies[ro.boundary]; p != nil {
		bdoc = p.document
	}
	b, more := Evaluate([]string{bdoc}, action, resource, ctx)
	if b != "allowed" {
		return b, append(missing, more...)
	}
	return d, missing
}

type evaluationResult struct {
	EvalActionName       string
	EvalResourceName     string
	EvalDecision         string
	MissingContextValues memberList
}

// simulatePrincipalPolicy evaluates the role's identity policies for every action and
// resource, with the context entries given, as the IAM policy simulator does.
func (f *Fake) simulatePrincipalPolicy(r *awsquery.Request) (any, *awsquery.Error) {
	source := r.Get("PolicySourceArn")
	var ro *role
	for _, candidate := range f.roles {
		if candidate.arn == source {
			ro = candidate
		}
	}
	if ro == nil {
		return nil, &awsquery.Error{Status: http.StatusBadRequest, Type: "Sender", Code: "NoSuchEntity",
			Message: "Could not find entity for PolicySourceArn " + source}
	}
	ctx := map[string][]string{}
	for _, e := range r.Structs("ContextEntries") {
		var vals []string
		for i := 1; ; i++ {
			v, ok := e[fmt.Sprintf("ContextKeyValues.member.%d", i)]
			if !ok {
				break
			}
			vals = append(vals, v)
		}
		ctx[strings.ToLower(e["ContextKeyName"])] = vals
	}
	resources := r.List("ResourceArns")
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	var results []evaluationResult
	for _, action := range r.List("ActionNames") {
		for _, res := range resources {
			decision, missing := f.decide(ro, action, res, ctx)
			sort.Strings(missing)
			results = append(results, evaluationResult{EvalActionName: action, EvalResourceName: res,
				EvalDecision: decision, MissingContextValues: memberList{missing}})
		}
	}
	return struct {
		EvaluationResults struct {
			Member []evaluationResult `xml:"member"`
		}
		IsTruncated bool
	}{EvaluationResults: struct {
		Member []evaluationResult `xml:"member"`
	}{results}}, nil
}
