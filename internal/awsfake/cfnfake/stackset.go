package cfnfake

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
)

// The StackSets side of the fake, modelled on the CloudFormation API reference:
//
//   - a stack set holds a template, parameters, tags, capabilities and a permission model:
//     SELF_MANAGED (an administration role ARN and an execution role name, AWS's defaults
//     AWSCloudFormationStackSetAdministrationRole and AWSCloudFormationStackSetExecutionRole
//     when not given) or SERVICE_MANAGED (targets are organizational units; AutoDeployment);
//   - CreateStackInstances, UpdateStackInstances and DeleteStackInstances (and UpdateStackSet)
//     start an operation over accounts x regions; ParameterOverrides apply to every instance
//     of one call; at most 50 OUs per call;
//   - an operation runs region by region (RegionOrder first; SEQUENTIAL by default, or
//     PARALLEL), at most MaxConcurrentCount (or MaxConcurrentPercentage) accounts at a time
//     per region; in STRICT_FAILURE_TOLERANCE mode (the default) the concurrency is at most
//     FailureToleranceCount+1 and drops by one per failure. When more accounts than the
//     tolerance (default 0) fail in a region, the operation stops there: the accounts not
//     started are CANCELLED, no later region is attempted, and the operation is FAILED;
//   - each instance is a real stack of the fake (StackSet-NAME-ID) in its account and
//     region, created, updated or deleted with the fake's stack engine, so its events and
//     root cause are readable with DescribeStackEvents;
//   - one operation at a time per stack set (OperationInProgressException), unless the set
//     has ManagedExecution Active, when later operations are QUEUED;
//   - DeleteStackSet refuses a set that still has instances (StackSetNotEmptyException).
//
// Drift detection is in stackset_drift.go. Not modelled: StopStackSetOperation,
// DELETE_FAILED instances (INOPERABLE), automatic deployment to accounts added to an OU later,
// account gates, AccountFilterType other than the default.

type stackSets struct {
	list     []*stackSet
	pending  []step              // instance and operation state changes, in time order
	org      map[string][]string // OU or root ID -> accounts in it
	failures map[string]failure  // "account/region" -> the resource that fails in its next run
	seq      int
}

type failure struct{ logicalID, reason string }

type stackSet struct {
	name, id, arn, description, status string
	permission, adminRole, execRole    string
	autoDeploy                         *autoDeployment
	managed                            bool
	body                               string
	tmpl                               *template
	params, tags                       map[string]string
	caps                               []string
	instances                          []*instance
	ops                                []*operation
}

type autoDeployment struct{ enabled, retain bool }

type instance struct {
	account, region, ou      string
	overrides                map[string]string
	stack                    *stack
	stackID                  string // shown once the stack exists
	status, detailed, reason string
	lastOp                   string
	removed                  bool
	// drift is the instance's drift status (empty: NOT_CHECKED), driftAt when it was checked.
	drift   string
	driftAt time.Time
}

type operation struct {
	id, action, status, reason string
	created, end               time.Time
	prefs                      prefs
	retain                     *bool
	adminRole, execRole        string
	ous                        []string
	jobs                       []*job
	scheduled                  bool
}

type job struct {
	inst      *instance
	kind      string // create, update or delete
	overrides map[string]string
	retain    bool
	status    string // of the operation result: PENDING RUNNING SUCCEEDED FAILED CANCELLED
	reason    string
}

type prefs struct {
	regionOrder          []string
	parallel, soft       bool
	tolCount, tolPct     int
	maxCount, maxPct     int
	hasTolPct, hasMaxPct bool
}

// StackSets error codes, as the API reference names them.
func stackSetNotFound(name string) *awsquery.Error {
	return &awsquery.Error{Status: 404, Type: "Sender", Code: "StackSetNotFoundException",
		Message: fmt.Sprintf("StackSet %s not found", name)}
}

func stackSetError(status int, code, format string, args ...any) *awsquery.Error {
	return &awsquery.Error{Status: status, Type: "Sender", Code: code, Message: fmt.Sprintf(format, args...)}
}

// MaxOrganizationalUnitsPerCall is how many OUs one CreateStackInstances,
// UpdateStackInstances or DeleteStackInstances call may target.
const MaxOrganizationalUnitsPerCall = 50

