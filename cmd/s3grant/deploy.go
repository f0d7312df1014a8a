package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/isahit/s3grant/deploy"
	"github.com/isahit/s3grant/internal/arn"
	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/internal/s3client"
	"github.com/isahit/s3grant/profile"
	"github.com/isahit/s3grant/stacks"
)

func newDeployCmd(a *app) *cobra.Command {
	var (
		flags      integrationFlags
		awsf       awsFlags
		change     changeFlags
		stackName  string
		tmplBucket string
		tags       []string
		output     outputFlag
		repairCORS bool
		set        stackSetFlags
	)
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Create or update the integration's stack, showing what changes before it changes",
		Long: "deploy creates or updates the integration's CloudFormation stack in the bucket's region through a change " +
			"set: it shows each resource added, modified (and whether it is replaced) or removed, and the IAM " +
			"capabilities acknowledged, then asks before executing (the default answer is no; --yes answers yes). " +
			"It streams one line per stack event, explains a failure by its root cause, and prints the values to paste " +
			"into the vendor's app.\n\n" +
			"On an existing stack, every value you do not give keeps its current value: `deploy --stack-name NAME` alone " +
			"re-applies this version of the template with the stack's values (an upgrade). The preview then shows each " +
			"parameter that changes (old → new), the template version, and the grants before → after. A change that " +
			"replaces the access point or the role (the vendor holds their ARNs), moves the integration to another " +
			"bucket or stops accepting the vendor's external ID is called out first and runs only with " +
			"--allow-replacement or a second yes typed at a terminal. --repair-cors puts the vendor's CORS rule back.\n\n" +
			"Credentials, region and endpoints come from the standard AWS chain (environment, profiles, SSO, " +
			"AWS_ENDPOINT_URL). Nothing outside the stack is ever deleted: your bucket and its objects are not part of it.\n\n" +
			"Exit status: 0 deployed, up to date or change set kept, 1 failed or declined, 2 bad input (including no " +
			"terminal without --yes), 130 interrupted.",
		Example: "  s3grant deploy --bucket my-bucket --external-id a6fa9c7f-7f53-4a41-812d-a29f48288a94\n" +
			"  s3grant deploy --bucket images --bucket logs/exports/ --bucket s3://archive/2024/ --external-id ID\n" +
			"  s3grant deploy --bucket my-bucket --external-id a6fa9c7f-7f53-4a41-812d-a29f48288a94 --dry-run\n" +
			"  s3grant deploy --stack-name isahit-lab-my-bucket --region eu-west-3 --kms-key-arn arn:aws:kms:eu-west-3:111122223333:key/ID\n" +
			"  s3grant deploy --stack-name isahit-lab-my-bucket --region eu-west-3 --repair-cors --yes\n" +
			"  s3grant deploy --bucket my-bucket --external-id ID --tag cost-center=42 --yes --output json\n" +
			"  s3grant deploy --stack-set isahit-lab-org --targets targets.yaml --external-id ID --account-profile 111122223333=data-eu",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if set.name != "" {
				return deployStackSetCmd(cmd, a, &flags, &set, awsf, change, output)
			}
			in, err := flags.integration(a)
			if err != nil {
				return err
			}
			up := stackUpdate{flags: in, given: givenParams(cmd.Flags()), bucket: flags.bucket(), region: flags.region,
				stackName: stackName, templateBucket: tmplBucket, tags: tags, output: output, awsf: awsf, change: change}
			if repairCORS {
				if cmd.Flags().Changed("manage-cors") && !flags.manageCORS {
					return rules.Invalid("--repair-cors", "", "cannot repair the CORS rule with --manage-cors=false")
				}
				up.adjust = repairCORSChange
			}
			return up.run(cmd.Context(), a)
		},
	}
	flags.register(cmd.Flags())
	awsf.register(cmd.Flags())
	change.register(cmd.Flags())
	cmd.Flags().StringVar(&stackName, "stack-name", "", "stack `NAME` (default: VENDOR-BUCKET)")
	cmd.Flags().StringVar(&tmplBucket, "template-bucket", "", "S3 `BUCKET` a template over CloudFormation's 51,200-byte inline limit (many buckets) is uploaded to, under s3grant/deploy/HASH.json")
	cmd.Flags().StringArrayVar(&tags, "tag", nil, "stack tag `KEY=VALUE`, repeatable, added to the vendor profile's tags")
	output.register(cmd.Flags(), formatText, formatJSON)
	set.registerName(cmd.Flags())
	set.registerRollout(cmd.Flags())
	cmd.Flags().BoolVar(&repairCORS, "repair-cors", false, "run the CORS custom resource again, which puts the vendor's CORS rule back on the bucket and touches no other rule (existing stack)")
	return cmd
}

