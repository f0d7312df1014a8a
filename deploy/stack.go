package deploy

import (
	"context"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/isahit/s3grant/internal/awserr"
)

// describe returns the stack, or nil when it does not exist.
func (e *Engine) describe(ctx context.Context, name string) (*types.Stack, error) {
	var out *cloudformation.DescribeStacksOutput
	err := e.retryThrottled(ctx, func() (err error) {
		out, err = e.cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
		return err
	})
	if notExists(err) {
		return nil, nil
	}
	if err != nil {
		return nil, explain(err)
	}
	if len(out.Stacks) == 0 {
		return nil, nil
	}
	return &out.Stacks[0], nil
}

// retryThrottled runs call, retrying with backoff while the API keeps throttling after the
// SDK's own retries, at most e.maxThrottled times.
func (e *Engine) retryThrottled(ctx context.Context, call func() error) error {
	return awserr.Retry(ctx, awserr.Backoff{First: e.firstPoll, Max: 8 * e.maxPoll, Tries: e.maxThrottled},
		func(context.Context) error { return call() })
}

func inProgress(status types.StackStatus) bool {
	return strings.HasSuffix(string(status), "_IN_PROGRESS")
}

// busy reports a stack running an operation (a stack awaiting review is not running one).
func busy(status types.StackStatus) bool {
	return inProgress(status) && status != types.StackStatusReviewInProgress
}

// succeeded reports a final status in which the last operation did what was asked.
func succeeded(status types.StackStatus) bool {
	switch status {
	case types.StackStatusCreateComplete, types.StackStatusUpdateComplete, types.StackStatusImportComplete,
		types.StackStatusDeleteComplete:
		return true
	}
	return false
}

func outputsOf(s *types.Stack) []Output {
	var out []Output
	for _, o := range s.Outputs {
		out = append(out, Output{Key: aws.ToString(o.OutputKey), Value: aws.ToString(o.OutputValue),
			Description: aws.ToString(o.Description)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// result fills a Result from the stack's final state.
func result(s *types.Stack, outcome Outcome) *Result {
	return &Result{StackName: aws.ToString(s.StackName), StackID: aws.ToString(s.StackId), Outcome: outcome,
		Status: string(s.StackStatus), Outputs: outputsOf(s)}
}
