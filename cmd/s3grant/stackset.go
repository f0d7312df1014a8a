package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/isahit/s3grant/internal/arn"
	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/stacks"
	"github.com/isahit/s3grant/stackset"
	"github.com/isahit/s3grant/verify"
)

// stackSetFlags are the flags of an organization rollout (deploy, status, delete and verify
// with --stack-set).
type stackSetFlags struct {
	name, targets               string
	adminRole, execRole         string
	orgUnits, regions, bRules   []string
	homeRegion                  string
	perAccountExternalID        bool
	autoDeployment              bool
	maxConcurrent, maxConcPct   int
	failureTolerance, failTolPc int
	regionOrder                 []string
	accountProfiles             []string
	accountRoles                []string
}

// registerName adds --stack-set and the per-account access flags (every stack set command).
func (f *stackSetFlags) registerName(fs *pflag.FlagSet) {
	fs.StringVar(&f.name, "stack-set", "", "roll out to many accounts and regions with the CloudFormation stack set `NAME` (an organization rollout; see the organizations guide)")
	fs.StringArrayVar(&f.accountProfiles, "account-profile", nil, "`ACCOUNT=PROFILE`: read account ACCOUNT's stacks (and verify there) with this AWS profile; repeatable")
	fs.StringArrayVar(&f.accountRoles, "account-role", nil, "`ACCOUNT=ROLE_ARN`: read account ACCOUNT's stacks (and verify there) by assuming this role; repeatable (default, self-managed: the stack set's execution role)")
	fs.StringVar(&f.execRole, "execution-role-name", "", "self-managed stack set: the execution role `NAME` in each target account (default AWS's "+stackset.DefaultExecutionRoleName+")")
}

// registerRollout adds the flags only deploy has.
func (f *stackSetFlags) registerRollout(fs *pflag.FlagSet) {
	fs.StringVar(&f.targets, "targets", "", "targets `FILE` (YAML): accounts, regions and buckets of a self-managed stack set")
	fs.StringVar(&f.adminRole, "administration-role-arn", "", "self-managed stack set: the administration role `ARN` (default AWS's "+stackset.DefaultAdministrationRole+" in this account)")
	fs.StringArrayVar(&f.orgUnits, "org-unit", nil, "service-managed stack set: deploy to the accounts of this organizational unit `ID` (ou-... or r-...); repeatable")
	fs.StringArrayVar(&f.regions, "target-region", nil, "service-managed stack set: a `REGION` to deploy to in every account; repeatable, the first is the home region unless --home-region")
	fs.StringArrayVar(&f.bRules, "bucket-rule", nil, "service-managed stack set: a bucket naming `RULE` such as data-${AWS::AccountId} or data-${AWS::AccountId}/images/, the same in every account; repeatable")
	fs.BoolVar(&f.autoDeployment, "auto-deployment", true, "service-managed stack set: deploy to accounts that join the organizational units later (--auto-deployment=false to turn it off)")
	fs.StringVar(&f.homeRegion, "home-region", "", "the `REGION` whose instance creates the vendor role in each account (default: the account's first region in the targets file)")
	fs.BoolVar(&f.perAccountExternalID, "external-id-per-account", false, "give every account its own external ID (generated, then kept) instead of one for the whole organization; the vendor is told each")
	fs.IntVar(&f.maxConcurrent, "max-concurrent", 0, "accounts deployed at once per region (default 1)")
	fs.IntVar(&f.maxConcPct, "max-concurrent-percent", 0, "accounts deployed at once per region, as a `PERCENT` of them")
	fs.IntVar(&f.failureTolerance, "failure-tolerance", 0, "accounts per region that may fail before the operation stops (default 0: the first failure stops it)")
	fs.IntVar(&f.failTolPc, "failure-tolerance-percent", 0, "accounts per region that may fail, as a `PERCENT` of them")
	fs.StringSliceVar(&f.regionOrder, "region-order", nil, "the order of the `REGIONS` (comma-separated); each account's home region always comes before its other regions")
}

func (f *stackSetFlags) preferences() stackset.Preferences {
	return stackset.Preferences{MaxConcurrent: f.maxConcurrent, MaxConcurrentPercent: f.maxConcPct,
		FailureTolerance: f.failureTolerance, FailureTolerancePercent: f.failTolPc, RegionOrder: f.regionOrder}
}

// parsePairs reads ACCOUNT=VALUE flags.
func parsePairs(flag string, values []string, check *rules.Rule) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range values {
		acct, val, ok := strings.Cut(v, "=")
		if !ok || val == "" {
			return nil, rules.Invalid(flag, v, fmt.Sprintf("%q is not ACCOUNT=VALUE", v))
		}
		if err := rules.AccountID.Validate(flag, acct); err != nil {
			return nil, err
		}
		if check != nil {
			if err := check.Validate(flag, val); err != nil {
				return nil, err
			}
		}
		if _, dup := out[acct]; dup {
			return nil, rules.Invalid(flag, v, "account "+acct+" is given twice")
		}
		out[acct] = val
	}
	return out, nil
}

// accounts reaches the target accounts, for the checks made there: the stacks they already
// have, the root cause of a failed instance, verify.
type accounts struct {
	base     aws.Config
	awsf     awsFlags
	profiles map[string]string
	roles    map[string]string
	// execRole is assumed in an account with neither a profile nor a role (self-managed).
	execRole string
}

