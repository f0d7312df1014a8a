package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"
	"github.com/spf13/pflag"

	"github.com/isahit/s3grant/deploy"
	"github.com/isahit/s3grant/internal/partition"
	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/internal/s3client"
	"github.com/isahit/s3grant/launch"
	"github.com/isahit/s3grant/stacks"
)

// changeFlags are the flags of every command that changes a stack through a change set
// (deploy, rotate): how to ask, and what to do with the change set.
type changeFlags struct {
	yes, allowReplacement, dryRun, noExecute bool
	roleARN                                  string
}

func (f *changeFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&f.yes, "yes", false, "answer yes to every question (execute the change set, replace a failed stack, wait for a busy one); never enough alone to replace what the vendor holds")
	fs.BoolVar(&f.allowReplacement, "allow-replacement", false, "allow a change that replaces the access point or the role (their ARNs change), moves the integration to another bucket or stops accepting the vendor's external ID")
	fs.BoolVar(&f.dryRun, "dry-run", false, "show the change set, then delete it: change nothing")
	fs.BoolVar(&f.noExecute, "no-execute", false, "create the change set and keep it for review by someone else (prints its name and console URL): change nothing")
	f.registerRole(fs)
}

func (f *changeFlags) registerRole(fs *pflag.FlagSet) {
	fs.StringVar(&f.roleARN, "role-arn", "", "CloudFormation service role `ARN` the operation runs as (default: your credentials, or the stack's role)")
}

// check refuses, before any AWS call, a run that would have to ask without a terminal to
// answer on, and a malformed service role.
func (f *changeFlags) check(u *ui, willAsk bool) error {
	if f.roleARN != "" {
		if err := rules.ServiceRoleARN.Validate("--role-arn", f.roleARN); err != nil {
			return err
		}
	}
	if willAsk && !f.yes && !u.stdinTTY {
		return rules.Invalid("--yes", "", "no terminal: pass --yes to answer yes (or --dry-run, --no-execute to change nothing); nothing changed")
	}
	return nil
}

// givenParams names the template parameters whose flag (see fieldFlags) the user typed
// (pflag's Changed): on an existing stack only these change, every other parameter keeps its
// current value; a link prefills only these.
func givenParams(fs *pflag.FlagSet) []string {
	var names []string
	for _, p := range stacks.Params {
		if flag, ok := fieldFlags[p.Name]; ok && fs.Changed(strings.TrimPrefix(flag, "--")) {
			names = append(names, p.Name)
		}
	}
	// --bucket NAME states the bucket's whole grant: without a /PREFIX it is the whole bucket.
	if fs.Changed("bucket") && !slices.Contains(names, "ObjectPrefix") {
		names = append(names, "ObjectPrefix")
	}
	return names
}

// stackChange adjusts an update to an existing stack (rotation, repair): it gets the
// integration as it will be (the stack's values with the given ones over them) and the
// names given, and changes both.
type stackChange func(cur *deploy.Stack, in *stacks.Integration, given []string) ([]string, error)

// currentIntegration is the stack's integration with the given values put over its own.
func currentIntegration(cur *deploy.Stack, flags stacks.Integration, given []string) stacks.Integration {
	known := map[string]string{}
	for _, name := range stacks.ParamNames() {
		if v, ok := cur.Parameters[name]; ok {
			known[name] = v
		}
	}
	in := stacks.FromValues(flags.Vendor, stacks.Overlay(known, flags.ValuesOf(given...)))
	in.Region = flags.Region
	return in
}

// repairCORSChange is the change of --repair-cors: a new CorsRepairToken, so CloudFormation calls
// the CORS custom resource again, which puts the vendor's rule back and touches no other rule.
func repairCORSChange(cur *deploy.Stack, in *stacks.Integration, given []string) ([]string, error) {
	if !in.ManageCORS {
		return nil, rules.Invalid("--repair-cors", "", fmt.Sprintf("stack %s does not manage CORS (ManageCors=false): "+
			"add the vendor's rule yourself, or turn management on with --manage-cors=true", cur.Name))
	}
	in.CORSRepairToken = "r" + time.Now().UTC().Format("20060102150405") + "-" + uuid.NewString()[:8]
	return append(given, "CorsRepairToken"), nil
}

