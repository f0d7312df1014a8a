package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/isahit/s3grant/guide"
	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/launch"
	"github.com/isahit/s3grant/site"
	"github.com/isahit/s3grant/stacks"
)

func newDocsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "docs",
		Short: "Build or preview the setup guide, a static site generated from the same model as the template",
		Long: "docs renders the step-by-step setup guide (overview, one-click, CLI, manual console setup, verify and " +
			"troubleshoot, removal, reference) as a static HTML site. Every policy, rule and command in it comes from " +
			"the same code as the CloudFormation template.\n\n" +
			"Without the integration flags the guide shows marked placeholders and a \"Your values\" form that fills " +
			"them in the reader's browser; each flag given bakes that value into every page.",
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newDocsBuildCmd(a), newDocsServeCmd(a), newDocsPublishCmd(a))
	return cmd
}

// docsFlags are the values a build of the guide bakes in.
type docsFlags struct {
	integration integrationFlags
	accountID   string
	templateURL string
	baseURL     string
}

func (f *docsFlags) register(fs *pflag.FlagSet) {
	f.integration.register(fs)
	fs.StringVar(&f.accountID, "account-id", "", "the customer's AWS account `ID`, part of the access point ARN")
	fs.StringVar(&f.templateURL, "template-url", "", "S3 HTTPS `URL` of the published template (see s3grant publish), for the Launch Stack button")
	fs.StringVar(&f.baseURL, "base-url", "", "absolute `URL` the guide is published at, for its sitemap.xml (none without it)")
}

// config checks the flags and returns the guide's build configuration.
func (f *docsFlags) config(a *app) (guide.Config, error) {
	in, err := f.integration.integration(a)
	if err != nil {
		return guide.Config{}, err
	}
	if f.accountID != "" {
		if err := rules.AccountID.Validate("--account-id", f.accountID); err != nil {
			return guide.Config{}, err
		}
	}
	if f.templateURL != "" {
		if err := launch.QuickCreateIn("--template-url", in.Region); err != nil {
			return guide.Config{}, err
		}
		loc, err := launch.TemplateURLIn(launch.FieldTemplateURL, f.templateURL, in.Region)
		if err != nil {
			return guide.Config{}, err
		}
		if n := len(in.MoreBuckets) + 1; n > 1 {
			// The Launch Stack button of a guide for several buckets must launch their shape's
			// template: the generic one would create the first bucket's access only.
			want, ok, err := servesShape(in, loc)
			if err != nil {
				return guide.Config{}, err
			}
			if !ok {
				return guide.Config{}, rules.Invalid(launch.FieldTemplateURL, f.templateURL, fmt.Sprintf(
					"names %s, not the template of these %d buckets (.../%s, content-addressed): the guide's Launch Stack "+
						"button would create another integration (the generic template creates the first bucket's access only); "+
						"publish it with s3grant publish --template-bucket BUCKET and the same --bucket flags, and give the URL it prints",
					loc.Key, n, want))
			}
		} else {
			published, err := stacks.PublishedJSON(in)
			if err != nil {
				return guide.Config{}, err
			}
			if w := launch.PinWarning(loc, stacks.TemplateVersion, published); w != "" {
				warn(a, flagFor(launch.FieldTemplateURL), w)
			}
		}
	}
	if f.baseURL != "" {
		u, err := url.Parse(f.baseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return guide.Config{}, rules.Invalid("--base-url", f.baseURL, "must be an absolute http(s) URL without query or fragment, e.g. https://docs.example.com/s3/")
		}
	}
	return guide.Config{Integration: in, AccountID: f.accountID, TemplateURL: f.templateURL, BaseURL: f.baseURL,
		Flags: fieldFlags}, nil
}

func newDocsBuildCmd(a *app) *cobra.Command {
	var (
		flags docsFlags
		dir   string
	)
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Write the guide as a static site into a directory",
		Long: "build writes the guide into DIR: one HTML page per section, its stylesheet and script, a 404 page, " +
			"the template file, and sitemap.xml when --base-url is given. Every link is relative, so the directory " +
			"can be served under any path or opened from disk. DIR must be new, empty, or an earlier build of the " +
			"guide; its other files are left alone.",
		Example: "  s3grant docs build --dir site\n" +
			"  s3grant docs build --dir guide-acme --bucket acme-images --external-id a6fa9c7f-7f53-4a41-812d-a29f48288a94 --region eu-west-3 \\\n" +
			"    --template-url https://isahit-templates.s3.eu-west-3.amazonaws.com/s3grant/v1/abc.json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return rules.Invalid("--dir", "", "is required: the directory to write the guide to")
			}
			if err := checkSiteDir(dir); err != nil {
				return err
			}
			cfg, err := flags.config(a)
			if err != nil {
				return err
			}
			if err := guide.Build(cmd.Context(), cfg, site.Dir(dir)); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Guide written to %s; open %s in a browser.\n", dir, filepath.Join(dir, "index.html"))
			return nil
		},
	}
	flags.register(cmd.Flags())
	cmd.Flags().StringVar(&dir, "dir", "", "`DIR` to write the guide to")
	return cmd
}

// checkSiteDir refuses a directory that holds other files and no earlier
// build of the guide, so a typo in --dir cannot mix the guide into unrelated files.
func checkSiteDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return rules.Invalid("--dir", dir, err.Error())
	case len(entries) == 0:
		return nil
	}
	if !site.HasBuild(os.DirFS(dir)) {
		return rules.Invalid("--dir", dir, "is not empty and holds no earlier build of the guide: choose a new or empty directory")
	}
	return nil
}

func newDocsServeCmd(a *app) *cobra.Command {
	var (
		flags docsFlags
		addr  string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Build the guide in memory and serve it for preview",
		Long: "serve builds the guide with the same flags as build, keeps it in memory and serves it over HTTP until " +
			"interrupted (Ctrl-C). It prints the address to open.",
		Example: "  s3grant docs serve\n  s3grant docs serve --addr 127.0.0.1:9000 --bucket my-bucket",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkListenAddr("--addr", addr); err != nil {
				return err
			}
			cfg, err := flags.config(a)
			if err != nil {
				return err
			}
			files := site.Files{}
			if err := guide.Build(cmd.Context(), cfg, files); err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("serve the guide: %w", err)
			}
			return serveGuide(cmd.Context(), a, ln, site.Handler(files.FS()))
		},
	}
	flags.register(cmd.Flags())
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "`HOST:PORT` to listen on")
	return cmd
}

// serveGuide serves h on ln until ctx ends, then shuts down gracefully.
func serveGuide(ctx context.Context, a *app, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(a.stdout, "Serving the guide at http://%s/ (Ctrl-C to stop)\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve the guide: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("stop serving the guide: %w", err)
	}
	return nil
}
