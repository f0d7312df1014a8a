package main

import (
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/spf13/cobra"

	"github.com/isahit/s3grant/deploy"
	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/stacks"
	"github.com/isahit/s3grant/verify"
)

func newVerifyCmd(a *app) *cobra.Command {
	var (
		flags     integrationFlags
		aws       awsFlags
		stackName string
		roleARN   string
		nextID    string
		prevID    string
		asVendor  bool
		alias     string
		sample    int
		browser   bool
		iamWait   time.Duration
		output    outputFlag
		set       stackSetFlags
		rollout   string
	)
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Prove the integration works and name the fix for every failure",
		Long: "verify checks the integration with read-only calls and prints one line per check, with the cause and " +
			"the precise fix under each failure.\n\n" +
			"Customer side (your credentials): from --stack-name, or from --role-arn, --bucket, --access-point-name and " +
			"--external-id, it checks the stack, the role's trust policy (the vendor's account only, with your external " +
			"ID), the role's permissions (list and read, through the bucket and the access point, nothing more; with " +
			"IAM's policy simulator when you may call it), the access point, the bucket's CORS rules as a browser " +
			"preflight sees them, KMS decryption, the region and, for --sample objects under the prefix, each one's own " +
			"KMS key and owner (an object under another key, or uploaded by another account while ACLs are enabled, is " +
			"refused to the role). A resource the stack manages is fixed with the exact `s3grant deploy` command.\n\n" +
			"Vendor side (--as-vendor, the vendor's credentials): it assumes the role with the external ID, checks that " +
			"the role refuses it without one or with a wrong one (and, around an external-ID rotation, that it accepts " +
			"--next-external-id and refuses --previous-external-id), then lists, reads one byte and, for --sample objects " +
			"under the prefix, takes the browser's path from each vendor origin through presigned URLs via the bucket " +
			"and via the access point: the preflight, the GET's own Access-Control-Allow-Origin and Vary, a Range GET " +
			"and the Content-Type; --browser also loads each object in headless Chromium. A refusal is retried for up " +
			"to --iam-wait while IAM propagates a change made a moment ago.\n\n" +
			"Exit status: 0 when every check passes, 1 when one fails, 2 for bad input. verify never changes anything.",
		Example: "  s3grant verify --stack-name isahit-lab-my-bucket --region eu-west-3\n" +
			"  s3grant verify --role-arn arn:aws:iam::111122223333:role/isahit-lab --bucket my-bucket --external-id a6fa9c7f-7f53-4a41-812d-a29f48288a94\n" +
			"  s3grant verify --stack-set isahit-lab-org --account-profile 111122223333=data-eu\n" +
			"  s3grant verify --as-vendor --rollout rollout.json\n" +
			"  s3grant verify --as-vendor --role-arn arn:aws:iam::111122223333:role/isahit-lab --bucket my-bucket --external-id a6fa9c7f-7f53-4a41-812d-a29f48288a94 --output json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := output.format()
			if err != nil {
				return err
			}
			if sample < 1 || sample > 100 {
				return rules.Invalid("--sample", fmt.Sprint(sample), "is the number of objects to load, from 1 to 100")
			}
			if iamWait < 0 || iamWait > 5*time.Minute {
				return rules.Invalid("--iam-wait", iamWait.String(), "is how long to retry a refusal while IAM propagates, from 0 to 5m")
			}
			if !asVendor && browser {
				return rules.Invalid("--browser", "", "--browser takes the browser's path from the vendor's side: add --as-vendor")
			}
			if set.name != "" || rollout != "" {
				return verifyStackSet(cmd.Context(), a, &set, aws, flags.region, rollout, format, asVendor)
			}
			if asVendor && stackName != "" {
				return rules.Invalid("--stack-name", stackName, "the stack is in the customer's account: with --as-vendor pass --role-arn, --bucket and --external-id")
			}
			if err := rules.RoleARN.Validate("--role-arn", roleARN); err != nil {
				return err
			}
			model, err := flags.integration(a)
			if err != nil {
				return err
			}
			model.NextExternalID = nextID
			in := verify.Input{Integration: model, StackName: stackName, RoleARN: roleARN, PreviousExternalID: prevID,
				Side: verify.SideCustomer, AccessPointAlias: alias, Sample: sample, Browser: browser}
			if asVendor {
				in.Side = verify.SideVendor
			}
			if stackName != "" && !cmd.Flags().Changed("access-point-name") {
				in.AccessPointName = "" // the stack's output names it
			}
			cfg, err := aws.config(cmd.Context(), in.Region)
			if err != nil {
				return err
			}
			validStack := rules.StackName.Validate("--stack-name", stackName) == nil &&
				(in.Region == "" || rules.Region.Validate("--region", in.Region) == nil)
			if stackName != "" && validStack && !cmd.Flags().Changed("bucket") {
				// The buckets after the first are in the stack's template, not its outputs.
				cur, err := deploy.New(cloudformation.NewFromConfig(cfg)).Current(cmd.Context(), stackName)
				if err == nil && cur != nil {
					if more, _, err := stacks.ShapeOf(cur.Template); err == nil && len(more) > 0 {
						in.MoreBuckets = more
						in.AccessPointName = cur.Parameters["AccessPointName"]
					}
				}
			}
			rep, err := verify.New(cfg, verify.WithObserver(waitPrinter{a.stderr}), verify.WithPropagationWait(iamWait)).Run(cmd.Context(), in)
			if err != nil {
				return err
			}
			if format == formatJSON {
				err = writeJSON(a.stdout, rep)
			} else {
				printReport(a.stdout, rep)
			}
			if err != nil {
				return err
			}
			if failed := len(rep.Failed()); failed > 0 {
				return exitError{code: exitFailure, err: fmt.Errorf("verify: %d of %d checks failed", failed, len(rep.Checks))}
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&stackName, "stack-name", "", "the integration's stack `NAME`: its outputs name the role, bucket, access point and external ID")
	fs.StringVar(&roleARN, "role-arn", "", "`ARN` of the role the vendor assumes (default: the stack's RoleArn output)")
	flags.register(fs, "manage-cors", "attach-role", "max-policies")
	for name, dflt := range map[string]string{
		"bucket": " Default: the stack's.", "access-point-name": " With --stack-name, default: the stack's.",
		"external-id": " Default: the stack's; pass the vendor's own value to catch a typo in the stack.",
		"prefix":      " Default: the stack's.", "kms-key-arn": " Default: the stack's; the bucket's default encryption key is checked anyway.",
		"role-name": " Checked against --role-arn when both are given.",
	} {
		fs.Lookup(name).Usage += dflt
	}
	fs.Lookup("region").Usage = "AWS `REGION` of the bucket and the stack (default: the configured region)"
	fs.StringVar(&nextID, "next-external-id", "", "while an external-ID rotation is in progress, the next `ID`: the trust policy must accept exactly it and --external-id, and (--as-vendor) the role must accept both (default with --stack-name: the stack's NextExternalId)")
	fs.StringVar(&prevID, "previous-external-id", "", "after a rotation is finished, the old `ID`: the trust policy must not accept it and (--as-vendor) the role must refuse it")
	fs.BoolVar(&asVendor, "as-vendor", false, "check from the vendor's account, with the vendor's credentials: assume the role, list, read, the browser's path")
	fs.StringVar(&alias, "access-point-alias", "", "the access point's `ALIAS` (the stack's AccessPointAlias output); against --endpoint-url the vendor side reaches the access point by it")
	fs.IntVar(&sample, "sample", verify.DefaultSample, "how many objects under the prefix to sample (`N`, 1-100): their own KMS key and owner on the customer side; with --as-vendor, loaded the way the browser does")
	fs.BoolVar(&browser, "browser", false, "with --as-vendor: also load each sampled object in headless Chromium, on a page served as each vendor origin")
	fs.DurationVar(&iamWait, "iam-wait", verify.DefaultPropagationWait, "with --as-vendor: how long to retry a refusal while IAM propagates a change (`DURATION`, 0 to 5m)")
	output.register(fs, formatText, formatJSON)
	aws.register(fs)
	set.registerName(fs)
	fs.StringVar(&rollout, "rollout", "", "the JSON `FILE` of s3grant status --stack-set NAME --output json: verify every role ARN and access point in it (the vendor side, with --as-vendor)")
	return cmd
}

