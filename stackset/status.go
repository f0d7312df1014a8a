package stackset

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/isahit/s3grant/internal/rules"
)

// Status is a stack set and its instances as they are now.
type Status struct {
	StackSet, StackSetID, Description string
	// PermissionModel is SELF_MANAGED or SERVICE_MANAGED.
	PermissionModel string
	Instances       []Instance
	// Running is the ID of an operation in progress, if any.
	Running string
}

// Status reads the stack set and its instances (status, detailed status, reason, drift),
// with the root cause of each failed instance. It refuses a stack set s3grant did not create.
func (e *Engine) Status(ctx context.Context, stackSet string) (*Status, error) {
	s, err := e.describeOurs(ctx, stackSet, "")
	if err != nil {
		return nil, err
	}
	st := &Status{StackSet: stackSet, StackSetID: aws.ToString(s.StackSetId), Description: aws.ToString(s.Description),
		PermissionModel: string(s.PermissionModel)}
	var busy *BusyError
	if err := e.busy(ctx, stackSet); errors.As(err, &busy) {
		st.Running = busy.OperationID
	} else if err != nil {
		return nil, err
	}
	all, err := e.instances(ctx, stackSet)
	if err != nil {
		return nil, err
	}
	for _, in := range all {
		if in.Failed() {
			in.Cause = e.rootCause(ctx, in)
		}
		st.Instances = append(st.Instances, in)
	}
	return st, nil
}

// Parameters returns the stack set's own parameter values (those no instance overrides). It
// refuses a stack set s3grant did not create.
func (e *Engine) Parameters(ctx context.Context, stackSet string) (map[string]string, error) {
	s, err := e.describeOurs(ctx, stackSet, "")
	if err != nil {
		return nil, err
	}
	vals := map[string]string{}
	for _, p := range s.Parameters {
		vals[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	return vals, nil
}

// DeleteRequest is the removal of a stack set.
type DeleteRequest struct {
	StackSet string
	// DescriptionPrefix, when set, is how the description of the sets this tool creates
	// begins; another set is refused.
	DescriptionPrefix string
	Preferences       Preferences
	// Last, when set, holds back the instances it is true for until every other instance is
	// deleted: those that hold what the others use (the role the other regions' instances
	// attach their policies to, which IAM cannot delete while they are attached).
	Last func(Instance) bool
}

// Delete removes every instance of the stack set, with its stack (RetainStacks false), and
// then the set, after asking (AskDelete). Instances go region by region with the request's
// preferences; if any fails, the set and the failed instances stay and a *FailedError says
// why. The template retains nothing of the customer's: deleting a stack deletes only what
// the stack made.
func (e *Engine) Delete(ctx context.Context, req DeleteRequest) (*Result, error) {
	if err := validateDelete(req); err != nil {
		return nil, err
	}
	set, err := e.describeOurs(ctx, req.StackSet, req.DescriptionPrefix)
	if err != nil {
		return nil, err
	}
	if err := e.busy(ctx, req.StackSet); err != nil {
		return nil, err
	}
	res := &Result{StackSet: req.StackSet, StackSetID: aws.ToString(set.StackSetId)}
	all, err := e.instances(ctx, req.StackSet)
	if err != nil {
		return nil, err
	}
	yes, err := e.confirm(ctx, Question{Kind: AskDelete, StackSet: req.StackSet, Instances: all})
	if err != nil {
		return nil, &InterruptedError{StackSet: req.StackSet, Err: err}
	}
	if !yes {
		return nil, ErrDeclined
	}
	if len(all) > 0 {
		e.observer.Phase(PhaseDeletingInstances, req.StackSet)
	}
	var first, last []Target
	for _, in := range all {
		t := Target{Account: in.Account, Region: in.Region}
		if in.OrgUnit != "" {
			t = Target{OrgUnit: in.OrgUnit, Region: in.Region}
		}
		seen := func(x Target) bool { return x.Account == t.Account && x.OrgUnit == t.OrgUnit && x.Region == t.Region }
		if slices.ContainsFunc(first, seen) || slices.ContainsFunc(last, seen) {
			continue
		}
		if req.Last != nil && req.Last(in) {
			last = append(last, t)
		} else {
			first = append(first, t)
		}
	}
	for _, c := range append(plan(first), plan(last)...) {
		c.overrides = nil
		op, err := e.startInstances(ctx, req.StackSet, "DELETE", c, req.Preferences, false)
		if err != nil {
			return e.deleteFailed(ctx, res, nil, err)
		}
		if stop, err := e.follow(ctx, res, op); stop || err != nil {
			return e.deleteFailed(ctx, res, op, err)
		}
	}
	left, err := e.instances(ctx, req.StackSet)
	if err != nil {
		return nil, err
	}
	if len(left) > 0 {
		return e.deleteFailed(ctx, res, nil, nil)
	}
	e.observer.Phase(PhaseDeletingStackSet, req.StackSet)
	err = e.call(ctx, func(ctx context.Context) error {
		_, err := e.cfn.DeleteStackSet(ctx, &cloudformation.DeleteStackSetInput{StackSetName: aws.String(req.StackSet)})
		return err
	})
	if err != nil {
		return res, fmt.Errorf("deleting stack set %s: %w", req.StackSet, err)
	}
	return res, nil
}

func validateDelete(req DeleteRequest) error {
	if err := rules.StackSetName.Validate("--stack-set", req.StackSet); err != nil {
		return err
	}
	return req.Preferences.Validate()
}

// deleteFailed reports the instances that remain after a failed deletion.
func (e *Engine) deleteFailed(ctx context.Context, res *Result, op *Operation, cause error) (*Result, error) {
	var ie *InterruptedError
	if errors.As(cause, &ie) || ctx.Err() != nil {
		return res, cause
	}
	left, err := e.instances(ctx, res.StackSet)
	if err != nil {
		return res, errors.Join(cause, err)
	}
	for _, in := range left {
		if in.Failed() {
			in.Cause = e.rootCause(ctx, in)
		}
		res.Instances = append(res.Instances, in)
	}
	if cause != nil {
		return res, cause
	}
	var failedOp *OperationResult
	if n := len(res.Operations); n > 0 && res.Operations[n-1].Status != "SUCCEEDED" {
		failedOp = &res.Operations[n-1]
	}
	return res, &FailedError{Result: res, Operation: failedOp}
}
