package verify

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/isahit/s3grant/internal/arn"
	"github.com/isahit/s3grant/stacks"
)

// A resource the integration's stack manages is fixed through the stack: a hand edit
// (aws iam update-assume-role-policy, a console edit) to another value than the stack's makes
// drift, which the next update silently undoes or trips over. When verify knows the stack
// (--stack-name, or the stacks.RoleStackNameTag and stacks.RoleStackRegionTag tags the template
// puts on the role; CloudFormation puts no aws:cloudformation:* tags on IAM roles), a fix that
// changes one of the stack's values is the exact `s3grant deploy` command, which keeps every
// other value of the stack; without a stack, the hand fix stays.

// managingStack returns the s3grant stack that manages the role: the stack verify read, or
// the one the role's tags name (ListRoleTags, DescribeStacks; read-only). It returns nil when
// the role has no such tags (not a stack's, or made by a template older than the tags), the
// tagged stack is in another region than verify's (its parameters are not this region's
// values), or the stack is not an s3grant integration's; note then says what a hand fix of
// the role should know (driftNote), "" when nothing.
func (c *Checker) managingStack(ctx context.Context, in Input, read *Stack) (s *Stack, note string) {
	if read != nil {
		return read, ""
	}
	name := arn.RoleName(in.RoleARN)
	out, err := iam.NewFromConfig(c.cfg).ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: &name})
	if err != nil {
		return nil, "" // without the tags the hand fixes stay, which are right without a stack
	}
	tags := map[string]string{}
	for _, t := range out.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	stackName, region := tags[stacks.RoleStackNameTag], tags[stacks.RoleStackRegionTag]
	switch {
	case stackName == "" || region == "":
		return nil, fmt.Sprintf(" (role %s has no %s and %s tags: if an s3grant stack made it with an older template, deploy the current template to let verify find the stack and fix it through the stack)",
			name, stacks.RoleStackNameTag, stacks.RoleStackRegionTag)
	case region != in.Region:
		return nil, fmt.Sprintf(" — role %s's tags name stack %s in %s: a hand fix changes a resource of that stack (drift; `s3grant status --stack-name %s --region %s` shows it)",
			name, stackName, region, stackName, region)
	}
	s, err = c.readStack(ctx, Input{StackName: stackName})
	if err != nil {
		return nil, ""
	}
	if _, ok := s.Parameters["ExternalId"]; !ok {
		return nil, "" // another tool's stack: its values are not s3grant's flags
	}
	if _, ok := s.Parameters["BucketName"]; !ok {
		return nil, ""
	}
	return s, ""
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
		return handFix + f.NoStack
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

// driftNote says that a hand fix puts back what the stack set, or, with no stack known, why
// (Facts.NoStack).
func driftNote(in Input, f Facts) string {
	if f.ManagedBy == nil {
		return f.NoStack
	}
	return fmt.Sprintf(" — stack %s manages this resource and already holds these values: it was changed outside CloudFormation (drift), and this puts back what the stack set (`s3grant status --stack-name %s --region %s` shows what changed)",
		f.ManagedBy.Name, f.ManagedBy.Name, in.Region)
}
