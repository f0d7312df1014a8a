// Package sitepublish publishes a built static site (such as the s3grant guide) to an S3
// bucket under a key prefix: every file with its Content-Type and Cache-Control, only the
// files whose content or headers changed, stale files it published earlier removed, and the
// bucket's website index and error documents checked. It works in two steps, so that a
// caller can show what will happen before anything does: Plan reads the bucket and changes
// nothing; Apply carries a plan out. It never prints: it returns the plan and the result and
// tells an Observer about each change as it is made.
//
// What it never does: touch a key outside the prefix; delete or overwrite an object it did
// not publish itself (it marks its objects with the metadata s3grant-sha256, and refuses a
// site whose keys are taken by other objects); change a bucket's website configuration
// unless asked to (WithWebsite), and then only its index and error documents, keeping the
// routing rules.
package sitepublish

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/isahit/s3grant/internal/partition"
	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/internal/s3client"
	"github.com/isahit/s3grant/launch"
)

// Field names used in the errors of Plan, for the CLI's flags.
const (
	FieldBucket = "--site-bucket"
	FieldPrefix = "--site-prefix"
	FieldRegion = "--site-region"
)

// Names of the site's entry and error pages, relative to the prefix.
const (
	IndexDocument = "index.html"
	ErrorDocument = "404.html"
)

// Cache-Control values. A content-hashed file never changes under its name, so caches may
// keep it for a year without asking again; everything else (pages, sitemap, the template
// file, the icon) may change at the next publish and is kept five minutes.
const (
	CacheImmutable = "public, max-age=31536000, immutable"
	CacheShort     = "public, max-age=300"
)

// MarkerKey is the user metadata (x-amz-meta-s3grant-sha256) on every object Publish
// writes: the SHA-256 of its content. It tells the objects Publish may replace or delete
// from any other object under the prefix, and lets it skip unchanged files even where the
// ETag is not an MD5 (SSE-KMS, multipart uploads).
const MarkerKey = "s3grant-sha256"

// ErrForeignObjects means keys the site needs are held by objects Publish did not write;
// it refuses to overwrite them.
var ErrForeignObjects = errors.New("keys of the site are taken by objects not published by s3grant")

// Publisher publishes sites with one S3 client. Build it with New.
type Publisher struct {
	s3       *s3.Client
	observer Observer
	website  bool
}

// An Option configures a Publisher.
type Option func(*Publisher)

// WithObserver sets who is told about each change Apply makes.
func WithObserver(o Observer) Option { return func(p *Publisher) { p.observer = o } }

// WithWebsite lets Apply create or correct the bucket's website configuration so that its
// index document is index.html and its error document PREFIX404.html. The error document
// is one per bucket, so this is an explicit choice of the caller; routing rules are kept.
// Without it the plan only reports what it would change.
func WithWebsite(on bool) Option { return func(p *Publisher) { p.website = on } }

