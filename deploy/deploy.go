// Package deploy creates, updates, watches and deletes the integration's CloudFormation
// stack with the care a cloud admin expects: every change goes through a change set that is
// previewed and consented to, progress is reported event by event, failures come with their
// root cause, a failed first create is replaced only with consent, a busy stack is never
// given a second operation, and nothing but the stack itself is ever deleted.
//
// The package never prints: it reports progress to an Observer and asks questions through a
// Confirm function, so the CLI decides how things look.
package deploy

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/isahit/s3grant/stacks"
)

// MaxTemplateBody is CloudFormation's limit for a template sent inline (TemplateBody), in bytes.
const MaxTemplateBody = 51200

// Engine runs stack operations through a CloudFormation client.
type Engine struct {
	cfn                *cloudformation.Client
	observer           Observer
	confirm            ConfirmFunc
	firstPoll, maxPoll time.Duration
	maxThrottled       int
}

// Option configures an Engine.
type Option func(*Engine)

// ConfirmFunc asks the user a question and returns the answer. It returns an error (such as
// the context's) when the user interrupts instead of answering.
type ConfirmFunc func(ctx context.Context, q Question) (bool, error)

// WithObserver sets who is told about progress (phases, the preview, stack events).
func WithObserver(o Observer) Option { return func(e *Engine) { e.observer = o } }

// WithConfirm sets how the engine asks for consent. Without it every answer is no.
func WithConfirm(f ConfirmFunc) Option { return func(e *Engine) { e.confirm = f } }

// WithPolling sets the wait loop's first and longest intervals between polls (default 1 s and
// 3 s): it polls at first every first, backs off while nothing happens, and returns to first
// as soon as events arrive, so the end of an operation is seen quickly without hammering the
// API.
func WithPolling(first, max time.Duration) Option {
	return func(e *Engine) { e.firstPoll, e.maxPoll = first, max }
}

// New returns an engine that calls CloudFormation through cfn.
func New(cfn *cloudformation.Client, opts ...Option) *Engine {
	e := &Engine{cfn: cfn, observer: nopObserver{}, firstPoll: time.Second, maxPoll: 3 * time.Second, maxThrottled: 8}
	e.confirm = func(context.Context, Question) (bool, error) { return false, nil }
	for _, o := range opts {
		o(e)
	}
	return e
}

// Observer is told what the engine is doing. Its methods are called from the goroutine that
// called the engine, in order.
type Observer interface {
	// Phase reports a step of the operation, such as creating the change set.
	Phase(p Phase, stackName string)
	// Preview reports the change set, before any question about it is asked.
	Preview(p *Preview)
	// Event reports one stack event of the operation being watched, oldest first.
	Event(e Event)
}

type nopObserver struct{}

func (nopObserver) Phase(Phase, string) {}
func (nopObserver) Preview(*Preview)    {}
func (nopObserver) Event(Event)         {}

// Phase is a step of an operation.
type Phase int

// The steps the engine reports.
const (
	PhaseCreatingChangeSet Phase = iota
	PhaseDeletingChangeSet
	PhaseExecuting
	PhaseWaitingForStack
	PhaseDeletingFailedStack
	PhaseDeletingStack
)

// String describes the phase in a few words.
func (p Phase) String() string {
	switch p {
	case PhaseCreatingChangeSet:
		return "creating change set"
	case PhaseDeletingChangeSet:
		return "deleting change set"
	case PhaseExecuting:
		return "executing change set"
	case PhaseWaitingForStack:
		return "waiting for the running operation to finish"
	case PhaseDeletingFailedStack:
		return "deleting the failed stack"
	case PhaseDeletingStack:
		return "deleting stack"
	}
	return "unknown phase"
}

// Event is one stack event, with the progress of the operation it belongs to.
type Event struct {
	Time         time.Time
	LogicalID    string
	PhysicalID   string
	ResourceType string
	Status       string
	Reason       string
	// Stack is true for the events of the stack itself (rather than of one resource).
	Stack bool
	// Done is how many resources have completed so far; Total is how many the change set
	// touches (0 when unknown, e.g. when watching an operation started elsewhere).
	Done, Total int
}

// QuestionKind says what the engine asks consent for.
type QuestionKind int