func (f *stackSetFlags) accounts(base aws.Config, awsf awsFlags, selfManaged bool) (*accounts, error) {
	profiles, err := parsePairs("--account-profile", f.accountProfiles, nil)
	if err != nil {
		return nil, err
	}
	roles, err := parsePairs("--account-role", f.accountRoles, rules.ServiceRoleARN)
	if err != nil {
		return nil, err
	}
	for acct := range roles {
		if _, both := profiles[acct]; both {
			return nil, rules.Invalid("--account-role", acct, "account "+acct+" has both --account-profile and --account-role: give one")
		}
	}
	acc := &accounts{base: base, awsf: awsf, profiles: profiles, roles: roles}
	if selfManaged {
		acc.execRole = f.execRole
		if acc.execRole == "" {
			acc.execRole = stackset.DefaultExecutionRoleName
		}
	}
	return acc, nil
}

// config returns the AWS configuration for account in region; ok is false when the CLI has
// no way into the account.
func (a *accounts) config(ctx context.Context, account, region string) (aws.Config, bool, error) {
	if p, ok := a.profiles[account]; ok {
		f := a.awsf
		f.profile = p
		cfg, err := f.config(ctx, region)
		return cfg, err == nil, err
	}
	role := a.roles[account]
	if role == "" && a.execRole != "" {
		role = arn.Role(region, account, a.execRole)
	}
	if role == "" {
		return aws.Config{}, false, nil
	}
	cfg := a.base.Copy()
	cfg.Region = region
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(a.base), role,
		func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "s3grant" }))
	return cfg, true, nil
}

// stackReader is the engine's way to read a failed instance's stack events in its account.
func (a *accounts) stackReader(ctx context.Context, account, region string) (stackset.StackEventsReader, error) {
	cfg, ok, err := a.config(ctx, account, region)
	if err != nil || !ok {
		return nil, err
	}
	return cloudformation.NewFromConfig(cfg), nil
}

// singleStacks returns the s3grant stacks in account and region that are not instances of
// the stack set: a single-stack integration (or another rollout) whose access point names and
// CORS rule an instance would collide with.
func (a *accounts) singleStacks(ctx context.Context, account, region, stackSet string) ([]string, bool, error) {
	cfg, ok, err := a.config(ctx, account, region)
	if err != nil || !ok {
		return nil, ok, err
	}
	c := cloudformation.NewFromConfig(cfg)
	var found []string
	in := &cloudformation.DescribeStacksInput{}
	for {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		out, err := c.DescribeStacks(cctx, in)
		cancel()
		if err != nil {
			return nil, true, fmt.Errorf("reading the stacks of account %s in %s: %w", account, region, err)
		}
		for _, s := range out.Stacks {
			name := aws.ToString(s.StackName)
			if strings.HasPrefix(name, "StackSet-"+stackSet+"-") || !strings.HasPrefix(aws.ToString(s.Description), ownDescription) {
				continue
			}
			found = append(found, name)
		}
		if out.NextToken == nil {
			return found, true, nil
		}
		in.NextToken = out.NextToken
	}
}

// callTimeout bounds each call the CLI makes itself.
const callTimeout = 30 * time.Second

// rollout is an organization rollout planned from the flags and the targets file.
type rollout struct {
	req      stackset.Request
	roleName string
	// home is each account's home region; buckets the buckets of each "account/region".
	home    map[string]string
	buckets map[string][]stacks.Bucket
	lines   map[string]int
	file    string
	order   []string // "account/region" in rollout order
}

// planRollout checks the flags and the targets file and builds the request.
func planRollout(in stacks.Integration, f *stackSetFlags) (*rollout, error) {
	selfManaged := len(f.orgUnits) == 0
	switch {
	case selfManaged && f.targets == "":
		return nil, rules.Invalid("--targets", "", "is required with --stack-set: the accounts, regions and buckets (or --org-unit for a service-managed stack set)")
	case !selfManaged && f.targets != "":
		return nil, rules.Invalid("--targets", f.targets, "a service-managed stack set (--org-unit) deploys the same buckets to every account: use --bucket-rule and --target-region, not a targets file")
	case !selfManaged && (len(f.regions) == 0 || len(f.bRules) == 0):
		return nil, rules.Invalid("--org-unit", strings.Join(f.orgUnits, ","), "a service-managed stack set needs --target-region and --bucket-rule")
	case !selfManaged && f.perAccountExternalID:
		return nil, rules.Invalid("--external-id-per-account", "", "a service-managed stack set cannot give accounts their own values: one external ID for the organization")
	case selfManaged && (len(f.regions) > 0 || len(f.bRules) > 0):
		return nil, rules.Invalid("--target-region", "", "--target-region and --bucket-rule are for a service-managed stack set (--org-unit); the targets file lists regions and buckets")
	}
	if in.ExternalID == "" && !f.perAccountExternalID {
		return nil, rules.Invalid("ExternalId", "", "is required: the external ID the vendor generated for your organization (or --external-id-per-account)")
	}
	if in.RoleName == "" {
		in.RoleName = f.name
		if err := rules.RoleName.Validate("RoleName", in.RoleName); err != nil {
			return nil, rules.Invalid("RoleName", "", "is required: the stack set name is too long to name the vendor role, which has one name in every account")
		}
	}
	r := &rollout{roleName: in.RoleName, home: map[string]string{}, buckets: map[string][]stacks.Bucket{}, lines: map[string]int{}, file: f.targets}
	r.req = stackset.Request{StackSet: f.name, Capabilities: []string{"CAPABILITY_NAMED_IAM"}, DescriptionPrefix: ownDescription,
		Description: fmt.Sprintf("%s%s: %s integration across accounts (one role per account, access points per region)", ownDescription, stacks.TemplateVersion, in.Vendor.Name),
		Tags:        in.Vendor.Tags, Preferences: f.preferences()}
	shape := stacks.StackSetTemplate{}
	if selfManaged {
		r.req.Permissions = stackset.Permissions{AdministrationRoleARN: f.adminRole, ExecutionRoleName: f.execRole}
		if err := r.targetsFile(in, f, &shape); err != nil {
			return nil, err
		}
	} else {
		if err := r.orgUnits(in, f, &shape); err != nil {
			return nil, err
		}
	}
	t, err := stacks.BuildStackSetTemplate(in, shape)
	if err != nil {
		return nil, err
	}
	body, err := t.JSON()
	if err != nil {
		return nil, err
	}
	// Sent inline: compact, since CloudFormation counts the indentation in its 51,200 bytes.
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		return nil, err
	}
	r.req.TemplateBody = compact.Bytes()
	if n := len(r.req.TemplateBody); n > stacks.MaxInlineTemplateBytes {
		return nil, rules.Invalid("--targets", f.targets, fmt.Sprintf("the stack set template would be %d bytes, over CloudFormation's %d for a template sent inline: fewer buckets per account and region", n, stacks.MaxInlineTemplateBytes))
	}
	r.req.Parameters = in.ValuesOf("ExternalId", "TrustedAccountId", "AllowedOrigins", "ManageCors", "RoleName")
	if f.perAccountExternalID {
		delete(r.req.Parameters, "ExternalId") // every instance overrides it
		r.req.Parameters["ExternalId"] = "set-per-account"
	}
	return r, r.req.Validate()
}

