package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/pflag"

	"github.com/isahit/s3grant/internal/rules"
)

// awsFlags are the flags of every command that talks to AWS. Credentials, region and endpoints
// otherwise come from the standard chain (environment, shared config and SSO profiles,
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>), exactly as the AWS CLI reads them.
type awsFlags struct {
	profile, endpointURL string
}

func (f *awsFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.profile, "profile", "", "AWS shared config `PROFILE` to use (default: AWS_PROFILE or the default profile)")
	fs.StringVar(&f.endpointURL, "endpoint-url", "", "send every AWS call to this `URL` (LocalStack, moto); default: AWS_ENDPOINT_URL or AWS itself")
}

// config loads the AWS configuration; region, when set, overrides the configured one.
func (f *awsFlags) config(ctx context.Context, region string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if f.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(f.profile))
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if f.endpointURL != "" {
		if err := rules.EndpointURL.Validate("--endpoint-url", f.endpointURL); err != nil {
			return aws.Config{}, err
		}
		opts = append(opts, config.WithBaseEndpoint(f.endpointURL))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	return cfg, nil
}

// args are the flags that repeat these settings in a command printed for the user to run
// next, each with a leading space.
func (f awsFlags) args() string {
	var s string
	if f.profile != "" {
		s += " --profile " + f.profile
	}
	if f.endpointURL != "" {
		s += " --endpoint-url " + f.endpointURL
	}
	return s
}