// waitPrinter shows verify's waits on stderr, so the checklist on stdout stays clean.
type waitPrinter struct{ w io.Writer }

func (p waitPrinter) Waiting(what string, retry, left time.Duration) {
	fmt.Fprintf(p.w, "waiting for IAM to propagate: %s was refused; retrying in %s (up to %s more)\n", what, retry, left.Round(time.Second))
}

// printReport prints the checklist: one line per check, and under each failure its cause and fix.
func printReport(w io.Writer, rep verify.Report) {
	failed := len(rep.Failed())
	for _, c := range rep.Checks {
		if c.Pass {
			line := "✓ " + c.Title
			if c.Detail != "" {
				line += " — " + c.Detail
			}
			fmt.Fprintf(w, "%s [%s]\n", line, c.ID)
			continue
		}
		fmt.Fprintf(w, "✗ %s [%s]\n", c.Title, c.ID)
		if c.Detail != "" {
			fmt.Fprintf(w, "    seen:  %s\n", c.Detail)
		}
		fmt.Fprintf(w, "    cause: %s\n    fix:   %s\n", c.Cause, c.Fix)
	}
	if failed == 0 {
		fmt.Fprintf(w, "All %d checks passed (%s side).\n", len(rep.Checks), rep.Side)
	} else {
		fmt.Fprintf(w, "%d of %d checks failed (%s side).\n", failed, len(rep.Checks), rep.Side)
	}
}
