package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/google/uuid"

	"github.com/isahit/s3grant/internal/awserr"
)

// noChangeReasons are the status reasons of a change set that would change nothing.
var noChangeReasons = []string{"The submitted information didn't contain changes", "No updates are to be performed"}

// changeSet is a change set the engine created and must clean up unless executed.
type changeSet struct {
	id, name, stackID, stackName string
	create                       bool
}

// createChangeSet creates the change set and waits until CloudFormation has computed it.
// It returns the change set, its final description (nil when it would change nothing) and
// the change set to clean up (even on error, when one was created).
func (e *Engine) createChangeSet(ctx context.Context, req Request, create bool, caps []types.Capability, keep []string) (*changeSet, *cloudformation.DescribeChangeSetOutput, error) {
	typ := types.ChangeSetTypeUpdate
	if create {
		typ = types.ChangeSetTypeCreate
	}
	in := &cloudformation.CreateChangeSetInput{
		StackName:     aws.String(req.StackName),
		ChangeSetName: aws.String("s3grant-" + time.Now().UTC().Format("20060102-150405") + "-" + uuid.NewString()[:8]),
		ChangeSetType: typ,
		TemplateBody:  aws.String(string(req.TemplateBody)),
		Capabilities:  caps,
		Description:   aws.String(req.Description),
		RoleARN:       optional(req.RoleARN),
	}
	if req.Description == "" {
		in.Description = nil
	}
	if req.TemplateURL != "" {
		in.TemplateBody, in.TemplateURL = nil, aws.String(req.TemplateURL)
	}
	for _, k := range slices.Sorted(maps.Keys(req.Parameters)) {
		in.Parameters = append(in.Parameters, types.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(req.Parameters[k])})
	}
	for _, k := range keep {
		in.Parameters = append(in.Parameters, types.Parameter{ParameterKey: aws.String(k), UsePreviousValue: aws.Bool(true)})
	}
	for _, k := range slices.Sorted(maps.Keys(req.Tags)) {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(req.Tags[k])})
	}
	e.observer.Phase(PhaseCreatingChangeSet, req.StackName)
	var out *cloudformation.CreateChangeSetOutput
	err := e.retryThrottled(ctx, func() (err error) {
		out, err = e.cfn.CreateChangeSet(ctx, in)
		return err
	})
	if err != nil {
		if awserr.Code(err) == "ValidationError" || awserr.Code(err) == "InsufficientCapabilitiesException" {
			return nil, nil, &ChangeSetError{StackName: req.StackName, Reason: awserr.Message(err)}
		}
		return nil, nil, explain(err)
	}
	cs := &changeSet{id: aws.ToString(out.Id), name: aws.ToString(in.ChangeSetName), stackID: aws.ToString(out.StackId),
		stackName: req.StackName, create: create}

	delay := e.firstPoll / 4
	for {
		if err := awserr.Sleep(ctx, delay); err != nil {
			return cs, nil, err
		}
		var d *cloudformation.DescribeChangeSetOutput
		err := e.retryThrottled(ctx, func() (err error) {
			d, err = e.cfn.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: aws.String(cs.id)})
			return err
		})
		if err != nil {
			return cs, nil, explain(err)
		}
		switch d.Status {
		case types.ChangeSetStatusCreateComplete:
			return cs, d, nil
		case types.ChangeSetStatusFailed:
			reason := aws.ToString(d.StatusReason)
			if slices.ContainsFunc(noChangeReasons, func(p string) bool { return strings.HasPrefix(reason, p) }) {
				return cs, nil, nil
			}
			return cs, nil, &ChangeSetError{StackName: req.StackName, Reason: reason}
		}
		delay = min(delay*2, e.maxPoll)
	}
}

