package stacks

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/isahit/s3grant/internal/rules"
)

// RoleSource says where the vendor role of a stack comes from. An integration has one vendor
// role however many buckets and regions it spans, because the vendor holds one role ARN per
// customer. The stack of the home region (RoleCreate, the zero value) creates the role, its
// trust policy and the external ID parameters; a stack in another region of the same account,
// or a StackSets instance outside the home region, attaches its managed policies to that role
// by name (RoleAttach) and creates no role, no trust policy and no external ID parameter.
//
// IAM is global: a role made once per account serves every region, and the policies of every
// stack attached to it count against its quota of managed policies (Integration.MaxManagedPolicies
// says how many this stack may use). Delete the attaching stacks before the creating one: IAM
// refuses to delete a role that still has policies attached.
type RoleSource struct {
	attach string
}

// RoleCreate is the source of a stack that creates the vendor role: the one-bucket template,
// the home stack of a multi-region integration, the home-region instance of a StackSet.
var RoleCreate = RoleSource{}

// RoleAttach is the source of a stack that attaches its policies to the existing role named
// name (the name, not the ARN: AWS::IAM::ManagedPolicy takes role names).
func RoleAttach(name string) RoleSource { return RoleSource{attach: name} }

// Attached returns the role name the stack attaches to, and whether it does.
func (r RoleSource) Attached() (string, bool) { return r.attach, r.attach != "" }

// FieldAttachRole names RoleSource's role name in errors.
const FieldAttachRole = "AttachRole"

// Buckets returns every bucket of the integration, first the one of BucketName, ObjectPrefix
// and AccessPointName, then MoreBuckets, each with its access point name (NameAccessPoints: the
// first keeps AccessPointName, the others get names derived from it and from their bucket).
func (in Integration) Buckets() ([]Bucket, error) {
	all := make([]Bucket, 0, 1+len(in.MoreBuckets))
	all = append(all, Bucket{Name: in.BucketName, Prefix: in.ObjectPrefix, AccessPoint: in.AccessPointName})
	if len(in.MoreBuckets) == 0 {
		return all, nil
	}
	for _, b := range in.MoreBuckets {
		all = append(all, Bucket{Name: b.Name, Prefix: b.Prefix})
	}
	if err := CheckBuckets(all); err != nil {
		return nil, err
	}
	return NameAccessPoints(in.AccessPointName, all)
}

// SetBuckets makes buckets the integration's buckets: the first becomes BucketName and
// ObjectPrefix (so a one-bucket integration is exactly today's), the others MoreBuckets.
// Access point names are not taken from buckets: Buckets derives them.
func (in *Integration) SetBuckets(buckets []Bucket) {
	in.BucketName, in.ObjectPrefix, in.MoreBuckets = "", "", nil
	for i, b := range buckets {
		if i == 0 {
			in.BucketName, in.ObjectPrefix = b.Name, b.Prefix
			continue
		}
		in.MoreBuckets = append(in.MoreBuckets, Bucket{Name: b.Name, Prefix: b.Prefix})
	}
}

// KeepFirst returns buckets with the bucket named first moved to the front, when it is in the
// list: a stack's first bucket owns the one-bucket logical IDs and the AccessPointName, so an
// update that lists the stack's buckets in another order must not make another bucket first
// (that would replace two access points). ok is false when first is not in the list.
func KeepFirst(buckets []Bucket, first string) (out []Bucket, ok bool) {
	for i, b := range buckets {
		if b.Name == first {
			out = append([]Bucket{b}, buckets[:i]...)
			return append(out, buckets[i+1:]...), true
		}
	}
	return buckets, false
}

// metadataKey is the template Metadata key under which s3grant records what a template is for.
const metadataKey = "s3grant"

// templateMetadata is what a template records under Metadata.s3grant: its version and vendor,
// the buckets after the first (which have no parameter) and the role it attaches to, so a
// later update can read back the stack's shape from its template.
type templateMetadata struct {
	TemplateVersion string   `json:"TemplateVersion"`
	Vendor          string   `json:"Vendor"`
	MoreBuckets     []Bucket `json:"MoreBuckets,omitempty"`
	AttachRole      string   `json:"AttachRole,omitempty"`
}

