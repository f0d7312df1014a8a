package stacks

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Resource is one resource of the template and why the stack creates it, for the guide's
// overview and anyone who wants to know what a change set will show before it shows it.
type Resource struct {
	LogicalID string
	// Type is the CloudFormation resource type, as the change set shows it.
	Type string
	// Condition is the template condition that decides whether the resource is created, or ""
	// when it always is.
	Condition string
	// Purpose says, in one sentence, why the stack needs it.
	Purpose string
	// Buckets are the buckets a per-bucket resource (an access point, a CORS rule, a packed
	// policy) serves, in an integration of several buckets; empty for shared resources and in
	// the one-bucket integration.
	Buckets []string
}

// Conditional reports whether the resource is created only under its Condition.
func (r Resource) Conditional() bool { return r.Condition != "" }

// resourcePurposes says why each of the template's resources exists, by logical ID, in the
// order a reader meets them; {vendor} stands for the vendor's name. Resources reads the list of resources
// from the template itself, so a resource added to the template without a purpose here is an
// error, never a silent gap in the docs.
var resourcePurposes = []struct{ id, purpose string }{
	{AccessPointID, "The address through which {vendor} reads your bucket: reachable from the Internet, where {vendor}'s servers are, with all public access blocked."},
	{ReadPolicyID, "The permissions: list and read the objects of this one bucket, directly and through the access point, and nothing else."},
	{VendorRoleID, "The role {vendor}'s AWS account assumes, only with your external ID; the policy above is attached to it and is all it can do."},
	{BucketCorsID, "The custom resource that adds {vendor}'s CORS rule to your bucket next to your own rules, and removes only that rule when the stack is deleted (CloudFormation cannot edit a bucket it did not create)."},
	{CorsFunctionID, "The Lambda function (Python, its code inline in the template) that the custom resource runs to read, merge and write the bucket's CORS configuration."},
	{CorsFunctionRoleID, "The function's execution role, assumable by Lambda only; its inline policy lets it write to its own log group."},
	{CorsFunctionBucketID, "The role's inline policy for the bucket: s3:GetBucketCORS and s3:PutBucketCORS on this one bucket, nothing else."},
	{CorsFunctionLogGroupID, fmt.Sprintf("The function's log group, where every change it makes is logged, kept %d days.", corsLogRetentionDays)},
	{CorsFunctionNoRetryID, "The function's invoke configuration: no automatic Lambda retries, which could replay a create after a rollback's delete and leave the rule behind."},
}

// Resources lists every resource of in's template with its type, condition and purpose, in the
// order the guide explains them. The list is read from the template, so it cannot drift from it.
func Resources(in Integration) ([]Resource, error) {
	t, err := Template(in)
	if err != nil {
		return nil, err
	}
	plan, err := in.plan()
	if err != nil {
		return nil, err
	}
	// In an integration of several buckets, each per-bucket resource says whose it is: base is
	// the one-bucket resource it repeats (whose purpose it shares), rank its place among them.
	type kin struct {
		base, purpose string
		buckets       []string
		rank          int
	}
	kins := map[string]kin{}
	if len(plan.buckets) > 1 {
		for i, b := range plan.buckets {
			kins[plan.apIDs[i]] = kin{base: AccessPointID, buckets: []string{b.Name}, rank: i}
			kins[plan.corsIDs[i]] = kin{base: BucketCorsID, buckets: []string{b.Name}, rank: i}
		}
		kins[ReadPolicyID] = kin{base: ReadPolicyID, buckets: []string{plan.buckets[0].Name}}
		kins[CorsFunctionBucketID] = kin{base: CorsFunctionBucketID, buckets: []string{plan.buckets[0].Name}}
		for n, pp := range plan.read {
			kins[readPolicyID(n+1)] = kin{base: ReadPolicyID, buckets: pp.Buckets, rank: n + 1, purpose: "More permissions of the role: list and read the objects " +
				"of these buckets, directly and through their access points, and nothing else (IAM's 6,144 characters per policy make several)."}
		}
		for n, pp := range plan.cors {
			kins[plan.corsPolicyIDs[n]] = kin{base: CorsFunctionBucketID, buckets: pp.Buckets, rank: n + 1, purpose: "The function's managed policy " +
				"for these buckets: s3:GetBucketCORS and s3:PutBucketCORS on them, nothing else."}
		}
	}
	order := func(id string) int {
		return slices.IndexFunc(resourcePurposes, func(p struct{ id, purpose string }) bool { return p.id == id })
	}
	var out []Resource
	rank := map[string]int{}
	for id, res := range t.Resources {
		k, ok := kins[id]
		if !ok {
			k = kin{base: id}
		}
		i := order(k.base)
		if i < 0 {
			return nil, fmt.Errorf("template resource %s has no purpose in stacks.resourcePurposes", id)
		}
		if k.purpose == "" {
			k.purpose = resourcePurposes[i].purpose
		}
		body, err := json.Marshal(res)
		if err != nil {
			return nil, err
		}
		var attrs struct{ Condition string }
		if err := json.Unmarshal(body, &attrs); err != nil {
			return nil, err
		}
		out = append(out, Resource{LogicalID: id, Type: res.AWSCloudFormationType(), Condition: attrs.Condition,
			Purpose: strings.ReplaceAll(k.purpose, "{vendor}", in.Vendor.Name), Buckets: k.buckets})
		rank[id] = i*(len(t.Resources)+1) + k.rank
	}
	slices.SortFunc(out, func(a, b Resource) int { return rank[a.LogicalID] - rank[b.LogicalID] })
	return out, nil
}
