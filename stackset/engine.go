package stackset

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/isahit/s3grant/internal/awserr"
	"github.com/isahit/s3grant/internal/rules"
)

// Request is a rollout: the stack set, its template and parameters, and where it goes.
type Request struct {
	StackSet string
	// TemplateBody is the JSON template, sent inline.
	TemplateBody []byte
	// Parameters are the values shared by every instance; Target.Overrides change some per
	// target.
	Parameters   map[string]string
	Capabilities []string
	Tags         map[string]string
	// Description is the stack set's description. An existing set whose description does not
	// begin with DescriptionPrefix (when set) is refused, as deploy refuses stacks.
	Description       string
	DescriptionPrefix string
	Permissions       Permissions
	Targets           []Target
	Preferences       Preferences
}

// Validate checks the request as CloudFormation would, before anything is called; refusals
// are *rules.InvalidError.
func (r *Request) Validate() error {
	if err := rules.StackSetName.Validate("--stack-set", r.StackSet); err != nil {
		return err
	}
	if len(r.Targets) == 0 {
		return rules.Invalid("--targets", "", "at least one target (account or organizational unit, and region) is needed")
	}
	seen := map[string]bool{}
	for i, t := range r.Targets {
		field := fmt.Sprintf("targets[%d]", i)
		switch {
		case r.Permissions.ServiceManaged && (t.OrgUnit == "" || t.Account != ""):
			return rules.Invalid(field, t.Account, "a service-managed stack set targets organizational units (--org-unit), not accounts")
		case !r.Permissions.ServiceManaged && (t.Account == "" || t.OrgUnit != ""):
			return rules.Invalid(field, t.OrgUnit, "a self-managed stack set targets accounts; organizational units need service-managed permissions")
		}
		if t.Account != "" {
			if err := rules.AccountID.Validate(field+".account", t.Account); err != nil {
				return err
			}
		} else if err := rules.OrgUnitID.Validate(field+".org-unit", t.OrgUnit); err != nil {
			return err
		}
		if err := rules.Region.Validate(field+".region", t.Region); err != nil {
			return err
		}
		k := t.Account + t.OrgUnit + "/" + t.Region
		if seen[k] {
			return rules.Invalid(field, k, k+" is targeted twice")
		}
		seen[k] = true
	}
	if r.Permissions.ServiceManaged && (r.Permissions.AdministrationRoleARN != "" || r.Permissions.ExecutionRoleName != "") {
		return rules.Invalid("--administration-role-arn", r.Permissions.AdministrationRoleARN,
			"the administration and execution roles are for self-managed stack sets; --org-unit makes it service-managed")
	}
	if !r.Permissions.ServiceManaged && r.Permissions.AutoDeployment {
		return rules.Invalid("--auto-deployment", "", "automatic deployment needs a service-managed stack set (--org-unit)")
	}
	return r.Preferences.Validate()
}

// Validate checks the preferences; the fields are named by the flags that set them.
func (p Preferences) Validate() error {
	switch {
	case p.MaxConcurrent < 0:
		return rules.Invalid("--max-concurrent", strconv.Itoa(p.MaxConcurrent), "must be at least 1")
	case p.MaxConcurrentPercent < 0 || p.MaxConcurrentPercent > 100:
		return rules.Invalid("--max-concurrent-percent", strconv.Itoa(p.MaxConcurrentPercent), "must be 1-100")
	case p.MaxConcurrent > 0 && p.MaxConcurrentPercent > 0:
		return rules.Invalid("--max-concurrent-percent", strconv.Itoa(p.MaxConcurrentPercent), "give --max-concurrent or --max-concurrent-percent, not both")
	case p.FailureTolerance < 0:
		return rules.Invalid("--failure-tolerance", strconv.Itoa(p.FailureTolerance), "must be 0 or more")
	case p.FailureTolerancePercent < 0 || p.FailureTolerancePercent > 100:
		return rules.Invalid("--failure-tolerance-percent", strconv.Itoa(p.FailureTolerancePercent), "must be 0-100")
	case p.FailureTolerance > 0 && p.FailureTolerancePercent > 0:
		return rules.Invalid("--failure-tolerance-percent", strconv.Itoa(p.FailureTolerancePercent), "give --failure-tolerance or --failure-tolerance-percent, not both")
	}
	for _, r := range p.RegionOrder {
		if err := rules.Region.Validate("--region-order", r); err != nil {
			return err
		}
	}
	return nil
}