// targetsFile plans a self-managed rollout from the targets file.
func (r *rollout) targetsFile(in stacks.Integration, f *stackSetFlags, shape *stacks.StackSetTemplate) error {
	data, err := os.ReadFile(f.targets)
	if err != nil {
		return rules.Invalid("--targets", f.targets, "cannot be read: "+err.Error())
	}
	entries, err := stackset.ParseTargets(f.targets, data)
	if err != nil {
		return err
	}
	regionsOf := map[string][]string{}
	var accountOrder []string
	for _, e := range entries {
		if _, seen := regionsOf[e.Account]; !seen {
			accountOrder = append(accountOrder, e.Account)
		}
		regionsOf[e.Account] = append(regionsOf[e.Account], e.Region)
		var bs []stacks.Bucket
		for _, b := range e.Buckets {
			bs = append(bs, stacks.Bucket{Name: b.Name, Prefix: b.Prefix})
		}
		named, err := stacks.NameAccessPoints(in.AccessPointName, bs)
		if err != nil {
			return err
		}
		where := fmt.Sprintf("%s:%d", f.targets, e.Line)
		if err := stacks.CheckInstancePolicy(e.Account, e.Region, named); err != nil {
			var inv *rules.InvalidError
			if errors.As(err, &inv) {
				inv.Field = where
			}
			return err
		}
		k := e.Account + "/" + e.Region
		r.buckets[k], r.lines[k] = named, e.Line
		shape.Slots = max(shape.Slots, len(named))
	}
	if f.homeRegion != "" {
		if err := rules.Region.Validate("--home-region", f.homeRegion); err != nil {
			return err
		}
	}
	for _, acct := range accountOrder {
		regions := regionsOf[acct]
		home := regions[0]
		if f.homeRegion != "" {
			if !slices.Contains(regions, f.homeRegion) {
				return rules.Invalid("--home-region", f.homeRegion, fmt.Sprintf("account %s has no target in %s (its regions: %s)", acct, f.homeRegion, strings.Join(regions, ", ")))
			}
			home = f.homeRegion
		}
		if len(regions) > stacks.ManagedPoliciesPerRole {
			return rules.Invalid(fmt.Sprintf("%s:%d", f.targets, r.lines[acct+"/"+regions[stacks.ManagedPoliciesPerRole]]), acct, fmt.Sprintf(
				"account %s is targeted in %d regions: each region attaches one policy to the vendor role, and IAM allows %d per role", acct, len(regions), stacks.ManagedPoliciesPerRole))
		}
		r.home[acct] = home
		// The home region first: its instance creates the role the others attach to.
		ordered := append([]string{home}, slices.DeleteFunc(slices.Clone(regions), func(x string) bool { return x == home })...)
		for _, region := range ordered {
			k := acct + "/" + region
			r.order = append(r.order, k)
			r.req.Targets = append(r.req.Targets, stackset.Target{Account: acct, Region: region,
				Overrides: stacks.InstanceValues(home, r.buckets[k])})
		}
	}
	return nil
}

// orgUnits plans a service-managed rollout: the same buckets (naming rules) in every account
// of the OUs, the home region first in every operation.
func (r *rollout) orgUnits(in stacks.Integration, f *stackSetFlags, shape *stacks.StackSetTemplate) error {
	if err := stackset.ValidateOrgUnits("--org-unit", f.orgUnits); err != nil {
		return err
	}
	for _, reg := range f.regions {
		if err := rules.Region.Validate("--target-region", reg); err != nil {
			return err
		}
	}
	home := f.regions[0]
	if f.homeRegion != "" {
		if !slices.Contains(f.regions, f.homeRegion) {
			return rules.Invalid("--home-region", f.homeRegion, "is not one of the --target-region values")
		}
		home = f.homeRegion
	}
	if len(f.regions) > stacks.ManagedPoliciesPerRole {
		return rules.Invalid("--target-region", "", fmt.Sprintf("%d regions: each attaches one policy to the vendor role, and IAM allows %d per role", len(f.regions), stacks.ManagedPoliciesPerRole))
	}
	if len(f.regionOrder) > 0 && f.regionOrder[0] != home {
		return rules.Invalid("--region-order", strings.Join(f.regionOrder, ","), "must start with the home region "+home+": its instances create the role the other regions attach to")
	}
	var bs []stacks.Bucket
	for _, rule := range f.bRules {
		name, prefix, _ := strings.Cut(rule, "/")
		if err := rules.ObjectPrefix.Validate("--bucket-rule", prefix); err != nil {
			return err
		}
		bs = append(bs, stacks.Bucket{Name: name, Prefix: prefix})
	}
	named, err := stacks.NameAccessPoints(in.AccessPointName, bs)
	if err != nil {
		return err
	}
	shape.Rules = named
	r.req.Permissions = stackset.Permissions{ServiceManaged: true, AutoDeployment: f.autoDeployment, RetainStacksOnAccountRemoval: true}
	r.req.Preferences.RegionOrder = append([]string{home}, slices.DeleteFunc(slices.Clone(f.regions), func(x string) bool { return x == home })...)
	for _, ou := range f.orgUnits {
		for _, reg := range r.req.Preferences.RegionOrder {
			r.req.Targets = append(r.req.Targets, stackset.Target{OrgUnit: ou, Region: reg, Overrides: map[string]string{stacks.HomeRegionParam: home}})
		}
	}
	return nil
}

