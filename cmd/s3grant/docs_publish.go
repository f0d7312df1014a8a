package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/isahit/s3grant/guide"
	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/internal/s3client"
	"github.com/isahit/s3grant/site"
	"github.com/isahit/s3grant/sitepublish"
)

// newDocsPublishCmd builds the guide in memory, exactly as docs build does, and publishes it
// to S3 through sitepublish. The destination has its own --site-* flags: --bucket, --prefix
// and --region are the integration's (the customer's bucket) for a personalised guide.
func newDocsPublishCmd(a *app) *cobra.Command {
	var (
		flags   docsFlags
		aws     awsFlags
		target  sitepublish.Target
		website bool
		dryRun  bool
	)
	cmd := &cobra.Command{
		Use:   "publish",
		Short: "Build the guide and publish it to an S3 bucket (vendor side)",
		Long: "publish builds the guide with the same flags as build and uploads it to --site-bucket under --site-prefix: " +
			"each file with its Content-Type and Cache-Control (a year and immutable for the content-hashed stylesheet, " +
			"script and icon; five minutes for pages, sitemap and template). Files whose content and headers are " +
			"unchanged are skipped, so publishing the same guide twice uploads nothing. Files an earlier publish wrote " +
			"under the prefix that the guide no longer has are listed, then deleted after the upload; nothing outside " +
			"the prefix and no object s3grant did not write is ever touched.\n\n" +
			"If the bucket serves a static website, its index and error documents must be index.html and " +
			"PREFIX/404.html; publish says what it would change and changes the website configuration only with " +
			"--website (which also creates one), keeping routing rules. Behind CloudFront, see the guide's reference " +
			"page. --dry-run prints the plan and changes nothing.",
		Example: "  s3grant docs publish --site-bucket isahit-docs --site-prefix s3 --dry-run\n" +
			"  s3grant docs publish --site-bucket isahit-docs --site-prefix customers/acme --bucket acme-images \\\n" +
			"    --external-id a6fa9c7f-7f53-4a41-812d-a29f48288a94 --region eu-west-3",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if target.Bucket == "" {
				return rules.Invalid("--site-bucket", "", "is required: the S3 bucket to publish the guide to")
			}
			cfg, err := flags.config(a)
			if err != nil {
				return err
			}
			files := site.Files{}
			if err := guide.Build(ctx, cfg, files); err != nil {
				return err
			}
			awsCfg, err := aws.config(ctx, target.Region)
			if err != nil {
				return err
			}
			client := s3client.New(awsCfg)
			pub := sitepublish.New(client, sitepublish.WithWebsite(website),
				sitepublish.WithObserver(publishObserver{a.stdout}))
			plan, err := pub.Plan(ctx, files.FS(), target)
			if err != nil {
				return err
			}
			printSitePlan(a.stdout, plan)
			if dryRun {
				fmt.Fprintln(a.stdout, "Dry run: nothing changed.")
				return nil
			}
			res, err := pub.Apply(ctx, plan)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Published: %d uploaded, %d unchanged, %d deleted.\nSite: %s\n", len(res.Uploaded), res.Unchanged, len(res.Deleted), res.URL)
			return nil
		},
	}
	flags.register(cmd.Flags())
	aws.register(cmd.Flags())
	cmd.Flags().StringVar(&target.Bucket, "site-bucket", "", "S3 `BUCKET` to publish the guide to (the vendor's)")
	cmd.Flags().StringVar(&target.Prefix, "site-prefix", "", "key `PREFIX` to publish under (default: the bucket's root); stale files are removed under it only")
	cmd.Flags().StringVar(&target.Region, "site-region", "", "`REGION` of the site bucket (default: asked from S3)")
	cmd.Flags().BoolVar(&website, "website", false, "create or correct the bucket's website configuration (index.html, PREFIX/404.html)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would change and change nothing")
	return cmd
}

// publishObserver prints each change as it is made.
type publishObserver struct{ w io.Writer }

func (o publishObserver) Changed(c sitepublish.Change) {
	switch c.Action {
	case "upload":
		fmt.Fprintf(o.w, "  uploaded %s\n", c.Key)
	case "delete":
		fmt.Fprintf(o.w, "  deleted  %s\n", c.Key)
	case "website":
		fmt.Fprintf(o.w, "  website configuration of %s set\n", c.Key)
	}
}

// printSitePlan prints what publishing will do, deletions included, before anything is done.
func printSitePlan(w io.Writer, p *sitepublish.Plan) {
	fmt.Fprintf(w, "Guide to s3://%s/%s (%s): %d to upload, %d unchanged, %d to delete\n",
		p.Bucket, p.Prefix, p.Region, len(p.Upload), len(p.Unchanged), len(p.Delete))
	for _, f := range p.Upload {
		fmt.Fprintf(w, "  upload %-7s %s (%s; %s)\n", f.Reason, f.Key, f.ContentType, f.CacheControl)
	}
	for _, key := range p.Delete {
		fmt.Fprintf(w, "  delete stale  %s\n", key)
	}
	if len(p.Foreign) > 0 {
		fmt.Fprintf(w, "  %d other object(s) under the prefix, not published by s3grant, left alone (first: %s)\n", len(p.Foreign), p.Foreign[0])
	}
	ws := p.Website
	switch {
	case ws.RedirectAll != "":
		fmt.Fprintf(w, "Website configuration: %s.\n", ws.Change)
	case ws.Apply:
		fmt.Fprintf(w, "Website configuration: %s\n", ws.Change)
	case ws.Change != "":
		fmt.Fprintf(w, "Website configuration: left as it is; needed: %s. Rerun with --website to change it.\n", ws.Change)
	case ws.Found:
		fmt.Fprintln(w, "Website configuration: index and error documents already fit.")
	default:
		fmt.Fprintln(w, "Website configuration: none (the bucket is not a website). Serve the guide through CloudFront, or add --website.")
	}
}
