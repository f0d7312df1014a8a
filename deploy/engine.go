package deploy

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/google/uuid"

	"github.com/isahit/s3grant/stacks"
)

// Request is a deploy: the stack and what to put in it.
type Request struct {
	StackName string
	// TemplateBody is the JSON template, sent inline (at most MaxTemplateBody bytes) unless
	// TemplateURL is set. The engine reads it (parameters, capabilities, version) either way.
	TemplateBody []byte
	// TemplateURL is where the caller uploaded TemplateBody (an S3 HTTPS URL), for a template
	// over MaxTemplateBody bytes: CloudFormation then reads the template from there.
	TemplateURL string
	// VendorChanges are what the caller knows from the model the vendor must be told beyond
	// what parameter values say (stacks.BucketChanges: a bucket's access point removed or
	// renamed); the preview lists them with the others and they take the second yes.
	VendorChanges []stacks.VendorChange
	Parameters    map[string]string
	Tags          map[string]string
	// Description is the change set's description.
	Description string
	// DryRun stops after the preview and deletes the change set.
	DryRun bool
	// NoExecute stops after the preview and keeps the change set, for someone else to review
	// and execute (Outcome Kept).
	NoExecute bool
	// RoleARN is the CloudFormation service role the operation runs as; empty: the caller's
	// credentials (or the role the stack already has).
	RoleARN string
	// Vendor names the vendor in what the preview says it must be told.
	Vendor string
}

// Deploy creates or updates the stack through a change set: it creates the change set,
// reports the preview, asks for consent, executes it and follows the stack's events to the
// end. On an existing stack every template parameter not in req.Parameters keeps its current
// value (UsePreviousValue), so an update never silently resets one. A change that replaces a
// resource the vendor holds (stacks.VendorHeld) or stops accepting its external ID asks a
// second question (AskReplace) after AskExecute. "No changes" is a success (Outcome NoChanges). A failed operation returns a
// *FailedError holding the result and its root cause; a user's no returns ErrDeclined;
// Ctrl-C returns an *InterruptedError.
func (e *Engine) Deploy(ctx context.Context, req Request) (*Result, error) {
	if len(req.TemplateBody) > MaxTemplateBody && req.TemplateURL == "" {
		return nil, &TemplateTooLargeError{Size: len(req.TemplateBody)}
	}
	if _, err := RequiredCapabilities(req.TemplateBody, req.Parameters); err != nil {
		return nil, err // an unreadable template, before any call
	}
	s, err := e.ready(ctx, req.StackName, req.RoleARN)
	if err != nil {
		return nil, err
	}
	create := s == nil || s.StackStatus == types.StackStatusReviewInProgress
	keep, err := keptParameters(req, s, create)
	if err != nil {
		return nil, err
	}
	caps, err := RequiredCapabilities(req.TemplateBody, effectiveValues(req, s, keep))
	if err != nil {
		return nil, err
	}
	cs, d, err := e.createChangeSet(ctx, req, create, caps, keep)
	stackIsNew := s == nil
	if err != nil {
		return nil, e.abandon(ctx, cs, stackIsNew, req.StackName, err)
	}
	if d == nil {
		if err := e.discard(ctx, cs, stackIsNew); err != nil {
			return nil, err
		}
		return result(s, NoChanges), nil
	}
	p, err := e.preview(ctx, cs, d)
	if err != nil {
		return nil, e.abandon(ctx, cs, stackIsNew, req.StackName, err)
	}
	describeUpdate(p, req, s, d, create)
	e.observer.Preview(p)
	if req.DryRun {
		if err := e.discard(ctx, cs, stackIsNew); err != nil {
			return nil, err
		}
		return &Result{StackName: req.StackName, Outcome: DryRun, Preview: p, Status: statusOf(s)}, nil
	}
	if req.NoExecute {
		return &Result{StackName: req.StackName, StackID: cs.stackID, Outcome: Kept, Preview: p, Status: statusOf(s)}, nil
	}
	yes, err := e.confirm(ctx, Question{Kind: AskExecute, StackName: req.StackName, Status: statusOf(s), Preview: p})
	if err == nil && !yes {
		err = ErrDeclined
	}
	if err == nil && len(p.VendorChanges) > 0 {
		yes, err = e.confirm(ctx, Question{Kind: AskReplace, StackName: req.StackName, Status: statusOf(s), Preview: p})
		if err == nil && !yes {
			err = ErrDeclined
		}
	}
	if err != nil {
		return nil, e.abandon(ctx, cs, stackIsNew, req.StackName, err)
	}

	stopAt, err := e.newestEventID(ctx, cs.stackID)
	if err != nil {
		return nil, e.abandon(ctx, cs, stackIsNew, req.StackName, explain(err))
	}
	token := "s3grant-" + uuid.NewString()
	e.observer.Phase(PhaseExecuting, req.StackName)
	err = e.retryThrottled(ctx, func() error {
		_, err := e.cfn.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{
			ChangeSetName: aws.String(cs.id), ClientRequestToken: aws.String(token)})
		return err
	})
	if err != nil {
		return nil, e.abandon(ctx, cs, stackIsNew, req.StackName, explain(err))
	}
	w := newWatcher(cs.stackID, token, stopAt, len(p.Changes))
	final, err := e.follow(ctx, w)
	if err != nil {
		return nil, e.stopped(ctx, req.StackName, err)
	}
	outcome := Updated
	if create {
		outcome = Created
	}
	r := finish(final, w, outcome)
	r.Preview = p
	if !succeeded(final.StackStatus) {
		return r, &FailedError{Result: r}
	}
	return r, nil
}