// externalIDs gives every account its own external ID: the one its instances have already,
// or a new one.
func (r *rollout) externalIDs(ctx context.Context, eng *stackset.Engine) (map[string]string, error) {
	ids := map[string]string{}
	for _, t := range r.req.Targets {
		if _, done := ids[t.Account]; done {
			continue
		}
		for _, k := range r.order {
			acct, region, _ := strings.Cut(k, "/")
			if acct != t.Account {
				continue
			}
			have, err := eng.InstanceOverrides(ctx, r.req.StackSet, acct, region)
			if err == nil && have["ExternalId"] != "" {
				ids[acct] = have["ExternalId"]
				break
			}
		}
		if ids[t.Account] == "" {
			ids[t.Account] = uuid.NewString()
		}
	}
	for i := range r.req.Targets {
		r.req.Targets[i].Overrides["ExternalId"] = ids[r.req.Targets[i].Account]
	}
	return ids, nil
}

// stackSetUI prints a stack set operation's progress, one line per instance change, the
// same on a terminal and in a CI log.
type stackSetUI struct{ *ui }

func (u stackSetUI) Phase(p stackset.Phase, set string) { fmt.Fprintf(u.w, "%s: %s\n", set, p) }

func (u stackSetUI) Operation(op stackset.Operation) {
	what := strings.ToLower(op.Action)
	if what == "" {
		what = "following"
	}
	where := strings.Join(append(slices.Clone(op.Accounts), op.OrgUnits...), ",")
	if where != "" {
		where = " " + where + " in " + strings.Join(op.Regions, ",")
	}
	fmt.Fprintf(u.w, "operation %s: %s%s\n", op.ID, what, where)
}

func (u stackSetUI) Instance(ev stackset.InstanceEvent) {
	status := fmt.Sprintf("%-10s", ev.Status)
	if c := instanceColor(ev.Status); u.color && c != "" {
		status = c + status + "\x1b[0m"
	}
	line := fmt.Sprintf("%s [%d/%d] %-12s %-15s %s %s", ev.Time.Local().Format("15:04:05"), ev.Done, ev.Total, ev.Account, ev.Region, status, ev.Reason)
	fmt.Fprintln(u.w, strings.TrimRight(line, " "))
}

func instanceColor(status string) string {
	switch status {
	case "FAILED", "CANCELLED", "INOPERABLE":
		return statusColor("FAILED")
	case "RUNNING", "PENDING":
		return statusColor("_IN_PROGRESS")
	case "SUCCEEDED", "CURRENT":
		return statusColor("_COMPLETE")
	}
	return ""
}

func (u stackSetUI) confirm(ctx context.Context, q stackset.Question) (bool, error) {
	fmt.Fprintf(u.w, "Stack set %s has %d instance(s); each one's stack will be deleted, then the set:\n", q.StackSet, len(q.Instances))
	tw := tabwriter.NewWriter(u.w, 0, 0, 2, ' ', 0)
	for _, in := range q.Instances {
		fmt.Fprintf(tw, "  - %s\t%s\t%s\n", in.Account, in.Region, in.Status)
	}
	tw.Flush()
	fmt.Fprintf(u.w, "Your buckets, their objects and your own CORS rules are not part of the stacks and stay.\nDelete stack set %s? [y/N] ", q.StackSet)
	if u.yes {
		fmt.Fprintln(u.w, "yes (--yes)")
		return true, nil
	}
	return u.readAnswer(ctx)
}

func (u stackSetUI) engine(cfg aws.Config, acc *accounts) *stackset.Engine {
	c := cloudformation.NewFromConfig(cfg)
	opts := []stackset.Option{stackset.WithObserver(u), stackset.WithConfirm(u.confirm)}
	if acc != nil {
		opts = append(opts, stackset.WithStackReader(acc.stackReader))
	}
	return stackset.New(c, append(opts, u.a.stackSetOptions...)...)
}

// stackSetResume is the command that follows an operation again after Ctrl-C.
func stackSetResume(set, opID string, awsf awsFlags) string {
	return "s3grant status --stack-set " + set + " --operation-id " + opID + awsf.args()
}

// instanceJSON is one instance in --output json.
type instanceJSON struct {
	Account        string            `json:"account"`
	Region         string            `json:"region"`
	OrgUnit        string            `json:"orgUnit,omitempty"`
	Status         string            `json:"status"`
	DetailedStatus string            `json:"detailedStatus,omitempty"`
	Drift          string            `json:"drift,omitempty"`
	Reason         string            `json:"reason,omitempty"`
	Cause          *stackset.Cause   `json:"rootCause,omitempty"`
	Home           bool              `json:"homeRegion"`
	AccessPoints   []accessPointJSON `json:"accessPoints,omitempty"`
	StackID        string            `json:"stackId,omitempty"`
}

