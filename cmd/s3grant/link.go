package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/launch"
	"github.com/isahit/s3grant/stacks"
)

func newLinkCmd(a *app) *cobra.Command {
	var (
		flags        integrationFlags
		templateURL  string
		templateFile string
		stackName    string
		newID        bool
		output       outputFlag
	)
	cmd := &cobra.Command{
		Use:   "link",
		Short: "Print a one-click CloudFormation quick-create link for a customer",
		Long: "link prints a CloudFormation quick-create link: it opens the console in the customer's region with the " +
			"published template and the customer's values (bucket, external ID, ...) filled in. It works offline. " +
			"Before printing, it checks the template URL (an S3 HTTPS URL of at most 1024 characters), the stack name, " +
			"the values, and that every prefilled parameter exists in the template and is not NoEcho.\n\n" +
			"Only the parameters whose flags you give are prefilled; the others keep the template's defaults.",
		Example: "  s3grant link --template-url https://isahit-templates.s3.eu-west-3.amazonaws.com/s3grant/v1/abc.json \\\n" +
			"    --region eu-west-3 --bucket my-bucket --external-id a6fa9c7f-7f53-4a41-812d-a29f48288a94\n" +
			"  s3grant link --template-url URL --region eu-west-3 --bucket my-bucket --new-external-id",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := output.format()
			if err != nil {
				return err
			}
			if flags.region == "" {
				return rules.Invalid("--region", "", "is required: the link's region decides where the stack is created, and it must be the bucket's region")
			}
			if newID {
				if flags.externalID != "" {
					return rules.Invalid("--new-external-id", "", "cannot be used with --external-id: give one or the other")
				}
				id, err := launch.NewExternalID()
				if err != nil {
					return err
				}
				flags.externalID = id
			}
			in, err := flags.integration(a)
			if err != nil {
				return err
			}
			params, err := templateParameters(templateFile, in)
			if err != nil {
				return err
			}
			if stackName == "" && in.BucketName != "" {
				stackName = in.DefaultStackName()
			}
			l := launch.Link{Region: in.Region, TemplateURL: templateURL, StackName: stackName,
				Parameters: prefilled(cmd, in, newID)}
			url, err := l.Build(params)
			if err != nil {
				return err
			}
			out := linkOutput{Link: url, Region: in.Region, StackName: stackName,
				MarkdownButton: launch.MarkdownButton(url), HTMLButton: launch.HTMLButton(url),
				Warnings: linkWarnings(l)}
			if len(in.MoreBuckets) > 0 && templateFile == "" && !servesShapeURL(in, templateURL) {
				out.Warnings = append(out.Warnings, linkWarning{Flag: "--template-url", Message: fmt.Sprintf(
					"the link is for %d buckets: its template must be the one s3grant publish --bucket printed for them (the generic "+
						"template creates the first bucket's access only); give that file with --template to have it checked",
					len(in.MoreBuckets)+1)})
			}
			for _, w := range out.Warnings {
				warn(a, w.Flag, w.Message)
			}
			if newID {
				out.NewExternalID = in.ExternalID
			}
			if format == formatJSON {
				return writeJSON(a.stdout, out)
			}
			fmt.Fprintln(a.stdout, url)
			fmt.Fprintln(a.stdout, regionNote(in.Region, in.BucketName))
			if newID {
				fmt.Fprintf(a.stdout, "New external ID, record it for this customer in %s: %s\n", in.Vendor.Name, in.ExternalID)
			}
			return nil
		},
	}
	flags.register(cmd.Flags())
	cmd.Flags().StringVar(&templateURL, "template-url", "", "S3 HTTPS `URL` of the published template (see s3grant publish)")
	cmd.Flags().StringVar(&templateFile, "template", "", "JSON or YAML template `FILE` the URL serves, to check parameter names against (default: the template s3grant builds)")
	cmd.Flags().StringVar(&stackName, "stack-name", "", "stack name proposed in the console (default: VENDOR-BUCKET)")
	cmd.Flags().BoolVar(&newID, "new-external-id", false, "generate a new random external ID for a new customer and print it")
	output.register(cmd.Flags(), formatText, formatJSON)
	return cmd
}

