// Package stackset rolls one integration out to many accounts and regions with
// CloudFormation StackSets, AWS's own engine for that, with the care deploy takes for one
// stack: it creates or updates the stack set from a template and parameters, adds or updates
// instances per target with per-account parameter overrides, runs every operation with
// preferences that stop a rollout at its first failure, streams per-instance progress,
// explains each failed instance by its root cause, and deletes instances before the set. It
// never touches a stack set it did not create (a marker tag), and Ctrl-C stops the watching,
// never the operation.
//
// The template and the per-instance parameters are inputs: which resources are global (once
// per account) and which regional is the template's business.
//
// The package never prints: progress goes to an Observer and questions to a ConfirmFunc.
package stackset

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// MarkerTagKey and MarkerTagValue tag every stack set this package creates; a stack set
// without the tag is refused. StackSets copies the set's tags to every instance's stack.
const (
	MarkerTagKey   = "s3grant:managed-by"
	MarkerTagValue = "s3grant"
)

// MaxOrgUnitsPerCall is how many organizational units one CreateStackInstances,
// UpdateStackInstances or DeleteStackInstances call may name (CloudFormation API reference).
const MaxOrgUnitsPerCall = 50

// AWS's default roles for self-managed permissions.
const (
	DefaultAdministrationRole = "AWSCloudFormationStackSetAdministrationRole"
	DefaultExecutionRoleName  = "AWSCloudFormationStackSetExecutionRole"
)

// Engine runs stack set operations through a CloudFormation client of the administrator
// account (or delegated administrator).
type Engine struct {
	cfn                *cloudformation.Client
	observer           Observer
	confirm            ConfirmFunc
	reader             StackReaderFunc
	firstPoll, maxPoll time.Duration
	callTimeout        time.Duration
	maxThrottled       int
}

// Option configures an Engine.
type Option func(*Engine)

// ConfirmFunc asks the user a question and returns the answer; an error (such as the
// context's) means the user interrupted instead of answering.
type ConfirmFunc func(ctx context.Context, q Question) (bool, error)

// StackEventsReader reads a stack's events: a CloudFormation client in the instance's
// account and region.
type StackEventsReader interface {
	DescribeStackEvents(ctx context.Context, in *cloudformation.DescribeStackEventsInput, opts ...func(*cloudformation.Options)) (*cloudformation.DescribeStackEventsOutput, error)
}

// StackReaderFunc returns a reader of the stacks in account and region, or nil when the
// caller has no access there (the root cause then comes from the instance's status reason).
type StackReaderFunc func(ctx context.Context, account, region string) (StackEventsReader, error)

// WithObserver sets who is told about progress.
func WithObserver(o Observer) Option { return func(e *Engine) { e.observer = o } }

// WithConfirm sets how the engine asks for consent (deleting). Without it every answer is no.
func WithConfirm(f ConfirmFunc) Option { return func(e *Engine) { e.confirm = f } }

// WithStackReader lets the engine read failed instances' stack events in their accounts,
// for the root cause.
func WithStackReader(f StackReaderFunc) Option { return func(e *Engine) { e.reader = f } }

// WithPolling sets the first and longest intervals between polls of a running operation
// (default 2 s and 10 s: StackSets operations take minutes).
func WithPolling(first, max time.Duration) Option {
	return func(e *Engine) { e.firstPoll, e.maxPoll = first, max }
}

// WithCallTimeout sets the deadline of each API call (default 30 s).
func WithCallTimeout(d time.Duration) Option { return func(e *Engine) { e.callTimeout = d } }

// New returns an engine that calls CloudFormation through cfn.
func New(cfn *cloudformation.Client, opts ...Option) *Engine {
	e := &Engine{cfn: cfn, observer: nopObserver{}, firstPoll: 2 * time.Second, maxPoll: 10 * time.Second,
		callTimeout: 30 * time.Second, maxThrottled: 8}
	e.confirm = func(context.Context, Question) (bool, error) { return false, nil }
	for _, o := range opts {
		o(e)
	}
	return e
}

// Observer is told what the engine does, from the goroutine that called it, in order.
type Observer interface {
	// Phase reports a step, such as creating the stack set.
	Phase(p Phase, stackSet string)
	// Operation reports an operation that started (or that is being followed again).
	Operation(op Operation)
	// Instance reports a change of one instance's result in the operation being watched.
	Instance(ev InstanceEvent)
}

type nopObserver struct{}

func (nopObserver) Phase(Phase, string)    {}
func (nopObserver) Operation(Operation)    {}
func (nopObserver) Instance(InstanceEvent) {}

// Phase is a step of the engine's work.
type Phase int

// The steps reported.
const (
	PhaseCreatingStackSet Phase = iota
	PhaseUpdatingStackSet
	PhaseCreatingInstances
	PhaseUpdatingInstances
	PhaseDeletingInstances
	PhaseDeletingStackSet
	PhaseUpToDate
)

// String describes the phase in a few words.
func (p Phase) String() string {
	switch p {
	case PhaseCreatingStackSet:
		return "creating stack set"
	case PhaseUpdatingStackSet:
		return "updating stack set and its instances"
	case PhaseCreatingInstances:
		return "creating stack instances"
	case PhaseUpdatingInstances:
		return "updating stack instances"
	case PhaseDeletingInstances:
		return "deleting stack instances"
	case PhaseDeletingStackSet:
		return "deleting stack set"
	case PhaseUpToDate:
		return "stack set and instances up to date"
	}
	return "unknown phase"
}

