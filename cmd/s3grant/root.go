package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/isahit/s3grant/deploy"
	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/profile"
	"github.com/isahit/s3grant/stacks"
	"github.com/isahit/s3grant/stackset"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailure     = 1
	exitBadInput    = 2
	exitInterrupted = 130
)

// app is what every command shares: the streams and the global flags. Commands receive it
// instead of reaching for globals, so tests run the CLI in-process.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	vendorFile     string
	// deployOptions configure the deploy engine of deploy, status and delete (tests shorten
	// its polling).
	deployOptions []deploy.Option
	// deadlines, when set, replace the AWS calls' default deadlines (tests shorten them).
	deadlines *deadlines
	// stackSetOptions configure the stack set engine (tests shorten its polling).
	stackSetOptions []stackset.Option
}

// vendor returns the vendor profile: the --vendor file, or the embedded isahit Lab default.
// A bad file is bad input naming --vendor, the file and the key.
func (a *app) vendor() (profile.Vendor, error) {
	if a.vendorFile == "" {
		return profile.Default(), nil
	}
	v, err := profile.Load(a.vendorFile)
	var inv *rules.InvalidError
	if errors.As(err, &inv) {
		inv.Field = "--vendor " + inv.Field
	}
	return v, err
}

// usageError is bad input on the command line; it exits with code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitError carries a specific exit code for a failure already explained to the user.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "s3grant",
		Short: "Connect an S3 bucket to a SaaS vendor, safely and in one step",
		Long: "s3grant builds, deploys and checks the read-only integration between your S3 bucket and a SaaS vendor " +
			"(by default isahit Lab): an S3 access point, a least-privilege IAM policy, a role the vendor assumes with " +
			"your external ID, and the vendor's CORS rule merged into your bucket's own rules.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildVersion() + ", template " + stacks.TemplateVersion,
	}
	root.SetVersionTemplate("s3grant {{.Version}} (s3grant version also names the vendor profile)\n")
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.PersistentFlags().StringVar(&a.vendorFile, "vendor", "", "vendor profile `FILE` (YAML) to use instead of the embedded isahit Lab profile")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newTemplateCmd(a),
		newLinkCmd(a),
		newPublishCmd(a),
		newVerifyCmd(a),
		newDocsCmd(a),
		newDeployCmd(a),
		newStatusCmd(a),
		newDeleteCmd(a),
		newRotateCmd(a),
		newVersionCmd(a),
	)
	refuseUnknownSubcommands(root)
	return root
}

// refuseUnknownSubcommands makes every command that only groups others (docs) refuse an
// unknown subcommand as bad input; cobra otherwise prints the group's help and exits 0.
func refuseUnknownSubcommands(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		refuseUnknownSubcommands(c)
	}
	if cmd == cmd.Root() || !cmd.HasSubCommands() || cmd.Run != nil || cmd.RunE != nil {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return c.Help()
		}
		return usageError{fmt.Errorf("unknown command %q for %q: run %q for its commands", args[0], c.CommandPath(), c.CommandPath()+" --help")}
	}
}

// run executes the CLI and returns its exit code: 0 success, 1 failure, 2 bad input,
// 130 interrupted. Errors are printed as one line on stderr.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runApp(ctx, &app{stdin: stdin, stdout: stdout, stderr: stderr}, args)
}

// runApp is run for a prepared app. Failures are explained by translate, in one line.
func runApp(ctx context.Context, a *app, args []string) int {
	d := defaultDeadlines
	if a.deadlines != nil {
		d = *a.deadlines
	}
	ctx = withSession(ctx, &session{deadlines: d})
	root := newRootCmd(a)
	root.SetArgs(args)
	err := withFlagNames(root.ExecuteContext(ctx))
	if err == nil {
		return exitOK
	}
	e := translate(ctx, err)
	fmt.Fprintf(a.stderr, "s3grant: %s\n", e.msg)
	return e.code
}

func exitCode(err error) int {
	var inv *rules.InvalidError
	var usage usageError
	var exit exitError
	switch {
	case errors.As(err, &exit):
		return exit.code
	case errors.As(err, &inv), errors.As(err, &usage):
		return exitBadInput
	case isCobraUsage(err):
		return exitBadInput
	}
	return exitFailure
}

// isCobraUsage recognises the errors cobra itself returns for a wrong command line
// (unknown command, wrong number of arguments), which are not typed.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires ", "unknown flag", "unknown shorthand"} {
		if len(msg) >= len(p) && msg[:len(p)] == p {
			return true
		}
	}
	return false
}
