package main

import (
	"github.com/spf13/cobra"

	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/stacks"
)

func newTemplateCmd(a *app) *cobra.Command {
	var (
		flags  integrationFlags
		output outputFlag
		format string
		file   string
	)
	cmd := &cobra.Command{
		Use:   "template",
		Short: "Print the CloudFormation template of the integration",
		Long: "template prints the CloudFormation template that creates the integration. The flags fill in the " +
			"parameter defaults; every value is checked before anything is printed or written.",
		Example: "  s3grant template --bucket my-bucket --external-id a6fa9c7f-7f53-4a41-812d-a29f48288a94\n" +
			"  s3grant template -o yaml --file integration.yaml",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("format") {
				if cmd.Flags().Changed("output") {
					return rules.Invalid("--format", format, "is the old name of --output: give only --output")
				}
				output.value = format
			}
			f, err := output.format()
			if err != nil {
				return err
			}
			in, err := flags.integration(a)
			if err != nil {
				return err
			}
			render := stacks.JSON
			if f == formatYAML {
				render = stacks.YAML
			}
			body, err := render(in)
			if err != nil {
				return err
			}
			if file == "" {
				_, err = a.stdout.Write(body)
				return err
			}
			return writeFileAtomic("--file", file, body)
		},
	}
	flags.register(cmd.Flags())
	output.register(cmd.Flags(), formatJSON, formatYAML)
	cmd.Flags().StringVar(&file, "file", "", "write the template to `FILE` instead of standard output")
	cmd.Flags().StringVar(&format, "format", formatJSON, "deprecated: the old name of --output")
	_ = cmd.Flags().MarkHidden("format")
	return cmd
}
