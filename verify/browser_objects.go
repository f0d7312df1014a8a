package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/isahit/s3grant/verify/browserpath"
)

// signedObjects presigns, with the session of s3c, a GET of each key through the bucket and
// through the access point (its alias when known, as an annotation app is usually given it;
// else, on AWS, its ARN's own host), as the vendor's servers hand them to the browser. The
// URLs expire after expires, and with the session anyway. When the access point cannot be
// addressed, the URLs through the bucket are returned with the error.
func (c *Checker) signedObjects(ctx context.Context, in Input, s3c *s3.Client, keys []string, expires time.Duration) ([]browserpath.SignedObject, error) {
	apBucket, apOpts, apErr := c.accessPointBucket(ctx, in, s3c)
	via := "access point alias"
	if apBucket == in.accessPointARN() {
		if in.AccessPointAlias != "" {
			apBucket, apOpts = in.AccessPointAlias, nil
		} else {
			via = "access point ARN"
		}
	}
	pc := s3.NewPresignClient(s3c)
	var out []browserpath.SignedObject
	for _, key := range keys {
		for _, t := range []struct {
			via, bucket string
			opts        []func(*s3.Options)
		}{{"bucket", in.BucketName, nil}, {via, apBucket, apOpts}} {
			if t.bucket == "" {
				continue // the access point, which apErr says cannot be addressed
			}
			req, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &t.bucket, Key: &key}, s3.WithPresignExpires(expires),
				func(o *s3.PresignOptions) { o.ClientOptions = append(o.ClientOptions, t.opts...) })
			if err != nil {
				return nil, fmt.Errorf("presigning a GET of %s through the %s: %w", key, t.via, err)
			}
			out = append(out, browserpath.SignedObject{Key: key, Via: t.via, URL: req.URL})
		}
	}
	return out, apErr
}
