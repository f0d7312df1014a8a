package s3client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/isahit/s3grant/internal/awsfake/s3fake"
	"github.com/isahit/s3grant/internal/s3client"
)

func client(url string) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
}

// withoutRegionHeader serves h but drops x-amz-bucket-region, as some S3-compatible
// endpoints do, so the lookup must fall back to GetBucketLocation.
func withoutRegionHeader(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			if !strings.EqualFold(k, "x-amz-bucket-region") {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

func TestBucketRegion(t *testing.T) {
	cases := []struct {
		name, bucket, fail string
		noHeader           bool
		want               string
		wantErr            string
	}{
		{name: "from HeadBucket's header", bucket: "photos", want: "eu-west-3"},
		{name: "from GetBucketLocation", bucket: "photos", noHeader: true, want: "eu-west-3"},
		{name: "us-east-1 has an empty location", bucket: "virginia", noHeader: true, want: "us-east-1"},
		{name: "missing bucket", bucket: "nope", wantErr: "bucket nope does not exist"},
		{name: "bucket not visible", bucket: "photos", fail: "HeadBucket", wantErr: "bucket photos is not visible to these credentials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := s3fake.New()
			fake.PutBucket(s3fake.Bucket{Name: "photos", Region: "eu-west-3"})
			fake.PutBucket(s3fake.Bucket{Name: "virginia", Region: "us-east-1"})
			if c.fail != "" {
				fake.Fail(c.fail, "AccessDenied")
			}
			var h http.Handler = fake
			if c.noHeader {
				h = withoutRegionHeader(fake)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			got, err := s3client.BucketRegion(context.Background(), client(srv.URL), c.bucket)
			if c.wantErr != "" {
				var be *s3client.BucketError
				if !errors.As(err, &be) || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}
