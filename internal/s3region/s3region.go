// Package s3region finds the region of an S3 bucket, which deploy and verify both need: an
// access point, and so the stack, must live in its bucket's region.
package s3region

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Location asks GetBucketLocation, which answers from any region, and returns the bucket's
// region: an empty location constraint means us-east-1, and the legacy "EU" eu-west-1.
func Location(ctx context.Context, client *s3.Client, bucket string) (string, error) {
	out, err := client.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bucket)})
	if err != nil {
		return "", err
	}
	switch loc := string(out.LocationConstraint); loc {
	case "":
		return "us-east-1", nil
	case "EU":
		return "eu-west-1", nil
	default:
		return loc, nil
	}
}