type accessPointJSON struct {
	Bucket         string `json:"bucket"`
	Prefix         string `json:"prefix,omitempty"`
	AccessPointArn string `json:"accessPointArn"`
}

// accountJSON is what the vendor needs of one account: its role, external ID and access points.
type accountJSON struct {
	Account      string            `json:"account"`
	RoleArn      string            `json:"roleArn"`
	ExternalID   string            `json:"externalId"`
	HomeRegion   string            `json:"homeRegion"`
	AccessPoints []accessPointJSON `json:"accessPoints"`
}

// stackSetJSON is what deploy, status and delete print with --output json for a stack set.
type stackSetJSON struct {
	StackSet   string         `json:"stackSet"`
	StackSetID string         `json:"stackSetId,omitempty"`
	Outcome    string         `json:"outcome"`
	Running    string         `json:"runningOperation,omitempty"`
	Accounts   []accountJSON  `json:"accounts"`
	Instances  []instanceJSON `json:"instances"`
	TellVendor string         `json:"tellVendor,omitempty"`
}

// describeInstances reads what each instance holds from its overrides and the set's values.
func describeInstances(ctx context.Context, eng *stackset.Engine, set string, shared map[string]string, roleName string, ins []stackset.Instance) ([]instanceJSON, []accountJSON) {
	var out []instanceJSON
	byAcct := map[string]*accountJSON{}
	var order []string
	for _, in := range ins {
		j := instanceJSON{Account: in.Account, Region: in.Region, OrgUnit: in.OrgUnit, Status: in.Status, DetailedStatus: in.DetailedStatus,
			Drift: in.DriftStatus, Reason: in.Reason, Cause: in.Cause, StackID: in.StackID}
		ov, err := eng.InstanceOverrides(ctx, set, in.Account, in.Region)
		if err != nil {
			ov = map[string]string{}
		}
		vals := stacks.Overlay(shared, ov)
		j.Home = vals[stacks.HomeRegionParam] == in.Region
		for k := 1; vals[stacks.SlotBucket(k)] != ""; k++ {
			j.AccessPoints = append(j.AccessPoints, accessPointJSON{Bucket: vals[stacks.SlotBucket(k)], Prefix: vals[stacks.SlotPrefix(k)],
				AccessPointArn: arn.AccessPoint(in.Region, in.Account, vals[stacks.SlotAccessPoint(k)])})
		}
		out = append(out, j)
		a := byAcct[in.Account]
		if a == nil {
			a = &accountJSON{Account: in.Account, RoleArn: arn.Role(in.Region, in.Account, roleName), ExternalID: vals["ExternalId"],
				HomeRegion: vals[stacks.HomeRegionParam], AccessPoints: []accessPointJSON{}}
			byAcct[in.Account] = a
			order = append(order, in.Account)
		}
		a.AccessPoints = append(a.AccessPoints, j.AccessPoints...)
	}
	var accts []accountJSON
	for _, k := range order {
		accts = append(accts, *byAcct[k])
	}
	return out, accts
}

