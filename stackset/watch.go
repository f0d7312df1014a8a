package stackset

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/isahit/s3grant/internal/awserr"
)

// follow watches the operation to its end, adds its result to res and reports whether the
// rollout must stop (the operation did not succeed, or an instance in it failed).
func (e *Engine) follow(ctx context.Context, res *Result, op *Operation) (bool, error) {
	r, err := e.watch(ctx, op)
	if r != nil {
		res.Operations = append(res.Operations, *r)
	}
	if err != nil {
		return true, err
	}
	if r.Status != "SUCCEEDED" {
		return true, nil
	}
	for _, ev := range r.Results {
		if ev.Status != "SUCCEEDED" {
			return true, nil
		}
	}
	return false, nil
}

// Watch follows an operation started earlier (the one an *InterruptedError names) to its
// end, reporting per-instance progress, and returns the stack set's instances with the root
// cause of each failed one. A failed operation or instance returns a *FailedError.
func (e *Engine) Watch(ctx context.Context, stackSet, operationID string) (*Result, error) {
	if _, err := e.describeOurs(ctx, stackSet, ""); err != nil {
		return nil, err
	}
	res := &Result{StackSet: stackSet}
	op := &Operation{ID: operationID, StackSet: stackSet}
	e.observer.Operation(*op)
	_, err := e.follow(ctx, res, op)
	if err != nil {
		return res, err
	}
	all, err := e.instances(ctx, stackSet)
	if err != nil {
		return res, err
	}
	var failed bool
	for _, in := range all {
		if in.LastOperationID == operationID && in.Failed() {
			in.Cause, failed = e.rootCause(ctx, in), true
		}
		res.Instances = append(res.Instances, in)
	}
	if failed || res.Operations[0].Status != "SUCCEEDED" {
		return res, &FailedError{Result: res, Operation: &res.Operations[0]}
	}
	return res, nil
}

// watch polls the operation and its per-instance results until it ends, reporting every
// change of an instance's result. It polls every e.firstPoll while results change and backs
// off to e.maxPoll while nothing happens. Cancelling ctx stops the watching (not the
// operation) with an *InterruptedError carrying the operation ID.
func (e *Engine) watch(ctx context.Context, op *Operation) (*OperationResult, error) {
	out := &OperationResult{Operation: *op}
	last := map[string]InstanceEvent{}
	var order []string
	delay := e.firstPoll
	for {
		status, reason, action, err := e.describeOperation(ctx, op)
		if err == nil {
			if action != "" {
				out.Action = action
			}
			var results []types.StackSetOperationResultSummary
			results, err = e.results(ctx, op)
			changed := false
			done := 0
			for _, r := range results {
				if ended(string(r.Status)) {
					done++
				}
			}
			for _, r := range results {
				k := aws.ToString(r.Account) + "/" + aws.ToString(r.Region)
				ev := InstanceEvent{Time: time.Now(), OperationID: op.ID, Account: aws.ToString(r.Account), Region: aws.ToString(r.Region),
					OrgUnit: aws.ToString(r.OrganizationalUnitId), Status: string(r.Status), Reason: aws.ToString(r.StatusReason),
					Done: done, Total: len(results)}
				prev, seen := last[k]
				if !seen {
					order = append(order, k)
				}
				if !seen || prev.Status != ev.Status || prev.Reason != ev.Reason {
					last[k] = ev
					changed = true
					e.observer.Instance(ev)
				}
			}
			if err == nil && ended(status) {
				out.Status, out.Reason = status, reason
				for _, k := range order {
					out.Results = append(out.Results, last[k])
				}
				return out, nil
			}
			if changed {
				delay = e.firstPoll
			} else {
				delay = min(delay*3/2, e.maxPoll)
			}
		}
		if err != nil && ctx.Err() == nil {
			return out, &WatchError{StackSet: op.StackSet, OperationID: op.ID, Err: err}
		}
		if serr := awserr.Sleep(ctx, delay); serr != nil || ctx.Err() != nil {
			out.Status = "RUNNING"
			return out, &InterruptedError{StackSet: op.StackSet, OperationID: op.ID, Err: ctx.Err()}
		}
	}
}

func ended(status string) bool {
	switch status {
	case "SUCCEEDED", "FAILED", "STOPPED", "CANCELLED":
		return true
	}
	return false
}

