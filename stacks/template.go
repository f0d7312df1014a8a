package stacks

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/iam"
	"github.com/awslabs/goformation/v7/cloudformation/s3"
	"github.com/awslabs/goformation/v7/cloudformation/tags"
)

// Logical IDs of the template's resources.
const (
	AccessPointID = "AccessPoint"
	ReadPolicyID  = "ReadPolicy"
	VendorRoleID  = "VendorRole"
)

// MaxInlineTemplateBytes is CloudFormation's limit for a template sent inline (TemplateBody).
const MaxInlineTemplateBytes = 51200

// Template builds the CloudFormation template of the integration. The integration's values
// become parameter defaults; with one bucket the resources read only parameters, so one
// published template serves every customer. Every further bucket (MoreBuckets) is written out:
// its access point, its CORS rule and its share of packed managed policies (one template per
// shape; README "Many buckets: design"). With RoleAttach the stack creates no role and attaches
// its policies to the named one. A request over an AWS limit is a *LimitError.
func Template(in Integration) (*cloudformation.Template, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	plan, err := in.plan()
	if err != nil {
		return nil, err
	}
	attachTo, attached := in.Role.Attached()
	t := cloudformation.NewTemplate()
	t.Description = description(in)
	meta := templateMetadata{TemplateVersion: TemplateVersion, Vendor: in.Vendor.ID, AttachRole: attachTo,
		MoreBuckets: append([]Bucket(nil), plan.buckets[1:]...)}
	t.Metadata = map[string]any{
		"AWS::CloudFormation::Interface": consoleInterface(in),
		metadataKey:                      meta,
	}
	vals := in.Values()
	for _, p := range in.params() {
		t.Parameters[p.Name] = parameter(p, vals[p.Name])
	}
	for _, c := range conditions {
		if attached && (c == HasRoleName || c == Rotating) {
			continue // conditions of the role this stack does not create
		}
		t.Conditions[c.Name] = c.expression()
	}

	permissions, err := PermissionsPolicy().templateValue()
	if err != nil {
		return nil, err
	}
	var roles []string
	if attached {
		roles = []string{attachTo}
	}
	for i, b := range plan.buckets {
		ap := &s3.AccessPoint{
			Bucket: cloudformation.Ref("BucketName"),
			Name:   cloudformation.RefPtr("AccessPointName"),
			// No VpcConfiguration: the access point's network origin is the Internet, where the
			// vendor's servers are; all public access stays blocked.
			PublicAccessBlockConfiguration: &s3.AccessPoint_PublicAccessBlockConfiguration{
				BlockPublicAcls:       cloudformation.Bool(true),
				BlockPublicPolicy:     cloudformation.Bool(true),
				IgnorePublicAcls:      cloudformation.Bool(true),
				RestrictPublicBuckets: cloudformation.Bool(true),
			},
		}
		if i > 0 {
			ap.Bucket, ap.Name = b.Name, cloudformation.String(b.AccessPoint)
		}
		t.Resources[plan.apIDs[i]] = ap
	}
	policyIDs := []string{ReadPolicyID}
	t.Resources[ReadPolicyID] = &iam.ManagedPolicy{
		Description: cloudformation.SubPtr(fmt.Sprintf(
			"%s: list and read objects of bucket ${BucketName} and through its access point ${AccessPointName}; nothing else.", in.Vendor.Name)),
		PolicyDocument: permissions,
		Roles:          roles,
	}
	for n, pp := range plan.read {
		doc, err := pp.Document.templateValue()
		if err != nil {
			return nil, err
		}
		id := readPolicyID(n + 1)
		policyIDs = append(policyIDs, id)
		t.Resources[id] = &iam.ManagedPolicy{
			// The same words whichever buckets the policy holds, so moving a bucket between
			// policies updates them in place.
			Description:    cloudformation.String(fmt.Sprintf("%s: list and read objects of more buckets of this integration, directly and through their access points; nothing else.", in.Vendor.Name)),
			PolicyDocument: doc,
			Roles:          roles,
		}
	}
	if !attached {
		trust, err := TrustPolicy().templateValue()
		if err != nil {
			return nil, err
		}
		what := "to read bucket ${BucketName}"
		if len(plan.buckets) > 1 {
			what = "to read bucket ${BucketName} and the other buckets of this stack"
		}
		arns := make([]string, len(policyIDs))
		for i, id := range policyIDs {
			arns[i] = cloudformation.Ref(id)
		}
		t.Resources[VendorRoleID] = &iam.Role{
			Description: cloudformation.SubPtr(fmt.Sprintf(
				"Assumed by %s (account ${TrustedAccountId}) with its external ID, %s.", in.Vendor.Name, what)),
			AssumeRolePolicyDocument: trust,
			ManagedPolicyArns:        arns,
			RoleName:                 cloudformation.IfPtr(HasRoleName.Name, cloudformation.Ref("RoleName"), cloudformation.Ref("AWS::NoValue")),
			Tags:                     roleTags(),
		}
	}
	if err := addCORS(t, in, plan); err != nil {
		return nil, err
	}
	t.Outputs = outputs(in, plan)
	return t, nil
}

