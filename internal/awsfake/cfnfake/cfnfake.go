// Package cfnfake is an in-process fake of the CloudFormation API for tests: an HTTP server
// speaking the Query protocol that real aws-sdk-go-v2 clients talk to. It models stacks and
// change sets with their real state machines, stack events (newest first, paginated),
// outputs, per-resource delays, a named resource failing and the rollback that follows,
// busy stacks, "no changes" change sets, throttling and rejected credentials.
//
// Time is real: operations are scheduled when they start and their events appear as the
// clock passes them, so tests use short delays and benchmarks realistic ones.
package cfnfake

import (
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
)

// Namespace is the XML namespace of CloudFormation responses.
const Namespace = "http://cloudformation.amazonaws.com/doc/2010-05-15/"

// NoChangesReason is the status reason of a change set that would change nothing.
const NoChangesReason = "The submitted information didn't contain changes. Submit different information to create a change set."

// Fake is the fake CloudFormation service. Its embedded Service records calls and injects
// throttling and credential errors.
type Fake struct {
	*awsquery.Service

	mu       sync.Mutex
	now      func() time.Time
	account  string
	callers  map[string]string // access key -> account (WithCallers)
	pageSize int
	csDelay  time.Duration
	delay    time.Duration
	delays   map[string]time.Duration // by logical ID or resource type
	failures map[string]string        // logical ID -> reason of its next create or update
	seq      int
	stacks   []*stack
	sets     stackSets // the StackSets side (stackset.go)
	// drift detection (drift.go)
	drift      map[string]drifted // "stack/logicalID" -> how it drifted
	detections map[string]*detection
	// fetch reads a TemplateURL's object (WithTemplateURLs); nil: every TemplateURL fails.
	fetch func(url string) (string, error)
}

// Option configures a Fake.
type Option func(*Fake)

// WithDelay sets how long creating, updating or deleting a resource takes; key is a logical
// ID or a resource type ("" sets the default).
func WithDelay(key string, d time.Duration) Option {
	return func(f *Fake) {
		if key == "" {
			f.delay = d
		} else {
			f.delays[key] = d
		}
	}
}

// WithChangeSetDelay sets how long a change set takes to reach CREATE_COMPLETE or FAILED.
func WithChangeSetDelay(d time.Duration) Option { return func(f *Fake) { f.csDelay = d } }

// WithPageSize sets how many items a DescribeStackEvents or DescribeChangeSet page holds.
func WithPageSize(n int) Option { return func(f *Fake) { f.pageSize = n } }

// WithTemplateURLs lets change sets name their template by TemplateURL: fetch returns the
// object's content, or an error (no such object, access denied) CloudFormation reports as a
// validation error, as it does when it cannot read the URL with the caller's permissions.
func WithTemplateURLs(fetch func(url string) (string, error)) Option {
	return func(f *Fake) { f.fetch = fetch }
}

// WithAccount sets the AWS account ID used in stack IDs and ARNs.
func WithAccount(id string) Option { return func(f *Fake) { f.account = id } }

// WithCallers maps access keys to the AWS accounts they sign in to (the fake's own account
// otherwise): stacks created with such a key are that account's, and DescribeStacks without a
// stack name lists the caller's own stacks in its region, as CloudFormation does. It lets one
// fake stand for the administrator account of a stack set and its target accounts.
func WithCallers(accounts map[string]string) Option {
	return func(f *Fake) { f.callers = accounts }
}

// callerAccount is the account the request is signed for.
func (f *Fake) callerAccount(r *awsquery.Request) string {
	if a, ok := f.callers[r.AccessKey]; ok {
		return a
	}
	return f.account
}

// otherAccount is a stack's account field for account: "" for the fake's own.
func (f *Fake) otherAccount(account string) string {
	if account == f.account {
		return ""
	}
	return account
}

// accountID is the stack's account ID.
func (s *stack) accountID(f *Fake) string {
	if s.account == "" {
		return f.account
	}
	return s.account
}

