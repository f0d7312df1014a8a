// Command s3grant connects a customer's S3 bucket to a SaaS vendor (by default isahit Lab)
// safely and in one step: it builds the CloudFormation template of the integration, deploys
// it, publishes one-click links, renders the guide and verifies the result.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// The first Ctrl-C cancels ctx: every phase stops its AWS calls and exits 130. Once it
	// has, the signal is let go, so a second Ctrl-C ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