// changeSetConsoleURL is the console page of a change set, where a reviewer reads and
// executes it.
func changeSetConsoleURL(region, stackID, changeSetID string) string {
	domain := partition.Of(region).ConsoleDomain
	if domain == "" {
		return "" // no public console in this partition
	}
	return fmt.Sprintf("https://%s.%s/cloudformation/home?region=%s#/stacks/changesets/changes?stackId=%s&changeSetId=%s",
		region, domain, region, url.QueryEscape(stackID), url.QueryEscape(changeSetID))
}

// previewUpdate prints, above everything else, what the vendor must be told, then the
// template version and the parameters that change.
func (u *ui) previewUpdate(p *deploy.Preview) {
	var tells []string
	for _, c := range p.VendorChanges {
		tells = append(tells, c.Tell)
	}
	u.warnVendor(tells)
	if p.Create {
		return
	}
	if p.OldVersion != p.NewVersion {
		fmt.Fprintf(u.w, "\nTemplate: %s → %s (upgrade)\n", orNone(p.OldVersion), orNone(p.NewVersion))
	} else {
		fmt.Fprintf(u.w, "\nTemplate: %s (unchanged version)\n", orNone(p.NewVersion))
	}
	if len(p.Parameters) == 0 {
		fmt.Fprintln(u.w, "Parameters: none change; every value stays as it is.")
		return
	}
	fmt.Fprintln(u.w, "Parameters that change (all others keep their current value):")
	for _, c := range p.Parameters {
		fmt.Fprintf(u.w, "  %s: %s → %s\n", c.Name, quoteEmpty(c.Old), quoteEmpty(c.New))
	}
}

// warnVendor prints, above everything else, what the vendor must be told before its access
// works again (nothing when tells is empty).
func (u *ui) warnVendor(tells []string) {
	if len(tells) == 0 {
		return
	}
	fmt.Fprintf(u.w, "\n!! This change breaks %s's access until it is told the new values:\n", u.vendorName)
	for _, t := range tells {
		fmt.Fprintf(u.w, "!!   %s\n", t)
	}
	fmt.Fprintln(u.w, "!! It runs only with --allow-replacement, or a second yes at a terminal.")
}

func orNone(v string) string {
	if v == "" {
		return "(unknown)"
	}
	return v
}

func quoteEmpty(v string) string {
	if v == "" {
		return `""`
	}
	return v
}

// grantsDiff lists what the stack grants before and after, statement by statement: "  " kept,
// "- " no longer granted, "+ " newly granted.
func (u *ui) grantsDiff(p *deploy.Preview, account string) ([]string, error) {
	describe := func(values map[string]string) ([]string, error) {
		in := stacks.FromValues(u.vendor, values)
		grants, err := in.Grants(in.SubstitutionValues(u.region, account))
		lines := make([]string, len(grants))
		for i, g := range grants {
			lines[i] = g.String()
		}
		return lines, err
	}
	before, err := describe(p.OldValues)
	if err != nil {
		return nil, err
	}
	after, err := describe(p.NewValues)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, l := range after {
		mark := "  "
		if !slices.Contains(before, l) {
			mark = "+ "
		}
		lines = append(lines, mark+l)
	}
	for _, l := range before {
		if !slices.Contains(after, l) {
			lines = append(lines, "- "+l)
		}
	}
	return lines, nil
}