// parseTags merges the vendor profile's default tags with --tag KEY=VALUE flags (which win).
func parseTags(defaults map[string]string, flags []string) (map[string]string, error) {
	tags := map[string]string{}
	for k, v := range defaults {
		tags[k] = v
	}
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, rules.Invalid("--tag", f, fmt.Sprintf("%q is not KEY=VALUE", f))
		}
		if err := rules.TagKey.Validate("--tag", k); err != nil {
			return nil, err
		}
		if err := rules.TagValue.Validate("--tag", v); err != nil {
			return nil, err
		}
		tags[k] = v
	}
	return tags, nil
}

// bucketRegion finds the bucket's region, where the stack must live; an explicit --region
// that disagrees is bad input. Without a configured region the lookup asks us-east-1: S3
// answers with the bucket's region from anywhere.
func bucketRegion(ctx context.Context, cfg aws.Config, bucket, explicit string) (string, error) {
	client := s3client.New(cfg, func(o *s3.Options) {
		if o.Region == "" {
			o.Region = "us-east-1"
		}
	})
	found, err := s3client.BucketRegion(ctx, client, bucket)
	if err != nil {
		return "", err
	}
	region, err := deploy.CheckRegion(bucket, found, explicit)
	var mismatch *deploy.RegionMismatchError
	if errors.As(err, &mismatch) {
		return "", usageError{fmt.Errorf("%s is %s but bucket %s is in %s: the stack must be created in the bucket's region (use %s %s or leave it out)",
			flagFor(stacks.FieldRegion), explicit, bucket, found, flagFor(stacks.FieldRegion), found)}
	}
	return region, err
}

// resumeCommand is the command that follows the stack again after Ctrl-C.
func resumeCommand(stackName, region string, awsf awsFlags) string {
	return "s3grant status --watch --stack-name " + stackName + " --region " + region + awsf.args()
}

// ui prints an operation's progress and result, and asks the questions. In text mode
// everything goes to stdout; with --output json the progress and questions go to stderr and
// stdout holds one JSON object.
type ui struct {
	a     *app
	w     io.Writer
	json  bool
	yes   bool
	color bool
	in    *bufio.Reader
	// stdinTTY is true when the terminal echoes the answers.
	stdinTTY bool
	// grants, when set, describes what the stack lets the vendor do, in the account the change
	// set is in; deploy shows it with the preview, before asking.
	grants func(account string) ([]stacks.Grant, error)
	// vendor, vendorName and region describe the integration an update changes: the grants
	// before → after, what to tell the vendor.
	vendor           profile.Vendor
	vendorName       string
	region           string
	allowReplacement bool
	// health, set by status, is printed with the result.
	health *health
	// integration, set by deploy, is what the stack holds: its buckets' access points are
	// printed with the outputs.
	integration *stacks.Integration
}

func newUI(a *app, format string, yes bool) *ui {
	u := &ui{a: a, w: a.stdout, json: format == formatJSON, yes: yes, in: bufio.NewReader(a.stdin)}
	if u.json {
		u.w = a.stderr
	}
	u.color = isTerminal(u.w) && os.Getenv("NO_COLOR") == ""
	u.stdinTTY = isTerminal(a.stdin)
	return u
}

