package stacks

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/iam"
	"github.com/awslabs/goformation/v7/cloudformation/s3"
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
// become parameter defaults; the resources read only parameters, so one published template
// serves every customer.
func Template(in Integration) (*cloudformation.Template, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	t := cloudformation.NewTemplate()
	t.Description = description(in)
	t.Metadata = map[string]any{
		"AWS::CloudFormation::Interface": consoleInterface(),
		"s3grant":                        map[string]any{"TemplateVersion": TemplateVersion, "Vendor": in.Vendor.ID},
	}
	vals := in.Values()
	for _, p := range Params {
		t.Parameters[p.Name] = parameter(p, vals[p.Name])
	}
	for _, c := range conditions {
		t.Conditions[c.Name] = c.expression()
	}

	permissions, err := PermissionsPolicy().templateValue()
	if err != nil {
		return nil, err
	}
	trust, err := TrustPolicy().templateValue()
	if err != nil {
		return nil, err
	}
	t.Resources[AccessPointID] = &s3.AccessPoint{
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
	t.Resources[ReadPolicyID] = &iam.ManagedPolicy{
		Description: cloudformation.SubPtr(fmt.Sprintf(
			"%s: list and read objects of bucket ${BucketName} and through its access point ${AccessPointName}; nothing else.", in.Vendor.Name)),
		PolicyDocument: permissions,
	}
	t.Resources[VendorRoleID] = &iam.Role{
		Description: cloudformation.SubPtr(fmt.Sprintf(
			"Assumed by %s (account ${TrustedAccountId}) with its external ID, to read bucket ${BucketName}.", in.Vendor.Name)),
		AssumeRolePolicyDocument: trust,
		ManagedPolicyArns:        []string{cloudformation.Ref(ReadPolicyID)},
		RoleName:                 cloudformation.IfPtr(HasRoleName.Name, cloudformation.Ref("RoleName"), cloudformation.Ref("AWS::NoValue")),
	}
	addCORS(t, in)
	t.Outputs = outputs(in)
	return t, nil
}

// JSON returns the template as deterministic, indented JSON.
func JSON(in Integration) ([]byte, error) {
	t, err := Template(in)
	if err != nil {
		return nil, err
	}
	return t.JSON()
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
	return fmt.Sprintf("s3grant %s: read-only access for %s to one existing S3 bucket: an S3 access point, "+
		"a least-privilege IAM policy and a role that %s's AWS account can assume only with your external ID. "+
		"Optionally a CORS rule for %s's web apps, merged with your own rules. "+
		"Never deletes or modifies your bucket's objects or settings other than that one CORS rule.",
		TemplateVersion, in.Vendor.Name, in.Vendor.Name, in.Vendor.Name)
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

func consoleInterface() map[string]any {
	var groups []any
	labels := map[string]any{}
	var order []string
	members := map[string][]string{}
	for _, p := range Params {
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
// order the app asks for them.
func (in Integration) Outputs() []Output {
	v := in.Vendor.Name
	return []Output{
		{"RoleArn", fmt.Sprintf("ARN of the role %s assumes: paste it into %s.", v, v), true, cloudformation.GetAtt(VendorRoleID, "Arn")},
		{"ExternalId", "The external ID the role requires: it must match the one shown in " + v + ".", true, cloudformation.Ref("ExternalId")},
		{"AccessPointArn", fmt.Sprintf("ARN of the access point %s reads through: paste it into %s.", v, v), true, cloudformation.GetAtt(AccessPointID, "Arn")},
		{"AccessPointAlias", "Alias of the access point, usable in place of a bucket name for object operations.", true, cloudformation.GetAtt(AccessPointID, "Alias")},
		{"BucketName", "The bucket the integration reads.", true, cloudformation.Ref("BucketName")},
		{"LiveExternalIds", "The external IDs the role accepts now, comma-separated: two while a rotation is in progress (ExternalId, then NextExternalId).", false,
			cloudformation.If(Rotating.Name, cloudformation.Join(",", []string{cloudformation.Ref("ExternalId"), cloudformation.Ref("NextExternalId")}), cloudformation.Ref("ExternalId"))},
		{"CorsManaged", "true when this stack manages the vendor's CORS rule on the bucket; false when you manage CORS yourself.", false, cloudformation.Ref("ManageCors")},
	}
}

// PasteOutputs names the outputs the customer pastes into the vendor's app, in the app's order.
func PasteOutputs() []string {
	var names []string
	for _, o := range (Integration{}).Outputs() {
		if o.Paste {
			names = append(names, o.Name)
		}
	}
	return names
}

func outputs(in Integration) cloudformation.Outputs {
	out := cloudformation.Outputs{}
	for _, o := range in.Outputs() {
		out[o.Name] = cloudformation.Output{Value: o.value, Description: cloudformation.String(o.Description)}
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
