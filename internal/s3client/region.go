package s3client

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// BucketError is a bucket that does not exist or that the caller cannot see.
type BucketError struct {
	Bucket, Problem string
	Err             error
}

func (e *BucketError) Error() string { return fmt.Sprintf("bucket %s %s", e.Bucket, e.Problem) }
func (e *BucketError) Unwrap() error { return e.Err }

// BucketRegion returns the region of a bucket the caller can see: HeadRegion's answer, or
// GetBucketLocation's for endpoints that send no region header. A missing or invisible bucket
// is a *BucketError.
func BucketRegion(ctx context.Context, client *s3.Client, bucket string) (string, error) {
	region, err := HeadRegion(ctx, client, bucket)
	if err != nil || region != "" {
		return region, err
	}
	if region, err = Location(ctx, client, bucket); err != nil {
		return "", fmt.Errorf("looking up the region of bucket %s: %w", bucket, err)
	}
	return region, nil
}

// HeadRegion returns the bucket's region from HeadBucket's x-amz-bucket-region header, which
// S3 sends even when it redirects a request made in another region (the call is then made
// again there, to learn whether the caller can see the bucket). It returns "" and no error
// when the endpoint sends no such header (LocalStack, some S3-compatible stores). opts apply
// to the first call (InRegion chooses where to ask).
func HeadRegion(ctx context.Context, client *s3.Client, bucket string, opts ...func(*s3.Options)) (string, error) {
	in := &s3.HeadBucketInput{Bucket: aws.String(bucket)}
	out, err := client.HeadBucket(ctx, in, opts...)
	status, region := responseInfo(err)
	if err != nil && region != "" && (status == http.StatusMovedPermanently || status == http.StatusBadRequest ||
		status == http.StatusTemporaryRedirect) {
		out, err = client.HeadBucket(ctx, in, append(opts, InRegion(region))...)
		status, _ = responseInfo(err)
	}
	switch {
	case err == nil:
		return aws.ToString(out.BucketRegion), nil
	case status == http.StatusNotFound:
		return "", &BucketError{Bucket: bucket, Problem: "does not exist (check the name; bucket names are global)", Err: err}
	case status == http.StatusForbidden:
		return "", &BucketError{Bucket: bucket, Problem: "is not visible to these credentials (403 Forbidden): they need s3:ListBucket on it, or the bucket belongs to another account", Err: err}
	}
	return "", fmt.Errorf("looking up bucket %s: %w", bucket, err)
}

// responseInfo returns the HTTP status and x-amz-bucket-region header of a failed call.
func responseInfo(err error) (int, string) {
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil {
		return 0, ""
	}
	return re.HTTPStatusCode(), re.Response.Header.Get("x-amz-bucket-region")
}

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
