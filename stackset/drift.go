package stackset

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// DetectDrift runs CloudFormation's drift detection on every instance of the stack set and
// follows it to its end, reporting per-instance progress. It is an operation (DETECT_DRIFT,
// one at a time on the set, as any other) that reads the instances' resources and changes
// none of them; it takes minutes on a real account, so callers run it only when asked. Each
// instance's DriftStatus (DRIFTED, IN_SYNC, NOT_CHECKED) is then in Status. Ctrl-C stops the
// watching with an *InterruptedError; an operation that does not succeed returns a
// *FailedError.
func (e *Engine) DetectDrift(ctx context.Context, stackSet string, p Preferences) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if _, err := e.describeOurs(ctx, stackSet, ""); err != nil {
		return nil, err
	}
	if err := e.busy(ctx, stackSet); err != nil {
		return nil, err
	}
	prefs := p.sdk(nil)
	prefs.RegionOrder = p.RegionOrder
	var out *cloudformation.DetectStackSetDriftOutput
	err := e.call(ctx, func(ctx context.Context) (err error) {
		out, err = e.cfn.DetectStackSetDrift(ctx, &cloudformation.DetectStackSetDriftInput{StackSetName: aws.String(stackSet),
			OperationPreferences: prefs})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("detecting drift on stack set %s: %w", stackSet, err)
	}
	op := &Operation{ID: aws.ToString(out.OperationId), StackSet: stackSet, Action: "DETECT_DRIFT"}
	e.observer.Operation(*op)
	res := &Result{StackSet: stackSet}
	if _, err := e.follow(ctx, res, op); err != nil {
		return res, err
	}
	if r := res.Operations[0]; r.Status != "SUCCEEDED" {
		return res, &FailedError{Result: res, Operation: &res.Operations[0]}
	}
	return res, nil
}
