package cfnfake

import (
	"regexp"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
)

var roleARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/.{1,512}$`)

// serviceRole returns the service role an operation runs as: the RoleARN sent, else the one
// the stack already has (AWS: "If you don't specify a value, CloudFormation uses the role
// that was previously associated with the stack"). A malformed ARN is a ValidationError.
func serviceRole(r *awsquery.Request, s *stack) (string, *awsquery.Error) {
	arn := r.Get("RoleARN")
	if arn == "" {
		if s != nil {
			return s.roleARN, nil
		}
		return "", nil
	}
	if len(arn) < 20 || len(arn) > 2048 || !roleARNPattern.MatchString(arn) {
		return "", validation("1 validation error detected: Value '%s' at 'roleARN' failed to satisfy constraint: Member must satisfy regular expression pattern", arn)
	}
	return arn, nil
}

// previousValue is a parameter sent with UsePreviousValue: the stack's current value. AWS
// refuses it with a value alongside, on a stack that has no previous template (a create), and
// for a parameter the previous template did not have.
func previousValue(key string, sent, previous map[string]string) (string, *awsquery.Error) {
	if sent["ParameterValue"] != "" {
		return "", validation("Invalid input for parameter key %s. Cannot specify usePreviousValue as true and non empty value for a parameter key", key)
	}
	v, ok := previous[key]
	if !ok {
		return "", validation("Invalid input for parameter key %s. Cannot specify usePreviousValue as true for a parameter key not in the previous template", key)
	}
	return v, nil
}