// ShapeOf reads, from a template this package built (a stack's current template, from
// GetTemplate), the buckets after the first and the role source: what the stack's parameters
// do not hold. A template without them (the one-bucket template, older templates) has no more
// buckets and creates its role.
func ShapeOf(body []byte) (more []Bucket, role RoleSource, err error) {
	var t struct {
		Metadata map[string]json.RawMessage `json:"Metadata"`
	}
	if err := json.Unmarshal(body, &t); err != nil {
		return nil, RoleCreate, fmt.Errorf("reading the stack's template: %w", err)
	}
	raw, ok := t.Metadata[metadataKey]
	if !ok {
		return nil, RoleCreate, nil
	}
	var m templateMetadata
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, RoleCreate, fmt.Errorf("reading the stack's template metadata: %w", err)
	}
	for i := range m.MoreBuckets {
		m.MoreBuckets[i].AccessPoint = ""
	}
	return m.MoreBuckets, RoleAttach(m.AttachRole), nil
}

// shapePlan is the resources of an integration beyond the one-bucket template's, decided before
// anything is built: every bucket with its access point and logical IDs, the vendor role's
// packed managed policies for the buckets after the first, and the CORS function's.
type shapePlan struct {
	buckets []Bucket
	// apIDs and corsIDs are, per bucket, the logical IDs of its access point and CORS rule.
	apIDs, corsIDs []string
	read           []PackedPolicy
	// cors are the CORS function's packed policies; corsPolicyIDs their logical IDs, derived
	// from the buckets each covers; corsPolicyOf the ID covering each bucket.
	cors          []PackedPolicy
	corsPolicyIDs []string
	corsPolicyOf  map[string]string
}

// readPolicyID is the logical ID of the vendor role's n-th managed policy (n from 0; the first
// is the one-bucket template's ReadPolicy).
func readPolicyID(n int) string {
	if n == 0 {
		return ReadPolicyID
	}
	return fmt.Sprintf("%s%d", ReadPolicyID, n+1)
}

// corsPolicyID names a CORS policy by the buckets it covers. When a bucket leaves, the policy
// that covered it gets a new logical ID: CloudFormation creates the new policy first and deletes
// the old one in the cleanup phase, after the departing bucket's CORS rule (which depends on the
// old policy) was removed with the old policy's permissions still in place.
func corsPolicyID(buckets []string) string {
	return CorsFunctionBucketID + shortHash(strings.Join(buckets, ","), 8)
}

func (in Integration) maxPolicies() int {
	if in.MaxManagedPolicies != 0 {
		return in.MaxManagedPolicies
	}
	return ManagedPoliciesPerRole
}

// plan decides the integration's resources and checks them against AWS's limits: the role's
// managed policy quota, the policy size, the resources and outputs of one stack.
func (in Integration) plan() (*shapePlan, error) {
	buckets, err := in.Buckets()
	if err != nil {
		return nil, err
	}
	p := &shapePlan{buckets: buckets, corsPolicyOf: map[string]string{}}
	for i, b := range buckets {
		p.apIDs = append(p.apIDs, BucketLogicalID(AccessPointID, i, b))
		p.corsIDs = append(p.corsIDs, BucketLogicalID(BucketCorsID, i, b))
	}
	if max := in.maxPolicies(); max < 1 || max > RaisedManagedPoliciesPerRole {
		return nil, rules.Invalid("MaxManagedPolicies", fmt.Sprint(max), fmt.Sprintf("must be 1 to %d (IAM's most managed policies per role)", RaisedManagedPoliciesPerRole))
	}
	more := buckets[1:]
	if len(more) > 0 {
		// Sizes are IAM's once CloudFormation resolved the pseudo parameters: in the stack's region
		// when the integration names it (deploy, link), at their longest otherwise.
		sizing := WorstCase
		if in.Region != "" {
			sizing = SizingFor(in.Region, "123456789012") // every account ID has 12 digits
		}
		// ReadPolicy (the first bucket, and the KMS key) is one of the role's policies.
		if p.read, err = PackReadPolicies(more, WithMaxPolicies(in.maxPolicies()-1), WithSizing(sizing)); err != nil {
			return nil, err
		}
		// Made whatever ManageCors says now: the CORS resources exist under the ManageCors
		// condition, so the parameter alone turns them on or off later, as in the one-bucket
		// template. CorsFunctionBucketAccess (the first bucket) is inline, outside the quota.
		if p.cors, err = PackCorsPolicies(more, WithSizing(sizing)); err != nil {
			return nil, err
		}
		for _, c := range p.cors {
			id := corsPolicyID(c.Buckets)
			p.corsPolicyIDs = append(p.corsPolicyIDs, id)
			for _, b := range c.Buckets {
				p.corsPolicyOf[b] = id
			}
		}
	}
	// CloudFormation counts the resources a template declares, conditional ones included.
	shape := StackShape{Buckets: len(buckets), ReadPolicies: 1 + len(p.read), CorsPolicies: 1 + len(p.cors), ManageCORS: true}
	if err := shape.Check(); err != nil {
		return nil, err
	}
	if n := len(in.Outputs()) + outputGroups(len(more)); n > MaxStackOutputs {
		return nil, &LimitError{Limit: "CloudFormation's outputs per template", Max: MaxStackOutputs, Need: n, Field: bucketFlag,
			Hint: "split the buckets across integrations"}
	}
	return p, nil
}

