// Package s3client is the one place s3grant makes S3 clients and finds a bucket's region,
// which deploy, publish and verify all need: an access point, and so the stack, must live in
// its bucket's region, and a published template's URL names its bucket's region.
package s3client

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
)

// New returns an S3 client for cfg, typically from config.LoadDefaultConfig, which honours
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_S3. Against such a custom endpoint (LocalStack, moto,
// a test server) it addresses buckets path-style, since those do not serve bucket subdomains.
// It does not log the SDK's "no supported checksum" line for objects other tools wrote, nor
// for ranged reads. opts apply last.
func New(cfg aws.Config, opts ...func(*s3.Options)) *s3.Client {
	return s3.NewFromConfig(cfg, append([]func(*s3.Options){func(o *s3.Options) {
		if o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
		o.DisableLogOutputChecksumValidationSkipped = true
		o.Logger = logging.Nop{} // the SDK's own log lines never reach the user
	}}, opts...)...)
}

// InRegion is the client option that sends one call to region.
func InRegion(region string) func(*s3.Options) {
	return func(o *s3.Options) { o.Region = region }
}
