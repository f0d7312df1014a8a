// Command s3grant connects a customer's S3 bucket to a SaaS vendor (by default isahit Lab)
// safely and in one step: it builds the CloudFormation template of the integration, deploys
// it, publishes one-click links, renders the guide and verifies the result.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
