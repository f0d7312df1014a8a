package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/verify"
)

func newVerifyCmd(a *app) *cobra.Command {
	var (
		in       verify.Input
		aws      awsFlags
		asVendor bool
		output   string
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
			"preflight sees them, KMS decryption and the region.\n\n" +
			"Vendor side (--as-vendor, the vendor's credentials): it assumes the role with the external ID, checks that " +
			"the role refuses it without one or with a wrong one, then lists, reads one byte and sends a real browser " +
			"preflight from each vendor origin.\n\n" +
			"Exit status: 0 when every check passes, 1 when one fails, 2 for bad input. verify never changes anything.",
		Example: "  s3grant verify --stack-name isahit-lab-my-bucket --region eu-west-3\n" +
			"  s3grant verify --role-arn arn:aws:iam::111122223333:role/isahit-lab --bucket my-bucket --external-id a6fa9c7f-7f53-4a41-812d-a29f48288a94\n" +
			"  s3grant verify --as-vendor --role-arn arn:aws:iam::111122223333:role/isahit-lab --bucket my-bucket --external-id a6fa9c7f-7f53-4a41-812d-a29f48288a94 --output json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			if asVendor && in.StackName != "" {
				return rules.Invalid("--stack-name", in.StackName, "the stack is in the customer's account: with --as-vendor pass --role-arn, --bucket and --external-id")
			}
			vendor, err := a.vendor()
			if err != nil {
				return err
			}
			in.VendorName, in.VendorAccountID = vendor.Name, vendor.AccountID
			in.Origins, in.Methods, in.Headers = vendor.CORS.Origins, vendor.CORS.Methods, vendor.CORS.Headers
			if in.AccessPointName == "" && in.StackName == "" {
				in.AccessPointName = vendor.AccessPointName
			}
			cfg, err := aws.config(cmd.Context(), in.Region)
			if err != nil {
				return err
			}
			checker := verify.New(cfg)
			var rep verify.Report
			if asVendor {
				rep, err = checker.Vendor(cmd.Context(), in)
			} else {
				rep, err = checker.Customer(cmd.Context(), in)
			}
			if err != nil {
				return err
			}
			if output == "json" {
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
	fs.StringVar(&in.StackName, "stack-name", "", "the integration's stack `NAME`: its outputs name the role, bucket, access point and external ID")
	fs.StringVar(&in.RoleARN, "role-arn", "", "`ARN` of the role the vendor assumes (default: the stack's RoleArn output)")
	fs.StringVar(&in.Bucket, "bucket", "", paramUsage("BucketName")+" Default: the stack's.")
	fs.StringVar(&in.AccessPointName, "access-point-name", "", paramUsage("AccessPointName")+" Default: the stack's, else the vendor's.")
	fs.StringVar(&in.ExternalID, "external-id", "", paramUsage("ExternalId")+" Default: the stack's; pass the vendor's own value to catch a typo in the stack.")
	fs.StringVar(&in.ObjectPrefix, "prefix", "", paramUsage("ObjectPrefix")+" Default: the stack's.")
	fs.StringVar(&in.KMSKeyARN, "kms-key-arn", "", paramUsage("KmsKeyArn")+" Default: the stack's; the bucket's default encryption key is checked anyway.")
	fs.StringVar(&in.Region, "region", "", "AWS `REGION` of the bucket and the stack (default: the configured region)")
	fs.BoolVar(&asVendor, "as-vendor", false, "check from the vendor's account, with the vendor's credentials: assume the role, list, read, preflight")
	fs.StringVar(&output, "output", "text", "output format: text or json")
	aws.register(fs)
	return cmd
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