// New returns a Publisher that calls S3 through client. Against a custom endpoint
// (BaseEndpoint set) the client should use path-style addressing.
func New(client *s3.Client, opts ...Option) *Publisher {
	p := &Publisher{s3: client, observer: nopObserver{}}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Observer is told about each change Apply makes, in order, from the calling goroutine.
type Observer interface {
	Changed(Change)
}

type nopObserver struct{}

func (nopObserver) Changed(Change) {}

// Change is one change Apply made.
type Change struct {
	// Action is "upload", "delete" or "website".
	Action string
	// Key is the object key, or the bucket name for "website".
	Key string
}

// Target says where a site goes.
type Target struct {
	Bucket string
	// Prefix is the key prefix, such as "guide" or "guide/"; "" is the bucket's root.
	Prefix string
	// Region is the bucket's region; "" asks S3 (GetBucketLocation).
	Region string
}

// Plan is what publishing a site would do, read from the bucket without changing it.
type Plan struct {
	Bucket string `json:"bucket"`
	Region string `json:"region"`
	// Prefix is the normalised prefix: "" or ending in "/".
	Prefix string `json:"prefix"`
	// Upload lists the files to write, with why; Unchanged the keys left as they are.
	Upload    []File   `json:"upload"`
	Unchanged []string `json:"unchanged"`
	// Delete lists the stale keys under the prefix that an earlier publish wrote and the
	// site no longer has.
	Delete []string `json:"delete"`
	// Foreign lists the other objects under the prefix, not published by s3grant: kept.
	Foreign []string `json:"foreign"`
	// Website is the bucket's website configuration and what publishing changes in it.
	Website Website `json:"website"`
	// URL is where the site is read once published: the bucket's website endpoint when the
	// bucket serves (or will serve) the site as a website, else the index page's S3 URL.
	URL string `json:"url"`

	files map[string]File
	fsys  fs.FS
}

// Changes reports whether applying the plan changes anything.
func (p *Plan) Changes() bool {
	return len(p.Upload) > 0 || len(p.Delete) > 0 || p.Website.Apply
}

// File is one file of the site and the object it becomes.
type File struct {
	Key          string `json:"key"`
	Path         string `json:"path"` // in the site's file system
	ContentType  string `json:"contentType"`
	CacheControl string `json:"cacheControl"`
	Size         int    `json:"size"`
	// Reason is why it is uploaded: "new", "changed" (content) or "headers" (same content,
	// other Content-Type or Cache-Control).
	Reason string `json:"reason,omitempty"`
	sha256 string
	md5    string
}

// Plan reads the site and the bucket and returns what publishing would do. It changes
// nothing. Bad input is a *rules.InvalidError naming the field.
func (p *Publisher) Plan(ctx context.Context, site fs.FS, t Target) (*Plan, error) {
	if err := rules.BucketName.Validate(FieldBucket, t.Bucket); err != nil {
		return nil, err
	}
	prefix, err := normalisePrefix(t.Prefix)
	if err != nil {
		return nil, err
	}
	if t.Region != "" {
		if err := rules.Region.Validate(FieldRegion, t.Region); err != nil {
			return nil, err
		}
	}
	files, err := readSite(site, prefix)
	if err != nil {
		return nil, err
	}
	region := t.Region
	if region == "" {
		if region, err = s3client.Location(ctx, p.s3, t.Bucket); err != nil {
			return nil, fmt.Errorf("bucket %s: finding its region: %w", t.Bucket, err)
		}
	}
	plan := &Plan{Bucket: t.Bucket, Region: region, Prefix: prefix, files: files, fsys: site,
		Upload: []File{}, Unchanged: []string{}, Delete: []string{}, Foreign: []string{}}
	if err := p.planObjects(ctx, plan); err != nil {
		return nil, err
	}
	if err := p.planWebsite(ctx, plan); err != nil {
		return nil, err
	}
	plan.URL = p.siteURL(plan)
	return plan, nil
}

// normalisePrefix checks a prefix and returns it without a leading slash and with one
// trailing slash, so that "guide" never matches "guide-old/".
func normalisePrefix(raw string) (string, error) {
	p := strings.Trim(raw, "/")
	if p == "" {
		return "", nil
	}
	if err := rules.ObjectPrefix.Validate(FieldPrefix, p); err != nil {
		return "", err
	}
	if strings.Contains("/"+p+"/", "//") || slices.Contains(strings.Split(p, "/"), "..") || slices.Contains(strings.Split(p, "/"), ".") {
		return "", rules.Invalid(FieldPrefix, raw, "must not hold empty, . or .. segments")
	}
	return p + "/", nil
}

// readSite returns the files of site keyed by object key.
func readSite(site fs.FS, prefix string) (map[string]File, error) {
	files := map[string]File{}
	err := fs.WalkDir(site, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(site, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		m := md5.Sum(data)
		f := File{Key: prefix + name, Path: name, ContentType: ContentType(name), Size: len(data),
			sha256: hex.EncodeToString(sum[:]), md5: base64.StdEncoding.EncodeToString(m[:])}
		f.CacheControl = CacheShort
		if ContentHashed(name, data) {
			f.CacheControl = CacheImmutable
		}
		files[f.Key] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the site: %w", err)
	}
	if _, ok := files[prefix+IndexDocument]; !ok {
		return nil, fmt.Errorf("the site has no %s", IndexDocument)
	}
	return files, nil
}

// planObjects lists the prefix and sorts every key into upload, unchanged, delete or
// foreign.
func (p *Publisher) planObjects(ctx context.Context, plan *Plan) error {
	existing := map[string]bool{}
	pages := s3.NewListObjectsV2Paginator(p.s3, &s3.ListObjectsV2Input{Bucket: &plan.Bucket, Prefix: aws.String(plan.Prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx, p.inRegion(plan.Region))
		if err != nil {
			return fmt.Errorf("listing s3://%s/%s: %w", plan.Bucket, plan.Prefix, err)
		}
		for _, o := range page.Contents {
			existing[aws.ToString(o.Key)] = true
		}
	}
	var taken []string
	for _, key := range slices.Sorted(mapsKeys(existing)) {
		head, err := p.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &plan.Bucket, Key: aws.String(key)}, p.inRegion(plan.Region))
		if err != nil {
			return fmt.Errorf("reading s3://%s/%s: %w", plan.Bucket, key, err)
		}
		sum, ours := head.Metadata[MarkerKey]
		f, inSite := plan.files[key]
		switch {
		case !ours && inSite:
			taken = append(taken, key)
		case !ours:
			plan.Foreign = append(plan.Foreign, key)
		case !inSite:
			plan.Delete = append(plan.Delete, key)
		case sum != f.sha256:
			f.Reason = "changed"
			plan.Upload = append(plan.Upload, f)
		case aws.ToString(head.ContentType) != f.ContentType || aws.ToString(head.CacheControl) != f.CacheControl:
			f.Reason = "headers"
			plan.Upload = append(plan.Upload, f)
		default:
			plan.Unchanged = append(plan.Unchanged, key)
		}
	}
	if len(taken) > 0 {
		return fmt.Errorf("%w: %s; publish under another prefix or move them away", ErrForeignObjects, strings.Join(taken, ", "))
	}
	for _, key := range slices.Sorted(mapsKeys(plan.files)) {
		if !existing[key] {
			f := plan.files[key]
			f.Reason = "new"
			plan.Upload = append(plan.Upload, f)
		}
	}
	slices.SortFunc(plan.Upload, uploadOrder)
	return nil
}

// uploadOrder puts assets before pages, so that no new page is ever served before the
// stylesheet and script it names, then sorts by key.
func uploadOrder(a, b File) int {
	pa, pb := path.Ext(a.Key) == ".html", path.Ext(b.Key) == ".html"
	switch {
	case pa != pb && pa:
		return 1
	case pa != pb:
		return -1
	}
	return strings.Compare(a.Key, b.Key)
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Result is what Apply did.
type Result struct {
	Uploaded  []string `json:"uploaded"`
	Deleted   []string `json:"deleted"`
	Unchanged int      `json:"unchanged"`
	Website   Website  `json:"website"`
	URL       string   `json:"url"`
}

// maxDeleteKeys is the most keys one DeleteObjects request takes.
const maxDeleteKeys = 1000

// Apply carries out a plan from Plan: uploads (assets first, then pages), the website
// configuration if the plan applies it, then the deletion of stale objects, last, so that
// a reader never meets a page whose files are gone. Each change is told to the Observer.
// On error, what was done is in the returned Result.
func (p *Publisher) Apply(ctx context.Context, plan *Plan) (*Result, error) {
	res := &Result{Uploaded: []string{}, Deleted: []string{}, Unchanged: len(plan.Unchanged), Website: plan.Website, URL: plan.URL}
	for _, f := range plan.Upload {
		data, err := fs.ReadFile(plan.fsys, f.Path)
		if err != nil {
			return res, fmt.Errorf("reading the site: %w", err)
		}
		if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != f.sha256 {
			return res, fmt.Errorf("site file %s changed since the plan was made", f.Path)
		}
		_, err = p.s3.PutObject(ctx, &s3.PutObjectInput{
			Bucket:       &plan.Bucket,
			Key:          aws.String(f.Key),
			Body:         bytes.NewReader(data),
			ContentType:  aws.String(f.ContentType),
			CacheControl: aws.String(f.CacheControl),
			ContentMD5:   aws.String(f.md5),
			Metadata:     map[string]string{MarkerKey: f.sha256},
		}, p.inRegion(plan.Region))
		if err != nil {
			return res, fmt.Errorf("uploading s3://%s/%s: %w", plan.Bucket, f.Key, err)
		}
		res.Uploaded = append(res.Uploaded, f.Key)
		p.observer.Changed(Change{Action: "upload", Key: f.Key})
	}
	if plan.Website.Apply {
		if err := p.putWebsite(ctx, plan); err != nil {
			return res, err
		}
		res.Website.Applied = true
		p.observer.Changed(Change{Action: "website", Key: plan.Bucket})
	}
	for batch := range slices.Chunk(plan.Delete, maxDeleteKeys) {
		ids := make([]types.ObjectIdentifier, len(batch))
		for i, key := range batch {
			if !strings.HasPrefix(key, plan.Prefix) {
				return res, fmt.Errorf("refusing to delete %s: outside the prefix %q", key, plan.Prefix)
			}
			ids[i] = types.ObjectIdentifier{Key: aws.String(key)}
		}
		out, err := p.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &plan.Bucket, Delete: &types.Delete{Objects: ids}}, p.inRegion(plan.Region))
		if err != nil {
			return res, fmt.Errorf("deleting stale objects of s3://%s/%s: %w", plan.Bucket, plan.Prefix, err)
		}
		for _, d := range out.Deleted {
			res.Deleted = append(res.Deleted, aws.ToString(d.Key))
			p.observer.Changed(Change{Action: "delete", Key: aws.ToString(d.Key)})
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return res, fmt.Errorf("deleting s3://%s/%s: %s: %s (%d key(s) not deleted)", plan.Bucket, aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message), len(out.Errors))
		}
	}
	return res, nil
}

