package main

import (
	"github.com/spf13/cobra"

	"github.com/isahit/s3grant/deploy"
)

// ownDescription is how the description of every template s3grant builds begins: delete
// refuses other stacks, so a mistyped --stack-name never deletes someone else's stack.
const ownDescription = "s3grant "

func newDeleteCmd(a *app) *cobra.Command {
	var (
		flags  stackFlags
		yes    bool
		change changeFlags
		set    stackSetFlags
	)
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Delete the integration stack (never your bucket or its objects)",
		Long: "delete lists the stack's resources, asks (the default answer is no; --yes answers yes), deletes the " +
			"stack and follows the deletion, one line per event. Only the stack's own resources go: your bucket and " +
			"its objects are not part of it, and the CORS function removes only the vendor's rule. It refuses a stack " +
			"that s3grant did not create. It ends with what to tell the vendor: the integration, its role and access " +
			"point are gone.\n\nExit status: 0 deleted, 1 failed or declined, 2 bad input (including no terminal without " +
			"--yes), 130 interrupted.",
		Example: "  s3grant delete --stack-name isahit-lab-my-bucket --region eu-west-3\n" +
			"  s3grant delete --bucket my-bucket --yes\n" +
			"  s3grant delete --stack-set isahit-lab-org",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := flags.output.format()
			if err != nil {
				return err
			}
			if set.name != "" {
				return deleteStackSet(cmd.Context(), a, &set, flags.aws, flags.region, format, yes)
			}
			u := newUI(a, format, yes)
			change.yes = yes
			if err := change.check(u, true); err != nil {
				return err
			}
			t, err := flags.resolve(cmd.Context(), a)
			if err != nil {
				return err
			}
			res, err := u.engine(t.cfg, t.region).Delete(cmd.Context(), deploy.DeleteRequest{StackName: t.name,
				DescriptionPrefix: ownDescription, RoleARN: change.roleARN})
			return u.finish(res, err, t.resume, t.vendor.Name, t.region)
		},
	}
	flags.register(cmd.Flags())
	cmd.Flags().BoolVar(&yes, "yes", false, "delete without asking")
	change.registerRole(cmd.Flags())
	set.registerName(cmd.Flags())
	return cmd
}