func statusOf(s *types.Stack) string {
	if s == nil {
		return ""
	}
	return string(s.StackStatus)
}

// abandon deletes what the deploy prepared and returns why it stopped: the interruption, the
// refusal or the error, joined with any failure to clean up.
func (e *Engine) abandon(ctx context.Context, cs *changeSet, stackIsNew bool, stackName string, cause error) error {
	if interrupted(ctx) && !errors.Is(cause, ErrDeclined) {
		cause = &InterruptedError{StackName: stackName, Err: ctx.Err()}
	}
	return errors.Join(cause, e.discard(ctx, cs, stackIsNew))
}

// stopped explains an error while following a running operation: the operation goes on in
// CloudFormation without us, so the caller can tell the user how to resume watching.
func (e *Engine) stopped(ctx context.Context, stackName string, err error) error {
	status := "in progress"
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*e.maxPoll)
	defer cancel()
	if s, derr := e.describe(bg, stackName); derr == nil && s != nil {
		status = string(s.StackStatus)
	}
	if interrupted(ctx) {
		return &InterruptedError{StackName: stackName, Status: status, Running: true, Err: ctx.Err()}
	}
	return &WatchError{StackName: stackName, Status: status, Err: err}
}

// ready returns the stack in a state where a change set can be made (nil when it does not
// exist). A busy stack is waited for with consent; a failed first create (ROLLBACK_COMPLETE)
// is deleted with consent; a stack stuck in a failed state is an error.
func (e *Engine) ready(ctx context.Context, name, roleARN string) (*types.Stack, error) {
	for {
		s, err := e.describe(ctx, name)
		if err != nil || s == nil {
			return s, err
		}
		switch {
		case busy(s.StackStatus):
			if err := e.waitBusy(ctx, s); err != nil {
				return nil, err
			}
		case s.StackStatus == types.StackStatusRollbackComplete:
			if err := e.replaceFailed(ctx, s, roleARN); err != nil {
				return nil, err
			}
		case s.StackStatus == types.StackStatusReviewInProgress:
			return s, nil
		case !succeeded(s.StackStatus) && s.StackStatus != types.StackStatusUpdateRollbackComplete:
			return nil, &StateError{StackName: name, Status: string(s.StackStatus), Reason: aws.ToString(s.StackStatusReason)}
		default:
			return s, nil
		}
	}
}

