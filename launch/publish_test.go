package launch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/internal/awsfake/s3public"
	"github.com/isahit/s3grant/internal/rules"
)

// publisherFor returns a Publisher configured the way the CLI does it, from the environment,
// with AWS_ENDPOINT_URL aiming at the fake.
func publisherFor(t *testing.T, f *s3public.Fake) (*Publisher, aws.Config) {
	t.Helper()
	awsworld.Isolate(t, f.URL, "AKIDTEST", "secret", "eu-west-3")
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return NewPublisher(cfg), cfg
}

func templates(t *testing.T) (a, b []byte) {
	t.Helper()
	a, err := os.ReadFile("testdata/params.json")
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(a), `"2010-09-09"`, `"2010-09-09", "Description": "changed"`, 1))
	return a, b
}

func keyOf(body []byte) string {
	sum := sha256.Sum256(body)
	return "s3grant/v1/" + hex.EncodeToString(sum[:])[:16] + ".json"
}

const bucket = "isahit-templates"

func TestPublish(t *testing.T) {
	ctx := context.Background()
	f := s3public.New(t)
	f.CreateBucket(t, bucket)
	p, cfg := publisherFor(t, f)
	a, b := templates(t)
	in := PublishInput{Bucket: bucket, Prefix: "s3grant/", Region: "eu-west-3", Version: "v1", Template: a}

	first, err := p.Publish(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if first.Key != keyOf(a) || !first.Uploaded || first.Region != "eu-west-3" || first.LatestKey != "s3grant/latest.json" {
		t.Errorf("first publish = %+v", first)
	}
	if want := "https://isahit-templates.s3.eu-west-3.amazonaws.com/" + keyOf(a); first.TemplateURL != want {
		t.Errorf("TemplateURL = %s, want %s", first.TemplateURL, want)
	}
	if want := "https://isahit-templates.s3.eu-west-3.amazonaws.com/s3grant/latest.json"; first.LatestURL != want {
		t.Errorf("LatestURL = %s, want %s", first.LatestURL, want)
	}
	if string(f.Object(t, bucket, keyOf(a))) != string(a) || string(f.Object(t, bucket, "s3grant/latest.json")) != string(a) {
		t.Error("S3 does not hold the template at its key and at latest.json")
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	for _, key := range []string{keyOf(a), "s3grant/latest.json"} {
		head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		if ct := aws.ToString(head.ContentType); ct != "application/json" {
			t.Errorf("%s Content-Type = %q", key, ct)
		}
	}

	// Same bytes: same key and URL, and the immutable object is not written again.
	puts := f.Count("PUT", "/"+bucket+"/"+keyOf(a))
	again, err := p.Publish(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if again.Key != first.Key || again.TemplateURL != first.TemplateURL || again.Uploaded {
		t.Errorf("republish = %+v, want key %s not uploaded", again, first.Key)
	}
	if n := f.Count("PUT", "/"+bucket+"/"+keyOf(a)); n != puts {
		t.Errorf("republishing wrote the immutable key again (%d PUTs, was %d)", n, puts)
	}

	// A changed template: a new key, latest.json follows, the old key is untouched.
	in.Template = b
	second, err := p.Publish(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if second.Key != keyOf(b) || second.Key == first.Key || !second.Uploaded {
		t.Errorf("changed template published as %+v, want new key %s", second, keyOf(b))
	}
	if string(f.Object(t, bucket, "s3grant/latest.json")) != string(b) {
		t.Error("latest.json does not hold the changed template")
	}
	if string(f.Object(t, bucket, keyOf(a))) != string(a) {
		t.Error("the first template's key changed")
	}
}

func TestPublishPublicReadCheck(t *testing.T) {
	ctx := context.Background()
	f := s3public.New(t)
	f.CreateBucket(t, bucket)
	p, _ := publisherFor(t, f)
	a, _ := templates(t)
	in := PublishInput{Bucket: bucket, Prefix: "s3grant", Version: "v1", Template: a}

	private, err := p.Publish(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if private.Public || !strings.Contains(private.PublicCheck, "403") {
		t.Errorf("private bucket: Public=%v check %q, want false after a 403", private.Public, private.PublicCheck)
	}
	if want := f.URL + "/" + bucket + "/" + keyOf(a); private.CheckedURL != want {
		t.Errorf("CheckedURL = %s, want the object on the custom endpoint %s", private.CheckedURL, want)
	}
	var stmt map[string]any
	if err := json.Unmarshal(private.PolicyStatement, &stmt); err != nil {
		t.Fatalf("policy statement %s: %v", private.PolicyStatement, err)
	}
	want := map[string]any{"Sid": "S3grantPublicTemplates", "Effect": "Allow", "Principal": "*",
		"Action": "s3:GetObject", "Resource": "arn:aws:s3:::isahit-templates/s3grant/*"}
	if len(stmt) != len(want) {
		t.Errorf("statement %v, want %v", stmt, want)
	}
	for k, v := range want {
		if stmt[k] != v {
			t.Errorf("statement %s = %v, want %v", k, stmt[k], v)
		}
	}

	f.MakePublic(bucket, "s3grant")
	public, err := p.Publish(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !public.Public || public.PolicyStatement != nil {
		t.Errorf("public prefix: Public=%v (%s), statement %s", public.Public, public.PublicCheck, public.PolicyStatement)
	}
}

func TestPublishReadBackCatchesCorruption(t *testing.T) {
	for _, mangled := range []string{"/v1/", "latest.json"} {
		f := s3public.New(t)
		f.CreateBucket(t, bucket)
		f.Mangle(mangled)
		p, _ := publisherFor(t, f)
		a, _ := templates(t)
		_, err := p.Publish(context.Background(), PublishInput{Bucket: bucket, Prefix: "s3grant", Version: "v1", Template: a})
		if !errors.Is(err, ErrReadBack) {
			t.Errorf("storage mangling %s: err = %v, want ErrReadBack", mangled, err)
		}
	}
}

func TestPublishRefusesToOverwriteOtherContent(t *testing.T) {
	f := s3public.New(t)
	f.CreateBucket(t, bucket)
	p, _ := publisherFor(t, f)
	a, _ := templates(t)
	tampered := `{"Resources": {"Evil": {"Type": "AWS::IAM::User"}}}`
	f.PutObject(t, bucket, keyOf(a), []byte(tampered))
	_, err := p.Publish(context.Background(), PublishInput{Bucket: bucket, Prefix: "s3grant", Version: "v1", Template: a})
	if !errors.Is(err, ErrKeyConflict) {
		t.Fatalf("err = %v, want ErrKeyConflict", err)
	}
	if got := string(f.Object(t, bucket, keyOf(a))); got != tampered {
		t.Errorf("the existing object was overwritten with %q", got)
	}
}

func TestPublishConcurrentWriter(t *testing.T) {
	a, _ := templates(t)
	other := []byte(`{"Resources": {"Evil": {"Type": "AWS::IAM::User"}}}`)
	for _, tc := range []struct {
		name  string
		racer []byte
		err   error
	}{
		{"same bytes", a, nil},
		{"other bytes", other, ErrKeyConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := s3public.New(t)
			f.CreateBucket(t, bucket)
			f.Race(bucket, keyOf(a), tc.racer)
			p, _ := publisherFor(t, f)
			res, err := p.Publish(context.Background(), PublishInput{Bucket: bucket, Prefix: "s3grant", Version: "v1", Template: a})
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && res.Uploaded {
				t.Error("Uploaded is true though the other writer's object was kept")
			}
			if got := f.Object(t, bucket, keyOf(a)); string(got) != string(tc.racer) {
				t.Errorf("the concurrent writer's object was overwritten with %.40q", got)
			}
		})
	}
}

func TestPublishServiceEndpointVariable(t *testing.T) {
	f := s3public.New(t)
	f.CreateBucket(t, bucket)
	publisherFor(t, f)
	os.Unsetenv("AWS_ENDPOINT_URL") // restored by t.Setenv's cleanup
	t.Setenv("AWS_ENDPOINT_URL_S3", f.URL)
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := templates(t)
	res, err := NewPublisher(cfg).Publish(context.Background(), PublishInput{Bucket: bucket, Prefix: "s3grant", Version: "v1", Template: a})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.CheckedURL, f.URL+"/") || string(f.Object(t, bucket, res.Key)) != string(a) {
		t.Errorf("AWS_ENDPOINT_URL_S3 not honoured: %+v", res)
	}
}

func TestPublishFindsBucketRegion(t *testing.T) {
	f := s3public.New(t)
	f.CreateBucket(t, bucket)
	f.SetRegion("eu-west-1") // the client is configured for eu-west-3
	p, _ := publisherFor(t, f)
	a, _ := templates(t)

	res, err := p.Publish(context.Background(), PublishInput{Bucket: bucket, Prefix: "s3grant", Version: "v1", Template: a})
	if err != nil {
		t.Fatal(err)
	}
	if res.Region != "eu-west-1" || !strings.HasPrefix(res.TemplateURL, "https://isahit-templates.s3.eu-west-1.amazonaws.com/") {
		t.Errorf("region %s, URL %s: want the bucket's region eu-west-1", res.Region, res.TemplateURL)
	}

	_, err = p.Publish(context.Background(), PublishInput{Bucket: bucket, Prefix: "s3grant", Region: "eu-west-3", Version: "v1", Template: a})
	var invalid *rules.InvalidError
	if !errors.As(err, &invalid) || invalid.Field != FieldRegion || !strings.Contains(invalid.Reason, "eu-west-1") {
		t.Errorf("--region eu-west-3 for a bucket in eu-west-1: err = %v, want a --region error naming eu-west-1", err)
	}
}

func TestPublishRejectsBadInput(t *testing.T) {
	f := s3public.New(t)
	f.CreateBucket(t, bucket)
	p, _ := publisherFor(t, f)
	a, _ := templates(t)
	cases := []struct {
		name  string
		edit  func(*PublishInput)
		field string
	}{
		{"bad bucket", func(in *PublishInput) { in.Bucket = "Bad_Bucket" }, FieldTemplateBucket},
		{"no prefix", func(in *PublishInput) { in.Prefix = "/" }, FieldTemplatePrefix},
		{"wildcard prefix", func(in *PublishInput) { in.Prefix = "s3grant*" }, FieldTemplatePrefix},
		{"bad region", func(in *PublishInput) { in.Region = "paris" }, FieldRegion},
		{"bad version", func(in *PublishInput) { in.Version = "../v1" }, ""},
		{"not a template", func(in *PublishInput) { in.Template = []byte(`{"hello": "world"}`) }, ""},
		{"too large", func(in *PublishInput) { in.Template = make([]byte, MaxTemplateSize+1) }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := PublishInput{Bucket: bucket, Prefix: "s3grant", Version: "v1", Template: a}
			tc.edit(&in)
			before := f.Requests()
			res, err := p.Publish(context.Background(), in)
			if err == nil {
				t.Fatalf("Publish = %+v, want an error", res)
			}
			var invalid *rules.InvalidError
			if tc.field != "" && (!errors.As(err, &invalid) || invalid.Field != tc.field) {
				t.Errorf("err = %v, want an *rules.InvalidError for %s", err, tc.field)
			}
			if n := f.Requests(); n != before {
				t.Errorf("bad input still made %d S3 requests", n-before)
			}
		})
	}
}

func TestPublishMissingBucket(t *testing.T) {
	f := s3public.New(t)
	p, _ := publisherFor(t, f)
	a, _ := templates(t)
	_, err := p.Publish(context.Background(), PublishInput{Bucket: "no-such-bucket", Prefix: "s3grant", Version: "v1", Template: a})
	if err == nil || !strings.Contains(err.Error(), "template bucket no-such-bucket") {
		t.Errorf("err = %v, want a template bucket error", err)
	}
}

func TestPublicReadStatementPartition(t *testing.T) {
	var stmt struct{ Resource string }
	if err := json.Unmarshal(PublicReadStatement("cn-north-1", "b-b", "p/q/"), &stmt); err != nil {
		t.Fatal(err)
	}
	if stmt.Resource != "arn:aws-cn:s3:::b-b/p/q/*" {
		t.Errorf("Resource = %s", stmt.Resource)
	}
}