// linkOutput is what link prints with --output json.
type linkOutput struct {
	Link           string `json:"link"`
	Region         string `json:"region"`
	StackName      string `json:"stackName,omitempty"`
	NewExternalID  string `json:"newExternalId,omitempty"`
	MarkdownButton string `json:"markdownButton"`
	HTMLButton     string `json:"htmlButton"`
	// Warnings are what the link works without but should not: also printed on stderr.
	Warnings []linkWarning `json:"warnings,omitempty"`
}

// regionNote is the one line that says what the link's region means.
func regionNote(region, bucket string) string {
	if bucket == "" {
		bucket = "the customer's bucket"
	}
	return fmt.Sprintf("Region %s: the link creates the stack in this region, which must be the region of %s.", region, bucket)
}

// templateParameters returns the parameters of the template in file, or of the template
// s3grant builds for in when file is empty.
func templateParameters(file string, in stacks.Integration) (launch.Parameters, error) {
	var body []byte
	var err error
	if file == "" {
		if body, err = stacks.JSON(in); err != nil {
			return nil, err
		}
		return launch.ParseTemplate(body)
	}
	if body, err = os.ReadFile(file); err != nil {
		return nil, rules.Invalid("--template", file, err.Error())
	}
	params, err := launch.ParseTemplate(body)
	if err != nil {
		return nil, rules.Invalid("--template", file, err.Error())
	}
	if err := sameBuckets(file, body, in); err != nil {
		return nil, err
	}
	return params, nil
}

// sameBuckets refuses a template that does not hold in's buckets after the first (the first is
// the BucketName parameter the link fills in): a link for several buckets to the generic
// one-bucket template would create the first bucket's access only, and a shape template of
// other buckets would grant those.
func sameBuckets(file string, body []byte, in stacks.Integration) error {
	doc, err := launch.TemplateJSON(body)
	if err != nil {
		return rules.Invalid("--template", file, err.Error())
	}
	more, _, err := stacks.ShapeOf(doc)
	if err != nil {
		return rules.Invalid("--template", file, err.Error())
	}
	spell := func(bs []stacks.Bucket) []string {
		var out []string
		for _, b := range bs {
			out = append(out, b.Value())
		}
		slices.Sort(out)
		return out
	}
	has, want := spell(more), spell(in.MoreBuckets)
	if slices.Equal(has, want) {
		return nil
	}
	holds := "only the BucketName parameter's bucket (the generic one-bucket template)"
	if len(has) > 0 {
		holds = "the buckets " + strings.Join(has, ", ") + " after the first"
	}
	need := "only the first bucket"
	if len(want) > 0 {
		need = "the buckets " + strings.Join(want, ", ") + " after the first"
	}
	return rules.Invalid("--template", file, fmt.Sprintf("holds %s, and the link is for %s: publish the template of these buckets "+
		"with s3grant publish and the same --bucket flags, and link to the URL it prints", holds, need))
}

// servesShape reports whether loc is the content-addressed key s3grant publish --bucket gives
// the template of in's buckets (want, under any prefix): Publish read those bytes back there, so
// the URL serves that template and no other. Checked offline, from the URL alone.
func servesShape(in stacks.Integration, loc launch.S3Location) (want string, ok bool, err error) {
	shape, err := stacks.PublishedJSON(in)
	if err != nil {
		return "", false, err
	}
	want = launch.ShapeKeyName(stacks.TemplateVersion, shape)
	return want, launch.Serves(loc, want), nil
}

// servesShapeURL is servesShape for a template URL not yet parsed; false for a bad one.
func servesShapeURL(in stacks.Integration, templateURL string) bool {
	loc, err := launch.ParseTemplateURL(launch.FieldTemplateURL, templateURL)
	if err != nil {
		return false
	}
	_, ok, err := servesShape(in, loc)
	return err == nil && ok
}

// prefilled returns the template parameter values of the flags the user gave (and the external
// ID generated by --new-external-id); the other parameters keep the template's defaults.
func prefilled(cmd *cobra.Command, in stacks.Integration, newID bool) map[string]string {
	names := givenParams(cmd.Flags())
	if newID {
		names = append(names, "ExternalId")
	}
	vals := in.Values()
	out := map[string]string{}
	for _, name := range names {
		if v, ok := vals[name]; ok {
			out[name] = v
		}
	}
	return out
}
