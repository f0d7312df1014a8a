package rules

// NextExternalID is the second external ID a role accepts while an external-ID rotation is
// in progress; empty when none is.
var NextExternalID = withMaxLen(1224, newRule(ExternalID.Pattern,
	"an external ID is 2-1224 characters of letters, digits and +=,.@:/-_", true, nil))

// RepairToken is the value that, when it changes, makes CloudFormation run the CORS custom
// resource again; empty until the first repair.
var RepairToken = newRule(`^[A-Za-z0-9-]{1,64}$`,
	"a repair token is at most 64 letters, digits and hyphens", true, nil)

// ServiceRoleARN is the IAM role CloudFormation assumes to run the stack's operations
// (the --role-arn of aws cloudformation and cdk).
var ServiceRoleARN = newRule(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/([\x21-\x7e]{0,510}/)?[\w+=,.@-]{1,64}$`,
	"a CloudFormation service role is an IAM role ARN, arn:PARTITION:iam::ACCOUNT:role/NAME", false, nil)