// confirmReplace is the second question before a change that breaks the vendor's access:
// --allow-replacement answers it; otherwise it takes an explicit yes typed at a terminal,
// whatever --yes says.
func (u *ui) confirmReplace(ctx context.Context, q deploy.Question) (bool, error) {
	fmt.Fprintf(u.w, "This change replaces what %s holds (see !! above). Execute it anyway? [y/N] ", u.vendorName)
	if u.allowReplacement {
		fmt.Fprintln(u.w, "yes (--allow-replacement)")
		return true, nil
	}
	if !u.stdinTTY {
		fmt.Fprintln(u.w)
		return false, rules.Invalid("--allow-replacement", "", "the change replaces what the vendor holds and --yes alone never executes it: "+
			"pass --allow-replacement, or answer at a terminal; nothing changed")
	}
	return u.readAnswer(ctx)
}

// vendorNotice is what delete tells the user to tell the vendor: the integration is gone.
func vendorNotice(res *deploy.Result, vendorName string) string {
	byKey := map[string]string{}
	for _, o := range res.Removed {
		byKey[o.Key] = o.Value
	}
	var gone []string
	for _, k := range []string{"RoleArn", "AccessPointArn"} {
		if v := byKey[k]; v != "" {
			gone = append(gone, v)
		}
	}
	msg := fmt.Sprintf("Tell %s that the integration", vendorName)
	if b := byKey["BucketName"]; b != "" {
		msg += " with bucket " + b
	}
	msg += " is removed: its role and access point no longer exist"
	if len(gone) > 0 {
		msg += " (" + strings.Join(gone, ", ") + ")"
	}
	return msg + ", so it can delete them from its side. Nothing is left to paste."
}

// liveIDsLine says which external IDs the role accepts, from the stack's parameters.
func liveIDsLine(params map[string]string, stackName string) string {
	if params["ExternalId"] == "" {
		return ""
	}
	if next := params["NextExternalId"]; next != "" {
		return fmt.Sprintf("Live external IDs: %s (current) and %s (next): a rotation is in progress; once the vendor uses the next one, "+
			"finish it with: s3grant rotate --stack-name %s --finish", params["ExternalId"], next, stackName)
	}
	return "Live external ID: " + params["ExternalId"] + " (only this one)"
}

// stackUpdate is one deploy or rotate run: the integration from the flags, the parameters
// the user gave, and how to run the change set.
type stackUpdate struct {
	flags     stacks.Integration
	given     []string
	bucket    string // --bucket, "" when not given
	region    string // --region
	stackName string
	// templateBucket is --template-bucket: where a template over the inline limit goes.
	templateBucket string
	tags           []string
	output         outputFlag
	awsf           awsFlags
	change         changeFlags
	// adjust changes an update of an existing stack (rotate, --repair-cors); with it set, the
	// stack must exist.
	adjust stackChange
	// done prints what follows a successful run (rotate's next step).
	done func(u *ui, in stacks.Integration, stackName string)
}