// The tags every template s3grant builds puts on the vendor role, naming the stack that creates
// it and the stack's region: CloudFormation does not put its own aws:cloudformation:* tags on
// IAM roles (a long-open gap, cloudformation-coverage-roadmap #277, #1159, #1966), and a role is
// global while its stack is regional, so without them nothing on the role leads back to its
// stack. verify reads them to fix what the stack manages through the stack.
const (
	RoleStackNameTag   = "s3grant:stack-name"
	RoleStackRegionTag = "s3grant:stack-region"
)

// roleTags are the vendor role's Tags: its stack's name and region (RoleStackNameTag,
// RoleStackRegionTag).
func roleTags() []tags.Tag {
	return []tags.Tag{
		{Key: RoleStackNameTag, Value: cloudformation.Ref("AWS::StackName")},
		{Key: RoleStackRegionTag, Value: cloudformation.Ref("AWS::Region")},
	}
}

// JSON returns the template as deterministic, indented JSON.
// It refuses (a *LimitError) a template over the 1 MB CloudFormation reads from S3; one over
// MaxInlineTemplateBytes must be sent through S3 (TemplateDelivery).
func JSON(in Integration) ([]byte, error) {
	t, err := Template(in)
	if err != nil {
		return nil, err
	}
	body, err := t.JSON()
	if err != nil {
		return nil, err
	}
	if _, err := TemplateDelivery(len(body)); err != nil {
		return nil, err
	}
	return body, nil
}

// PublishedJSON is the template s3grant publish puts in the vendor's bucket for in, which links
// and guides launch with the customer's values prefilled: for one bucket the generic template
// (the vendor's defaults only, every customer's values are parameters); for several buckets the
// template of their shape, the bucket list and nothing else of in (sized at worst, since a link
// may name any region), the buckets after the first in name order: the same buckets give the
// same bytes, so the same content-addressed key, however the flags list them. One home, so
// publish and what checks a published URL build the same bytes.
func PublishedJSON(in Integration) ([]byte, error) {
	published := New(in.Vendor)
	if len(in.MoreBuckets) > 0 {
		buckets, err := in.Buckets()
		if err != nil {
			return nil, err
		}
		slices.SortFunc(buckets[1:], func(a, b Bucket) int { return strings.Compare(a.Name, b.Name) })
		published.SetBuckets(buckets)
	}
	return JSON(published)
}

// YAML returns the template as YAML, the same template as JSON returns.
func YAML(in Integration) ([]byte, error) {
	t, err := Template(in)
	if err != nil {
		return nil, err
	}
	return t.YAML()
}

func description(in Integration) string {
	if name, attached := in.Role.Attached(); attached {
		return fmt.Sprintf("s3grant %s: read-only access for %s to %s in this region, through the role %s of the integration's home stack: "+
			"an S3 access point per bucket and least-privilege IAM policies attached to that role. "+
			"Optionally a CORS rule for %s's web apps on each bucket, merged with your own rules. "+
			"Never deletes or modifies your buckets' objects or settings other than that one CORS rule.",
			TemplateVersion, in.Vendor.Name, bucketsWords(in), name, in.Vendor.Name)
	}
	if len(in.MoreBuckets) > 0 {
		return fmt.Sprintf("s3grant %s: read-only access for %s to %s: an S3 access point per bucket, "+
			"least-privilege IAM policies and one role that %s's AWS account can assume only with your external ID. "+
			"Optionally a CORS rule for %s's web apps on each bucket, merged with your own rules. "+
			"Never deletes or modifies your buckets' objects or settings other than that one CORS rule.",
			TemplateVersion, in.Vendor.Name, bucketsWords(in), in.Vendor.Name, in.Vendor.Name)
	}
	return fmt.Sprintf("s3grant %s: read-only access for %s to one existing S3 bucket: an S3 access point, "+
		"a least-privilege IAM policy and a role that %s's AWS account can assume only with your external ID. "+
		"Optionally a CORS rule for %s's web apps, merged with your own rules. "+
		"Never deletes or modifies your bucket's objects or settings other than that one CORS rule.",
		TemplateVersion, in.Vendor.Name, in.Vendor.Name, in.Vendor.Name)
}