// printInstances prints the summary table: one row per instance, the root cause of each
// failed one.
func printInstances(u *ui, ins []instanceJSON) {
	tw := tabwriter.NewWriter(u.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tREGION\tSTATUS\tDETAIL\tDRIFT\tROLE\tBUCKETS")
	for _, in := range ins {
		role := "attached"
		if in.Home {
			role = "created here"
		}
		var bs []string
		for _, ap := range in.AccessPoints {
			bs = append(bs, ap.Bucket+"/"+ap.Prefix)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", in.Account, in.Region, in.Status, in.DetailedStatus, in.Drift, role, strings.Join(bs, " "))
	}
	tw.Flush()
	for _, in := range ins {
		switch {
		case in.Cause != nil && in.Cause.LogicalID != "":
			fmt.Fprintf(u.w, "Root cause in %s/%s: %s (%s): %s\n", in.Account, in.Region, in.Cause.LogicalID, in.Cause.ResourceType, in.Cause.Reason)
		case in.Cause != nil:
			fmt.Fprintf(u.w, "Root cause in %s/%s: %s\n", in.Account, in.Region, in.Cause.Reason)
		}
	}
}

func printVendorAccounts(u *ui, vendor string, accts []accountJSON) {
	fmt.Fprintf(u.w, "\nTell %s, for each account:\n", vendor)
	tw := tabwriter.NewWriter(u.w, 0, 0, 2, ' ', 0)
	for _, a := range accts {
		fmt.Fprintf(tw, "  %s\tRoleArn\t%s\n", a.Account, a.RoleArn)
		fmt.Fprintf(tw, "  \tExternalId\t%s\n", a.ExternalID)
		for _, ap := range a.AccessPoints {
			fmt.Fprintf(tw, "  \tAccessPointArn\t%s (bucket %s)\n", ap.AccessPointArn, ap.Bucket)
		}
	}
	tw.Flush()
}

// finishStackSet prints the result of a stack set operation and turns its error into the
// exit code: 1 when an instance failed, 130 when interrupted (with the command that resumes).
func (u stackSetUI) finish(ctx context.Context, eng *stackset.Engine, outcome string, res *stackset.Result, err error, shared map[string]string, roleName string, awsf awsFlags) error {
	var interrupted *stackset.InterruptedError
	var lost *stackset.WatchError
	switch {
	case errors.As(err, &interrupted):
		if interrupted.OperationID != "" {
			fmt.Fprintf(u.a.stderr, "Stopped watching: operation %s goes on in CloudFormation. Resume watching with:\n  %s\n",
				interrupted.OperationID, stackSetResume(interrupted.StackSet, interrupted.OperationID, awsf))
		}
		return exitError{code: exitInterrupted, err: err}
	case errors.As(err, &lost):
		fmt.Fprintf(u.a.stderr, "Resume watching with:\n  %s\n", stackSetResume(lost.StackSet, lost.OperationID, awsf))
		return err
	case res == nil:
		return err
	}
	var failed *stackset.FailedError
	if errors.As(err, &failed) {
		outcome = "failed"
	}
	ins, accts := describeInstances(ctx, eng, res.StackSet, shared, roleName, res.Instances)
	if u.json {
		if jerr := writeJSON(u.a.stdout, stackSetJSON{StackSet: res.StackSet, StackSetID: res.StackSetID, Outcome: outcome,
			Accounts: accts, Instances: ins}); jerr != nil {
			return jerr
		}
	} else if len(ins) > 0 {
		fmt.Fprintln(u.w)
		printInstances(u.ui, ins)
		if failed == nil && outcome != "deleted" {
			printVendorAccounts(u.ui, u.vendorName, accts)
		}
	}
	if len(res.Untargeted) > 0 && !u.json {
		fmt.Fprintf(u.w, "%d instance(s) of the set are in no target and were left as they are.\n", len(res.Untargeted))
	}
	if failed != nil {
		return exitError{code: exitFailure, err: err}
	}
	return err
}

// deployStackSet is `deploy --stack-set`: plan, check every account, ask, roll out.
func deployStackSet(ctx context.Context, a *app, in stacks.Integration, f *stackSetFlags, awsf awsFlags, region string, yes bool, format string) error {
	r, err := planRollout(in, f)
	if err != nil {
		return err
	}
	u := stackSetUI{newUI(a, format, yes)}
	u.vendorName = in.Vendor.Name
	if !yes && !u.stdinTTY {
		return rules.Invalid("--yes", "", "no terminal: pass --yes to answer yes; nothing changed")
	}
	cfg, err := awsf.config(ctx, region)
	if err != nil {
		return err
	}
	if cfg.Region == "" {
		return rules.Invalid("--region", "", "no AWS region for the stack set's administrator: set AWS_REGION or a region in your profile")
	}
	acc, err := f.accounts(cfg, awsf, !r.req.Permissions.ServiceManaged)
	if err != nil {
		return err
	}
	// Safety: an account that already has an s3grant stack in a target region is refused.
	for _, k := range r.order {
		acct, region, _ := strings.Cut(k, "/")
		found, ok, err := acc.singleStacks(ctx, acct, region, r.req.StackSet)
		if err != nil {
			return fmt.Errorf("%w (give --account-profile %s=PROFILE or --account-role %s=ROLE_ARN to read it)", err, acct, acct)
		}
		if !ok {
			continue
		}
		if len(found) > 0 {
			return fmt.Errorf("account %s in %s (%s line %d) already has the s3grant stack %s, a single-stack integration: "+
				"an instance would collide with its access point and CORS rule. Next step: remove it first "+
				"(s3grant delete --stack-name %s --region %s with that account's credentials, then tell the vendor), "+
				"or leave this account and region out of the targets file; nothing changed",
				acct, region, r.file, r.lines[k], strings.Join(found, ", "), found[0], region)
		}
	}
	if r.req.Permissions.ServiceManaged {
		fmt.Fprintln(u.w, "Note: the accounts of an organizational unit are not listed in advance, so existing single-stack integrations in them cannot be checked first.")
	}
	eng := u.engine(cfg, acc)
	if f.perAccountExternalID {
		if _, err := r.externalIDs(ctx, eng); err != nil {
			return err
		}
	}
	fmt.Fprintf(u.w, "Stack set %s: %d instance(s), the vendor role %s created once per account in its home region:\n", r.req.StackSet, len(r.req.Targets), r.roleName)
	tw := tabwriter.NewWriter(u.w, 0, 0, 2, ' ', 0)
	for _, t := range r.req.Targets {
		where := t.Account + t.OrgUnit
		role := "attach policy to the role"
		if t.Region == t.Overrides[stacks.HomeRegionParam] {
			role = "create the role"
		}
		var bs []string
		for k := 1; t.Overrides[stacks.SlotBucket(k)] != ""; k++ {
			bs = append(bs, t.Overrides[stacks.SlotBucket(k)]+"/"+t.Overrides[stacks.SlotPrefix(k)])
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", where, t.Region, role, strings.Join(bs, " "))
	}
	tw.Flush()
	fmt.Fprintf(u.w, "Roll out stack set %s? [y/N] ", r.req.StackSet)
	ok := yes
	if yes {
		fmt.Fprintln(u.w, "yes (--yes)")
	} else if ok, err = u.readAnswer(ctx); err != nil {
		return exitError{code: exitInterrupted, err: err}
	}
	if !ok {
		return exitError{code: exitFailure, err: stackset.ErrDeclined}
	}
	res, err := eng.Deploy(ctx, r.req)
	outcome := "deployed"
	if res != nil && !res.Created && len(res.Operations) == 0 {
		outcome = "up-to-date"
	}
	return u.finish(ctx, eng, outcome, res, err, r.req.Parameters, r.roleName, awsf)
}

// stackSetStatus is `status --stack-set`: the instances, their status and drift, and what to
// tell the vendor; --operation-id follows a running operation first.
func stackSetStatus(ctx context.Context, a *app, f *stackSetFlags, awsf awsFlags, region, format, opID string) error {
	u := stackSetUI{newUI(a, format, false)}
	eng, _, err := stackSetEngine(ctx, u, f, awsf, region)
	if err != nil {
		return err
	}
	if opID != "" {
		if err := rules.OperationID.Validate("--operation-id", opID); err != nil {
			return err
		}
		res, err := eng.Watch(ctx, f.name, opID)
		var failed *stackset.FailedError
		if err != nil && !errors.As(err, &failed) {
			return u.finish(ctx, eng, "", res, err, nil, "", awsf)
		}
	}
	st, err := eng.Status(ctx, f.name)
	if err != nil {
		return err
	}
	shared, roleName := stackSetShared(ctx, eng, st)
	ins, accts := describeInstances(ctx, eng, f.name, shared, roleName, st.Instances)
	failed := slices.ContainsFunc(st.Instances, stackset.Instance.Failed)
	if u.json {
		if err := writeJSON(a.stdout, stackSetJSON{StackSet: st.StackSet, StackSetID: st.StackSetID, Outcome: "status", Running: st.Running,
			Accounts: accts, Instances: ins}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(u.w, "Stack set %s (%s): %d instance(s)\n", st.StackSet, st.PermissionModel, len(st.Instances))
		if st.Running != "" {
			fmt.Fprintf(u.w, "Operation %s is running; follow it with:\n  %s\n", st.Running, stackSetResume(st.StackSet, st.Running, awsf))
		}
		printInstances(u.ui, ins)
		printVendorAccounts(u.ui, u.vendorName, accts)
	}
	if failed {
		return exitError{code: exitFailure, err: fmt.Errorf("stack set %s has failed instances", f.name)}
	}
	return nil
}

// stackSetShared reads the set's own parameter values (the ones no instance overrides) from
// an instance's stack: the role name and the external ID.
func stackSetShared(ctx context.Context, eng *stackset.Engine, st *stackset.Status) (map[string]string, string) {
	vals, err := eng.Parameters(ctx, st.StackSet)
	if err != nil {
		return map[string]string{}, ""
	}
	return vals, vals["RoleName"]
}

// stackSetEngine checks --stack-set and returns the engine and the ways into the accounts;
// the UI names the app's vendor.
func stackSetEngine(ctx context.Context, u stackSetUI, f *stackSetFlags, awsf awsFlags, region string) (*stackset.Engine, *accounts, error) {
	if err := rules.StackSetName.Validate("--stack-set", f.name); err != nil {
		return nil, nil, err
	}
	vendor, err := u.a.vendor()
	if err != nil {
		return nil, nil, err
	}
	u.vendorName = vendor.Name
	cfg, err := awsf.config(ctx, region)
	if err != nil {
		return nil, nil, err
	}
	acc, err := f.accounts(cfg, awsf, true)
	if err != nil {
		return nil, nil, err
	}
	return u.engine(cfg, acc), acc, nil
}

// deleteStackSet is `delete --stack-set`: every instance, the home regions' last (their role
// holds the other regions' policies), then the set.
func deleteStackSet(ctx context.Context, a *app, f *stackSetFlags, awsf awsFlags, region, format string, yes bool) error {
	u := stackSetUI{newUI(a, format, yes)}
	if !yes && !u.stdinTTY {
		return rules.Invalid("--yes", "", "no terminal: pass --yes to answer yes; nothing changed")
	}
	eng, _, err := stackSetEngine(ctx, u, f, awsf, region)
	if err != nil {
		return err
	}
	homes := map[string]bool{}
	last := func(in stackset.Instance) bool {
		k := in.Account + "/" + in.Region
		if v, ok := homes[k]; ok {
			return v
		}
		ov, err := eng.InstanceOverrides(ctx, f.name, in.Account, in.Region)
		homes[k] = err == nil && ov[stacks.HomeRegionParam] == in.Region
		return homes[k]
	}
	res, err := eng.Delete(ctx, stackset.DeleteRequest{StackSet: f.name, DescriptionPrefix: ownDescription, Last: last})
	if errors.Is(err, stackset.ErrDeclined) {
		return exitError{code: exitFailure, err: err}
	}
	if err == nil {
		if u.json {
			return writeJSON(a.stdout, stackSetJSON{StackSet: f.name, Outcome: "deleted", Accounts: []accountJSON{}, Instances: []instanceJSON{}})
		}
		fmt.Fprintf(u.w, "Stack set %s and all its instances deleted. Your buckets and their objects were not touched.\n", f.name)
		fmt.Fprintf(u.w, "Tell %s: the integration is removed from every account (its roles and access points are gone).\n", u.vendorName)
		return nil
	}
	return u.finish(ctx, eng, "deleted", res, err, nil, "", awsf)
}

// deployStackSetCmd checks the one-stack flags an organization rollout has no use for, then
// runs deployStackSet. --region, when given, is the stack set's region (the administrator's).
func deployStackSetCmd(cmd *cobra.Command, a *app, flags *integrationFlags, set *stackSetFlags, awsf awsFlags, change changeFlags, output outputFlag) error {
	fs := cmd.Flags()
	for _, name := range []string{"bucket", "prefix", "kms-key-arn", "stack-name", "dry-run", "no-execute", "repair-cors", "allow-replacement", "role-arn"} {
		if fs.Changed(name) {
			return rules.Invalid("--"+name, "", "does not apply to --stack-set: the targets file names the buckets and prefixes (see the organizations guide)")
		}
	}
	format, err := output.format()
	if err != nil {
		return err
	}
	vendor, err := a.vendor()
	if err != nil {
		return err
	}
	in := stacks.New(vendor)
	in.ExternalID, in.RoleName, in.ManageCORS = flags.externalID, flags.roleName, flags.manageCORS
	if flags.accessPointName != "" {
		in.AccessPointName = flags.accessPointName
	}
	if err := in.Validate(); err != nil {
		return err
	}
	tags, err := parseTags(vendor.Tags, tagsOf(fs))
	if err != nil {
		return err
	}
	in.Vendor.Tags = tags
	if flags.region != "" {
		if err := rules.Region.Validate("--region", flags.region); err != nil {
			return err
		}
	}
	return deployStackSet(cmd.Context(), a, in, set, awsf, flags.region, change.yes, format)
}

func tagsOf(fs *pflag.FlagSet) []string {
	v, _ := fs.GetStringArray("tag")
	return v
}

// verifyTarget is one bucket of a rollout to verify: its account, region and access point.
type verifyTarget struct {
	account, region, roleARN, externalID string
	ap                                   accessPointJSON
}

// rolloutTargets reads the buckets to verify: from the stack set (customer side, with the
// administrator's credentials) or from the JSON status gave the vendor (--rollout FILE).
func rolloutTargets(ctx context.Context, u stackSetUI, f *stackSetFlags, awsf awsFlags, region, file string) ([]verifyTarget, *accounts, error) {
	var accts []accountJSON
	var acc *accounts
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, nil, rules.Invalid("--rollout", file, "cannot be read: "+err.Error())
		}
		var st stackSetJSON
		if err := json.Unmarshal(data, &st); err != nil || len(st.Accounts) == 0 {
			return nil, nil, rules.Invalid("--rollout", file, "is not the output of s3grant status --stack-set NAME --output json (no accounts)")
		}
		accts = st.Accounts
	} else {
		eng, a, err := stackSetEngine(ctx, u, f, awsf, region)
		if err != nil {
			return nil, nil, err
		}
		acc = a
		st, err := eng.Status(ctx, f.name)
		if err != nil {
			return nil, nil, err
		}
		shared, roleName := stackSetShared(ctx, eng, st)
		_, accts = describeInstances(ctx, eng, f.name, shared, roleName, st.Instances)
	}
	var out []verifyTarget
	for _, a := range accts {
		if err := rules.AccountID.Validate("--rollout accounts[].account", a.Account); err != nil {
			return nil, nil, err
		}
		for _, ap := range a.AccessPoints {
			r, err := arn.Parse(ap.AccessPointArn)
			if err != nil {
				return nil, nil, rules.Invalid("--rollout", ap.AccessPointArn, "is not an access point ARN")
			}
			out = append(out, verifyTarget{account: a.Account, region: r.Region, roleARN: a.RoleArn, externalID: a.ExternalID, ap: ap})
		}
	}
	return out, acc, nil
}

// verifyStackSet runs verify for every bucket of the rollout: the customer side in each
// account (its --account-profile or --account-role), or the vendor side for every role ARN.
func verifyStackSet(ctx context.Context, a *app, f *stackSetFlags, awsf awsFlags, region, file, format string, asVendor bool) error {
	if asVendor && file == "" {
		return rules.Invalid("--rollout", "", "is required with --as-vendor: the vendor cannot read the customer's stack set; give the JSON of s3grant status --stack-set NAME --output json")
	}
	u := stackSetUI{newUI(a, format, false)}
	vendor, err := a.vendor()
	if err != nil {
		return err
	}
	targets, acc, err := rolloutTargets(ctx, u, f, awsf, region, file)
	if err != nil {
		return err
	}
	if !asVendor && acc == nil {
		base, err := awsf.config(ctx, region)
		if err != nil {
			return err
		}
		if acc, err = f.accounts(base, awsf, true); err != nil {
			return err
		}
	}
	type result struct {
		Account     string        `json:"account"`
		Region      string        `json:"region"`
		Bucket      string        `json:"bucket"`
		AccessPoint string        `json:"accessPointArn"`
		Report      verify.Report `json:"report"`
	}
	var results []result
	failed, total := 0, 0
	for _, t := range targets {
		in := stacks.New(vendor)
		in.BucketName, in.ObjectPrefix, in.ExternalID, in.Region = t.ap.Bucket, t.ap.Prefix, t.externalID, t.region
		in.AccessPointName, in.RoleName = arn.AccessPointName(t.ap.AccessPointArn), arn.RoleName(t.roleARN)
		input := verify.Input{Integration: in, RoleARN: t.roleARN, Side: verify.SideCustomer}
		var cfg aws.Config
		if asVendor {
			input.Side = verify.SideVendor
			if cfg, err = awsf.config(ctx, t.region); err != nil {
				return err
			}
		} else {
			var ok bool
			if cfg, ok, err = acc.config(ctx, t.account, t.region); err != nil {
				return err
			} else if !ok {
				return rules.Invalid("--account-profile", t.account, "no way into account "+t.account+": give --account-profile or --account-role for it")
			}
		}
		rep, err := verify.New(cfg).Run(ctx, input)
		if err != nil {
			return err
		}
		results = append(results, result{t.account, t.region, t.ap.Bucket, t.ap.AccessPointArn, rep})
		failed += len(rep.Failed())
		total += len(rep.Checks)
		if !u.json {
			fmt.Fprintf(a.stdout, "== account %s, %s, bucket %s\n", t.account, t.region, t.ap.Bucket)
			printReport(a.stdout, rep)
		}
	}
	if u.json {
		if err := writeJSON(a.stdout, results); err != nil {
			return err
		}
	}
	if failed > 0 {
		return exitError{code: exitFailure, err: fmt.Errorf("verify: %d of %d checks failed across %d bucket(s)", failed, total, len(targets))}
	}
	return nil
}