// run creates the stack, or updates it keeping every value not given, through a change set.
func (r stackUpdate) run(ctx context.Context, a *app) error {
	format, err := r.output.format()
	if err != nil {
		return err
	}
	u := newUI(a, format, r.change.yes)
	u.allowReplacement = r.change.allowReplacement
	if err := r.change.check(u, !r.change.dryRun && !r.change.noExecute); err != nil {
		return err
	}
	in := r.flags
	stackName := r.stackName
	if stackName == "" {
		if r.bucket == "" {
			return rules.Invalid("--stack-name", "", "is required: give --stack-name (an existing stack keeps its values), or --bucket to create one")
		}
		stackName = in.DefaultStackName()
	}
	if err := rules.StackName.Validate("--stack-name", stackName); err != nil {
		return err
	}
	stackTags, err := parseTags(in.Vendor.Tags, r.tags)
	if err != nil {
		return err
	}
	cfg, err := r.awsf.config(ctx, r.region)
	if err != nil {
		return err
	}
	region := cfg.Region
	if r.bucket != "" {
		if region, err = bucketRegion(ctx, cfg, r.bucket, r.region); err != nil {
			return err
		}
	}
	if region == "" {
		return rules.Invalid("--region", "", "no AWS region: pass --region (or --bucket), or set AWS_REGION or a region in your profile")
	}
	u.vendor, u.vendorName, u.region = in.Vendor, in.Vendor.Name, region
	eng := u.engine(cfg, region)
	cur, err := eng.Current(ctx, stackName)
	if err != nil {
		return err
	}
	given := r.given
	bucketsGiven := slices.Contains(given, "BucketName")
	var vendorChanges []stacks.VendorChange
	if cur != nil {
		if !strings.HasPrefix(cur.Description, ownDescription) {
			return &deploy.NotOursError{StackName: stackName, Description: cur.Description}
		}
		more, role, err := stacks.ShapeOf(cur.Template)
		if err != nil {
			return err
		}
		old := stacks.FromValues(in.Vendor, cur.Parameters)
		old.MoreBuckets, old.Role = more, role
		oldBuckets, err := old.Buckets()
		if err != nil {
			return err
		}
		wanted, _ := r.flags.Buckets()
		in.Region = region
		in = currentIntegration(cur, in, given)
		in.Role = role
		if bucketsGiven {
			// The stack's first bucket stays first: it owns the one-bucket logical IDs.
			kept, _ := stacks.KeepFirst(wanted, cur.Parameters["BucketName"])
			in.SetBuckets(kept)
		} else {
			in.MoreBuckets = more
			if _, err := bucketRegion(ctx, cfg, in.BucketName, region); err != nil { // the stack's bucket: check that the stack is in its region
				return err
			}
		}
		newBuckets, err := in.Buckets()
		if err != nil {
			return err
		}
		vendorChanges = stacks.BucketChanges(in.Vendor.Name, oldBuckets, newBuckets)
		if r.adjust != nil {
			if given, err = r.adjust(cur, &in, given); err != nil {
				return err
			}
		}
	} else {
		if r.adjust != nil {
			return &deploy.NotFoundError{StackName: stackName}
		}
		if err := rules.BucketName.Validate(flagFor("BucketName"), in.BucketName); err != nil {
			return err
		}
		if _, attached := in.Role.Attached(); !attached {
			if err := rules.ExternalID.Validate(flagFor("ExternalId"), in.ExternalID); err != nil {
				return err
			}
		}
		given = stacks.ParamNames()
	}
	if bucketsGiven && len(in.MoreBuckets) > 0 {
		if err := sameRegion(ctx, cfg, in, region); err != nil {
			return err
		}
	}
	in.Region = region
	if err := in.Validate(); err != nil {
		return err
	}
	body, err := stacks.JSON(in)
	if err != nil {
		return err
	}
	// CloudFormation reads the same template without its indentation, a quarter smaller: more
	// buckets fit the inline limit.
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		return err
	}
	body = compact.Bytes()
	templateURL, err := r.deliver(ctx, cfg, body, len(in.MoreBuckets)+1)
	if err != nil {
		return err
	}
	u.grants = func(account string) ([]stacks.Grant, error) { return in.Grants(in.SubstitutionValues(region, account)) }
	u.integration = &in
	if cfg.Region != region {
		fmt.Fprintf(u.w, "Bucket %s is in %s: the stack goes there.\n", in.BucketName, region)
	}
	res, err := eng.Deploy(ctx, deploy.Request{StackName: stackName, TemplateBody: body, TemplateURL: templateURL,
		Parameters: in.ValuesOf(given...), Tags: stackTags, DryRun: r.change.dryRun, NoExecute: r.change.noExecute,
		RoleARN: r.change.roleARN, Vendor: in.Vendor.Name, Description: "s3grant deploy for " + in.Vendor.Name,
		VendorChanges: vendorChanges})
	err = u.corsToAdd(in, res, u.finish(res, err, resumeCommand(stackName, region, r.awsf), in.Vendor.Name, region))
	if err == nil && res != nil && r.done != nil && (res.Outcome == deploy.Updated || res.Outcome == deploy.Created) {
		r.done(u, in, stackName)
	}
	return err
}