func bucketsWords(in Integration) string {
	if n := 1 + len(in.MoreBuckets); n > 1 {
		return fmt.Sprintf("%d existing S3 buckets", n)
	}
	return "one existing S3 bucket"
}

func parameter(p Param, value string) cloudformation.Parameter {
	param := cloudformation.Parameter{Type: "String", Description: cloudformation.String(p.Description)}
	if value != "" {
		param.Default = value
	} else if p.Rule != nil && p.Rule.Optional {
		// An empty default makes the parameter optional in the console.
		param.Default = ""
	}
	if p.Rule != nil {
		param.AllowedPattern = cloudformation.String(p.Rule.AllowedPattern())
		param.ConstraintDescription = cloudformation.String("must be valid: " + p.Rule.Description)
		if p.Rule.MaxLen > 0 {
			param.MaxLength = cloudformation.Int(p.Rule.MaxLen)
		}
	}
	for _, v := range p.AllowedValues {
		param.AllowedValues = append(param.AllowedValues, v)
	}
	return param
}

func consoleInterface(in Integration) map[string]any {
	var groups []any
	labels := map[string]any{}
	var order []string
	members := map[string][]string{}
	for _, p := range in.params() {
		if _, seen := members[p.Group]; !seen {
			order = append(order, p.Group)
		}
		members[p.Group] = append(members[p.Group], p.Name)
		labels[p.Name] = map[string]string{"default": p.Label}
	}
	for _, g := range order {
		groups = append(groups, map[string]any{"Label": map[string]string{"default": g}, "Parameters": members[g]})
	}
	return map[string]any{"ParameterGroups": groups, "ParameterLabels": labels}
}

// Output is one output of the stack.
type Output struct {
	Name        string
	Description string
	// Paste is true for the values the customer pastes back into the vendor's app.
	Paste bool
	value string
}

// Outputs lists the stack's outputs, the values to paste into the vendor's app first, in the
// order the app asks for them. The buckets after the first are listed, with their access point
// aliases, in the MoreBuckets outputs (see ParseMoreBucketsOutputs); their access point ARNs
// follow from the account, the region and the access point names.
func (in Integration) Outputs() []Output {
	v := in.Vendor.Name
	role := Output{"RoleArn", fmt.Sprintf("ARN of the role %s assumes: paste it into %s.", v, v), true, cloudformation.GetAtt(VendorRoleID, "Arn")}
	if name, attached := in.Role.Attached(); attached {
		role.Description = fmt.Sprintf("ARN of the role %s assumes, made by the integration's home stack; this stack's policies are attached to it.", v)
		role.value = cloudformation.Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/" + name)
	}
	out := []Output{role}
	if _, attached := in.Role.Attached(); !attached {
		out = append(out, Output{"ExternalId", "The external ID the role requires: it must match the one shown in " + v + ".", true, cloudformation.Ref("ExternalId")})
	}
	out = append(out,
		Output{"AccessPointArn", fmt.Sprintf("ARN of the access point %s reads through: paste it into %s.", v, v), true, cloudformation.GetAtt(AccessPointID, "Arn")},
		Output{"AccessPointAlias", "Alias of the access point, usable in place of a bucket name for object operations.", true, cloudformation.GetAtt(AccessPointID, "Alias")},
		Output{"BucketName", "The bucket the integration reads.", true, cloudformation.Ref("BucketName")},
	)
	if _, attached := in.Role.Attached(); !attached {
		out = append(out, Output{"LiveExternalIds", "The external IDs the role accepts now, comma-separated: two while a rotation is in progress (ExternalId, then NextExternalId).", false,
			cloudformation.If(Rotating.Name, cloudformation.Join(",", []string{cloudformation.Ref("ExternalId"), cloudformation.Ref("NextExternalId")}), cloudformation.Ref("ExternalId"))})
	}
	out = append(out, Output{"CorsManaged", "true when this stack manages the vendor's CORS rule on the bucket; false when you manage CORS yourself.", false, cloudformation.Ref("ManageCors")})
	return out
}

