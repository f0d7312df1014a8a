package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/launch"
	"github.com/isahit/s3grant/stacks"
)

func newPublishCmd(a *app) *cobra.Command {
	var (
		buckets []string
		in      launch.PublishInput
		aws     awsFlags
		output  outputFlag
	)
	cmd := &cobra.Command{
		Use:   "publish",
		Short: "Publish the template to S3 for one-click links (vendor side)",
		Long: "publish uploads the vendor's template to the template bucket under an immutable, content-addressed key " +
			"(PREFIX/VERSION/SHA.json: the same template always gets the same key, a changed one a new key) and copies it " +
			"to PREFIX/latest.json. It reads both back to check S3 holds exactly those bytes, checks that an anonymous " +
			"client (the console, fetching it for a customer) can read it, and prints the template URL, a quick-create " +
			"link and Launch Stack buttons. If the template is not public it prints the bucket policy statement that " +
			"makes only PREFIX public-read and exits 1, so CI notices.\n\n" +
			"AWS_ENDPOINT_URL (e.g. LocalStack) is honoured: the upload and the anonymous check go there, while the " +
			"printed URLs keep the public S3 form customers will use.\n\n" +
			"Exit status: 0 published and publicly readable, 1 failed or not publicly readable, 2 bad input.",
		Example: "  s3grant publish --template-bucket isahit-templates\n" +
			"  s3grant publish --template-bucket isahit-templates --template-prefix s3grant --region eu-west-3 --output json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := output.format()
			if err != nil {
				return err
			}
			vendor, err := a.vendor()
			if err != nil {
				return err
			}
			model := stacks.New(vendor)
			if len(buckets) > 0 {
				// The concrete template of one customer's shape (several buckets), under its own
				// content-addressed key; without --bucket, the generic one-bucket template.
				list, err := stacks.ParseBuckets(buckets)
				if err != nil {
					return err
				}
				model.SetBuckets(list)
				// Under PREFIX/shapes/, so PREFIX/latest.json stays the generic template.
				in.Prefix += "/" + launch.ShapesDir
			}
			if in.Template, err = stacks.PublishedJSON(model); err != nil {
				return err
			}
			in.Version = stacks.TemplateVersion
			cfg, err := aws.config(cmd.Context(), in.Region)
			if err != nil {
				return err
			}
			res, err := launch.NewPublisher(cfg).Publish(cmd.Context(), in)
			if err != nil {
				return err
			}
			params, err := launch.ParseTemplate(in.Template)
			if err != nil {
				return err
			}
			out := publishOutput{Published: res}
			var noLink *rules.InvalidError
			if errors.As(launch.QuickCreateIn("--region", res.Region), &noLink) {
				// The template is published for CLI and console uploads; no link opens there.
				out.NoLink = noLink.Reason
			} else {
				// A link without customer values, in the template bucket's region: customers
				// elsewhere get theirs from s3grant link --region.
				url, err := launch.Link{Region: res.Region, TemplateURL: res.TemplateURL}.Build(params)
				if err != nil {
					return err
				}
				out.Link, out.MarkdownButton, out.HTMLButton = url, launch.MarkdownButton(url), launch.HTMLButton(url)
			}
			if format == formatJSON {
				if err := writeJSON(a.stdout, out); err != nil {
					return err
				}
			} else {
				printPublished(a, out)
			}
			if !res.Public {
				// Every link made from it would fail in the console: CI must notice.
				return exitError{code: exitFailure, err: fmt.Errorf("template s3://%s/%s is not publicly readable (%s): "+
					"links fail until bucket %s has the bucket policy statement printed above", res.Bucket, res.Key, res.PublicCheck, res.Bucket)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&in.Bucket, "template-bucket", "", "the vendor's S3 `BUCKET` for published templates")
	cmd.Flags().StringVar(&in.Prefix, "template-prefix", "s3grant", "key `PREFIX` for templates; only it needs to be public")
	cmd.Flags().StringArrayVar(&buckets, "bucket", nil, "repeatable, `NAME`, NAME/PREFIX or s3://NAME/PREFIX: publish the template for this customer's buckets (content-addressed, under PREFIX/shapes/) instead of the generic one-bucket template")
	cmd.Flags().StringVar(&in.Region, "region", "", "region of the template bucket (default: asked from S3)")
	output.register(cmd.Flags(), formatText, formatJSON)
	aws.register(cmd.Flags())
	return cmd
}

// publishOutput is what publish prints with --output json.
type publishOutput struct {
	*launch.Published
	Link           string `json:"link,omitempty"`
	MarkdownButton string `json:"markdownButton,omitempty"`
	HTMLButton     string `json:"htmlButton,omitempty"`
	// NoLink says why there is no link, in a partition without quick-create links.
	NoLink string `json:"noLink,omitempty"`
}

func printPublished(a *app, out publishOutput) {
	w := a.stdout
	state := "uploaded"
	if !out.Uploaded {
		state = "already there with the same content, left as it is"
	}
	fmt.Fprintf(w, "Template %s: s3://%s/%s (%s); copied to s3://%s/%s\n", stacks.TemplateVersion, out.Bucket, out.Key, state, out.Bucket, out.LatestKey)
	fmt.Fprintf(w, "Template URL: %s\n", out.TemplateURL)
	if out.CheckedURL != out.TemplateURL {
		fmt.Fprintf(w, "Custom endpoint: objects written and checked at %s\n", out.CheckedURL)
	}
	if out.Public {
		fmt.Fprintln(w, "Public read: yes, an anonymous GET returns the template")
	} else {
		fmt.Fprintf(w, "Public read: NO (%s). The console fetches the template as the customer, so links fail until "+
			"bucket %s has this bucket policy statement, which makes only s3://%s/%s/* public; Block Public Access "+
			"on the bucket and the account must allow public bucket policies (BlockPublicPolicy and RestrictPublicBuckets off):\n%s\n",
			out.PublicCheck, out.Bucket, out.Bucket, out.Prefix, out.PolicyStatement)
	}
	if out.NoLink != "" {
		fmt.Fprintf(w, "No quick-create link: %s\n", out.NoLink)
		return
	}
	fmt.Fprintf(w, "Quick-create link (no customer values; for a customer use s3grant link --template-url %s):\n%s\n", out.TemplateURL, out.Link)
	fmt.Fprintln(w, regionNote(out.Region, ""))
	fmt.Fprintf(w, "Markdown button:\n%s\nHTML button:\n%s\n", out.MarkdownButton, out.HTMLButton)
}