// deliver returns "" for a template CloudFormation takes inline, and otherwise uploads it to
// --template-bucket under a content-addressed key and returns its URL; without the flag it
// says plainly that a bucket is needed.
func (r stackUpdate) deliver(ctx context.Context, cfg aws.Config, body []byte, buckets int) (string, error) {
	how, err := stacks.TemplateDelivery(len(body))
	if err != nil || how == stacks.Inline {
		return "", err
	}
	if r.templateBucket == "" {
		return "", rules.Invalid(launch.FieldTemplateBucket, "", fmt.Sprintf(
			"is required: the template for %d buckets is %d bytes, over the %d bytes CloudFormation takes inline, so it goes through S3: "+
				"name a bucket of yours that you may write to (it keeps s3grant/deploy/HASH.json); nothing changed", buckets, len(body), stacks.MaxInlineTemplateBytes))
	}
	if err := rules.BucketName.Validate(launch.FieldTemplateBucket, r.templateBucket); err != nil {
		return "", err
	}
	client := s3client.New(cfg)
	region, err := s3client.BucketRegion(ctx, client, r.templateBucket)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(body)
	key := "s3grant/deploy/" + hex.EncodeToString(sum[:])[:16] + ".json"
	_, err = s3client.New(cfg, s3client.InRegion(region)).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(r.templateBucket),
		Key: aws.String(key), Body: bytes.NewReader(body), ContentType: aws.String("application/json")})
	if err != nil {
		return "", fmt.Errorf("uploading the template to s3://%s/%s: %w", r.templateBucket, key, err)
	}
	return launch.S3Location{Bucket: r.templateBucket, Key: key, Region: region}.URL(), nil
}

// sameRegion refuses buckets outside the stack's region, naming each region and its buckets:
// an access point lives in its bucket's region, and so must its stack. The other regions' buckets
// go in stacks of their own that attach to this stack's role (--attach-role).
func sameRegion(ctx context.Context, cfg aws.Config, in stacks.Integration, region string) error {
	buckets, err := in.Buckets()
	if err != nil {
		return err
	}
	client := s3client.New(cfg, func(o *s3.Options) {
		if o.Region == "" {
			o.Region = "us-east-1"
		}
	})
	regions := make([]string, len(buckets))
	errs := make([]error, len(buckets))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, b := range buckets[1:] {
		wg.Add(1)
		go func(i int, name string) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			regions[i], errs[i] = s3client.BucketRegion(ctx, client, name)
		}(i+1, b.Name)
	}
	wg.Wait()
	regions[0] = region
	byRegion := map[string][]string{}
	for i, b := range buckets {
		if errs[i] != nil {
			return errs[i]
		}
		byRegion[regions[i]] = append(byRegion[regions[i]], b.Name)
	}
	if len(byRegion) == 1 {
		return nil
	}
	var parts, next []string
	var here []stacks.Bucket
	for i, b := range buckets {
		if regions[i] == region {
			here = append(here, b)
		}
	}
	for _, reg := range slices.Sorted(maps.Keys(byRegion)) {
		parts = append(parts, fmt.Sprintf("%s (%s)", reg, strings.Join(byRegion[reg], ", ")))
		if reg == region {
			continue
		}
		var flags []string
		for i, b := range buckets {
			if regions[i] == reg {
				flags = append(flags, "--bucket "+b.Value())
			}
		}
		next = append(next, "s3grant deploy --region "+reg+" "+strings.Join(flags, " "))
	}
	// The role's quota of managed policies is shared by every stack attached to it: say how many
	// this region's stack takes (its read policies), so the others' --max-policies is known.
	role, quota := "ROLE-NAME (the name in this stack's RoleArn)", stacks.ManagedPoliciesPerRole
	if in.MaxManagedPolicies != 0 {
		quota = in.MaxManagedPolicies
	}
	if name, attached := in.Role.Attached(); attached {
		role = name
	}
	left := "N (the role's managed policies left)"
	home := in
	home.SetBuckets(here)
	home.Region = region
	if policies, err := home.RolePolicies(); err == nil {
		left = fmt.Sprintf("%d (%d less the %d of this region's stack; share them between the other stacks)", quota-len(policies), quota, len(policies))
	}
	return usageError{fmt.Errorf("%s: the buckets are in %d regions: %s. An access point lives in its bucket's region, and so must its stack: "+
		"deploy the %s buckets in this stack, then each other region's buckets in a stack of its own attached to the same role, "+
		"so the vendor keeps one role: %s, each with --attach-role %s --max-policies %s; nothing changed",
		flagFor(stacks.FieldBuckets), len(byRegion), strings.Join(parts, "; "), region, strings.Join(next, "; "), role, left)}
}

