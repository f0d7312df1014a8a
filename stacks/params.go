package stacks

import (
	"strings"

	"github.com/isahit/s3grant/internal/rules"
)

// Param is one template parameter: its console label and group and the rule its values
// follow. This table is the one place each of these is written. Errors about a value name the
// parameter (Name); the CLI maps names to its flags.
type Param struct {
	// Name is the parameter's logical name, also the `param_` name of a quick-create link.
	Name        string
	Label       string
	Group       string
	Description string
	// Rule checks values; AllowedValues lists them instead when there are only a few.
	Rule          *rules.Rule
	AllowedValues []string

	// roleOnly marks the parameters of the vendor role (its trust and name): a stack that
	// attaches to another stack's role (RoleAttach) does not have them.
	roleOnly bool

	value func(Integration) string
	// set puts a value read back from a stack into the integration (the inverse of value).
	set func(*Integration, string)
}

// Parameter groups, in the order the console shows them.
const (
	groupCustomer = "Your bucket"
	groupVendor   = "Vendor access"
	groupOptional = "Optional restrictions"
	// groupMaintenance holds what day-two operations set; a first create leaves it empty.
	groupMaintenance = "Maintenance (leave empty when creating)"
)

// Params lists the template parameters in console order.
var Params = []Param{
	{
		Name: "BucketName", Group: groupCustomer,
		Label:       "Bucket name",
		Description: "Name of your existing S3 bucket the vendor may read. The stack never deletes it or its objects; it changes only the vendor's CORS rule, when ManageCors is true.",
		Rule:        rules.BucketName,
		value:       func(in Integration) string { return in.BucketName },
		set:         func(in *Integration, v string) { in.BucketName = v },
	},
	{
		Name: "ExternalId", roleOnly: true, Group: groupVendor,
		Label:       "External ID",
		Description: "The external ID the vendor generated for you. The vendor must present it to assume the role, which stops anyone else's account at the vendor from reaching your bucket. It is not a secret.",
		Rule:        rules.ExternalID,
		value:       func(in Integration) string { return in.ExternalID },
		set:         func(in *Integration, v string) { in.ExternalID = v },
	},
	{
		Name: "NextExternalId", roleOnly: true, Group: groupVendor,
		Label:       "Next external ID (rotation only)",
		Description: "Empty, except while the external ID is being rotated: the new external ID, which the role then accepts as well as ExternalId, so the vendor can switch without losing access. To finish, set ExternalId to this value and empty this one.",
		Rule:        rules.NextExternalID,
		value:       func(in Integration) string { return in.NextExternalID },
		set:         func(in *Integration, v string) { in.NextExternalID = v },
	},
	{
		Name: "TrustedAccountId", roleOnly: true, Group: groupVendor,
		Label:       "Vendor AWS account ID",
		Description: "The vendor's AWS account, trusted to assume the role. Keep the default unless the vendor tells you otherwise.",
		Rule:        rules.AccountID,
		value:       func(in Integration) string { return in.TrustedAccountID() },
		set:         func(in *Integration, v string) { in.Vendor.AccountID = v },
	},
	{
		Name: "AccessPointName", Group: groupVendor,
		Label:       "Access point name",
		Description: "Name of the S3 access point created for the vendor on your bucket: Internet network origin, all public access blocked. Names are unique per account and region: a second integration in the same region needs another name.",
		Rule:        rules.AccessPointName,
		value:       func(in Integration) string { return in.AccessPointName },
		set:         func(in *Integration, v string) { in.AccessPointName = v },
	},
	{
		Name: "AllowedOrigins", Group: groupVendor,
		Label:       "Allowed web origins (CORS)",
		Description: "Comma-separated https origins of the vendor's web apps, allowed to GET objects from the browser.",
		Rule:        rules.Origins,
		value:       func(in Integration) string { return strings.Join(in.Vendor.CORS.Origins, ",") },
		set:         func(in *Integration, v string) { in.Vendor.CORS.Origins = splitList(v) },
	},
	{
		Name: "ManageCors", Group: groupVendor,
		Label:         "Manage the bucket's CORS rule",
		Description:   "true: the stack adds the vendor's CORS rule to your bucket, keeping all your own rules, and removes only that rule when deleted. false: you manage CORS yourself.",
		AllowedValues: []string{"true", "false"},
		value:         func(in Integration) string { return boolString(in.ManageCORS) },
		set:           func(in *Integration, v string) { in.ManageCORS = v == "true" },
	},
	{
		Name: "ObjectPrefix", Group: groupOptional,
		Label:       "Object key prefix (optional)",
		Description: "Limit the vendor to keys starting with this prefix, e.g. images/. Empty: the whole bucket.",
		Rule:        rules.ObjectPrefix,
		value:       func(in Integration) string { return in.ObjectPrefix },
		set:         func(in *Integration, v string) { in.ObjectPrefix = v },
	},
	{
		Name: "KmsKeyArn", Group: groupOptional,
		Label:       "KMS key ARN (optional)",
		Description: "If the bucket's objects are encrypted with a customer managed KMS key, its ARN: the role may then decrypt with that key, and only through S3.",
		Rule:        rules.KMSKeyARN,
		value:       func(in Integration) string { return in.KMSKeyARN },
		set:         func(in *Integration, v string) { in.KMSKeyARN = v },
	},
	{
		Name: "RoleName", roleOnly: true, Group: groupOptional,
		Label:       "Role name (optional)",
		Description: "Name of the IAM role. Empty: CloudFormation picks a unique name, so the role of a second integration never collides with the first's.",
		Rule:        rules.RoleName,
		value:       func(in Integration) string { return in.RoleName },
		set:         func(in *Integration, v string) { in.RoleName = v },
	},
	{
		Name: "CorsRepairToken", Group: groupMaintenance,
		Label:       "CORS repair token (leave as it is)",
		Description: "Change this value (any letters, digits, hyphens) to make the stack put the vendor's CORS rule back on the bucket, e.g. after other tooling removed it. Nothing else changes.",
		Rule:        rules.RepairToken,
		value:       func(in Integration) string { return in.CORSRepairToken },
		set:         func(in *Integration, v string) { in.CORSRepairToken = v },
	},
}

// params lists the parameters of this integration's template: all of Params, but for the role's
// own when the stack attaches to another stack's role.
func (in Integration) params() []Param {
	if _, attached := in.Role.Attached(); !attached {
		return Params
	}
	var out []Param
	for _, p := range Params {
		if !p.roleOnly {
			out = append(out, p)
		}
	}
	return out
}

// ParamByName returns the parameter named name.
func ParamByName(name string) (Param, bool) {
	for _, p := range Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}
