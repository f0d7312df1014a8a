package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/isahit/s3grant/internal/awserr"
)

// ErrDeclined is returned when the user answers no: whatever the engine had prepared (a
// change set, an empty stack awaiting review) was deleted and nothing changed.
var ErrDeclined = errors.New("declined: nothing changed")

// FailedError is an operation that ran and failed; the stack rolled back (or is stuck).
type FailedError struct {
	Result *Result
}

func (e *FailedError) Error() string {
	r := e.Result
	if r.Reason == "" {
		return fmt.Sprintf("stack %s failed: %s", r.StackName, r.Status)
	}
	return fmt.Sprintf("stack %s failed: %s: %s (final status %s)", r.StackName, r.FailedResource, r.Reason, r.Status)
}

// InterruptedError is returned when the context is cancelled (Ctrl-C). When Running is true
// the stack operation goes on in CloudFormation and only the watching stopped; otherwise
// nothing was changed (the change set, if any, was deleted).
type InterruptedError struct {
	StackName string
	Status    string
	Running   bool
	Err       error
}

func (e *InterruptedError) Error() string {
	if e.Running {
		return fmt.Sprintf("stopped watching stack %s (%s): the operation goes on in CloudFormation", e.StackName, e.Status)
	}
	return fmt.Sprintf("interrupted: nothing changed on stack %s", e.StackName)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// WatchError is a failure to follow a running operation (such as the API throttling for
// too long); the operation goes on in CloudFormation.
type WatchError struct {
	StackName, Status string
	Err               error
}

func (e *WatchError) Error() string {
	return fmt.Sprintf("lost track of stack %s (%s), whose operation goes on in CloudFormation: %s", e.StackName, e.Status, awserr.Message(e.Err))
}

func (e *WatchError) Unwrap() error { return e.Err }

// BusyError is a stack running another operation, which the user chose not to wait for.
type BusyError struct {
	StackName, Status string
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("stack %s is busy (%s); run again when it finishes, or follow it with s3grant status --watch", e.StackName, e.Status)
}

// StateError is a stack in a state the engine cannot work from (such as DELETE_FAILED or
// UPDATE_ROLLBACK_FAILED), which needs a person to look at it.
type StateError struct {
	StackName, Status, Reason string
}

func (e *StateError) Error() string {
	msg := fmt.Sprintf("stack %s is in %s", e.StackName, e.Status)
	if e.Reason != "" {
		msg += " (" + e.Reason + ")"
	}
	switch {
	case e.Status == "ROLLBACK_COMPLETE":
		return msg + ": its first create failed and nothing of it remains; delete it (s3grant delete) and deploy again"
	case strings.HasSuffix(e.Status, "ROLLBACK_FAILED"):
		return msg + ": continue the rollback in the CloudFormation console, then run again"
	default:
		return msg + ": fix it in the CloudFormation console, then run again"
	}
}

// NotFoundError is a stack that does not exist.
type NotFoundError struct{ StackName string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("stack %s does not exist", e.StackName) }

// NotOursError is a stack that s3grant did not create, which it refuses to delete.
type NotOursError struct{ StackName, Description string }

func (e *NotOursError) Error() string {
	return fmt.Sprintf("stack %s was not created by s3grant (its description is %q); refusing to delete it", e.StackName, e.Description)
}

// ChangeSetError is a change set CloudFormation could not create, such as a template error.
type ChangeSetError struct{ StackName, Reason string }

func (e *ChangeSetError) Error() string {
	return fmt.Sprintf("CloudFormation refused the change set for stack %s: %s", e.StackName, e.Reason)
}

// TemplateTooLargeError is a template over CloudFormation's inline limit.
type TemplateTooLargeError struct{ Size int }

func (e *TemplateTooLargeError) Error() string {
	return fmt.Sprintf("the template is %d bytes; CloudFormation accepts at most %d bytes inline: send it through S3 (Request.TemplateURL)", e.Size, MaxTemplateBody)
}

// CredentialsError is AWS refusing who the caller is or what they may do.
type CredentialsError struct{ Err error }

func (e *CredentialsError) Error() string {
	return "AWS refused the credentials: " + awserr.Message(e.Err)
}

func (e *CredentialsError) Unwrap() error { return e.Err }

var credentialCodes = map[string]bool{
	"InvalidClientTokenId": true, "ExpiredToken": true, "ExpiredTokenException": true,
	"UnrecognizedClientException": true, "SignatureDoesNotMatch": true, "InvalidAccessKeyId": true,
	"RequestExpired": true,
}

// explain turns credential failures into a *CredentialsError and leaves other errors alone.
func explain(err error) error {
	if credentialCodes[awserr.Code(err)] {
		return &CredentialsError{Err: err}
	}
	return err
}

// notExists reports whether err is CloudFormation saying the stack does not exist.
func notExists(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" &&
		strings.HasSuffix(ae.ErrorMessage(), "does not exist")
}

func interrupted(ctx context.Context) bool { return ctx.Err() != nil }