// printKept says where the kept change set is and how to execute it.
func (u *ui) printKept(res *deploy.Result, region string) {
	p := res.Preview
	fmt.Fprintf(u.w, "Change set %s kept for review; nothing changed.\n", p.ChangeSetName)
	if link := changeSetConsoleURL(region, res.StackID, p.ChangeSetID); link != "" {
		fmt.Fprintf(u.w, "Review and execute it in the console:\n  %s\n", link)
	}
	fmt.Fprintf(u.w, "or with the AWS CLI:\n  aws cloudformation execute-change-set --region %s --change-set-name %s\n", region, p.ChangeSetID)
	if p.Create {
		fmt.Fprintf(u.w, "Until then stack %s is in REVIEW_IN_PROGRESS and holds no resources.\n", p.StackName)
	}
}

// health is what status checks beyond the stack itself: the vendor's CORS rule on the bucket
// and CloudFormation's drift detection on the stack's resources.
type health struct {
	CORSManaged bool `json:"corsManaged"`
	// CORSRule is true when every bucket of the stack holds the vendor's rule.
	CORSRule  *bool  `json:"corsRulePresent,omitempty"`
	CORSError string `json:"corsCheckError,omitempty"`
	// CORSBuckets is the rule's check per bucket, for a stack of several buckets.
	CORSBuckets []bucketCORS           `json:"corsBuckets,omitempty"`
	Drift       []deploy.ResourceDrift `json:"drift"`
	DriftError  string                 `json:"driftCheckError,omitempty"`
	Checked     bool                   `json:"driftChecked"`
	// buckets are the stack's buckets, the first first (from its outputs).
	buckets []string
}

// bucketCORS is whether one bucket holds the vendor's CORS rule.
type bucketCORS struct {
	Bucket  string `json:"bucket"`
	Present *bool  `json:"present,omitempty"`
	Error   string `json:"checkError,omitempty"`
}

// checkHealth reads every bucket's CORS rules and runs drift detection. Failures to check are
// reported, not fatal: status still says what it knows.
func checkHealth(ctx context.Context, t stackTarget, eng *deploy.Engine, res *deploy.Result, drift bool) *health {
	h := &health{CORSManaged: res.Parameters["ManageCors"] == "true", Drift: []deploy.ResourceDrift{}}
	outputs := map[string]string{}
	for _, o := range res.Outputs {
		outputs[o.Key] = o.Value
	}
	for _, b := range stacks.BucketOutputs(outputs) {
		h.buckets = append(h.buckets, b.Bucket)
	}
	if len(h.buckets) == 0 && res.Parameters["BucketName"] != "" {
		h.buckets = []string{res.Parameters["BucketName"]}
	}
	if h.CORSManaged && len(h.buckets) > 0 {
		s3c := s3client.New(t.cfg, s3client.InRegion(t.region))
		ids := stacks.CORSRuleIDs(t.vendor.ID, res.StackID)
		all, errs := true, []string{}
		for _, bucket := range h.buckets {
			c := bucketCORS{Bucket: bucket}
			present, err := deploy.HasCORSRule(ctx, s3c, bucket, ids)
			if err != nil {
				c.Error = err.Error()
				errs = append(errs, bucket+": "+c.Error)
			} else {
				c.Present = &present
				all = all && present
			}
			h.CORSBuckets = append(h.CORSBuckets, c)
		}
		if len(errs) > 0 {
			h.CORSError = strings.Join(errs, "; ")
		} else {
			h.CORSRule = &all
		}
		if len(h.buckets) == 1 {
			h.CORSBuckets = nil // the one bucket's answer is CORSRule
		}
	}
	if drift {
		d, err := eng.Drift(ctx, t.name)
		if err != nil {
			h.DriftError = err.Error()
		} else {
			h.Drift, h.Checked = d, true
		}
	}
	return h
}

