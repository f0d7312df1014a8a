package main

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/isahit/s3grant/deploy"
	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/stacks"
)

func newRotateCmd(a *app) *cobra.Command {
	var (
		awsf                  awsFlags
		change                changeFlags
		stackName, region     string
		newID                 string
		output                outputFlag
		generate, finishPhase bool
	)
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Rotate the external ID without downtime: accept a new one alongside, then drop the old one",
		Long: "rotate changes the external ID the vendor's role requires in two steps, so the vendor never loses access.\n\n" +
			"1. `rotate --external-id NEW` (or --new-external-id to generate a UUID) makes the role accept both the " +
			"current and the new ID (template parameter NextExternalId). Give the vendor the new ID; it switches when ready.\n" +
			"2. `rotate --finish` makes the new ID the only one (ExternalId := NextExternalId, NextExternalId := \"\"): " +
			"the old ID is refused from then on.\n\n" +
			"Both steps preview the change set and ask like deploy (--yes, --dry-run, --no-execute, --role-arn); every " +
			"other value of the stack stays as it is. `status` shows which IDs are live.\n\n" +
			"Exit status: 0 done, up to date or change set kept, 1 failed or declined, 2 bad input, 130 interrupted.",
		Example: "  s3grant rotate --stack-name isahit-lab-my-bucket --region eu-west-3 --new-external-id\n" +
			"  s3grant rotate --stack-name isahit-lab-my-bucket --region eu-west-3 --external-id 0b7d3c1e-51a4-4f0e-9d6b-8c2f7e1a9b30\n" +
			"  s3grant rotate --stack-name isahit-lab-my-bucket --region eu-west-3 --finish --yes",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := output.format(); err != nil {
				return err
			}
			starts := btoi(newID != "") + btoi(generate)
			switch {
			case starts+btoi(finishPhase) != 1:
				return rules.Invalid("--external-id", newID, "give exactly one of --external-id NEW, --new-external-id or --finish")
			case stackName == "":
				return rules.Invalid("--stack-name", "", "is required: the stack whose external ID rotates")
			case newID != "":
				if err := rules.ExternalID.Validate("--external-id", newID); err != nil {
					return err
				}
			case generate:
				newID = uuid.NewString()
			}
			vendor, err := a.vendor()
			if err != nil {
				return err
			}
			up := stackUpdate{flags: stacks.New(vendor), region: region, stackName: stackName, output: output,
				awsf: awsf, change: change}
			if finishPhase {
				up.adjust = finishRotation
				up.done = func(u *ui, in stacks.Integration, name string) {
					fmt.Fprintf(u.w, "\nRotation finished: the role accepts only %s now; the old external ID is refused.\n", in.ExternalID)
				}
			} else {
				up.adjust = startRotation(newID)
				up.done = func(u *ui, in stacks.Integration, name string) {
					fmt.Fprintf(u.w, "\nRotation started: the role accepts %s (current) and %s (next).\n"+
						"Record the new external ID for this customer in %s: %s\n"+
						"Once %s uses it, finish the rotation (the old ID is then refused):\n  s3grant rotate --stack-name %s --region %s --finish\n",
						in.ExternalID, in.NextExternalID, in.Vendor.Name, in.NextExternalID, in.Vendor.Name, name, u.region)
				}
			}
			return up.run(cmd.Context(), a)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&stackName, "stack-name", "", "the integration's stack `NAME` (required)")
	fs.StringVar(&region, "region", "", "AWS region of the stack (default: the configured region)")
	fs.StringVar(&newID, "external-id", "", "start a rotation to this new external `ID`, accepted alongside the current one")
	fs.BoolVar(&generate, "new-external-id", false, "start a rotation to a newly generated external ID (a UUID)")
	fs.BoolVar(&finishPhase, "finish", false, "finish the rotation: the next external ID becomes the only one")
	output.register(fs, formatText, formatJSON)
	change.register(fs)
	awsf.register(fs)
	return cmd
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// startRotation makes the role accept next alongside the current external ID.
func startRotation(next string) stackChange {
	return func(cur *deploy.Stack, in *stacks.Integration, given []string) ([]string, error) {
		switch {
		case in.NextExternalID != "" && in.NextExternalID != next:
			return nil, rules.Invalid("--external-id", next, fmt.Sprintf("a rotation to %s is already in progress on stack %s: "+
				"finish it first (rotate --finish), so no ID the vendor may already use is dropped", in.NextExternalID, cur.Name))
		case next == in.ExternalID:
			return nil, rules.Invalid("--external-id", next, "is the current external ID: a rotation needs a new one")
		}
		in.NextExternalID = next
		return append(given, "NextExternalId"), nil
	}
}

// finishRotation makes the next external ID the only one.
func finishRotation(cur *deploy.Stack, in *stacks.Integration, given []string) ([]string, error) {
	if in.NextExternalID == "" {
		return nil, rules.Invalid("--finish", "", fmt.Sprintf("no rotation is in progress on stack %s (NextExternalId is empty): "+
			"start one with --external-id NEW or --new-external-id", cur.Name))
	}
	in.ExternalID, in.NextExternalID = in.NextExternalID, ""
	return append(given, "ExternalId", "NextExternalId"), nil
}
