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
	var out []Resource
	for id, res := range t.Resources {
		i := slices.IndexFunc(resourcePurposes, func(p struct{ id, purpose string }) bool { return p.id == id })
		if i < 0 {
			return nil, fmt.Errorf("template resource %s has no purpose in stacks.resourcePurposes", id)
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
			Purpose: strings.ReplaceAll(resourcePurposes[i].purpose, "{vendor}", in.Vendor.Name)})
	}
	order := func(id string) int {
		return slices.IndexFunc(resourcePurposes, func(p struct{ id, purpose string }) bool { return p.id == id })
	}
	slices.SortFunc(out, func(a, b Resource) int { return order(a.LogicalID) - order(b.LogicalID) })
	return out, nil
}