// Operation is a stack set operation: what it does and to how many instances.
type Operation struct {
	ID       string
	StackSet string
	// Action is CREATE, UPDATE or DELETE.
	Action string
	// Accounts, OrgUnits and Regions are what the call named (empty for UpdateStackSet,
	// which covers every instance).
	Accounts, OrgUnits, Regions []string
	Overrides                   map[string]string
}

// InstanceEvent is a change in one instance's result within an operation.
type InstanceEvent struct {
	Time        time.Time
	OperationID string
	Account     string
	Region      string
	OrgUnit     string
	// Status is PENDING, RUNNING, SUCCEEDED, FAILED or CANCELLED.
	Status string
	Reason string
	// Done counts the instances of the operation that ended; Total is how many it has.
	Done, Total int
}

// QuestionKind says what the engine asks consent for.
type QuestionKind int

// The questions asked.
const (
	// AskDelete: delete every instance (and its stack) in Question.Instances, then the set?
	AskDelete QuestionKind = iota
)

// Question is what the engine asks.
type Question struct {
	Kind      QuestionKind
	StackSet  string
	Instances []Instance
}

// Permissions is the stack set's permission model.
type Permissions struct {
	// ServiceManaged uses AWS Organizations (targets are OUs); otherwise self-managed, with
	// the administration role and the execution role in each target account.
	ServiceManaged bool
	// AdministrationRoleARN and ExecutionRoleName (self-managed) default to AWS's roles.
	AdministrationRoleARN string
	ExecutionRoleName     string
	// AutoDeployment (service-managed) deploys to accounts added to the target OUs later;
	// RetainStacksOnAccountRemoval keeps an account's stack when it leaves them.
	AutoDeployment               bool
	RetainStacksOnAccountRemoval bool
}

// Target is one instance (self-managed: an account) or a group of them (service-managed: an
// OU) in a region, with the parameter values that differ from the set's.
type Target struct {
	Account   string
	OrgUnit   string
	Region    string
	Overrides map[string]string
}

// Preferences are the operation preferences. The zero value is the safe default: one account
// at a time, no failure tolerated, one region after the other in RegionOrder (then in the
// order the targets name them), so the first failure stops the rollout before it reaches
// another account or region.
type Preferences struct {
	// MaxConcurrent is how many accounts per region run at once (default 1). In AWS's
	// default STRICT_FAILURE_TOLERANCE mode it is capped at FailureTolerance+1.
	MaxConcurrent int
	// MaxConcurrentPercent, when set, replaces MaxConcurrent (1-100).
	MaxConcurrentPercent int
	// FailureTolerance is how many accounts per region may fail before the operation stops
	// (default 0).
	FailureTolerance int
	// FailureTolerancePercent, when set, replaces FailureTolerance (1-100).
	FailureTolerancePercent int
	// RegionOrder is the order of the regions; regions not named come after, in target order.
	RegionOrder []string
	// ParallelRegions runs all regions at once (RegionConcurrencyType PARALLEL).
	ParallelRegions bool
}

// Instance is one stack instance as the stack set reports it.
type Instance struct {
	Account, Region, OrgUnit string
	StackID                  string
	// Status is CURRENT, OUTDATED or INOPERABLE; DetailedStatus PENDING, RUNNING, SUCCEEDED,
	// FAILED, CANCELLED or INOPERABLE.
	Status, DetailedStatus, Reason string
	// DriftStatus is DRIFTED, IN_SYNC, UNKNOWN or NOT_CHECKED.
	DriftStatus     string
	LastOperationID string
	// Cause is the root cause of a failed instance.
	Cause *Cause
}

// Failed reports whether the instance's last operation failed or was cancelled.
func (i Instance) Failed() bool {
	return i.DetailedStatus == "FAILED" || i.DetailedStatus == "CANCELLED" || i.Status == "INOPERABLE"
}

// Cause is why an instance failed: the first resource that failed in its stack.
type Cause struct {
	LogicalID, ResourceType, Reason string
	// FromEvents is true when the cause was read from the stack's events (rather than from
	// the instance's status reason).
	FromEvents bool
}

// OperationResult is how an operation ended.
type OperationResult struct {
	Operation
	// Status is SUCCEEDED, FAILED, STOPPED (or RUNNING, QUEUED when not followed to its end).
	Status string
	Reason string
	// Results holds each instance's last event in the operation.
	Results []InstanceEvent
}

// Result is what Deploy or Delete did.
type Result struct {
	StackSet   string
	StackSetID string
	// Created is true when the stack set was created by this run.
	Created    bool
	Operations []OperationResult
	// Instances is every instance of the targets after the run, failed ones with their cause.
	Instances []Instance
	// Untargeted are instances of the set that no target names: left as they are.
	Untargeted []Instance
}

// Failed returns the instances whose last operation failed or was cancelled.
func (r *Result) Failed() []Instance {
	var out []Instance
	for _, i := range r.Instances {
		if i.Failed() {
			out = append(out, i)
		}
	}
	return out
}