// print says what the checks found and the command that repairs each problem.
func (h *health) print(u *ui, t stackTarget) {
	repair := "s3grant deploy --stack-name " + t.name + " --region " + t.region + " --repair-cors"
	bucket := strings.Join(h.buckets, ", ")
	switch {
	case !h.CORSManaged:
		fmt.Fprintln(u.w, "CORS: not managed by the stack (ManageCors=false); check your own rule with s3grant verify.")
	case len(h.CORSBuckets) > 0:
		var missing []string
		for _, c := range h.CORSBuckets {
			switch {
			case c.Error != "":
				fmt.Fprintf(u.w, "CORS: could not check the vendor's rule on bucket %s: %s\n", c.Bucket, c.Error)
			case !*c.Present:
				missing = append(missing, c.Bucket)
			}
		}
		switch {
		case len(missing) > 0:
			fmt.Fprintf(u.w, "CORS: the vendor's rule is MISSING from bucket %s: something removed it, and the vendor's web apps "+
				"cannot load images there. Put it back on every bucket (no other rule is touched) with:\n  %s\n", strings.Join(missing, ", "), repair)
		case h.CORSError == "":
			fmt.Fprintf(u.w, "CORS: the vendor's rule is on each of the %d buckets.\n", len(h.CORSBuckets))
		}
	case h.CORSError != "":
		fmt.Fprintf(u.w, "CORS: could not check the vendor's rule: %s\n", h.CORSError)
	case *h.CORSRule:
		fmt.Fprintf(u.w, "CORS: the vendor's rule is on bucket %s.\n", bucket)
	default:
		fmt.Fprintf(u.w, "CORS: the vendor's rule is MISSING from bucket %s: something removed it, and the vendor's web apps "+
			"cannot load images. Put it back (no other rule is touched) with:\n  %s\n", bucket, repair)
	}
	switch {
	case h.DriftError != "":
		fmt.Fprintf(u.w, "Drift: could not check: %s\n", h.DriftError)
	case !h.Checked:
	case len(h.Drift) == 0:
		if len(h.buckets) > 1 {
			fmt.Fprintf(u.w, "Drift: none; the role, its policies and the %d buckets' access points are as the stack made them.\n", len(h.buckets))
		} else {
			fmt.Fprintln(u.w, "Drift: none; the role, the policy and the access point are as the stack made them.")
		}
	default:
		fmt.Fprintln(u.w, "Drift: changed outside CloudFormation:")
		for _, d := range h.Drift {
			fmt.Fprintf(u.w, "  %s (%s) %s\n", d.LogicalID, d.Type, d.Status)
			for _, diff := range d.Differences {
				fmt.Fprintf(u.w, "    %s\n", diff)
			}
		}
		fmt.Fprintln(u.w, "CloudFormation does not undo drift, and an update that changes nothing does not either: revert these "+
			"changes where they were made (the expected values are above), then check again with:\n"+
			"  s3grant status --stack-name "+t.name+" --region "+t.region)
	}
}

func inProgress(status string) bool { return strings.HasSuffix(status, "_IN_PROGRESS") }