// sdk returns the preferences for a call over regions.
func (p Preferences) sdk(regions []string) *types.StackSetOperationPreferences {
	out := &types.StackSetOperationPreferences{RegionOrder: regionOrder(p.RegionOrder, regions),
		RegionConcurrencyType: types.RegionConcurrencyTypeSequential, ConcurrencyMode: types.ConcurrencyModeStrictFailureTolerance}
	if p.ParallelRegions {
		out.RegionConcurrencyType = types.RegionConcurrencyTypeParallel
	}
	if p.MaxConcurrentPercent > 0 {
		out.MaxConcurrentPercentage = aws.Int32(int32(p.MaxConcurrentPercent))
	} else {
		out.MaxConcurrentCount = aws.Int32(int32(max(1, p.MaxConcurrent)))
	}
	if p.FailureTolerancePercent > 0 {
		out.FailureTolerancePercentage = aws.Int32(int32(p.FailureTolerancePercent))
	} else {
		out.FailureToleranceCount = aws.Int32(int32(p.FailureTolerance))
	}
	return out
}

// Deploy creates or updates the stack set and brings every target's instance up to date:
// the set first (an update rolls out to the instances it has), then new instances
// (CreateStackInstances), then instances whose overrides changed or whose last operation
// failed (UpdateStackInstances). Operations run one after the other and each is followed to
// its end; the first that fails, or leaves an instance failed, stops the rollout with a
// *FailedError. Instances no target names are left alone and listed in Result.Untargeted.
// Ctrl-C while an operation runs returns an *InterruptedError with its ID.
func (e *Engine) Deploy(ctx context.Context, req Request) (*Result, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	res := &Result{StackSet: req.StackSet}
	set, err := e.describeOurs(ctx, req.StackSet, req.DescriptionPrefix)
	var nf *NotFoundError
	switch {
	case errors.As(err, &nf):
		e.observer.Phase(PhaseCreatingStackSet, req.StackSet)
		id, err := e.createSet(ctx, req)
		if err != nil {
			return nil, err
		}
		res.Created, res.StackSetID = true, id
	case err != nil:
		return nil, err
	default:
		res.StackSetID = aws.ToString(set.StackSetId)
		want := types.PermissionModelsSelfManaged
		if req.Permissions.ServiceManaged {
			want = types.PermissionModelsServiceManaged
		}
		if set.PermissionModel != "" && set.PermissionModel != want {
			return nil, &PermissionModelError{StackSet: req.StackSet, Have: string(set.PermissionModel), Want: string(want)}
		}
		if err := e.busy(ctx, req.StackSet); err != nil {
			return nil, err
		}
		if setChanged(set, req) {
			e.observer.Phase(PhaseUpdatingStackSet, req.StackSet)
			op, err := e.updateSet(ctx, req)
			if err != nil {
				return nil, err
			}
			if stop, err := e.follow(ctx, res, op); stop || err != nil {
				return e.finish(ctx, res, req.Targets, op, err)
			}
		}
	}

	existing, err := e.instances(ctx, req.StackSet)
	if err != nil {
		return nil, err
	}
	creates, updates, err := e.sortTargets(ctx, req, existing)
	if err != nil {
		return nil, err
	}
	if len(creates) == 0 && len(updates) == 0 && !res.Created && len(res.Operations) == 0 {
		e.observer.Phase(PhaseUpToDate, req.StackSet)
	}
	for _, step := range []struct {
		phase   Phase
		targets []Target
		action  string
	}{{PhaseCreatingInstances, creates, "CREATE"}, {PhaseUpdatingInstances, updates, "UPDATE"}} {
		if len(step.targets) == 0 {
			continue
		}
		e.observer.Phase(step.phase, req.StackSet)
		for _, c := range plan(step.targets) {
			op, err := e.startInstances(ctx, req.StackSet, step.action, c, req.Preferences, false)
			if err != nil {
				return e.finish(ctx, res, req.Targets, nil, err)
			}
			if stop, err := e.follow(ctx, res, op); stop || err != nil {
				return e.finish(ctx, res, req.Targets, op, err)
			}
		}
	}
	return e.finish(ctx, res, req.Targets, nil, nil)
}

