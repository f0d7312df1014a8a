package stacks

import (
	"github.com/awslabs/goformation/v7/cloudformation"
)

// KMS in the StackSet template: KmsKeyArn is one parameter of the set (empty: none), which an
// instance overrides with its target's key (a KMS key is regional, as are the instance's
// buckets); the read policy then grants DecryptThroughS3, exactly as the one-stack template.

// addStackSetKMS adds the KmsKeyArn parameter and the HasKmsKey condition.
func addStackSetKMS(t *cloudformation.Template) {
	p, _ := ParamByName("KmsKeyArn")
	param := parameter(p, "")
	param.Description = cloudformation.String("The KMS key this account's buckets in this region are encrypted with (empty: none); " + p.Description)
	t.Parameters[p.Name] = param
	t.Conditions[HasKmsKey.Name] = HasKmsKey.expression()
}

// withKMS is the read policy with the decrypt statement (present when KmsKeyArn is set).
func withKMS(d Document) Document {
	d.Statement = append(d.Statement, DecryptThroughS3())
	return d
}