// Publish plans and applies in one call.
func (p *Publisher) Publish(ctx context.Context, site fs.FS, t Target) (*Result, error) {
	plan, err := p.Plan(ctx, site, t)
	if err != nil {
		return nil, err
	}
	return p.Apply(ctx, plan)
}

// inRegion sends a call to the bucket's region.
func (p *Publisher) inRegion(region string) func(*s3.Options) {
	return func(o *s3.Options) { o.Region = region }
}

// isCode reports whether err is an S3 error with one of the codes.
func isCode(err error, codes ...string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && slices.Contains(codes, api.ErrorCode())
}

// siteURL is where readers find the published site.
func (p *Publisher) siteURL(plan *Plan) string {
	if ep := p.s3.Options().BaseEndpoint; ep != nil {
		return strings.TrimSuffix(*ep, "/") + "/" + plan.Bucket + "/" + plan.Prefix + IndexDocument
	}
	if plan.Website.Serves() {
		return WebsiteEndpoint(plan.Bucket, plan.Region) + "/" + plan.Prefix
	}
	return launch.S3Location{Bucket: plan.Bucket, Key: plan.Prefix + IndexDocument, Region: plan.Region,
		Partition: partition.Of(plan.Region).ID}.URL()
}

// hashedName matches NAME.HASH.EXT with a lower-case hex HASH of at least 8 digits.
var hashedName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[^/]+\.([0-9a-f]{8,64})\.[A-Za-z0-9]+$`) })

// ContentHashed reports whether a file's name carries its content's hash, NAME.HASH.EXT
// where HASH is the start of the hex SHA-256 of data (the site package names its assets so):
// such a file never changes under its name and may be cached for good. A name that only
// looks hashed does not count.
func ContentHashed(name string, data []byte) bool {
	m := hashedName().FindStringSubmatch(path.Base(name))
	if m == nil {
		return false
	}
	sum := sha256.Sum256(data)
	return strings.HasPrefix(hex.EncodeToString(sum[:]), m[1])
}

// contentTypes are the types of the files a site holds. Text types say UTF-8, which the
// site writes, so no browser guesses the encoding.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".xml":         "application/xml",
	".txt":         "text/plain; charset=utf-8",
	".md":          "text/markdown; charset=utf-8",
	".yaml":        "application/yaml",
	".yml":         "application/yaml",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/vnd.microsoft.icon",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".pdf":         "application/pdf",
	".webmanifest": "application/manifest+json",
}

// ContentType returns the Content-Type of a site file by its extension, the same on every
// machine (unlike mime.TypeByExtension, which reads the system's tables);
// application/octet-stream for an unknown one.
func ContentType(name string) string {
	if t, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}