// preview reads every page of the change set into a Preview.
func (e *Engine) preview(ctx context.Context, cs *changeSet, first *cloudformation.DescribeChangeSetOutput) (*Preview, error) {
	p := &Preview{StackName: aws.ToString(first.StackName), ChangeSetName: cs.name, ChangeSetID: cs.id, Create: cs.create}
	for _, c := range first.Capabilities {
		p.Capabilities = append(p.Capabilities, string(c))
	}
	page := first
	for {
		for _, c := range page.Changes {
			rc := c.ResourceChange
			if rc == nil {
				continue
			}
			ch := Change{Action: string(rc.Action), LogicalID: aws.ToString(rc.LogicalResourceId),
				PhysicalID: aws.ToString(rc.PhysicalResourceId), ResourceType: aws.ToString(rc.ResourceType),
				Replacement: string(rc.Replacement)}
			for _, d := range rc.Details {
				if d.Target != nil && d.Target.Name != nil && !slices.Contains(ch.Properties, *d.Target.Name) {
					ch.Properties = append(ch.Properties, *d.Target.Name)
				}
			}
			p.Changes = append(p.Changes, ch)
		}
		if page.NextToken == nil {
			return p, nil
		}
		next := page.NextToken
		err := e.retryThrottled(ctx, func() (err error) {
			page, err = e.cfn.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: aws.String(cs.id), NextToken: next})
			return err
		})
		if err != nil {
			return nil, explain(err)
		}
	}
}

// discard deletes a change set that will not be executed and, when the change set created
// the stack (a stack in REVIEW_IN_PROGRESS holds no resources), that empty stack too. It runs
// even when ctx is cancelled: cleaning up is what an interrupted user expects.
func (e *Engine) discard(ctx context.Context, cs *changeSet, stackIsNew bool) error {
	if cs == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	e.observer.Phase(PhaseDeletingChangeSet, cs.stackName)
	err := e.retryThrottled(ctx, func() error {
		_, err := e.cfn.DeleteChangeSet(ctx, &cloudformation.DeleteChangeSetInput{ChangeSetName: aws.String(cs.id)})
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting change set %s: %w", cs.name, explain(err))
	}
	if !stackIsNew {
		return nil
	}
	s, err := e.describe(ctx, cs.stackID)
	if err != nil || s == nil || s.StackStatus != types.StackStatusReviewInProgress {
		return err
	}
	err = e.retryThrottled(ctx, func() error {
		_, err := e.cfn.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String(cs.stackID)})
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting the empty stack awaiting review %s: %w", cs.stackID, explain(err))
	}
	return nil
}

// iamNameProperty is, per IAM resource type, the property that gives it a custom name (other
// properties such as AWS::IAM::RolePolicy's RoleName refer to a resource rather than name one).
var iamNameProperty = map[string]string{
	"AWS::IAM::Role":            "RoleName",
	"AWS::IAM::ManagedPolicy":   "ManagedPolicyName",
	"AWS::IAM::User":            "UserName",
	"AWS::IAM::Group":           "GroupName",
	"AWS::IAM::InstanceProfile": "InstanceProfileName",
}

// RequiredCapabilities returns the IAM capabilities a JSON template needs with these
// parameter values: none without IAM resources, CAPABILITY_NAMED_IAM when an IAM resource
// gets a custom name, CAPABILITY_IAM otherwise. Computing them (rather than granting both)
// lets the user see exactly what they acknowledge.
func RequiredCapabilities(body []byte, params map[string]string) ([]types.Capability, error) {
	var t struct {
		Parameters map[string]struct{ Default any }
		Resources  map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(body, &t); err != nil {
		return nil, fmt.Errorf("reading the template: %w", err)
	}
	value := func(p string) string {
		if v, ok := params[p]; ok {
			return v
		}
		if d, ok := t.Parameters[p].Default.(string); ok {
			return d
		}
		return ""
	}
	var named func(v any) bool
	named = func(v any) bool {
		switch x := v.(type) {
		case string:
			return x != ""
		case map[string]any:
			if ref, ok := x["Ref"].(string); ok {
				switch {
				case ref == "AWS::NoValue":
					return false
				case strings.HasPrefix(ref, "AWS::"):
					return true
				default:
					return value(ref) != ""
				}
			}
			if args, ok := x["Fn::If"].([]any); ok && len(args) == 3 {
				return named(args[1]) || named(args[2])
			}
			return len(x) > 0 // another function (Sub, Join...) builds a name
		}
		return false
	}
	var caps []types.Capability
	for _, r := range t.Resources {
		if !strings.HasPrefix(r.Type, "AWS::IAM::") {
			continue
		}
		caps = []types.Capability{types.CapabilityCapabilityIam}
		if v, ok := r.Properties[iamNameProperty[r.Type]]; ok && named(v) {
			return []types.Capability{types.CapabilityCapabilityNamedIam}, nil
		}
	}
	return caps, nil
}
