package verify_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/internal/awsfake/s3fake"
	"github.com/isahit/s3grant/verify"
	"github.com/isahit/s3grant/verify/browserpath"
)

// The URLs presigned for the browser reach the object through the bucket and through the
// access point's alias on a local endpoint, and the browser's path passes on them; with a
// proxy stripping Access-Control-Allow-Origin it fails by that kind alone.
func TestSignedObjectsProveTheBrowserPath(t *testing.T) {
	for _, alias := range []string{aw.StackOutputs["AccessPointAlias"], ""} {
		w := aw.Start(t)
		b := aw.GoodBucket()
		b.Meta = map[string]s3fake.ObjectMeta{"images/cat.jpg": {ContentType: "image/jpeg"}}
		w.S3.PutBucket(b)
		cfg := localEndpoint(w)
		// The vendor's servers presign with the role's session.
		session, err := sts.NewFromConfig(cfg).AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(aw.RoleARN),
			RoleSessionName: aws.String("test"), ExternalId: aws.String(aw.ExternalID)})
		if err != nil {
			t.Fatal(err)
		}
		c := session.Credentials
		cfg.Credentials = credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
		in := input()
		in.AccessPointAlias = alias
		objects, err := verify.New(cfg).SignedObjects(context.Background(), in, []string{"images/cat.jpg"}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var via []string
		for _, o := range objects {
			via = append(via, o.Via)
			if o.Via != "bucket" && !strings.Contains(o.URL, "/"+aw.StackOutputs["AccessPointAlias"]+"/images/cat.jpg?") {
				t.Errorf("alias %q: the access point URL %s does not address the alias path-style", alias, o.URL)
			}
		}
		if !slices.Equal(via, []string{"bucket", "access point alias"}) {
			t.Fatalf("via %v", via)
		}
		rep, err := browserpath.Prove(context.Background(), objects, aw.Origins, browserpath.WithHTTPClient(cfg.HTTPClient))
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Passed() {
			t.Errorf("alias %q: a correct setup fails: %v", alias, rep.Failures())
		}
		w.S3.Inject(s3fake.StripAllowOrigin)
		rep, _ = browserpath.Prove(context.Background(), objects, aw.Origins, browserpath.WithHTTPClient(cfg.HTTPClient))
		if got := rep.Kinds(); !slices.Equal(got, []browserpath.Kind{browserpath.MissingAllowOrigin}) {
			t.Errorf("alias %q: with ACAO stripped, kinds %v", alias, got)
		}
	}
}
