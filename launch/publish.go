package launch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/isahit/s3grant/internal/arn"
	"github.com/isahit/s3grant/internal/partition"
	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/internal/s3client"
)

// Field names used in the errors of Publisher.Publish, besides FieldRegion.
const (
	FieldTemplateBucket = "TemplateBucket"
	FieldTemplatePrefix = "TemplatePrefix"
)

// LatestName is the object, under the prefix, that always holds the last published template.
const LatestName = "latest.json"

var (
	// ErrKeyConflict means the content-addressed key already holds other bytes: a hash
	// collision or tampering. Publish refuses to overwrite it.
	ErrKeyConflict = errors.New("published template key holds different content")
	// ErrReadBack means S3 returned other bytes than those just uploaded.
	ErrReadBack = errors.New("template read back from S3 differs from the one uploaded")
)

// Publisher puts templates in the vendor's template bucket, where quick-create links read them.
type Publisher struct {
	s3   *s3.Client
	http aws.HTTPClient
	// endpoint is the custom S3 endpoint (AWS_ENDPOINT_URL...), or "" for AWS itself.
	endpoint string
	// defaultRegion is the configured region, used when neither the caller nor S3 gives one.
	defaultRegion string
}

// NewPublisher returns a Publisher for cfg, typically from config.LoadDefaultConfig, which
// honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_S3. Against such a custom endpoint (LocalStack,
// moto, a test server) it uses path-style addressing, since those do not serve bucket
// subdomains, and its anonymous-read check asks that same endpoint.
func NewPublisher(cfg aws.Config) *Publisher {
	client := s3client.New(cfg)
	p := &Publisher{s3: client, http: cfg.HTTPClient, defaultRegion: cfg.Region}
	if p.http == nil {
		p.http = http.DefaultClient
	}
	if ep := client.Options().BaseEndpoint; ep != nil {
		p.endpoint = strings.TrimSuffix(*ep, "/")
	}
	return p
}

// PublishInput says which template to publish where.
type PublishInput struct {
	// Bucket is the vendor's template bucket.
	Bucket string
	// Prefix is the key prefix for templates, without a trailing slash; only it needs to be public.
	Prefix string
	// Region is the bucket's region; empty finds it with HeadBucket.
	Region string
	// Version is the template version (stacks.TemplateVersion), a path segment of the key.
	Version string
	// Template is the JSON template.
	Template []byte
}

// Published is what Publish did and found.
type Published struct {
	Bucket string `json:"bucket"`
	Region string `json:"region"`
	// Prefix is the key prefix, without a trailing slash.
	Prefix string `json:"prefix"`
	// Key is the immutable, content-addressed key: Prefix/Version/<16 hex of sha256>.json.
	Key string `json:"key"`
	// LatestKey is Prefix/latest.json, a copy of the last published template.
	LatestKey string `json:"latestKey"`
	SHA256    string `json:"sha256"`
	// TemplateURL is the public HTTPS URL of Key, the one quick-create links use.
	TemplateURL string `json:"templateUrl"`
	LatestURL   string `json:"latestUrl"`
	// Uploaded is false when Key already held these exact bytes and was left alone.
	Uploaded bool `json:"uploaded"`
	// Public tells whether an anonymous GET of CheckedURL returned the template. CheckedURL is
	// TemplateURL, or the same object on the custom endpoint when one is configured.
	Public      bool   `json:"public"`
	CheckedURL  string `json:"checkedUrl"`
	PublicCheck string `json:"publicCheck"`
	// PolicyStatement, when the template is not public, is the bucket policy statement that
	// makes only Prefix/* readable by anyone (Block Public Access must allow public policies).
	PolicyStatement json.RawMessage `json:"policyStatement,omitempty"`
}

var versionPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`) })

// Publish uploads the template under its content-addressed key (never rewriting it: the same
// bytes leave it as it is, other bytes are refused with ErrKeyConflict), reads it back to prove
// S3 holds exactly those bytes, copies it to Prefix/latest.json, and checks that an anonymous
// client, as the CloudFormation console fetching it for a customer, can read it.
func (p *Publisher) Publish(ctx context.Context, in PublishInput) (*Published, error) {
	if err := rules.BucketName.Validate(FieldTemplateBucket, in.Bucket); err != nil {
		return nil, err
	}
	prefix := strings.TrimSuffix(in.Prefix, "/")
	if prefix == "" {
		return nil, rules.Invalid(FieldTemplatePrefix, in.Prefix, "is required: templates live under their own prefix, the only part of the bucket made public")
	}
	if err := rules.TemplatePrefix.Validate(FieldTemplatePrefix, prefix); err != nil {
		return nil, err
	}
	if in.Region != "" {
		if err := rules.Region.Validate(FieldRegion, in.Region); err != nil {
			return nil, err
		}
	}
	if !versionPattern().MatchString(in.Version) {
		return nil, fmt.Errorf("template version %q is not a key segment of letters, digits and ._-", in.Version)
	}
	if _, err := ParseTemplate(in.Template); err != nil {
		return nil, err
	}

	region, err := p.bucketRegion(ctx, in.Bucket, in.Region)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(in.Template)
	res := &Published{
		Bucket:    in.Bucket,
		Region:    region,
		Prefix:    prefix,
		Key:       prefix + "/" + TemplateKeyName(in.Version, in.Template),
		LatestKey: prefix + "/" + LatestName,
		SHA256:    hex.EncodeToString(sum[:]),
	}
	o := object{p: p, region: region, bucket: in.Bucket, version: in.Version, sha: res.SHA256}
	if res.Uploaded, err = o.putImmutable(ctx, res.Key, in.Template); err != nil {
		return nil, err
	}
	if err := o.put(ctx, res.LatestKey, in.Template, false); err != nil {
		return nil, err
	}
	if err := o.readBack(ctx, res.LatestKey, in.Template); err != nil {
		return nil, err
	}

	part := partition.Of(region).ID
	res.TemplateURL = S3Location{Bucket: in.Bucket, Key: res.Key, Region: region, Partition: part}.URL()
	res.LatestURL = S3Location{Bucket: in.Bucket, Key: res.LatestKey, Region: region, Partition: part}.URL()
	res.CheckedURL = res.TemplateURL
	if p.endpoint != "" {
		res.CheckedURL = p.endpoint + "/" + in.Bucket + "/" + escapeKey(res.Key)
	}
	res.Public, res.PublicCheck = p.anonymousRead(ctx, res.CheckedURL, in.Template)
	if !res.Public {
		res.PolicyStatement = PublicReadStatement(region, in.Bucket, prefix)
	}
	return res, nil
}

// bucketRegion finds the bucket's region from HeadBucket's x-amz-bucket-region, which S3 sends
// even when it redirects a request made to another region, and checks it against given.
func (p *Publisher) bucketRegion(ctx context.Context, bucket, given string) (string, error) {
	probe := given
	if probe == "" {
		probe = p.defaultRegion
	}
	if probe == "" {
		probe = "us-east-1"
	}
	found, err := s3client.HeadRegion(ctx, p.s3, bucket, s3client.InRegion(probe))
	if err != nil {
		return "", fmt.Errorf("template bucket %s: %w", bucket, err)
	}
	switch {
	case found != "" && given != "" && found != given:
		return "", rules.Invalid(FieldRegion, given, fmt.Sprintf("bucket %s is in %s, not %s", bucket, found, given))
	case found != "":
		return found, nil
	case given != "":
		return given, nil
	case p.defaultRegion != "":
		return p.defaultRegion, nil
	}
	return "", rules.Invalid(FieldRegion, given, fmt.Sprintf("is required: S3 did not tell the region of bucket %s", bucket))
}

// object reads and writes template objects in one bucket.
type object struct {
	p              *Publisher
	region, bucket string
	version, sha   string
}

// putImmutable writes body at key unless key exists. Existing identical bytes are left alone
// (uploaded false); existing other bytes are ErrKeyConflict. The write is conditional
// (If-None-Match: *), so a concurrent publisher cannot be overwritten either.
func (o object) putImmutable(ctx context.Context, key string, body []byte) (uploaded bool, err error) {
	existing, err := o.get(ctx, key)
	if err != nil {
		return false, err
	}
	if existing == nil {
		err := o.put(ctx, key, body, true)
		if err == nil {
			return true, o.readBack(ctx, key, body)
		}
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != "PreconditionFailed" {
			return false, err
		}
		if existing, err = o.get(ctx, key); err != nil {
			return false, err
		}
	}
	if !bytes.Equal(existing, body) {
		return false, fmt.Errorf("s3://%s/%s: %w (sha256 %s expected); refusing to overwrite it", o.bucket, key, ErrKeyConflict, o.sha)
	}
	return false, nil
}

func (o object) put(ctx context.Context, key string, body []byte, ifAbsent bool) error {
	in := &s3.PutObjectInput{
		Bucket:      &o.bucket,
		Key:         &key,
		Body:        bytes.NewReader(body),
		ContentType: aws.String("application/json"),
		Metadata:    map[string]string{"s3grant-sha256": o.sha, "s3grant-template-version": o.version},
	}
	if ifAbsent {
		in.IfNoneMatch = aws.String("*")
	}
	if _, err := o.p.s3.PutObject(ctx, in, s3client.InRegion(o.region)); err != nil {
		return fmt.Errorf("uploading s3://%s/%s: %w", o.bucket, key, err)
	}
	return nil
}

// get returns the object's bytes, or nil if there is no such key.
func (o object) get(ctx context.Context, key string) ([]byte, error) {
	out, err := o.p.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &o.bucket, Key: &key}, s3client.InRegion(o.region))
	var missing *types.NoSuchKey
	if errors.As(err, &missing) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading s3://%s/%s: %w", o.bucket, key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, MaxTemplateSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading s3://%s/%s: %w", o.bucket, key, err)
	}
	return body, nil
}

func (o object) readBack(ctx context.Context, key string, want []byte) error {
	got, err := o.get(ctx, key)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("s3://%s/%s: %w (%d bytes read, %d uploaded)", o.bucket, key, ErrReadBack, len(got), len(want))
	}
	return nil
}

// anonymousRead fetches url with no credentials, as the console does for a customer, and tells
// whether it returned want, with the reason when it did not.
func (p *Publisher) anonymousRead(ctx context.Context, url string, want []byte) (bool, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err.Error()
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return false, "anonymous GET failed: " + err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxTemplateSize+1))
	switch {
	case resp.StatusCode != http.StatusOK:
		return false, "anonymous GET returned HTTP " + resp.Status
	case err != nil:
		return false, "anonymous GET failed: " + err.Error()
	case !bytes.Equal(body, want):
		return false, "anonymous GET returned other content than the template"
	}
	return true, "anonymous GET returned the template"
}

// PublicReadStatement returns the bucket policy statement that lets anyone read the objects
// under bucket/prefix/ and nothing else in the bucket, for a bucket of region.
func PublicReadStatement(region, bucket, prefix string) json.RawMessage {
	stmt := struct {
		Sid       string
		Effect    string
		Principal string
		Action    string
		Resource  string
	}{"S3grantPublicTemplates", "Allow", "*", "s3:GetObject",
		arn.Object(region, bucket, strings.TrimSuffix(prefix, "/")+"/*")}
	b, _ := json.MarshalIndent(stmt, "", "  ") // a struct of strings always marshals
	return b
}