// finish fills the result's instances and returns it with the error: cause, or a
// *FailedError when an instance did not succeed.
func (e *Engine) finish(ctx context.Context, res *Result, targets []Target, last *Operation, cause error) (*Result, error) {
	var ie *InterruptedError
	if errors.As(cause, &ie) || ctx.Err() != nil {
		return res, cause
	}
	all, err := e.instances(ctx, res.StackSet)
	if err != nil {
		return res, errors.Join(cause, err)
	}
	targeted := map[string]bool{}
	ous := map[string]bool{}
	for _, t := range targets {
		targeted[t.Account+"/"+t.Region] = true
		ous[t.OrgUnit+"/"+t.Region] = true
	}
	for _, in := range all {
		if targeted[in.Account+"/"+in.Region] || (in.OrgUnit != "" && ous[in.OrgUnit+"/"+in.Region]) {
			if in.Failed() {
				in.Cause = e.rootCause(ctx, in)
			}
			res.Instances = append(res.Instances, in)
		} else {
			res.Untargeted = append(res.Untargeted, in)
		}
	}
	if cause != nil {
		return res, cause
	}
	var failedOp *OperationResult
	for i := range res.Operations {
		if res.Operations[i].Status != "SUCCEEDED" {
			failedOp = &res.Operations[i]
		}
	}
	if failedOp != nil || len(res.Failed()) > 0 {
		return res, &FailedError{Result: res, Operation: failedOp}
	}
	return res, nil
}

// describeOurs returns the stack set, refusing one this tool did not create.
func (e *Engine) describeOurs(ctx context.Context, name, prefix string) (*types.StackSet, error) {
	var out *cloudformation.DescribeStackSetOutput
	err := e.call(ctx, func(ctx context.Context) (err error) {
		out, err = e.cfn.DescribeStackSet(ctx, &cloudformation.DescribeStackSetInput{StackSetName: aws.String(name)})
		return err
	})
	if awserr.Code(err) == "StackSetNotFoundException" {
		return nil, &NotFoundError{StackSet: name}
	}
	if err != nil {
		return nil, fmt.Errorf("reading stack set %s: %w", name, err)
	}
	s := out.StackSet
	if s.Status == types.StackSetStatusDeleted {
		return nil, &NotFoundError{StackSet: name}
	}
	ours := slices.ContainsFunc(s.Tags, func(t types.Tag) bool {
		return aws.ToString(t.Key) == MarkerTagKey && aws.ToString(t.Value) == MarkerTagValue
	})
	desc := aws.ToString(s.Description)
	if !ours || (prefix != "" && len(desc) < len(prefix)) || (prefix != "" && desc[:len(prefix)] != prefix) {
		return nil, &NotOursError{StackSet: name, Description: desc}
	}
	return s, nil
}

func sdkParams(m map[string]string) []types.Parameter {
	var out []types.Parameter
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, types.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(m[k])})
	}
	return out
}

func sdkTags(m map[string]string) []types.Tag {
	all := maps.Clone(m)
	if all == nil {
		all = map[string]string{}
	}
	all[MarkerTagKey] = MarkerTagValue
	var out []types.Tag
	for _, k := range slices.Sorted(maps.Keys(all)) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(all[k])})
	}
	return out
}

func sdkCaps(caps []string) []types.Capability {
	var out []types.Capability
	for _, c := range caps {
		out = append(out, types.Capability(c))
	}
	return out
}