// PasteOutputs names the outputs the customer pastes into the vendor's app, in the app's order
// (and, for more buckets, the MoreBuckets outputs).
func PasteOutputs() []string {
	var names []string
	for _, o := range (Integration{}).Outputs() {
		if o.Paste {
			names = append(names, o.Name)
		}
	}
	return names
}

func outputs(in Integration, plan *shapePlan) cloudformation.Outputs {
	out := cloudformation.Outputs{}
	for _, o := range in.Outputs() {
		out[o.Name] = cloudformation.Output{Value: o.value, Description: cloudformation.String(o.Description)}
	}
	more := plan.buckets[1:]
	for g := 0; g < outputGroups(len(more)); g++ {
		var parts []string
		for i := g * bucketsPerOutput; i < min(len(more), (g+1)*bucketsPerOutput); i++ {
			sep := ","
			if i == g*bucketsPerOutput {
				sep = ""
			}
			parts = append(parts, sep+more[i].Name+"=", cloudformation.GetAtt(plan.apIDs[i+1], "Arn"), "=", cloudformation.GetAtt(plan.apIDs[i+1], "Alias"))
		}
		out[fmt.Sprintf("%s%d", MoreBucketsOutput, g+1)] = cloudformation.Output{Value: cloudformation.Join("", parts),
			Description: cloudformation.String(fmt.Sprintf("More buckets of the integration with their access points, BUCKET=ACCESS-POINT-ARN=ALIAS, comma-separated: paste them into %s.", in.Vendor.Name))}
	}
	return out
}

// expression is the condition in template form.
func (c *Cond) expression() string {
	eq := cloudformation.Equals(cloudformation.Ref(c.Param), c.Equals)
	if c.Negate {
		return cloudformation.Not([]string{eq})
	}
	return eq
}

// templateValue turns the document into the template's form: ${...} strings become Ref or
// Fn::Sub, and conditional statements become Fn::If with AWS::NoValue.
func (d Document) templateValue() (map[string]any, error) {
	stmts := make([]any, 0, len(d.Statement))
	for _, s := range d.Statement {
		raw, err := json.Marshal(s)
		if err != nil {
			return nil, err
		}
		var generic any
		if err := json.Unmarshal(raw, &generic); err != nil {
			return nil, err
		}
		s.conditionalValues(generic)
		v := intrinsify(generic)
		if s.When != nil {
			v = cloudformation.If(s.When.Name, v, cloudformation.Ref("AWS::NoValue"))
		}
		stmts = append(stmts, v)
	}
	return map[string]any{"Version": d.Version, "Statement": stmts}, nil
}

// conditionalValues wraps, in the statement's generic JSON form, each condition value named in
// ValueWhen in Fn::If, so CloudFormation drops it (AWS::NoValue) when its condition is false.
func (s Statement) conditionalValues(generic any) {
	if len(s.ValueWhen) == 0 {
		return
	}
	ops, _ := generic.(map[string]any)["Condition"].(map[string]any)
	for _, keys := range ops {
		for _, values := range keys.(map[string]any) {
			list, _ := values.([]any)
			for i, v := range list {
				if c := s.ValueWhen[v.(string)]; c != nil {
					list[i] = cloudformation.If(c.Name, subString(v.(string)), cloudformation.Ref("AWS::NoValue"))
				}
			}
		}
	}
}

// intrinsify replaces Fn::Sub-syntax strings in a JSON value with goformation intrinsics.
func intrinsify(v any) any {
	switch x := v.(type) {
	case string:
		return subString(x)
	case []any:
		for i := range x {
			x[i] = intrinsify(x[i])
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = intrinsify(x[k])
		}
		return x
	}
	return v
}

// subString is a plain Ref when s is exactly one parameter reference, Fn::Sub when it embeds
// references, and s itself otherwise.
func subString(s string) string {
	if m := subVar.FindStringSubmatchIndex(s); m != nil && m[0] == 0 && m[1] == len(s) {
		return cloudformation.Ref(s[m[2]:m[3]])
	}
	if strings.Contains(s, "${") {
		return cloudformation.Sub(s)
	}
	return s
}