// The questions the engine asks.
const (
	// AskExecute: execute the change set in Question.Preview?
	AskExecute QuestionKind = iota
	// AskReplaceFailed: the stack is in ROLLBACK_COMPLETE (its first create failed, nothing
	// of it remains); delete it and create it again?
	AskReplaceFailed
	// AskWaitBusy: another operation is running on the stack; wait for it to finish?
	AskWaitBusy
	// AskDelete: delete the stack and the resources in Question.Resources?
	AskDelete
	// AskReplace: asked after AskExecute when the change set replaces what the vendor holds or
	// stops accepting its external ID (Question.Preview.VendorChanges): execute it anyway?
	AskReplace
)

// Question is what the engine asks the user.
type Question struct {
	Kind      QuestionKind
	StackName string
	Status    string
	// Reason explains the stack's state: the root cause of a failed create.
	Reason    string
	Preview   *Preview
	Resources []Resource
}

// Resource is one resource of a stack.
type Resource struct {
	LogicalID, PhysicalID, Type, Status string
}

// Preview is a change set as the user reviews it.
type Preview struct {
	StackName     string
	ChangeSetName string
	ChangeSetID   string
	// Create is true for a new stack, false for an update.
	Create bool
	// Capabilities are the IAM acknowledgements the change set was created with.
	Capabilities []string
	Changes      []Change
	// Parameters are the parameters whose value changes, by name (none on a create).
	Parameters []ParameterChange
	// OldVersion and NewVersion are the template versions of the stack and of the change set
	// (stacks.VersionOf; "" when a description does not name one).
	OldVersion, NewVersion string
	// OldValues and NewValues are every parameter value before (nil on a create) and after.
	OldValues, NewValues map[string]string
	// VendorChanges is what the vendor must be told: resources it holds replaced, the
	// integration moved, its external ID no longer accepted. Known from the model and from the
	// change set's Replacement field.
	VendorChanges []stacks.VendorChange
}

// ParameterChange is one parameter whose value a change set changes.
type ParameterChange struct {
	Name string `json:"name"`
	Old  string `json:"old"`
	New  string `json:"new"`
}

// Change is what a change set does to one resource.
type Change struct {
	// Action is Add, Modify, Remove, Import or Dynamic.
	Action       string `json:"action"`
	LogicalID    string `json:"logicalId"`
	PhysicalID   string `json:"physicalId,omitempty"`
	ResourceType string `json:"resourceType"`
	// Replacement is True, False or Conditional for a Modify: whether the resource is
	// replaced (a new physical resource, the old one deleted).
	Replacement string `json:"replacement,omitempty"`
	// Properties names the properties that change.
	Properties []string `json:"properties,omitempty"`
}

// Output is one stack output.
type Output struct {
	Key, Value, Description string
}

// Outcome is what an operation did.
type Outcome int

// Outcomes.
const (
	Created Outcome = iota + 1
	Updated
	NoChanges
	DryRun
	Deleted
	Watched
	// Kept: the change set was created and kept for review (Request.NoExecute).
	Kept
	// Described: the stack was only described (status without a running operation to watch).
	Described
)

// String names the outcome.
func (o Outcome) String() string {
	return [...]string{"", "created", "updated", "up to date", "dry run", "deleted", "watched", "change set kept", "described"}[o]
}

// Result is what an operation ends with.
type Result struct {
	StackName string
	StackID   string
	Outcome   Outcome
	// Status is the stack's final status.
	Status  string
	Preview *Preview
	Outputs []Output
	// Done and Total count the resources completed and touched by the operation.
	Done, Total int
	// Reason is the root cause of a failure: the first failed resource's status reason.
	Reason string
	// FailedResource is the logical ID of that resource.
	FailedResource string
	// Removed are the outputs the stack had before Delete removed it: what the vendor held and
	// must now forget.
	Removed []Output
	// Parameters are the stack's parameter values (Status).
	Parameters map[string]string
}

// Failed reports whether the stack's last operation failed (a rollback, a *_FAILED status).
func (r *Result) Failed() bool {
	return !succeeded(types.StackStatus(r.Status)) && !inProgress(types.StackStatus(r.Status)) &&
		r.Status != string(types.StackStatusReviewInProgress)
}
