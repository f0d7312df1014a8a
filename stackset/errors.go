package stackset

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/isahit/s3grant/internal/awserr"
)

// ErrDeclined is returned when the user answers no; nothing changed.
var ErrDeclined = errors.New("declined: nothing changed")

// FailedError is a rollout or deletion in which an operation failed or an instance failed
// (an instance can fail within the failure tolerance while its operation succeeds). Later
// operations were not started.
type FailedError struct {
	Result *Result
	// Operation is the operation that failed, if any.
	Operation *OperationResult
}

func (e *FailedError) Error() string {
	failed := e.Result.Failed()
	var parts []string
	for _, i := range failed {
		if i.DetailedStatus == "CANCELLED" {
			continue
		}
		msg := i.Account + "/" + i.Region + ": " + i.DetailedStatus
		if i.Cause != nil {
			msg += ": " + i.Cause.LogicalID + ": " + i.Cause.Reason
		} else if i.Reason != "" {
			msg += ": " + i.Reason
		}
		parts = append(parts, msg)
	}
	head := fmt.Sprintf("stack set %s: %d of %d instances did not succeed", e.Result.StackSet, len(failed), len(e.Result.Instances))
	if e.Operation != nil && e.Operation.Status != "SUCCEEDED" {
		head = fmt.Sprintf("stack set %s: operation %s %s; %d of %d instances did not succeed", e.Result.StackSet,
			e.Operation.ID, e.Operation.Status, len(failed), len(e.Result.Instances))
	}
	if len(parts) == 0 {
		return head
	}
	return head + " (" + strings.Join(parts, "; ") + ")"
}

// InterruptedError is returned when the context is cancelled. When OperationID is set the
// operation goes on in CloudFormation and only the watching stopped: follow it again with
// Engine.Watch(ctx, StackSet, OperationID).
type InterruptedError struct {
	StackSet    string
	OperationID string
	Err         error
}

func (e *InterruptedError) Error() string {
	if e.OperationID != "" {
		return fmt.Sprintf("stopped watching stack set %s: operation %s goes on in CloudFormation", e.StackSet, e.OperationID)
	}
	return fmt.Sprintf("interrupted: no operation was started on stack set %s", e.StackSet)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// WatchError is a failure to follow a running operation (the API throttling for too long);
// the operation goes on.
type WatchError struct {
	StackSet, OperationID string
	Err                   error
}

func (e *WatchError) Error() string {
	return fmt.Sprintf("lost track of operation %s on stack set %s, which goes on in CloudFormation: %s", e.OperationID, e.StackSet, awserr.Message(e.Err))
}

func (e *WatchError) Unwrap() error { return e.Err }

// NotFoundError is a stack set that does not exist.
type NotFoundError struct{ StackSet string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("stack set %s does not exist", e.StackSet) }

// NotOursError is a stack set that s3grant did not create: it is never changed or deleted.
type NotOursError struct{ StackSet, Description string }

func (e *NotOursError) Error() string {
	return fmt.Sprintf("stack set %s was not created by s3grant (no %s tag; description %q); refusing to touch it", e.StackSet, MarkerTagKey, e.Description)
}

// PermissionModelError is an existing stack set whose permission model is not the one asked.
type PermissionModelError struct{ StackSet, Have, Want string }

func (e *PermissionModelError) Error() string {
	return fmt.Sprintf("stack set %s is %s, not %s: a stack set's permission model cannot change; use another stack set name", e.StackSet, e.Have, e.Want)
}

// BusyError is a stack set running an operation this engine did not start.
type BusyError struct{ StackSet, OperationID string }

func (e *BusyError) Error() string {
	return fmt.Sprintf("stack set %s is running operation %s; wait for it to end (follow it with its operation ID), then run again", e.StackSet, e.OperationID)
}

// call runs one API call with its own deadline, retrying with backoff while the API keeps
// throttling after the SDK's own retries.
func (e *Engine) call(ctx context.Context, fn func(ctx context.Context) error) error {
	return awserr.Retry(ctx, awserr.Backoff{First: e.firstPoll, Max: 8 * e.maxPoll, Tries: e.maxThrottled,
		CallTimeout: e.callTimeout}, fn)
}
