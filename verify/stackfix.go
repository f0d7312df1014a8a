package verify

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/isahit/s3grant/internal/arn"
)

// A resource the integration's stack manages is fixed through the stack: a hand edit
// (aws iam update-assume-role-policy, a console edit) to another value than the stack's makes
// drift, which the next update silently undoes or trips over. When verify knows the stack
// (--stack-name, or the aws:cloudformation:stack-name tag CloudFormation puts on the role), a
// fix that changes one of the stack's values is the exact `s3grant deploy` command, which
// keeps every other value of the stack; without a stack, the hand fix stays.

// stackNameTag is the tag CloudFormation puts on every resource it creates that takes tags.
const stackNameTag = "aws:cloudformation:stack-name"

// managingStack returns the s3grant stack that manages the role: the stack verify read, or
// the one the role's stack-name tag names (ListRoleTags, DescribeStacks; read-only). It returns
// nil when the role is not a stack's, or the stack is not an s3grant integration's.
func (c *Checker) managingStack(ctx context.Context, in Input, read *Stack) *Stack {
	if read != nil {
		return read
	}
	name := arn.RoleName(in.RoleARN)
	tags, err := iam.NewFromConfig(c.cfg).ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: &name})
	if err != nil {
		return nil // without the tags the hand fixes stay, which are right without a stack
	}
	for _, t := range tags.Tags {
		if t.Key == nil || *t.Key != stackNameTag || t.Value == nil {
			continue
		}
		s, err := c.readStack(ctx, Input{StackName: *t.Value})
		if err != nil {
			return nil
		}
		if _, ok := s.Parameters["ExternalId"]; !ok {
			return nil // another tool's stack: its values are not s3grant's flags
		}
		if _, ok := s.Parameters["BucketName"]; !ok {
			return nil
		}
		return s
	}
	return nil
}

// deployCommand is the command that changes the stack's value of flag to value, keeping every
// other value of the stack; flag alone when value is "" (--repair-cors).
func deployCommand(s *Stack, region, flag, value string) string {
	cmd := fmt.Sprintf("s3grant deploy --stack-name %s --region %s %s", s.Name, region, flag)
	if value != "" {
		cmd += " " + value
	}
	return cmd
}

// deployOr is the deploy command setting flag to value when a stack manages the integration,
// else handFix.
func deployOr(in Input, f Facts, flag, value, handFix string) string {
	if f.ManagedBy == nil {
		return handFix
	}
	return fmt.Sprintf("the integration is managed by stack %s: run `%s` (every other value of the stack is kept; never edit the stack's resources by hand, which makes drift)",
		f.ManagedBy.Name, deployCommand(f.ManagedBy, in.Region, flag, value))
}

// stackDiffers returns the flag whose value verify checks against (in) differs from the
// managing stack's parameter, with that value: the stack then holds the wrong value, and
// deploy with the flag fixes it. ok is false when the stack agrees (a difference is then
// drift: the resource was changed by hand, and putting back the stack's value is the fix).
func stackDiffers(in Input, f Facts, param, flag, value string) (string, bool) {
	if f.ManagedBy == nil || in.laterBucket && (param == "ObjectPrefix" || param == "BucketName") {
		return "", false
	}
	if got, ok := f.ManagedBy.Parameters[param]; ok && got != value {
		return flag, true
	}
	return "", false
}

// driftNote says that a hand fix puts back what the stack set.
func driftNote(in Input, f Facts) string {
	if f.ManagedBy == nil {
		return ""
	}
	return fmt.Sprintf(" — stack %s manages this resource and already holds these values: it was changed outside CloudFormation (drift), and this puts back what the stack set (`s3grant status --stack-name %s --region %s` shows what changed)",
		f.ManagedBy.Name, f.ManagedBy.Name, in.Region)
}