// New returns a fake with the given options; it is an http.Handler.
func New(opts ...Option) *Fake {
	f := &Fake{
		Service:  awsquery.NewService(Namespace),
		now:      time.Now,
		account:  "123456789012",
		pageSize: 100,
		csDelay:  20 * time.Millisecond,
		delay:    20 * time.Millisecond,
		delays:   map[string]time.Duration{},
		failures: map[string]string{},
	}
	for _, o := range opts {
		o(f)
	}
	handlers := map[string]func(*awsquery.Request) (any, *awsquery.Error){
		"CreateChangeSet":        f.createChangeSet,
		"DescribeChangeSet":      f.describeChangeSet,
		"ExecuteChangeSet":       f.executeChangeSet,
		"DeleteChangeSet":        f.deleteChangeSet,
		"DescribeStacks":         f.describeStacks,
		"GetTemplate":            f.getTemplate,
		"DescribeStackEvents":    f.describeStackEvents,
		"DescribeStackResources": f.describeStackResources,
		"DeleteStack":            f.deleteStack,
		// drift.go
		"DetectStackDrift":                  f.detectStackDrift,
		"DescribeStackDriftDetectionStatus": f.describeStackDriftDetectionStatus,
		"DescribeStackResourceDrifts":       f.describeStackResourceDrifts,
	}
	for action, h := range f.stackSetHandlers() {
		handlers[action] = h
	}
	for action, h := range handlers {
		f.Handle(action, func(r *awsquery.Request) (any, *awsquery.Error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.advance()
			return h(r)
		})
	}
	return f
}

// Start runs a new fake on an httptest server closed at the end of the test and returns the
// fake and the server's URL (the endpoint to give the SDK client).
func Start(tb testing.TB, opts ...Option) (*Fake, string) {
	tb.Helper()
	f := New(opts...)
	srv := httptest.NewServer(f)
	tb.Cleanup(srv.Close)
	return f, srv.URL
}

// FailResource makes the next create or update of the resource fail with reason.
func (f *Fake) FailResource(logicalID, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures[logicalID] = reason
}

// SetDelay changes a resource's delay (see WithDelay) for operations started from now on.
func (f *Fake) SetDelay(key string, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	WithDelay(key, d)(f)
}

// StackState is a snapshot of a stack, for assertions.
type StackState struct {
	ID, Name, Status, Reason string
	Deleted                  bool
	Parameters, Tags         map[string]string
	Outputs                  map[string]string
	Capabilities             []string
	Resources                map[string]string // logical ID -> status
	ChangeSets               []string          // names of the change sets it holds
	Events                   int
	// FinalAt is when the stack reached its current terminal status (zero while in progress).
	FinalAt time.Time
	// RoleARN is the stack's service role; Body its template.
	RoleARN, Body string
}

// Stack returns the state of the live (not deleted) stack with this name or ID.
func (f *Fake) Stack(name string) (StackState, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advance()
	s := f.find(name, false)
	if s == nil {
		return StackState{}, false
	}
	st := StackState{ID: s.id, Name: s.name, Status: s.status, Reason: s.reason, Deleted: s.deleted,
		Parameters: s.params, Tags: s.tags, Outputs: map[string]string{}, Capabilities: s.caps,
		Resources: map[string]string{}, Events: len(s.events), FinalAt: s.finalAt, RoleARN: s.roleARN, Body: s.body}
	for _, o := range s.outputs {
		st.Outputs[o.Key] = o.Value
	}
	for id, r := range s.resources {
		st.Resources[id] = r.status
	}
	for _, cs := range s.changeSets {
		st.ChangeSets = append(st.ChangeSets, cs.name)
	}
	return st, true
}

// Deleted returns the IDs of the stacks deleted so far.
func (f *Fake) Deleted() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advance()
	var out []string
	for _, s := range f.stacks {
		if s.deleted {
			out = append(out, s.id)
		}
	}
	return out
}

type stack struct {
	id, name       string
	status, reason string
	region         string
	account        string // "" is the fake's own account; stack set instances run in others
	created        time.Time
	updated        time.Time
	finalAt        time.Time
	deleted        bool
	body           string
	tmpl           *template
	env            *env // tmpl evaluated for params
	params         map[string]string
	tags           map[string]string
	caps           []string
	outputs        []output
	resources      map[string]*resource
	events         []event // oldest first
	pending        []step  // scheduled, in time order
	changeSets     []*changeSet
	// roleARN is the service role the stack's operations run as ("" : the caller's credentials).
	roleARN string
}