func isTerminal(v any) bool {
	if t, ok := v.(interface{ IsTerminal() bool }); ok {
		return t.IsTerminal() // a reader that knows, such as a test's pretend terminal
	}
	f, ok := v.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

func (u *ui) engine(cfg aws.Config, region string) *deploy.Engine {
	cfn := cloudformation.NewFromConfig(cfg, func(o *cloudformation.Options) { o.Region = region })
	opts := append([]deploy.Option{deploy.WithObserver(u), deploy.WithConfirm(u.confirm)}, u.a.deployOptions...)
	return deploy.New(cfn, opts...)
}

// Phase implements deploy.Observer.
func (u *ui) Phase(p deploy.Phase, stackName string) {
	fmt.Fprintf(u.w, "%s: %s\n", stackName, p)
}

var replacement = map[string]string{
	"True":        "REPLACED (new resource, the old one deleted)",
	"Conditional": "may be REPLACED, depending on values known at deploy time",
	"False":       "updated in place",
}

// Preview implements deploy.Observer.
func (u *ui) Preview(p *deploy.Preview) {
	kind := "update"
	if p.Create {
		kind = "create"
	}
	u.previewUpdate(p)
	fmt.Fprintf(u.w, "\nChange set %s (%s stack %s): %d resource change(s)\n", p.ChangeSetName, kind, p.StackName, len(p.Changes))
	tw := tabwriter.NewWriter(u.w, 0, 0, 2, ' ', 0)
	for _, c := range p.Changes {
		sign := map[string]string{"Add": "+", "Modify": "~", "Remove": "-"}[c.Action]
		detail := ""
		if c.Action == "Modify" {
			detail = replacement[c.Replacement]
			if len(c.Properties) > 0 {
				detail += " (" + strings.Join(c.Properties, ", ") + ")"
			}
		}
		cells := []string{"  " + sign + " " + strings.ToLower(c.Action), c.LogicalID, c.ResourceType}
		if detail != "" {
			cells = append(cells, detail)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
	if len(p.Capabilities) > 0 {
		fmt.Fprintf(u.w, "This change set creates or changes IAM resources and acknowledges %s.\n", strings.Join(p.Capabilities, ", "))
	}
	if p.OldValues != nil && u.vendorName != "" {
		fmt.Fprintln(u.w, "\nWhat the stack grants, before → after (+ granted now, - no longer granted):")
		lines, err := u.grantsDiff(p, arn.Account(p.ChangeSetID))
		if err != nil {
			fmt.Fprintln(u.w, "  (cannot describe the grants: "+err.Error()+")")
		}
		for _, l := range lines {
			fmt.Fprintln(u.w, "  "+l)
		}
	} else if u.grants != nil {
		fmt.Fprintln(u.w, "\nWhat the stack grants:")
		grants, err := u.grants(arn.Account(p.ChangeSetID))
		if err != nil {
			fmt.Fprintln(u.w, "  (cannot describe the grants: "+err.Error()+")")
		}
		for _, g := range grants {
			fmt.Fprintln(u.w, "  "+g.String())
		}
	}
	fmt.Fprintln(u.w)
}

// Event implements deploy.Observer: one line per stack event, the same on a terminal or not.
func (u *ui) Event(e deploy.Event) {
	count := fmt.Sprintf("[%d]", e.Done)
	if e.Total > 0 {
		count = fmt.Sprintf("[%d/%d]", e.Done, e.Total)
	}
	status := fmt.Sprintf("%-20s", e.Status)
	if c := statusColor(e.Status); u.color && c != "" {
		status = c + status + "\x1b[0m"
	}
	line := fmt.Sprintf("%s %-7s %-26s %-30s %s %s", e.Time.Local().Format("15:04:05"), count, e.LogicalID, e.ResourceType, status, e.Reason)
	fmt.Fprintln(u.w, strings.TrimRight(line, " "))
}

// statusColor is the one place a stack or resource status gets its colour (terminals only).
func statusColor(status string) string {
	switch {
	case strings.Contains(status, "FAILED") || strings.Contains(status, "ROLLBACK"):
		return "\x1b[31m" // red
	case strings.HasSuffix(status, "_IN_PROGRESS"):
		return "\x1b[33m" // yellow
	case strings.HasSuffix(status, "_COMPLETE"):
		return "\x1b[32m" // green
	}
	return ""
}

// confirm asks a question; the default answer (Enter, end of input) is no. --yes answers yes.
// Ctrl-C while waiting for the answer returns the context's error.
func (u *ui) confirm(ctx context.Context, q deploy.Question) (bool, error) {
	switch q.Kind {
	case deploy.AskExecute:
		fmt.Fprintf(u.w, "Execute this change set on stack %s? [y/N] ", q.StackName)
	case deploy.AskReplace:
		return u.confirmReplace(ctx, q)
	case deploy.AskReplaceFailed:
		fmt.Fprintf(u.w, "Stack %s is in %s: its first create failed (%s) and was rolled back, so nothing of it remains.\n"+
			"CloudFormation cannot update such a stack: it must be deleted and created again.\n"+
			"Delete the failed stack and create it again? [y/N] ", q.StackName, q.Status, q.Reason)
	case deploy.AskWaitBusy:
		fmt.Fprintf(u.w, "Stack %s is busy (%s): another operation is running, and a second one cannot start.\n"+
			"Wait for it to finish? [y/N] ", q.StackName, q.Status)
	case deploy.AskDelete:
		fmt.Fprintf(u.w, "Stack %s (%s) holds %d resource(s), which will be deleted:\n", q.StackName, q.Status, len(q.Resources))
		tw := tabwriter.NewWriter(u.w, 0, 0, 2, ' ', 0)
		for _, r := range q.Resources {
			fmt.Fprintf(tw, "  - %s\t%s\t%s\n", r.LogicalID, r.Type, r.PhysicalID)
		}
		tw.Flush()
		fmt.Fprintf(u.w, "Your bucket, its objects and your own CORS rules are not part of the stack and stay.\n"+
			"Delete stack %s? [y/N] ", q.StackName)
	}
	if u.yes {
		fmt.Fprintln(u.w, "yes (--yes)")
		return true, nil
	}
	return u.readAnswer(ctx)
}

// readAnswer reads a yes or no; anything but y or yes is no.
func (u *ui) readAnswer(ctx context.Context) (bool, error) {
	answer := make(chan string, 1)
	go func() {
		line, _ := u.in.ReadString('\n')
		answer <- line
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(u.w)
		return false, ctx.Err()
	case line := <-answer:
		if !u.stdinTTY || !strings.HasSuffix(line, "\n") {
			fmt.Fprintln(u.w, strings.TrimSpace(line)) // the terminal did not echo it
		}
		a := strings.ToLower(strings.TrimSpace(line))
		return a == "y" || a == "yes", nil
	}
}

// result is what deploy, status and delete print with --output json.
type result struct {
	StackName    string            `json:"stackName"`
	StackID      string            `json:"stackId,omitempty"`
	Region       string            `json:"region"`
	Outcome      string            `json:"outcome"`
	Status       string            `json:"status,omitempty"`
	Capabilities []string          `json:"capabilities,omitempty"`
	Changes      []deploy.Change   `json:"changes,omitempty"`
	Outputs      map[string]string `json:"outputs,omitempty"`
	// Day two: what an update changes, a kept change set, what a deletion removed.
	Parameters    []deploy.ParameterChange `json:"parameterChanges,omitempty"`
	OldVersion    string                   `json:"oldTemplateVersion,omitempty"`
	NewVersion    string                   `json:"templateVersion,omitempty"`
	VendorChanges []stacks.VendorChange    `json:"vendorChanges,omitempty"`
	ChangeSet     string                   `json:"changeSetName,omitempty"`
	ChangeSetID   string                   `json:"changeSetId,omitempty"`
	ConsoleURL    string                   `json:"changeSetConsoleUrl,omitempty"`
	Removed       map[string]string        `json:"removed,omitempty"`
	TellVendor    string                   `json:"tellVendor,omitempty"`
	LiveIDs       []string                 `json:"liveExternalIds,omitempty"`
	// Buckets are every bucket's access point, from the outputs (the first bucket's too).
	Buckets        []stacks.BucketOutput `json:"buckets,omitempty"`
	Health         *health               `json:"health,omitempty"`
	ResourcesDone  int                   `json:"resourcesDone"`
	ResourcesTotal int                   `json:"resourcesTotal"`
	FailedResource string                `json:"failedResource,omitempty"`
	Reason         string                `json:"reason,omitempty"`
}

// finish prints the result of an operation and turns its error into the right exit code.
func (u *ui) finish(res *deploy.Result, err error, resume, vendorName, region string) error {
	var interrupted *deploy.InterruptedError
	var lost *deploy.WatchError
	switch {
	case errors.As(err, &interrupted):
		if interrupted.Running {
			fmt.Fprintf(u.a.stderr, "Stopped watching: stack %s keeps going in CloudFormation. Resume watching with:\n  %s\n", interrupted.StackName, resume)
		}
		return exitError{code: exitInterrupted, err: err}
	case errors.As(err, &lost):
		fmt.Fprintf(u.a.stderr, "Resume watching with:\n  %s\n", resume)
		return err
	case res == nil:
		return err
	}
	if u.json {
		out := jsonResult(res, region)
		if res.Outcome == deploy.Deleted {
			out.TellVendor = vendorNotice(res, vendorName)
		}
		out.Health = u.health
		if jerr := writeJSON(u.a.stdout, out); jerr != nil {
			return jerr
		}
		return err
	}
	switch res.Outcome {
	case deploy.DryRun:
		fmt.Fprintln(u.w, "Dry run: the change set was deleted; nothing changed.")
		return nil
	case deploy.Kept:
		u.printKept(res, region)
		return nil
	case deploy.NoChanges:
		fmt.Fprintf(u.w, "Stack %s is up to date: no changes (the empty change set was deleted).\n", res.StackName)
	case deploy.Deleted:
		if err == nil {
			fmt.Fprintf(u.w, "Stack %s deleted. Your bucket and its objects were not touched.\n", res.StackName)
			fmt.Fprintln(u.w, vendorNotice(res, vendorName))
		}
	default:
		fmt.Fprintf(u.w, "Stack %s: %s", res.StackName, res.Status)
		if res.Total > 0 || res.Done > 0 {
			fmt.Fprintf(u.w, " (%d of %d resources done)", res.Done, res.Total)
		}
		fmt.Fprintln(u.w)
	}
	if res.Reason != "" {
		fmt.Fprintf(u.w, "Root cause: %s: %s\n", res.FailedResource, res.Reason)
	}
	if len(res.Outputs) > 0 && err == nil && res.Outcome != deploy.Deleted {
		u.printOutputs(res.Outputs, vendorName)
	}
	return err
}

func (u *ui) printOutputs(outputs []deploy.Output, vendorName string) {
	byKey := map[string]string{}
	for _, o := range outputs {
		byKey[o.Key] = o.Value
	}
	fmt.Fprintf(u.w, "\nPaste these into %s:\n", vendorName)
	tw := tabwriter.NewWriter(u.w, 0, 0, 2, ' ', 0)
	for _, k := range stacks.PasteOutputs() {
		if v, ok := byKey[k]; ok {
			fmt.Fprintf(tw, "  %s\t%s\n", k, v)
		}
	}
	tw.Flush()
	if buckets := stacks.BucketOutputs(byKey); len(buckets) > 1 {
		fmt.Fprintf(u.w, "\nEvery bucket's access point (%d buckets, one role):\n", len(buckets))
		tw := tabwriter.NewWriter(u.w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  BUCKET\tACCESS POINT ARN\tALIAS")
		for _, b := range buckets {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", b.Bucket, b.AccessPointArn, b.AccessPointAlias)
		}
		tw.Flush()
	}
}

func jsonResult(res *deploy.Result, region string) result {
	out := result{StackName: res.StackName, StackID: res.StackID, Region: region, Outcome: res.Outcome.String(),
		Status: res.Status, ResourcesDone: res.Done, ResourcesTotal: res.Total, FailedResource: res.FailedResource,
		Reason: res.Reason, Outputs: map[string]string{}}
	if p := res.Preview; p != nil {
		out.Capabilities, out.Changes = p.Capabilities, p.Changes
		out.Parameters, out.OldVersion, out.NewVersion, out.VendorChanges = p.Parameters, p.OldVersion, p.NewVersion, p.VendorChanges
		if res.Outcome == deploy.Kept {
			out.ChangeSet, out.ChangeSetID = p.ChangeSetName, p.ChangeSetID
			out.ConsoleURL = changeSetConsoleURL(region, res.StackID, p.ChangeSetID)
		}
	}
	if res.Outcome != deploy.Deleted {
		for _, o := range res.Outputs {
			out.Outputs[o.Key] = o.Value
		}
		out.Buckets = stacks.BucketOutputs(out.Outputs)
	}
	if len(res.Removed) > 0 {
		out.Removed = map[string]string{}
		for _, o := range res.Removed {
			out.Removed[o.Key] = o.Value
		}
	}
	out.LiveIDs = stacks.LiveExternalIDs(res.Parameters)
	return out
}
