package deploy

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// Status describes the stack. With watch, a running operation is followed to its end (its
// events so far are reported first). The result holds the final status, the outputs and,
// when the last operation failed, its root cause.
func (e *Engine) Status(ctx context.Context, stackName string, watch bool) (*Result, error) {
	s, err := e.describe(ctx, stackName)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, &NotFoundError{StackName: stackName}
	}
	w, err := e.runningSince(ctx, aws.ToString(s.StackId))
	if err != nil {
		return nil, err
	}
	if watch && busy(s.StackStatus) {
		final, err := e.follow(ctx, w)
		if err != nil {
			return nil, e.stopped(ctx, stackName, err)
		}
		r := finish(final, w, Watched)
		r.Parameters = parametersOf(final)
		return r, nil
	}
	if !succeeded(s.StackStatus) && !inProgress(s.StackStatus) {
		// Read the last operation's events for the root cause of its failure.
		events, err := e.poll(ctx, w)
		if err != nil {
			return nil, explain(err)
		}
		for _, ev := range events {
			w.record(ev)
		}
	}
	r := finish(s, w, Described)
	r.Parameters = parametersOf(s)
	return r, nil
}

// DeleteRequest is a stack deletion.
type DeleteRequest struct {
	StackName string
	// DescriptionPrefix, when set, is how the description of the stacks this tool creates
	// begins: another stack is refused, so a mistyped name never deletes someone else's stack.
	DescriptionPrefix string
	// RoleARN is the CloudFormation service role that deletes the stack; empty: the stack's own.
	RoleARN string
}

// Delete deletes the stack, with consent, and follows the deletion to its end. Only the
// stack's own resources go; the template retains nothing of the customer's.
func (e *Engine) Delete(ctx context.Context, req DeleteRequest) (*Result, error) {
	s, err := e.describe(ctx, req.StackName)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, &NotFoundError{StackName: req.StackName}
	}
	if desc := aws.ToString(s.Description); req.DescriptionPrefix != "" && !strings.HasPrefix(desc, req.DescriptionPrefix) {
		return nil, &NotOursError{StackName: req.StackName, Description: desc}
	}
	if busy(s.StackStatus) {
		if err := e.waitBusy(ctx, s); err != nil {
			return nil, err
		}
		if s, err = e.describe(ctx, req.StackName); err != nil || s == nil {
			if s == nil && err == nil {
				err = &NotFoundError{StackName: req.StackName}
			}
			return nil, err
		}
	}
	var out *cloudformation.DescribeStackResourcesOutput
	err = e.retryThrottled(ctx, func() (err error) {
		out, err = e.cfn.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: s.StackId})
		return err
	})
	if err != nil {
		return nil, explain(err)
	}
	var resources []Resource
	for _, r := range out.StackResources {
		resources = append(resources, Resource{LogicalID: aws.ToString(r.LogicalResourceId),
			PhysicalID: aws.ToString(r.PhysicalResourceId), Type: aws.ToString(r.ResourceType), Status: string(r.ResourceStatus)})
	}
	yes, err := e.confirm(ctx, Question{Kind: AskDelete, StackName: req.StackName, Status: string(s.StackStatus), Resources: resources})
	if err != nil {
		return nil, &InterruptedError{StackName: req.StackName, Err: err}
	}
	if !yes {
		return nil, ErrDeclined
	}
	e.observer.Phase(PhaseDeletingStack, req.StackName)
	r, err := e.deleteAndFollow(ctx, s, len(resources), req.RoleARN)
	if err != nil {
		return nil, err
	}
	r.Removed = outputsOf(s)
	if r.Status != string(types.StackStatusDeleteComplete) {
		return r, &FailedError{Result: r}
	}
	return r, nil
}