// bucketsPerOutput is how many buckets after the first one output lists: CloudFormation allows
// 200 outputs per template, so per-bucket outputs are grouped.
const bucketsPerOutput = 10

// MoreBucketsOutput is the prefix of the outputs listing the buckets after the first with their
// access points: MoreBuckets1, MoreBuckets2, ..., each "BUCKET=ARN=ALIAS,BUCKET=ARN=ALIAS"
// (neither a bucket name, an ARN nor an alias holds "=" or ",").
const MoreBucketsOutput = "MoreBuckets"

func outputGroups(n int) int { return (n + bucketsPerOutput - 1) / bucketsPerOutput }

// MoreBucketsOutputs names the outputs that list the access points of more buckets after the
// first, in order (none for the one-bucket integration).
func MoreBucketsOutputs(more int) []string {
	var names []string
	for g := 1; g <= outputGroups(more); g++ {
		names = append(names, fmt.Sprintf("%s%d", MoreBucketsOutput, g))
	}
	return names
}

// BucketOutput is one bucket's access point as the stack's outputs give it.
type BucketOutput struct {
	Bucket           string `json:"bucket"`
	AccessPointArn   string `json:"accessPointArn"`
	AccessPointAlias string `json:"accessPointAlias"`
}

// BucketOutputs reads a stack's outputs (by name) into every bucket's access point, the first
// bucket's (BucketName, AccessPointArn, AccessPointAlias) first, then the MoreBuckets outputs'
// in order: what the customer pastes into the vendor's app, per bucket.
func BucketOutputs(outputs map[string]string) []BucketOutput {
	var out []BucketOutput
	if b := outputs["BucketName"]; b != "" {
		out = append(out, BucketOutput{b, outputs["AccessPointArn"], outputs["AccessPointAlias"]})
	}
	for g := 1; ; g++ {
		v, ok := outputs[fmt.Sprintf("%s%d", MoreBucketsOutput, g)]
		if !ok {
			return out
		}
		for _, entry := range strings.Split(v, ",") {
			if parts := strings.Split(entry, "="); len(parts) == 3 {
				out = append(out, BucketOutput{parts[0], parts[1], parts[2]})
			}
		}
	}
}

// RolePolicies are the vendor role's permissions policies as the template writes them, before
// substitution, each with the buckets it covers: PermissionsPolicy (the first bucket and the KMS
// key), then the packed policies of the buckets after the first, each within IAM's size limit.
// The manual setup creates each.
func (in Integration) RolePolicies() ([]PackedPolicy, error) {
	plan, err := in.plan()
	if err != nil {
		return nil, err
	}
	return append([]PackedPolicy{{Document: PermissionsPolicy(), Buckets: []string{plan.buckets[0].Name}}}, plan.read...), nil
}