// waitBusy asks whether to wait for the stack's running operation, and follows it to its end.
func (e *Engine) waitBusy(ctx context.Context, s *types.Stack) error {
	name, status := aws.ToString(s.StackName), string(s.StackStatus)
	yes, err := e.confirm(ctx, Question{Kind: AskWaitBusy, StackName: name, Status: status})
	if err != nil {
		return &InterruptedError{StackName: name, Err: err}
	}
	if !yes {
		return &BusyError{StackName: name, Status: status}
	}
	e.observer.Phase(PhaseWaitingForStack, name)
	w, err := e.runningSince(ctx, aws.ToString(s.StackId))
	if err != nil {
		return err
	}
	if _, err := e.follow(ctx, w); err != nil {
		return e.stopped(ctx, name, err)
	}
	return nil
}

// runningSince returns a watcher for the operation running on the stack: the newest event's
// token names it.
func (e *Engine) runningSince(ctx context.Context, stackID string) (*watcher, error) {
	var out *cloudformation.DescribeStackEventsOutput
	err := e.retryThrottled(ctx, func() (err error) {
		out, err = e.cfn.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(stackID)})
		return err
	})
	if err != nil {
		return nil, explain(err)
	}
	token := ""
	if len(out.StackEvents) > 0 {
		token = aws.ToString(out.StackEvents[0].ClientRequestToken)
	}
	return newWatcher(stackID, token, "", 0), nil
}

// replaceFailed explains a stack whose first create failed and, with consent, deletes it so
// it can be created again. Nothing of the stack remains in ROLLBACK_COMPLETE: deleting it
// deletes no resource.
func (e *Engine) replaceFailed(ctx context.Context, s *types.Stack, roleARN string) error {
	name, id := aws.ToString(s.StackName), aws.ToString(s.StackId)
	w, err := e.runningSince(ctx, id)
	if err != nil {
		return err
	}
	events, err := e.poll(ctx, w)
	if err != nil {
		return explain(err)
	}
	for _, ev := range events {
		w.record(ev)
	}
	reason := aws.ToString(s.StackStatusReason)
	if w.cause != nil {
		reason = w.cause.LogicalID + ": " + w.cause.Reason
	}
	yes, err := e.confirm(ctx, Question{Kind: AskReplaceFailed, StackName: name, Status: string(s.StackStatus), Reason: reason})
	if err != nil {
		return &InterruptedError{StackName: name, Err: err}
	}
	if !yes {
		return &StateError{StackName: name, Status: string(s.StackStatus), Reason: reason}
	}
	e.observer.Phase(PhaseDeletingFailedStack, name)
	r, err := e.deleteAndFollow(ctx, s, 0, roleARN)
	if err != nil {
		return err
	}
	if r.Status != string(types.StackStatusDeleteComplete) {
		return &StateError{StackName: name, Status: r.Status, Reason: r.Reason}
	}
	return nil
}

// deleteAndFollow deletes the stack and follows the deletion to its end.
func (e *Engine) deleteAndFollow(ctx context.Context, s *types.Stack, total int, roleARN string) (*Result, error) {
	id := aws.ToString(s.StackId)
	stopAt, err := e.newestEventID(ctx, id)
	if err != nil {
		return nil, explain(err)
	}
	token := "s3grant-" + uuid.NewString()
	err = e.retryThrottled(ctx, func() error {
		_, err := e.cfn.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String(id), ClientRequestToken: aws.String(token),
			RoleARN: optional(roleARN)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("deleting stack %s: %w", aws.ToString(s.StackName), explain(err))
	}
	w := newWatcher(id, token, stopAt, total)
	final, err := e.follow(ctx, w)
	if err != nil {
		return nil, e.stopped(ctx, aws.ToString(s.StackName), err)
	}
	return finish(final, w, Deleted), nil
}