func (e *Engine) describeOperation(ctx context.Context, op *Operation) (status, reason, action string, err error) {
	var out *cloudformation.DescribeStackSetOperationOutput
	err = e.call(ctx, func(ctx context.Context) (err error) {
		out, err = e.cfn.DescribeStackSetOperation(ctx, &cloudformation.DescribeStackSetOperationInput{
			StackSetName: aws.String(op.StackSet), OperationId: aws.String(op.ID)})
		return err
	})
	if err != nil {
		return "", "", "", err
	}
	o := out.StackSetOperation
	return string(o.Status), aws.ToString(o.StatusReason), string(o.Action), nil
}

func (e *Engine) results(ctx context.Context, op *Operation) ([]types.StackSetOperationResultSummary, error) {
	var all []types.StackSetOperationResultSummary
	in := &cloudformation.ListStackSetOperationResultsInput{StackSetName: aws.String(op.StackSet), OperationId: aws.String(op.ID)}
	for {
		var out *cloudformation.ListStackSetOperationResultsOutput
		err := e.call(ctx, func(ctx context.Context) (err error) {
			out, err = e.cfn.ListStackSetOperationResults(ctx, in)
			return err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, out.Summaries...)
		if out.NextToken == nil {
			return all, nil
		}
		in.NextToken = out.NextToken
	}
}

// instances lists the stack set's instances.
func (e *Engine) instances(ctx context.Context, set string) ([]Instance, error) {
	var all []Instance
	in := &cloudformation.ListStackInstancesInput{StackSetName: aws.String(set)}
	for {
		var out *cloudformation.ListStackInstancesOutput
		err := e.call(ctx, func(ctx context.Context) (err error) {
			out, err = e.cfn.ListStackInstances(ctx, in)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("listing the instances of stack set %s: %w", set, err)
		}
		for _, s := range out.Summaries {
			i := Instance{Account: aws.ToString(s.Account), Region: aws.ToString(s.Region), OrgUnit: aws.ToString(s.OrganizationalUnitId),
				StackID: aws.ToString(s.StackId), Status: string(s.Status), Reason: aws.ToString(s.StatusReason),
				DriftStatus: string(s.DriftStatus), LastOperationID: aws.ToString(s.LastOperationId)}
			if s.StackInstanceStatus != nil {
				i.DetailedStatus = string(s.StackInstanceStatus.DetailedStatus)
			}
			all = append(all, i)
		}
		if out.NextToken == nil {
			return all, nil
		}
		in.NextToken = out.NextToken
	}
}

// rootCause explains a failed instance: the first resource that failed in the last
// operation of its stack, read from the stack's events when the engine can read them in that
// account, otherwise parsed from the instance's status reason.
func (e *Engine) rootCause(ctx context.Context, in Instance) *Cause {
	cause := parseReason(in.Reason)
	if e.reader == nil || in.StackID == "" || in.DetailedStatus == "CANCELLED" {
		return cause
	}
	r, err := e.reader(ctx, in.Account, in.Region)
	if err != nil || r == nil {
		return cause
	}
	var out *cloudformation.DescribeStackEventsOutput
	err = e.call(ctx, func(ctx context.Context) (err error) {
		out, err = r.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(in.StackID)})
		return err
	})
	if err != nil {
		return cause
	}
	var first *types.StackEvent
	for i, ev := range out.StackEvents { // newest first, back to the start of the last operation
		if aws.ToString(ev.PhysicalResourceId) == in.StackID && aws.ToString(ev.ResourceStatusReason) == "User Initiated" {
			break
		}
		if strings.HasSuffix(string(ev.ResourceStatus), "_FAILED") && !strings.HasSuffix(aws.ToString(ev.ResourceStatusReason), " cancelled") &&
			aws.ToString(ev.PhysicalResourceId) != in.StackID {
			first = &out.StackEvents[i]
		}
	}
	if first == nil {
		return cause
	}
	return &Cause{LogicalID: aws.ToString(first.LogicalResourceId), ResourceType: aws.ToString(first.ResourceType),
		Reason: aws.ToString(first.ResourceStatusReason), FromEvents: true}
}

// parseReason reads a status reason of the form StackSets gives a failed instance,
// "ResourceLogicalId:ID, ResourceType:TYPE, ResourceStatusReason:REASON"; another reason is
// kept whole.
func parseReason(reason string) *Cause {
	if reason == "" {
		return nil
	}
	c := &Cause{Reason: reason}
	rest, ok := strings.CutPrefix(reason, "ResourceLogicalId:")
	if !ok {
		return c
	}
	id, rest, ok1 := strings.Cut(rest, ", ResourceType:")
	typ, why, ok2 := strings.Cut(rest, ", ResourceStatusReason:")
	if !ok1 || !ok2 {
		return c
	}
	return &Cause{LogicalID: id, ResourceType: typ, Reason: strings.TrimSuffix(why, ".")}
}
