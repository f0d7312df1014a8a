package main

import (
	"errors"
	"strings"

	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/launch"
	"github.com/isahit/s3grant/stacks"
	"github.com/isahit/s3grant/verify"
)

// fieldFlags is the one table from the fields the packages name in their errors (template
// parameters, the model's Region, link, publish and verify fields) to the flags that set them.
// Packages never know flag names; the CLI says "--bucket: ..." because of this table.
var fieldFlags = map[string]string{
	"BucketName":                   "--bucket",
	stacks.FieldBuckets:            "--bucket", // the bucket list: NAME, NAME/PREFIX, s3://NAME/PREFIX, repeatable
	stacks.FieldAttachRole:         "--attach-role",
	"MaxManagedPolicies":           "--max-policies",
	"ExternalId":                   "--external-id",
	"NextExternalId":               "--next-external-id", // verify's; rotate sets it from its --external-id
	"AccessPointName":              "--access-point-name",
	"RoleName":                     "--role-name",
	"ObjectPrefix":                 "--prefix",
	"KmsKeyArn":                    "--kms-key-arn",
	"ManageCors":                   "--manage-cors",
	stacks.FieldRegion:             "--region", // also launch.FieldRegion
	launch.FieldTemplateURL:        "--template-url",
	launch.FieldStackName:          "--stack-name", // also verify.FieldStackName
	launch.FieldTemplateBucket:     "--template-bucket",
	launch.FieldTemplatePrefix:     "--template-prefix",
	verify.FieldRoleARN:            "--role-arn",
	verify.FieldPreviousExternalID: "--previous-external-id",
}

// flagFor returns the flag that sets field, or field itself when no flag does. A prefilled
// link parameter keeps its name next to the flag: "--bucket (param_BucketName)".
func flagFor(field string) string {
	if f, ok := fieldFlags[field]; ok {
		return f
	}
	if name, ok := strings.CutPrefix(field, launch.ParamPrefix); ok {
		if f, ok := fieldFlags[name]; ok {
			return f + " (" + field + ")"
		}
	}
	return field
}

// withFlagNames names the bad field of an *rules.InvalidError by its flag.
func withFlagNames(err error) error {
	var inv *rules.InvalidError
	if errors.As(err, &inv) {
		inv.Field = flagFor(inv.Field)
	}
	return err
}

// paramUsage is a flag's help text: its template parameter's description.
func paramUsage(name string) string {
	p, _ := stacks.ParamByName(name)
	return p.Description
}
