package deploy

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/isahit/s3grant/internal/awserr"
)

// watcher follows the events of one stack operation. An event belongs to the operation when
// it carries the operation's client request token; endpoints that do not record tokens are
// followed back to stopAt (the newest event before the operation) or to the operation's
// "User Initiated" stack event.
type watcher struct {
	stackID string
	token   string
	stopAt  string
	seen    map[string]bool
	done    map[string]bool
	total   int
	// first failure that is not a cancellation: the root cause.
	cause *Event
}

func newWatcher(stackID, token, stopAt string, total int) *watcher {
	return &watcher{stackID: stackID, token: token, stopAt: stopAt, total: total,
		seen: map[string]bool{}, done: map[string]bool{}}
}

// newestEventID returns the ID of the stack's newest event ("" when it has none).
func (e *Engine) newestEventID(ctx context.Context, stackID string) (string, error) {
	var out *cloudformation.DescribeStackEventsOutput
	err := e.retryThrottled(ctx, func() (err error) {
		out, err = e.cfn.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(stackID)})
		return err
	})
	if err != nil || len(out.StackEvents) == 0 {
		return "", err
	}
	return aws.ToString(out.StackEvents[0].EventId), nil
}

// poll returns the operation's events not reported yet, oldest first. It reads pages newest
// first and stops at the first event already seen or older than the operation.
func (e *Engine) poll(ctx context.Context, w *watcher) ([]types.StackEvent, error) {
	var fresh []types.StackEvent
	in := &cloudformation.DescribeStackEventsInput{StackName: aws.String(w.stackID)}
	for {
		out, err := e.cfn.DescribeStackEvents(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, ev := range out.StackEvents {
			id := aws.ToString(ev.EventId)
			if w.seen[id] || id == w.stopAt {
				return reversed(fresh), nil
			}
			if tok := aws.ToString(ev.ClientRequestToken); tok != "" && w.token != "" && tok != w.token {
				return reversed(fresh), nil
			}
			fresh = append(fresh, ev)
			if aws.ToString(ev.PhysicalResourceId) == w.stackID && aws.ToString(ev.ResourceStatusReason) == "User Initiated" {
				return reversed(fresh), nil
			}
		}
		if out.NextToken == nil {
			return reversed(fresh), nil
		}
		in.NextToken = out.NextToken
	}
}

func reversed(s []types.StackEvent) []types.StackEvent {
	slices.Reverse(s)
	return s
}

var cancelled = []string{"Resource creation cancelled", "Resource update cancelled", "Resource deletion cancelled"}

// record updates the progress with one event and returns it as an Event.
func (w *watcher) record(ev types.StackEvent) Event {
	w.seen[aws.ToString(ev.EventId)] = true
	out := Event{Time: aws.ToTime(ev.Timestamp), LogicalID: aws.ToString(ev.LogicalResourceId),
		PhysicalID: aws.ToString(ev.PhysicalResourceId), ResourceType: aws.ToString(ev.ResourceType),
		Status: string(ev.ResourceStatus), Reason: aws.ToString(ev.ResourceStatusReason),
		Stack: aws.ToString(ev.ResourceType) == "AWS::CloudFormation::Stack" && aws.ToString(ev.PhysicalResourceId) == w.stackID}
	// Done counts the resources the operation completed going forward; a rollback undoes them.
	if !out.Stack && w.cause == nil && strings.HasSuffix(out.Status, "_COMPLETE") && (w.total == 0 || len(w.done) < w.total) {
		w.done[out.LogicalID] = true
	}
	if w.cause == nil && strings.HasSuffix(out.Status, "_FAILED") && !slices.Contains(cancelled, out.Reason) {
		c := out
		w.cause = &c
	}
	out.Done, out.Total = len(w.done), w.total
	return out
}

// follow reports the operation's events until the stack reaches a final status and returns
// the stack. It polls every e.firstPoll while events arrive and backs off to e.maxPoll while
// nothing happens. The stack's own final event ends the wait; DescribeStacks is called then
// (and every few polls, for endpoints without stack events) to confirm it and read outputs.
func (e *Engine) follow(ctx context.Context, w *watcher) (*types.Stack, error) {
	delay := e.firstPoll
	streak := 0 // consecutive throttled polls
	sinceDescribe := 0
	for {
		if err := awserr.Sleep(ctx, delay); err != nil {
			return nil, err
		}
		events, err := e.poll(ctx, w)
		if awserr.Throttled(err) && streak < e.maxThrottled {
			streak++
			delay = min(delay*2, 8*e.maxPoll)
			continue
		}
		if err != nil {
			return nil, explain(err)
		}
		streak = 0
		final := false
		for _, ev := range events {
			out := w.record(ev)
			e.observer.Event(out)
			if out.Stack && !inProgress(types.StackStatus(out.Status)) {
				final = true
			}
		}
		sinceDescribe++
		if final || sinceDescribe >= 10 {
			sinceDescribe = 0
			s, err := e.describe(ctx, w.stackID)
			if err != nil {
				return nil, err
			}
			if s == nil {
				return nil, &NotFoundError{StackName: w.stackID}
			}
			if !inProgress(s.StackStatus) {
				return s, nil
			}
		}
		if len(events) > 0 {
			delay = e.firstPoll
		} else {
			delay = min(delay*3/2, e.maxPoll)
		}
	}
}

// finish builds the result of a watched operation, with the root cause of a failure.
func finish(s *types.Stack, w *watcher, outcome Outcome) *Result {
	r := result(s, outcome)
	r.Done, r.Total = len(w.done), w.total
	if !succeeded(s.StackStatus) {
		if w.cause != nil {
			r.Reason, r.FailedResource = w.cause.Reason, w.cause.LogicalID
		} else {
			r.Reason = aws.ToString(s.StackStatusReason)
		}
	}
	return r
}