var (
	stackSetName = regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9]{0,127}$`)
	accountID    = regexp.MustCompile(`^[0-9]{12}$`)
	ouID         = regexp.MustCompile(`^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$`)
)

// WithOrganization sets the AWS Organization the fake's account manages: for each OU (or
// root) ID, the accounts in it. Service-managed stack sets deploy to those accounts.
func WithOrganization(ous map[string][]string) Option {
	return func(f *Fake) { f.sets.org = ous }
}

// FailStackInstance makes the next create or update of the stack instance in (account,
// region) fail: its resource logicalID fails with reason, the stack rolls back and the
// instance is FAILED with a status reason naming the resource.
func (f *Fake) FailStackInstance(account, region, logicalID, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sets.failures == nil {
		f.sets.failures = map[string]failure{}
	}
	f.sets.failures[account+"/"+region] = failure{logicalID, reason}
}

// StackSetState is a snapshot of a stack set, for assertions.
type StackSetState struct {
	Name, Status, Description, PermissionModel string
	AdministrationRoleARN, ExecutionRoleName   string
	Parameters, Tags                           map[string]string
	Instances                                  []InstanceState
	Operations                                 []string // operation IDs, oldest first
}

// InstanceState is a snapshot of a stack instance.
type InstanceState struct {
	Account, Region, OU, Status, DetailedStatus, Reason string
	StackID                                             string
	Overrides                                           map[string]string
}

// StackSet returns the state of the stack set with this name (deleted sets included).
func (f *Fake) StackSet(name string) (StackSetState, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advance()
	var ss *stackSet
	for _, s := range f.sets.list {
		if s.name == name {
			ss = s
		}
	}
	if ss == nil {
		return StackSetState{}, false
	}
	st := StackSetState{Name: ss.name, Status: ss.status, Description: ss.description, PermissionModel: ss.permission,
		AdministrationRoleARN: ss.adminRole, ExecutionRoleName: ss.execRole, Parameters: ss.params, Tags: ss.tags}
	for _, in := range ss.live() {
		st.Instances = append(st.Instances, InstanceState{Account: in.account, Region: in.region, OU: in.ou,
			Status: in.status, DetailedStatus: in.detailed, Reason: in.reason, StackID: in.stackID, Overrides: in.overrides})
	}
	for _, op := range ss.ops {
		st.Operations = append(st.Operations, op.id)
	}
	return st, true
}

func (f *Fake) stackSetHandlers() map[string]func(*awsquery.Request) (any, *awsquery.Error) {
	return map[string]func(*awsquery.Request) (any, *awsquery.Error){
		"CreateStackSet":               f.createStackSet,
		"UpdateStackSet":               f.updateStackSet,
		"DeleteStackSet":               f.deleteStackSet,
		"DescribeStackSet":             f.describeStackSet,
		"CreateStackInstances":         f.stackInstancesCall("create"),
		"UpdateStackInstances":         f.stackInstancesCall("update"),
		"DeleteStackInstances":         f.stackInstancesCall("delete"),
		"ListStackInstances":           f.listStackInstances,
		"DescribeStackInstance":        f.describeStackInstance,
		"DescribeStackSetOperation":    f.describeStackSetOperation,
		"ListStackSetOperations":       f.listStackSetOperations,
		"ListStackSetOperationResults": f.listStackSetOperationResults,
		"DetectStackSetDrift":          f.detectStackSetDrift,
	}
}

func (ss *stackSet) live() []*instance {
	var out []*instance
	for _, in := range ss.instances {
		if !in.removed {
			out = append(out, in)
		}
	}
	return out
}

func (ss *stackSet) find(account, region string) *instance {
	for _, in := range ss.instances {
		if !in.removed && in.account == account && in.region == region {
			return in
		}
	}
	return nil
}

// findSet returns the active stack set named or identified by name.
func (f *Fake) findSet(name string) (*stackSet, *awsquery.Error) {
	for _, ss := range f.sets.list {
		if ss.status == "ACTIVE" && (ss.name == name || ss.id == name || ss.arn == name) {
			return ss, nil
		}
	}
	return nil, stackSetNotFound(name)
}

// running returns the stack set's operation that has not ended, if any.
func (ss *stackSet) running() *operation {
	for _, op := range ss.ops {
		if op.status == "RUNNING" || op.status == "QUEUED" || op.status == "STOPPING" {
			return op
		}
	}
	return nil
}

// sentParams merges the parameters sent with the previous values (UsePreviousValue),
// refusing keys the template does not declare and UsePreviousValue where AWS refuses it
// (previousValue).
func sentParams(t *template, sent []map[string]string, previous map[string]string) (map[string]string, *awsquery.Error) {
	out := map[string]string{}
	var unknown []string
	for _, p := range sent {
		key := p["ParameterKey"]
		if _, ok := t.Parameters[key]; !ok {
			unknown = append(unknown, key)
			continue
		}
		if p["UsePreviousValue"] == "true" {
			v, err := previousValue(key, p, previous)
			if err != nil {
				return nil, err
			}
			out[key] = v
		} else {
			out[key] = p["ParameterValue"]
		}
	}
	if len(unknown) > 0 {
		return nil, validation("Parameters: [%s] do not exist in the template", strings.Join(unknown, ", "))
	}
	return out, nil
}

// checkCapabilities refuses a template whose IAM resources need a capability not given.
func (f *Fake) checkCapabilities(t *template, params map[string]string, caps []string, region string) *awsquery.Error {
	// Instances get their values later (overrides); the capability only depends on which
	// names are set, so a parameter without a value yet is probed as empty.
	probeParams := map[string]string{}
	for k, p := range t.Parameters {
		probeParams[k] = ""
		if d, ok := defaultString(p.Default); ok {
			probeParams[k] = d
		}
	}
	for k, v := range params {
		probeParams[k] = v
	}
	probe, err := newEnv(t, probeParams, "", "", region, f.account)
	if err != nil {
		return validation("Template format error: %v", err)
	}
	need := probe.iamCapability()
	if need != "" && !slices.Contains(caps, need) && !(need == "CAPABILITY_IAM" && slices.Contains(caps, "CAPABILITY_NAMED_IAM")) {
		return &awsquery.Error{Status: 400, Type: "Sender", Code: "InsufficientCapabilitiesException",
			Message: fmt.Sprintf("Requires capabilities : [%s]", need)}
	}
	return nil
}

func tagsOf(r *awsquery.Request) map[string]string {
	tags := map[string]string{}
	for _, tag := range r.Structs("Tags") {
		tags[tag["Key"]] = tag["Value"]
	}
	return tags
}

func (f *Fake) createStackSet(r *awsquery.Request) (any, *awsquery.Error) {
	name := r.Get("StackSetName")
	if !stackSetName.MatchString(name) {
		return nil, validation("1 validation error detected: Value '%s' at 'stackSetName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*", name)
	}
	if _, err := f.findSet(name); err == nil {
		return nil, stackSetError(409, "NameAlreadyExistsException", "StackSet %s already exists", name)
	}
	if len(r.Get("Description")) > 1024 {
		return nil, validation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1024")
	}
	t, perr := parseTemplate(r.Get("TemplateBody"))
	if perr != nil {
		return nil, validation("%s", perr.Error())
	}
	params, err := sentParams(t, r.Structs("Parameters"), nil)
	if err != nil {
		return nil, err
	}
	caps := r.List("Capabilities")
	if err := f.checkCapabilities(t, params, caps, r.Region); err != nil {
		return nil, err
	}
	model := r.Get("PermissionModel")
	if model == "" {
		model = "SELF_MANAGED"
	}
	f.sets.seq++
	id := fmt.Sprintf("%s:%08x-5555-4666-8777-%012d", name, f.sets.seq, f.sets.seq)
	ss := &stackSet{name: name, id: id, status: "ACTIVE", permission: model, description: r.Get("Description"),
		arn:  fmt.Sprintf("arn:aws:cloudformation:%s:%s:stackset/%s", r.Region, f.account, id),
		body: r.Get("TemplateBody"), tmpl: t, params: params, tags: tagsOf(r), caps: caps,
		managed: r.Get("ManagedExecution.Active") == "true"}
	switch model {
	case "SELF_MANAGED":
		if r.Has("AutoDeployment.Enabled") {
			return nil, validation("AutoDeployment is only supported for the SERVICE_MANAGED permission model")
		}
		ss.adminRole = r.Get("AdministrationRoleARN")
		if ss.adminRole == "" {
			ss.adminRole = fmt.Sprintf("arn:aws:iam::%s:role/AWSCloudFormationStackSetAdministrationRole", f.account)
		}
		ss.execRole = r.Get("ExecutionRoleName")
		if ss.execRole == "" {
			ss.execRole = "AWSCloudFormationStackSetExecutionRole"
		}
	case "SERVICE_MANAGED":
		if r.Has("AdministrationRoleARN") || r.Has("ExecutionRoleName") {
			return nil, validation("AdministrationRoleARN and ExecutionRoleName are only supported for the SELF_MANAGED permission model")
		}
		ss.autoDeploy = &autoDeployment{enabled: r.Get("AutoDeployment.Enabled") == "true",
			retain: r.Get("AutoDeployment.RetainStacksOnAccountRemoval") == "true"}
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'permissionModel' failed to satisfy constraint: Member must satisfy enum value set: [SERVICE_MANAGED, SELF_MANAGED]", model)
	}
	f.sets.list = append(f.sets.list, ss)
	return struct{ StackSetId string }{ss.id}, nil
}

func (f *Fake) updateStackSet(r *awsquery.Request) (any, *awsquery.Error) {
	ss, err := f.findSet(r.Get("StackSetName"))
	if err != nil {
		return nil, err
	}
	body := r.Get("TemplateBody")
	if r.Get("UsePreviousTemplate") == "true" {
		body = ss.body
	}
	t, perr := parseTemplate(body)
	if perr != nil {
		return nil, validation("%s", perr.Error())
	}
	params, err := sentParams(t, r.Structs("Parameters"), ss.params)
	if err != nil {
		return nil, err
	}
	caps := r.List("Capabilities")
	if err := f.checkCapabilities(t, params, caps, r.Region); err != nil {
		return nil, err
	}
	p, err := parsePrefs(r, nil)
	if err != nil {
		return nil, err
	}
	op, err := f.newOperation(ss, r, "UPDATE", p)
	if err != nil {
		return nil, err
	}
	ss.body, ss.tmpl, ss.params, ss.caps = body, t, params, caps
	if r.Has("Description") {
		ss.description = r.Get("Description")
	}
	if r.Has("Tags.member.1.Key") {
		ss.tags = tagsOf(r)
	}
	if v := r.Get("AdministrationRoleARN"); v != "" {
		ss.adminRole = v
	}
	if v := r.Get("ExecutionRoleName"); v != "" {
		ss.execRole = v
	}
	for _, in := range ss.live() {
		op.jobs = append(op.jobs, &job{inst: in, kind: "update", overrides: in.overrides})
	}
	f.enqueue(ss, op)
	return struct{ OperationId string }{op.id}, nil
}

func (f *Fake) deleteStackSet(r *awsquery.Request) (any, *awsquery.Error) {
	ss, err := f.findSet(r.Get("StackSetName"))
	if err != nil {
		return nil, err
	}
	if ss.running() != nil {
		return nil, stackSetError(409, "OperationInProgressException", "Another Operation on StackSet %s is in progress", ss.arn)
	}
	if n := len(ss.live()); n > 0 {
		return nil, stackSetError(409, "StackSetNotEmptyException",
			"StackSet %s cannot be deleted while it has %d stack instances; delete them first", ss.name, n)
	}
	ss.status = "DELETED"
	return struct{}{}, nil
}

// newOperation checks that an operation may start on the stack set and returns it.
func (f *Fake) newOperation(ss *stackSet, r *awsquery.Request, action string, p prefs) (*operation, *awsquery.Error) {
	id := r.Get("OperationId")
	for _, s := range f.sets.list {
		for _, op := range s.ops {
			if id != "" && op.id == id {
				return nil, stackSetError(409, "OperationIdAlreadyExistsException", "The operation ID %s already exists", id)
			}
		}
	}
	if ss.running() != nil && !ss.managed {
		return nil, stackSetError(409, "OperationInProgressException", "Another Operation on StackSet %s is in progress", ss.arn)
	}
	if id == "" {
		f.sets.seq++
		id = fmt.Sprintf("%08x-6666-4777-8888-%012d", f.sets.seq, f.sets.seq)
	}
	return &operation{id: id, action: action, status: "QUEUED", created: f.now(), prefs: p,
		adminRole: ss.adminRole, execRole: ss.execRole}, nil
}

func parsePrefs(r *awsquery.Request, regions []string) (prefs, *awsquery.Error) {
	const k = "OperationPreferences."
	p := prefs{regionOrder: r.List(k + "RegionOrder"), parallel: r.Get(k+"RegionConcurrencyType") == "PARALLEL",
		soft: r.Get(k+"ConcurrencyMode") == "SOFT_FAILURE_TOLERANCE", maxCount: 1}
	num := func(name string, lo, hi int) (int, bool, *awsquery.Error) {
		if !r.Has(k + name) {
			return 0, false, nil
		}
		n, err := strconv.Atoi(r.Get(k + name))
		if err != nil || n < lo || n > hi {
			return 0, false, validation("1 validation error detected: Value '%s' at 'operationPreferences.%s' failed to satisfy constraint: Member must have value between %d and %d",
				r.Get(k+name), strings.ToLower(name[:1])+name[1:], lo, hi)
		}
		return n, true, nil
	}
	tc, hasTC, err := num("FailureToleranceCount", 0, 1<<30)
	if err != nil {
		return p, err
	}
	tp, hasTP, err := num("FailureTolerancePercentage", 0, 100)
	if err != nil {
		return p, err
	}
	mc, hasMC, err := num("MaxConcurrentCount", 1, 1<<30)
	if err != nil {
		return p, err
	}
	mp, hasMP, err := num("MaxConcurrentPercentage", 1, 100)
	if err != nil {
		return p, err
	}
	if hasTC && hasTP {
		return p, validation("You can specify either FailureToleranceCount or FailureTolerancePercentage, but not both")
	}
	if hasMC && hasMP {
		return p, validation("You can specify either MaxConcurrentCount or MaxConcurrentPercentage, but not both")
	}
	p.tolCount, p.tolPct, p.hasTolPct = tc, tp, hasTP
	if hasMC {
		p.maxCount = mc
	}
	p.maxPct, p.hasMaxPct = mp, hasMP
	if t := r.Get(k + "RegionConcurrencyType"); t != "" && t != "SEQUENTIAL" && t != "PARALLEL" {
		return p, validation("1 validation error detected: Value '%s' at 'operationPreferences.regionConcurrencyType' failed to satisfy constraint: Member must satisfy enum value set: [SEQUENTIAL, PARALLEL]", t)
	}
	if regions != nil {
		for _, reg := range p.regionOrder {
			if !slices.Contains(regions, reg) {
				return p, validation("RegionOrder contains region %s, which is not in Regions", reg)
			}
		}
	}
	return p, nil
}

// stackInstancesCall handles CreateStackInstances, UpdateStackInstances and
// DeleteStackInstances.
func (f *Fake) stackInstancesCall(kind string) func(*awsquery.Request) (any, *awsquery.Error) {
	return func(r *awsquery.Request) (any, *awsquery.Error) {
		ss, err := f.findSet(r.Get("StackSetName"))
		if err != nil {
			return nil, err
		}
		regions := r.List("Regions")
		if len(regions) == 0 {
			return nil, validation("Regions must not be empty")
		}
		type target struct{ account, ou string }
		var targets []target
		accounts, ous := r.List("Accounts"), r.List("DeploymentTargets.OrganizationalUnitIds")
		accounts = append(accounts, r.List("DeploymentTargets.Accounts")...)
		switch {
		case len(accounts) == 0 && len(ous) == 0:
			return nil, validation("You must specify either Accounts or DeploymentTargets")
		case r.Has("Accounts.member.1") && r.Has("DeploymentTargets.OrganizationalUnitIds.member.1"):
			return nil, validation("You can specify Accounts or DeploymentTargets, but not both")
		case ss.permission == "SELF_MANAGED" && len(ous) > 0:
			return nil, validation("StackSets with SELF_MANAGED permission model can only have accounts as target")
		case ss.permission == "SERVICE_MANAGED" && len(ous) == 0:
			return nil, validation("StackSets with SERVICE_MANAGED permission model can only have OrganizationalUnit as target")
		case len(ous) > MaxOrganizationalUnitsPerCall:
			return nil, validation("The maximum number of organizational units supported by a %s operation is %d; %d were given",
				map[string]string{"create": "CreateStackInstances", "update": "UpdateStackInstances", "delete": "DeleteStackInstances"}[kind],
				MaxOrganizationalUnitsPerCall, len(ous))
		}
		for _, a := range accounts {
			if !accountID.MatchString(a) {
				return nil, validation("1 validation error detected: Value '%s' at 'accounts' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9]{12}$", a)
			}
			if len(ous) == 0 {
				targets = append(targets, target{account: a})
			}
		}
		for _, ou := range ous {
			if !ouID.MatchString(ou) {
				return nil, validation("1 validation error detected: Value '%s' at 'deploymentTargets.organizationalUnitIds' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$", ou)
			}
			for _, a := range f.sets.org[ou] {
				if a != f.account { // StackSets never deploys to the management account
					targets = append(targets, target{account: a, ou: ou})
				}
			}
		}
		overrides, err := sentParams(ss.tmpl, r.Structs("ParameterOverrides"), nil)
		if err != nil {
			return nil, err
		}
		p, err := parsePrefs(r, regions)
		if err != nil {
			return nil, err
		}
		action := map[string]string{"create": "CREATE", "update": "UPDATE", "delete": "DELETE"}[kind]
		op, err := f.newOperation(ss, r, action, p)
		if err != nil {
			return nil, err
		}
		if kind == "delete" {
			retain := r.Get("RetainStacks") == "true"
			op.retain = &retain
		}
		op.ous = ous
		for _, reg := range regions {
			for _, t := range targets {
				in := ss.find(t.account, reg)
				switch {
				case in == nil && kind != "create":
					return nil, stackSetError(404, "StackInstanceNotFoundException",
						"Stack instance in account %s and region %s does not exist in StackSet %s", t.account, reg, ss.name)
				case in == nil:
					in = &instance{account: t.account, region: reg, ou: t.ou, overrides: overrides,
						status: "OUTDATED", detailed: "PENDING", reason: "User Initiated"}
				}
				j := &job{inst: in, kind: kind, overrides: overrides}
				if kind == "create" && in.stack != nil && !in.stack.deleted {
					j.kind = "update" // an existing instance is brought up to date
				}
				if kind == "update" {
					j.overrides = merged(in.overrides, overrides)
				}
				if op.retain != nil {
					j.retain = *op.retain
				}
				op.jobs = append(op.jobs, j)
			}
		}
		for _, j := range op.jobs {
			if !slices.Contains(ss.instances, j.inst) {
				ss.instances = append(ss.instances, j.inst)
			}
		}
		f.enqueue(ss, op)
		return struct{ OperationId string }{op.id}, nil
	}
}

func merged(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// enqueue adds the operation to the stack set and starts it now unless another one runs
// (then it starts when that one ends: advanceStackSets).
func (f *Fake) enqueue(ss *stackSet, op *operation) {
	prev := ss.running()
	ss.ops = append(ss.ops, op)
	for _, j := range op.jobs {
		j.status = "PENDING"
	}
	if prev == nil {
		f.start(ss, op, f.now())
	}
}

// advanceStackSets applies the stack set state changes whose time has come and starts the
// queued operations whose predecessor ended. Called by advance with f.mu held.
func (f *Fake) advanceStackSets(now time.Time) {
	progressed := false
	for len(f.sets.pending) > 0 && !f.sets.pending[0].at.After(now) {
		st := f.sets.pending[0]
		f.sets.pending = f.sets.pending[1:]
		st.apply()
		progressed = true
	}
	for _, ss := range f.sets.list {
		for i, op := range ss.ops {
			if op.scheduled || op.status != "QUEUED" {
				continue
			}
			if i > 0 && ss.ops[i-1].status != "SUCCEEDED" && ss.ops[i-1].status != "FAILED" && ss.ops[i-1].status != "STOPPED" {
				break
			}
			t := f.now()
			if i > 0 {
				t = ss.ops[i-1].end
			}
			f.start(ss, op, t)
			progressed = true
		}
	}
	if progressed {
		f.advance() // the stack steps of operations that started in the past
	}
}

func (f *Fake) scheduleSet(at time.Time, apply func()) {
	f.sets.pending = append(f.sets.pending, step{at: at, apply: apply})
	sort.SliceStable(f.sets.pending, func(i, j int) bool { return f.sets.pending[i].at.Before(f.sets.pending[j].at) })
}

// start plans the operation from t0: region after region (or all at once for PARALLEL),
// accounts within a region as the concurrency and the failure tolerance allow.
func (f *Fake) start(ss *stackSet, op *operation, t0 time.Time) {
	op.scheduled, op.status = true, "RUNNING"
	for _, j := range op.jobs {
		if j.kind == "drift" {
			continue // drift detection leaves the instance's status alone
		}
		j.inst.detailed = "PENDING"
		if j.kind != "delete" {
			j.inst.status = "OUTDATED"
		}
	}
	byRegion := map[string][]*job{}
	var regions []string
	for _, r := range op.prefs.regionOrder {
		if !slices.Contains(regions, r) {
			regions = append(regions, r)
		}
	}
	for _, j := range op.jobs {
		if !slices.Contains(regions, j.inst.region) {
			regions = append(regions, j.inst.region)
		}
		byRegion[j.inst.region] = append(byRegion[j.inst.region], j)
	}
	end, t, failed := t0, t0, false
	for _, region := range regions {
		js := byRegion[region]
		if len(js) == 0 {
			continue
		}
		at := t
		if op.prefs.parallel {
			at = t0
		}
		if failed && !op.prefs.parallel {
			for _, j := range js {
				f.cancel(j, at)
			}
			continue
		}
		rEnd, exceeded := f.planRegion(ss, op, js, at)
		failed = failed || exceeded
		t = rEnd
		if rEnd.After(end) {
			end = rEnd
		}
	}
	end = end.Add(ms)
	op.end = end
	f.scheduleSet(end, func() {
		op.status = "SUCCEEDED"
		if failed {
			op.status, op.reason = "FAILED", "The Operation "+op.id+" has failed to create or update stack instances beyond the failure tolerance"
		}
	})
}

// planRegion schedules one region's jobs from t0 and returns when the last ends and whether
// more accounts failed than the tolerance allows.
func (f *Fake) planRegion(ss *stackSet, op *operation, js []*job, t0 time.Time) (time.Time, bool) {
	n := len(js)
	maxC := op.prefs.maxCount
	if op.prefs.hasMaxPct {
		maxC = max(1, op.prefs.maxPct*n/100)
	}
	tol := op.prefs.tolCount
	if op.prefs.hasTolPct {
		tol = op.prefs.tolPct * n / 100
	}
	type run struct {
		end    time.Time
		failed bool
	}
	var runs []run
	failedBy := func(t time.Time) int {
		c := 0
		for _, r := range runs {
			if r.failed && !r.end.After(t) {
				c++
			}
		}
		return c
	}
	t, end := t0, t0
	for i, j := range js {
		for {
			limit := maxC
			if !op.prefs.soft {
				limit = max(1, min(maxC, tol+1-failedBy(t)))
			}
			active, next := 0, time.Time{}
			for _, r := range runs {
				if r.end.After(t) {
					active++
					if next.IsZero() || r.end.Before(next) {
						next = r.end
					}
				}
			}
			if active < limit {
				break
			}
			t = next
		}
		if failedBy(t) > tol {
			for _, rest := range js[i:] {
				f.cancel(rest, t)
			}
			break
		}
		fin, ok := f.runJob(ss, op, j, t)
		runs = append(runs, run{fin, !ok})
		if fin.After(end) {
			end = fin
		}
	}
	return end, failedBy(end) > tol
}

func (f *Fake) cancel(j *job, at time.Time) {
	f.scheduleSet(at, func() {
		j.status, j.reason = "CANCELLED", "Cancelled since failure tolerance has exceeded"
		j.inst.detailed, j.inst.status, j.inst.reason = "CANCELLED", "OUTDATED", j.reason
	})
}

// runJob runs one instance's part of the operation from t0 on its stack and returns when it
// ends and whether it succeeded.
func (f *Fake) runJob(ss *stackSet, op *operation, j *job, t0 time.Time) (time.Time, bool) {
	if j.kind == "drift" {
		return f.runDriftJob(j, t0)
	}
	in := j.inst
	token := "StackSet-" + op.id
	f.scheduleSet(t0, func() {
		j.status, in.detailed, in.lastOp = "RUNNING", "RUNNING", op.id
		if in.stack != nil {
			in.stackID = in.stack.id
		}
	})
	finish := func(at time.Time, ok bool, reason string) (time.Time, bool) {
		f.scheduleSet(at, func() {
			switch {
			case ok && j.kind == "delete":
				j.status, in.removed = "SUCCEEDED", true
			case ok:
				j.status, j.reason = "SUCCEEDED", ""
				in.status, in.detailed, in.reason, in.overrides = "CURRENT", "SUCCEEDED", "", j.overrides
			default:
				j.status, j.reason = "FAILED", reason
				in.status, in.detailed, in.reason = "OUTDATED", "FAILED", reason
			}
		})
		return at, ok
	}
	if j.kind == "delete" {
		if j.retain || in.stack == nil || in.stack.deleted {
			return finish(t0.Add(ms), true, "")
		}
		return finish(f.startDelete(in.stack, token, t0), true, "")
	}
	sent := []map[string]string{}
	for k, v := range merged(ss.params, j.overrides) {
		sent = append(sent, map[string]string{"ParameterKey": k, "ParameterValue": v})
	}
	params, perr := resolveParams(ss.tmpl, sent, nil)
	if perr != nil {
		return finish(t0.Add(ms), false, perr.Message)
	}
	s := in.stack
	typ := "UPDATE"
	if s == nil || s.deleted || s.status == "ROLLBACK_COMPLETE" || s.status == "" {
		if s != nil && !s.deleted {
			s.deleted = true // a failed first create leaves nothing: StackSets replaces it
		}
		typ = "CREATE"
		f.seq++
		name := fmt.Sprintf("StackSet-%s-%08x-0c1d-4e2f-8a3b-%012d", ss.name, f.seq, f.seq)
		account := in.account
		if account == f.account {
			account = ""
		}
		s = &stack{name: name, region: in.region, account: account, created: t0, status: "",
			id:        fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/%08x-aaaa-4bbb-8ccc-%012d", in.region, in.account, name, f.seq, f.seq),
			resources: map[string]*resource{}, params: map[string]string{}, tags: map[string]string{}}
		f.stacks = append(f.stacks, s)
		in.stack = s
	}
	f.seq++
	e, everr := newEnv(ss.tmpl, params, s.name, s.id, s.region, in.account)
	if everr != nil {
		return finish(t0.Add(ms), false, "Template format error: "+everr.Error())
	}
	cs := &changeSet{name: "stackset", typ: typ, body: ss.body, tmpl: ss.tmpl, env: e, params: params, tags: ss.tags,
		caps: ss.caps, id: fmt.Sprintf("stackset-%d", f.seq)}
	cs.changes = f.diff(s, cs)
	if typ == "UPDATE" && len(cs.changes) == 0 {
		s.params, s.tags = params, ss.tags
		return finish(t0.Add(ms), true, "")
	}
	key := in.account + "/" + in.region
	if fl, ok := f.sets.failures[key]; ok {
		delete(f.sets.failures, key)
		prev, had := f.failures[fl.logicalID]
		f.failures[fl.logicalID] = fl.reason
		defer func() {
			delete(f.failures, fl.logicalID)
			if had {
				f.failures[fl.logicalID] = prev
			}
		}()
	}
	f.run(s, cs, token, t0)
	last := s.pending[len(s.pending)-1]
	ok := last.ev != nil && (last.ev.status == "CREATE_COMPLETE" || last.ev.status == "UPDATE_COMPLETE")
	reason := ""
	if !ok {
		for _, st := range s.pending {
			if st.ev != nil && st.ev.token == token && strings.HasSuffix(st.ev.status, "_FAILED") && !strings.HasSuffix(st.ev.reason, "cancelled") {
				reason = fmt.Sprintf("ResourceLogicalId:%s, ResourceType:%s, ResourceStatusReason:%s.", st.ev.logicalID, st.ev.typ, st.ev.reason)
				break
			}
		}
	}
	return finish(last.at, ok, reason)
}