func (e *Engine) createSet(ctx context.Context, req Request) (string, error) {
	in := &cloudformation.CreateStackSetInput{StackSetName: aws.String(req.StackSet),
		TemplateBody: aws.String(string(req.TemplateBody)), Parameters: sdkParams(req.Parameters),
		Capabilities: sdkCaps(req.Capabilities), Tags: sdkTags(req.Tags), Description: aws.String(req.Description),
		PermissionModel: types.PermissionModelsSelfManaged}
	if p := req.Permissions; p.ServiceManaged {
		in.PermissionModel = types.PermissionModelsServiceManaged
		in.AutoDeployment = &types.AutoDeployment{Enabled: aws.Bool(p.AutoDeployment),
			RetainStacksOnAccountRemoval: aws.Bool(p.RetainStacksOnAccountRemoval)}
	} else {
		in.AdministrationRoleARN = optional(p.AdministrationRoleARN)
		in.ExecutionRoleName = optional(p.ExecutionRoleName)
	}
	var out *cloudformation.CreateStackSetOutput
	err := e.call(ctx, func(ctx context.Context) (err error) {
		out, err = e.cfn.CreateStackSet(ctx, in)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("creating stack set %s: %w", req.StackSet, err)
	}
	return aws.ToString(out.StackSetId), nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// setChanged reports whether the stack set's template, parameters, capabilities, tags or
// description differ from the request.
func setChanged(s *types.StackSet, req Request) bool {
	have := map[string]string{}
	for _, p := range s.Parameters {
		have[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	haveTags := map[string]string{}
	for _, t := range s.Tags {
		haveTags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	wantTags := maps.Clone(req.Tags)
	if wantTags == nil {
		wantTags = map[string]string{}
	}
	wantTags[MarkerTagKey] = MarkerTagValue
	var caps []string
	for _, c := range s.Capabilities {
		caps = append(caps, string(c))
	}
	slices.Sort(caps)
	want := slices.Sorted(slices.Values(req.Capabilities))
	return aws.ToString(s.TemplateBody) != string(req.TemplateBody) || !maps.Equal(have, req.Parameters) ||
		!maps.Equal(haveTags, wantTags) || !slices.Equal(caps, want) || aws.ToString(s.Description) != req.Description
}

func (e *Engine) updateSet(ctx context.Context, req Request) (*Operation, error) {
	in := &cloudformation.UpdateStackSetInput{StackSetName: aws.String(req.StackSet),
		TemplateBody: aws.String(string(req.TemplateBody)), Parameters: sdkParams(req.Parameters),
		Capabilities: sdkCaps(req.Capabilities), Tags: sdkTags(req.Tags), Description: aws.String(req.Description),
		OperationPreferences: req.Preferences.sdk(nil)}
	if p := req.Permissions; !p.ServiceManaged {
		in.AdministrationRoleARN = optional(p.AdministrationRoleARN)
		in.ExecutionRoleName = optional(p.ExecutionRoleName)
	}
	in.OperationPreferences.RegionOrder = req.Preferences.RegionOrder
	var out *cloudformation.UpdateStackSetOutput
	err := e.call(ctx, func(ctx context.Context) (err error) {
		out, err = e.cfn.UpdateStackSet(ctx, in)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("updating stack set %s: %w", req.StackSet, err)
	}
	op := &Operation{ID: aws.ToString(out.OperationId), StackSet: req.StackSet, Action: "UPDATE"}
	e.observer.Operation(*op)
	return op, nil
}

// busy refuses to start while another operation runs on the set.
func (e *Engine) busy(ctx context.Context, name string) error {
	var out *cloudformation.ListStackSetOperationsOutput
	err := e.call(ctx, func(ctx context.Context) (err error) {
		out, err = e.cfn.ListStackSetOperations(ctx, &cloudformation.ListStackSetOperationsInput{StackSetName: aws.String(name)})
		return err
	})
	if err != nil {
		return fmt.Errorf("listing the operations of stack set %s: %w", name, err)
	}
	for _, op := range out.Summaries {
		switch op.Status {
		case types.StackSetOperationStatusRunning, types.StackSetOperationStatusQueued, types.StackSetOperationStatusStopping:
			return &BusyError{StackSet: name, OperationID: aws.ToString(op.OperationId)}
		}
	}
	return nil
}

// sortTargets splits the targets into instances to create and instances to update: those
// whose overrides differ from the wanted ones, or whose last operation did not succeed.
func (e *Engine) sortTargets(ctx context.Context, req Request, existing []Instance) (creates, updates []Target, err error) {
	byKey := map[string]Instance{}
	ouRegions := map[string]Instance{}
	for _, in := range existing {
		byKey[in.Account+"/"+in.Region] = in
		if in.OrgUnit != "" {
			ouRegions[in.OrgUnit+"/"+in.Region] = in
		}
	}
	for _, t := range req.Targets {
		in, ok := byKey[t.Account+"/"+t.Region]
		if t.OrgUnit != "" {
			in, ok = ouRegions[t.OrgUnit+"/"+t.Region]
		}
		if !ok {
			creates = append(creates, t)
			continue
		}
		if in.Status != "CURRENT" {
			updates = append(updates, t)
			continue
		}
		have, err := e.overrides(ctx, req.StackSet, in.Account, in.Region)
		if err != nil {
			return nil, nil, err
		}
		if !maps.Equal(have, nonNil(t.Overrides)) {
			updates = append(updates, t)
		}
	}
	return creates, updates, nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// InstanceOverrides returns the parameter overrides of the stack set's instance in account
// and region: the values it does not take from the set.
func (e *Engine) InstanceOverrides(ctx context.Context, stackSet, account, region string) (map[string]string, error) {
	return e.overrides(ctx, stackSet, account, region)
}

func (e *Engine) overrides(ctx context.Context, set, account, region string) (map[string]string, error) {
	var out *cloudformation.DescribeStackInstanceOutput
	err := e.call(ctx, func(ctx context.Context) (err error) {
		out, err = e.cfn.DescribeStackInstance(ctx, &cloudformation.DescribeStackInstanceInput{StackSetName: aws.String(set),
			StackInstanceAccount: aws.String(account), StackInstanceRegion: aws.String(region)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading stack instance %s/%s: %w", account, region, err)
	}
	m := map[string]string{}
	for _, p := range out.StackInstance.ParameterOverrides {
		m[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	return m, nil
}

// startInstances makes one CreateStackInstances, UpdateStackInstances or
// DeleteStackInstances call.
func (e *Engine) startInstances(ctx context.Context, set, action string, c call, p Preferences, retain bool) (*Operation, error) {
	if ctx.Err() != nil {
		return nil, &InterruptedError{StackSet: set, Err: ctx.Err()}
	}
	var targets *types.DeploymentTargets
	accounts := c.accounts
	if len(c.orgUnits) > 0 {
		targets, accounts = &types.DeploymentTargets{OrganizationalUnitIds: c.orgUnits}, nil
	}
	prefs := p.sdk(c.regions)
	var id *string
	err := e.call(ctx, func(ctx context.Context) error {
		switch action {
		case "CREATE":
			out, err := e.cfn.CreateStackInstances(ctx, &cloudformation.CreateStackInstancesInput{StackSetName: aws.String(set),
				Accounts: accounts, DeploymentTargets: targets, Regions: c.regions, ParameterOverrides: sdkParams(c.overrides),
				OperationPreferences: prefs})
			if err == nil {
				id = out.OperationId
			}
			return err
		case "UPDATE":
			out, err := e.cfn.UpdateStackInstances(ctx, &cloudformation.UpdateStackInstancesInput{StackSetName: aws.String(set),
				Accounts: accounts, DeploymentTargets: targets, Regions: c.regions, ParameterOverrides: sdkParams(c.overrides),
				OperationPreferences: prefs})
			if err == nil {
				id = out.OperationId
			}
			return err
		default:
			out, err := e.cfn.DeleteStackInstances(ctx, &cloudformation.DeleteStackInstancesInput{StackSetName: aws.String(set),
				Accounts: accounts, DeploymentTargets: targets, Regions: c.regions, RetainStacks: aws.Bool(retain),
				OperationPreferences: prefs})
			if err == nil {
				id = out.OperationId
			}
			return err
		}
	})
	if awserr.Code(err) == "OperationInProgressException" {
		return nil, &BusyError{StackSet: set, OperationID: "(started elsewhere)"}
	}
	if err != nil {
		return nil, fmt.Errorf("%s stack instances of %s: %w", map[string]string{"CREATE": "creating", "UPDATE": "updating", "DELETE": "deleting"}[action], set, err)
	}
	op := &Operation{ID: aws.ToString(id), StackSet: set, Action: action, Accounts: c.accounts, OrgUnits: c.orgUnits,
		Regions: c.regions, Overrides: c.overrides}
	e.observer.Operation(*op)
	return op, nil
}
