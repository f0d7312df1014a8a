package deploy

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/isahit/s3grant/internal/s3region"
)

// BucketError is a bucket that does not exist or that the caller cannot see.
type BucketError struct {
	Bucket, Problem string
}

func (e *BucketError) Error() string { return fmt.Sprintf("bucket %s %s", e.Bucket, e.Problem) }

// RegionMismatchError is an explicit region that is not the bucket's: the access point, and
// so the stack, must live in the bucket's region.
type RegionMismatchError struct {
	Bucket, BucketRegion, Region string
}

func (e *RegionMismatchError) Error() string {
	return fmt.Sprintf("--region is %s but bucket %s is in %s: the stack must be created in the bucket's region (use --region %s or leave it out)",
		e.Region, e.Bucket, e.BucketRegion, e.BucketRegion)
}

// BucketRegion returns the region of a bucket the caller can see, from HeadBucket's
// x-amz-bucket-region header (S3 sends it even when asked in another region), falling back
// to GetBucketLocation for endpoints that do not send it.
func BucketRegion(ctx context.Context, client *s3.Client, bucket string) (string, error) {
	in := &s3.HeadBucketInput{Bucket: aws.String(bucket)}
	out, err := client.HeadBucket(ctx, in)
	status, region := responseInfo(err)
	if err != nil && region != "" && (status == http.StatusMovedPermanently || status == http.StatusBadRequest ||
		status == http.StatusTemporaryRedirect) {
		// The bucket lives elsewhere: ask there, to learn whether the caller can see it.
		out, err = client.HeadBucket(ctx, in, func(o *s3.Options) { o.Region = region })
		status, _ = responseInfo(err)
	}
	switch {
	case err == nil && aws.ToString(out.BucketRegion) != "":
		return aws.ToString(out.BucketRegion), nil
	case err == nil:
		return location(ctx, client, bucket)
	case status == http.StatusNotFound:
		return "", &BucketError{Bucket: bucket, Problem: "does not exist (check the name; bucket names are global)"}
	case status == http.StatusForbidden:
		if e := explain(err); e != err {
			return "", e
		}
		return "", &BucketError{Bucket: bucket, Problem: "is not visible to these credentials (403 Forbidden): they need s3:ListBucket on it, or the bucket belongs to another account"}
	}
	return "", fmt.Errorf("looking up bucket %s: %w", bucket, explain(err))
}

func location(ctx context.Context, client *s3.Client, bucket string) (string, error) {
	region, err := s3region.Location(ctx, client, bucket)
	if err != nil {
		return "", fmt.Errorf("looking up the region of bucket %s: %w", bucket, explain(err))
	}
	return region, nil
}

// responseInfo returns the HTTP status and x-amz-bucket-region header of a failed call.
func responseInfo(err error) (int, string) {
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil {
		return 0, ""
	}
	return re.HTTPStatusCode(), re.Response.Header.Get("x-amz-bucket-region")
}

// CheckRegion returns the region to deploy in: the bucket's. An explicit region (from
// --region) that disagrees is refused with a *RegionMismatchError.
func CheckRegion(bucket, bucketRegion, explicit string) (string, error) {
	if explicit != "" && explicit != bucketRegion {
		return "", &RegionMismatchError{Bucket: bucket, BucketRegion: bucketRegion, Region: explicit}
	}
	return bucketRegion, nil
}