type resource struct {
	typ, physical, status string
	props                 string // resolved properties, JSON
	updated               time.Time
}

type output struct{ Key, Value, Description string }

type event struct {
	id, logicalID, physicalID, typ, status, reason, token string
	at                                                    time.Time
}

// step is something that happens to a stack at a given time: an event appears and/or the
// state changes.
type step struct {
	at    time.Time
	ev    *event
	apply func()
}

type changeSet struct {
	id, name, typ     string
	status, execution string
	reason            string
	created           time.Time
	body              string
	tmpl              *template
	env               *env // tmpl evaluated for params, for this stack
	params, tags      map[string]string
	caps              []string
	changes           []change
	description       string
	roleARN           string
}

type change struct {
	action, logicalID, physicalID, typ, replacement string
	details                                         []string
	requiresRecreation                              map[string]string
}

// advance applies every scheduled step whose time has come. Called with f.mu held.
func (f *Fake) advance() {
	now := f.now()
	defer f.advanceStackSets(now)
	for _, s := range f.stacks {
		for len(s.pending) > 0 && !s.pending[0].at.After(now) {
			st := s.pending[0]
			s.pending = s.pending[1:]
			if st.ev != nil {
				s.events = append(s.events, *st.ev)
				if st.ev.logicalID == s.name && st.ev.typ == stackType {
					s.status, s.reason = st.ev.status, st.ev.reason
					if !strings.HasSuffix(s.status, "_IN_PROGRESS") {
						s.finalAt = st.at
					}
				} else if r, ok := s.resources[st.ev.logicalID]; ok {
					r.status, r.updated = st.ev.status, st.ev.at
				}
			}
			if st.apply != nil {
				st.apply()
			}
		}
	}
}

const stackType = "AWS::CloudFormation::Stack"

func (f *Fake) schedule(s *stack, steps ...step) {
	s.pending = append(s.pending, steps...)
	sort.SliceStable(s.pending, func(i, j int) bool { return s.pending[i].at.Before(s.pending[j].at) })
}

func (f *Fake) newEvent(s *stack, at time.Time, logicalID, physicalID, typ, status, reason, token string) *event {
	f.seq++
	id := fmt.Sprintf("%s-%s-%08d", logicalID, status, f.seq)
	if typ == stackType {
		id = fmt.Sprintf("%08x-0000-4000-8000-%012d", f.seq, f.seq)
	}
	return &event{id: id, logicalID: logicalID, physicalID: physicalID, typ: typ, status: status,
		reason: reason, token: token, at: at}
}

func (f *Fake) stackEvent(s *stack, at time.Time, status, reason, token string) step {
	return step{at: at, ev: f.newEvent(s, at, s.name, s.id, stackType, status, reason, token)}
}

// find returns the stack named or identified by name; deleted stacks only by ID and only
// when withDeleted is set.
func (f *Fake) find(name string, withDeleted bool) *stack {
	for i := len(f.stacks) - 1; i >= 0; i-- {
		s := f.stacks[i]
		if s.id == name && (withDeleted || !s.deleted) {
			return s
		}
		if s.name == name && !s.deleted {
			return s
		}
	}
	return nil
}

func notFound(name string) *awsquery.Error {
	return awsquery.Sender("ValidationError", fmt.Sprintf("Stack with id %s does not exist", name))
}

func validation(format string, args ...any) *awsquery.Error {
	return awsquery.Sender("ValidationError", fmt.Sprintf(format, args...))
}

func busy(s *stack) bool {
	return strings.HasSuffix(s.status, "_IN_PROGRESS") && s.status != "REVIEW_IN_PROGRESS"
}

func (f *Fake) delayOf(id, typ string) time.Duration {
	if d, ok := f.delays[id]; ok {
		return d
	}
	if d, ok := f.delays[typ]; ok {
		return d
	}
	return f.delay
}
