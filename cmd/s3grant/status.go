package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/profile"
	"github.com/isahit/s3grant/stacks"
)

// stackFlags name an existing integration stack for status and delete: --stack-name, or
// --bucket to derive it (and its region) as deploy does.
type stackFlags struct {
	stackName, bucket, region string
	output                    outputFlag
	aws                       awsFlags
}

func (f *stackFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.stackName, "stack-name", "", "stack `NAME` (default: VENDOR-BUCKET, from --bucket)")
	fs.StringVar(&f.bucket, "bucket", "", "the integration's bucket: derives the stack name and its region")
	fs.StringVar(&f.region, "region", "", "AWS region of the stack (default: the bucket's, or the configured region)")
	f.output.register(fs, formatText, formatJSON)
	f.aws.register(fs)
}

// stackTarget is the stack a status or delete command acts on.
type stackTarget struct {
	name, region string
	format       string
	cfg          aws.Config
	vendor       profile.Vendor
	resume       string
}

// resolve checks the flags and returns the stack, its region and the AWS configuration.
func (f *stackFlags) resolve(ctx context.Context, a *app) (stackTarget, error) {
	var t stackTarget
	var err error
	if t.format, err = f.output.format(); err != nil {
		return t, err
	}
	if f.bucket != "" {
		if err := rules.BucketName.Validate("--bucket", f.bucket); err != nil {
			return t, err
		}
	}
	if f.region != "" {
		if err := rules.Region.Validate("--region", f.region); err != nil {
			return t, err
		}
	}
	if t.vendor, err = a.vendor(); err != nil {
		return t, err
	}
	t.name = f.stackName
	if t.name == "" {
		if f.bucket == "" {
			return t, rules.Invalid("--stack-name", "", "is required: give --stack-name, or --bucket to derive it")
		}
		in := stacks.New(t.vendor)
		in.BucketName = f.bucket
		t.name = in.DefaultStackName()
	}
	if err := rules.StackName.Validate("--stack-name", t.name); err != nil {
		return t, err
	}
	if t.cfg, err = f.aws.config(ctx, f.region); err != nil {
		return t, err
	}
	t.region = t.cfg.Region
	if f.bucket != "" {
		if t.region, err = bucketRegion(ctx, t.cfg, f.bucket, f.region); err != nil {
			return t, err
		}
	}
	if t.region == "" {
		return t, rules.Invalid("--region", "", "no AWS region: pass --region (or --bucket), or set AWS_REGION or a region in your profile")
	}
	t.resume = resumeCommand(t.name, t.region, f.aws)
	return t, nil
}

func newStatusCmd(a *app) *cobra.Command {
	var (
		flags stackFlags
		watch bool
		drift bool
		set   stackSetFlags
		opID  string
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the integration stack's status and outputs; --watch follows a running operation",
		Long: "status shows the stack's status, the root cause of its last failure if any, its outputs, the live external " +
			"IDs, whether the vendor's CORS rule is on the bucket and whether drift detection finds the role, the policy " +
			"or the access point changed outside CloudFormation, with the command that repairs what it can. With " +
			"--watch it follows a running operation to its end, one line per event (the command deploy prints when " +
			"you press Ctrl-C).\n\nExit status: 0 when the stack is healthy, 1 when its last operation failed, " +
			"2 for bad input, 130 interrupted.",
		Example: "  s3grant status --stack-name isahit-lab-my-bucket --region eu-west-3\n" +
			"  s3grant status --stack-set isahit-lab-org --output json\n" +
			"  s3grant status --bucket my-bucket --watch",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if set.name != "" {
				format, err := flags.output.format()
				if err != nil {
					return err
				}
				// Stack set drift detection is an operation over every instance: only when asked.
				return stackSetStatus(cmd.Context(), a, &set, flags.aws, flags.region, format, opID, drift && cmd.Flags().Changed("drift"))
			}
			t, err := flags.resolve(cmd.Context(), a)
			if err != nil {
				return err
			}
			u := newUI(a, t.format, false)
			eng := u.engine(t.cfg, t.region)
			res, err := eng.Status(cmd.Context(), t.name, watch)
			if err == nil && res.Failed() {
				err = exitError{code: exitFailure, err: fmt.Errorf("the last operation on stack %s failed: %s", t.name, res.Status)}
			}
			if err == nil && !inProgress(res.Status) {
				u.health = checkHealth(cmd.Context(), t, eng, res, drift)
			}
			err = u.finish(res, err, t.resume, t.vendor.Name, t.region)
			if res != nil && !u.json {
				if line := liveIDsLine(res.Parameters, t.name); line != "" {
					fmt.Fprintln(u.w, line)
				}
				if u.health != nil {
					u.health.print(u, t)
				}
			}
			return err
		},
	}
	flags.register(cmd.Flags())
	cmd.Flags().BoolVar(&watch, "watch", false, "follow a running operation to its end")
	set.registerName(cmd.Flags())
	cmd.Flags().StringVar(&opID, "operation-id", "", "with --stack-set: follow this running stack set operation to its end first (the ID deploy prints)")
	cmd.Flags().BoolVar(&drift, "drift", true, "run CloudFormation drift detection on the role, the policy and the access point (--drift=false skips it); with --stack-set, off unless given: it runs an operation over every instance, which takes minutes")
	return cmd
}
