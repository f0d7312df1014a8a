package sitepublish_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/internal/awsfake/s3fake"
	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/sitepublish"
)

const bucket = "isahit-docs"

// client returns an S3 client configured as the CLI does, from the environment, with
// AWS_ENDPOINT_URL aiming at the fake.
func client(t *testing.T, url string) *s3.Client {
	t.Helper()
	awsworld.Isolate(t, url, "AKIDTEST", "secret", "eu-west-3")
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// hashed names data as the site does: NAME.<first 10 hex of its SHA-256>.EXT.
func hashed(name, ext string, data []byte) string {
	sum := sha256.Sum256(data)
	return name + "." + hex.EncodeToString(sum[:])[:10] + ext
}

// siteV returns version n of a small built site.
func siteV(n int) fstest.MapFS {
	css := []byte(fmt.Sprintf("body { margin: %dpx }", n))
	cssName := "assets/" + hashed("site", ".css", css)
	page := func(title string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte(`<!DOCTYPE html><title>` + title + `</title><link rel="stylesheet" href="` + cssName + `">`)}
	}
	return fstest.MapFS{
		"index.html":            page("home"),
		"cli.html":              page("cli"),
		"404.html":              page("not found"),
		"sitemap.xml":           {Data: []byte("<urlset/>")},
		"s3grant-template.json": {Data: []byte(`{"Resources":{}}`)},
		"assets/favicon.svg":    {Data: []byte("<svg/>")},
		cssName:                 {Data: css},
	}
}

func world(t *testing.T) (*s3fake.Fake, *s3.Client) {
	t.Helper()
	f, url := s3fake.Start(t)
	f.PutBucket(s3fake.Bucket{Name: bucket, Region: "eu-west-3", Objects: map[string][]byte{
		"other/keep.txt":     []byte("outside the prefix"),
		"guide-old/keep.txt": []byte("shares the prefix's first letters"),
		"guide/notes.txt":    []byte("under the prefix, not ours"),
	}})
	return f, client(t, url)
}

func TestPublish(t *testing.T) {
	ctx := context.Background()
	f, c := world(t)
	p := sitepublish.New(c)
	target := sitepublish.Target{Bucket: bucket, Prefix: "guide"}

	v1 := siteV(1)
	res, err := p.Publish(ctx, v1, target)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Uploaded) != len(v1) || len(res.Deleted) != 0 {
		t.Errorf("first publish uploaded %v, deleted %v; want all %d files, nothing deleted", res.Uploaded, res.Deleted, len(v1))
	}
	cssKey := ""
	for name := range v1 {
		if strings.HasSuffix(name, ".css") {
			cssKey = "guide/" + name
		}
	}
	want := map[string][2]string{
		"guide/index.html":            {"text/html; charset=utf-8", sitepublish.CacheShort},
		"guide/404.html":              {"text/html; charset=utf-8", sitepublish.CacheShort},
		"guide/sitemap.xml":           {"application/xml", sitepublish.CacheShort},
		"guide/s3grant-template.json": {"application/json", sitepublish.CacheShort},
		"guide/assets/favicon.svg":    {"image/svg+xml", sitepublish.CacheShort},
		cssKey:                        {"text/css; charset=utf-8", sitepublish.CacheImmutable},
	}
	for key, w := range want {
		head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if aws.ToString(head.ContentType) != w[0] || aws.ToString(head.CacheControl) != w[1] {
			t.Errorf("%s: Content-Type %q, Cache-Control %q; want %q, %q", key, aws.ToString(head.ContentType), aws.ToString(head.CacheControl), w[0], w[1])
		}
	}
	if got, want := res.URL, c.Options().BaseEndpoint; want == nil || got != *want+"/"+bucket+"/guide/index.html" {
		t.Errorf("URL = %s, want the index page on the custom endpoint", got)
	}

	// The same site again: nothing to upload, nothing written.
	before := len(f.Calls())
	plan, err := p.Plan(ctx, v1, target)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Changes() || len(plan.Unchanged) != len(v1) {
		t.Errorf("second plan: upload %v, delete %v, unchanged %d; want nothing to do", keys(plan.Upload), plan.Delete, len(plan.Unchanged))
	}
	if _, err := p.Apply(ctx, plan); err != nil {
		t.Fatal(err)
	}
	for _, call := range f.Calls()[before:] {
		if call.Operation == "PutObject" || call.Operation == "DeleteObjects" || call.Operation == "PutBucketWebsite" {
			t.Errorf("second publish of the same site called %s", call.Operation)
		}
	}

	// Version 2: a new stylesheet name and changed pages; the old stylesheet is stale and
	// goes, the objects outside the prefix or not ours stay.
	v2 := siteV(2)
	delete(v2, "cli.html")
	plan, err = p.Plan(ctx, v2, target)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{cssKey, "guide/cli.html"}; !slices.Equal(sorted(plan.Delete), sorted(want)) {
		t.Errorf("plan deletes %v, want %v", plan.Delete, want)
	}
	if !slices.Equal(plan.Foreign, []string{"guide/notes.txt"}) {
		t.Errorf("plan.Foreign = %v, want the object under the prefix it did not write", plan.Foreign)
	}
	up := keys(plan.Upload)
	if i := slices.IndexFunc(up, func(k string) bool { return strings.HasSuffix(k, ".html") }); i < 1 || !strings.HasSuffix(up[0], ".css") {
		t.Errorf("upload order %v: the new stylesheet must come before the pages", up)
	}
	if _, err := p.Apply(ctx, plan); err != nil {
		t.Fatal(err)
	}
	gotKeys := f.Keys(bucket)
	for _, k := range []string{"other/keep.txt", "guide-old/keep.txt", "guide/notes.txt", "guide/index.html"} {
		if !slices.Contains(gotKeys, k) {
			t.Errorf("%s is gone; keys now %v", k, gotKeys)
		}
	}
	for _, k := range []string{cssKey, "guide/cli.html"} {
		if slices.Contains(gotKeys, k) {
			t.Errorf("stale %s is still there", k)
		}
	}
}

// A changed Cache-Control policy (or type) with the same content uploads again.
func TestPublish_HeadersChanged(t *testing.T) {
	ctx := context.Background()
	f, c := world(t)
	p := sitepublish.New(c)
	site := siteV(1)
	if _, err := p.Publish(ctx, site, sitepublish.Target{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	data, meta, _ := f.Object(bucket, "index.html")
	meta.CacheControl = "max-age=86400"
	b := s3fake.Bucket{Name: bucket, Region: "eu-west-3", Objects: map[string][]byte{}, Meta: map[string]s3fake.ObjectMeta{}}
	for _, k := range f.Keys(bucket) {
		b.Objects[k], b.Meta[k], _ = f.Object(bucket, k)
	}
	b.Objects["index.html"], b.Meta["index.html"] = data, meta
	f.PutBucket(b)
	plan, err := p.Plan(ctx, site, sitepublish.Target{Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Upload) != 1 || plan.Upload[0].Key != "index.html" || plan.Upload[0].Reason != "headers" {
		t.Errorf("plan uploads %+v, want index.html for its headers", plan.Upload)
	}
	// At the bucket root, the objects of other prefixes are not ours and stay.
	if !slices.Contains(plan.Foreign, "other/keep.txt") || len(plan.Delete) != 0 {
		t.Errorf("root plan: foreign %v, delete %v", plan.Foreign, plan.Delete)
	}
}

// A dry run (Plan without Apply) makes no write call.
func TestPlan_ChangesNothing(t *testing.T) {
	f, c := world(t)
	plan, err := sitepublish.New(c, sitepublish.WithWebsite(true)).Plan(context.Background(), siteV(1), sitepublish.Target{Bucket: bucket, Prefix: "/guide/"})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Prefix != "guide/" || len(plan.Upload) != len(siteV(1)) || !plan.Website.Apply {
		t.Errorf("plan: prefix %q, %d uploads, website apply %v", plan.Prefix, len(plan.Upload), plan.Website.Apply)
	}
	for _, call := range f.Calls() {
		if !slices.Contains([]string{"GetBucketLocation", "ListObjectsV2", "HeadObject", "GetBucketWebsite"}, call.Operation) {
			t.Errorf("plan called %s", call.Operation)
		}
	}
	if len(f.Keys(bucket)) != 3 {
		t.Errorf("keys after a plan: %v", f.Keys(bucket))
	}
}

// An object at a key the site needs that s3grant did not write is never overwritten.
func TestPlan_RefusesForeignKeys(t *testing.T) {
	f, c := world(t)
	b := s3fake.Bucket{Name: bucket, Region: "eu-west-3", Objects: map[string][]byte{"guide/index.html": []byte("someone's page")}}
	f.PutBucket(b)
	_, err := sitepublish.New(c).Plan(context.Background(), siteV(1), sitepublish.Target{Bucket: bucket, Prefix: "guide"})
	if !errors.Is(err, sitepublish.ErrForeignObjects) || !strings.Contains(err.Error(), "guide/index.html") {
		t.Fatalf("err = %v, want ErrForeignObjects naming guide/index.html", err)
	}
	if data, _, _ := f.Object(bucket, "guide/index.html"); string(data) != "someone's page" {
		t.Error("the page was overwritten")
	}
}

func TestPlan_BadInput(t *testing.T) {
	_, c := world(t)
	tests := []struct {
		target sitepublish.Target
		field  string
	}{
		{sitepublish.Target{Bucket: "Bad_Bucket"}, sitepublish.FieldBucket},
		{sitepublish.Target{Bucket: bucket, Prefix: "a//b"}, sitepublish.FieldPrefix},
		{sitepublish.Target{Bucket: bucket, Prefix: "a/../b"}, sitepublish.FieldPrefix},
		{sitepublish.Target{Bucket: bucket, Region: "Paris"}, sitepublish.FieldRegion},
	}
	for _, tt := range tests {
		_, err := sitepublish.New(c).Plan(context.Background(), siteV(1), tt.target)
		var inv *rules.InvalidError
		if !errors.As(err, &inv) || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%+v: err = %v, want an invalid %s", tt.target, err, tt.field)
		}
	}
}

// More than 1000 stale objects are deleted in several DeleteObjects calls, and listing pages
// through more than 1000 keys.
func TestPublish_ManyStale(t *testing.T) {
	ctx := context.Background()
	f, c := world(t)
	big := siteV(1)
	for i := range 1500 {
		big[fmt.Sprintf("p/%04d.html", i)] = &fstest.MapFile{Data: []byte("x")}
	}
	p := sitepublish.New(c)
	if _, err := p.Publish(ctx, big, sitepublish.Target{Bucket: bucket, Prefix: "g"}); err != nil {
		t.Fatal(err)
	}
	res, err := p.Publish(ctx, siteV(1), sitepublish.Target{Bucket: bucket, Prefix: "g"})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for _, call := range f.Calls() {
		if call.Operation == "DeleteObjects" {
			calls++
		}
	}
	if len(res.Deleted) != 1500 || calls != 2 || len(res.Uploaded) != 0 {
		t.Errorf("deleted %d in %d calls, uploaded %d; want 1500 in 2, none", len(res.Deleted), calls, len(res.Uploaded))
	}
}

func TestContentHashed(t *testing.T) {
	data := []byte("body{}")
	tests := []struct {
		name string
		want bool
	}{
		{hashed("assets/site", ".css", data), true},
		{"assets/site.css", false},
		{"assets/site.0123456789.css", false}, // looks hashed, is not this content's hash
		{"assets/site.abc.css", false},
	}
	for _, tt := range tests {
		if got := sitepublish.ContentHashed(tt.name, data); got != tt.want {
			t.Errorf("ContentHashed(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestWebsiteEndpoint(t *testing.T) {
	tests := []struct{ region, want string }{
		{"eu-west-3", "http://b.s3-website.eu-west-3.amazonaws.com"},
		{"us-east-1", "http://b.s3-website-us-east-1.amazonaws.com"},
		{"ap-southeast-2", "http://b.s3-website-ap-southeast-2.amazonaws.com"},
		{"cn-north-1", "http://b.s3-website.cn-north-1.amazonaws.com.cn"},
		{"us-gov-west-1", "http://b.s3-website-us-gov-west-1.amazonaws.com"},
	}
	for _, tt := range tests {
		if got := sitepublish.WebsiteEndpoint("b", tt.region); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.region, got, tt.want)
		}
	}
}

func keys(files []sitepublish.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Key)
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// The bucket's website configuration changes only with WithWebsite, keeping routing rules;
// a redirect-everything configuration is never changed.
func TestPublish_Website(t *testing.T) {
	ctx := context.Background()
	rules := `<RoutingRule><Redirect><ReplaceKeyPrefixWith>new/</ReplaceKeyPrefixWith></Redirect></RoutingRule>`
	tests := []struct {
		name    string
		current *s3fake.Website
		website bool
		want    *s3fake.Website
		change  bool
	}{
		{"none, not asked", nil, false, nil, false},
		{"none, asked", nil, true, &s3fake.Website{IndexSuffix: "index.html", ErrorKey: "guide/404.html"}, true},
		{"fits", &s3fake.Website{IndexSuffix: "index.html", ErrorKey: "guide/404.html"}, false, &s3fake.Website{IndexSuffix: "index.html", ErrorKey: "guide/404.html"}, false},
		{"other error page, not asked", &s3fake.Website{IndexSuffix: "index.html", ErrorKey: "error.html", RoutingRules: rules}, false,
			&s3fake.Website{IndexSuffix: "index.html", ErrorKey: "error.html", RoutingRules: rules}, true},
		{"other error page, asked", &s3fake.Website{IndexSuffix: "index.html", ErrorKey: "error.html", RoutingRules: rules}, true,
			&s3fake.Website{IndexSuffix: "index.html", ErrorKey: "guide/404.html", RoutingRules: rules}, true},
		{"redirects all", &s3fake.Website{RedirectHost: "example.com"}, true, &s3fake.Website{RedirectHost: "example.com"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := world(t)
			f.PutBucket(s3fake.Bucket{Name: bucket, Region: "eu-west-3", Website: tt.current})
			p := sitepublish.New(c, sitepublish.WithWebsite(tt.website))
			plan, err := p.Plan(ctx, siteV(1), sitepublish.Target{Bucket: bucket, Prefix: "guide"})
			if err != nil {
				t.Fatal(err)
			}
			if (plan.Website.Change != "") != tt.change {
				t.Errorf("plan.Website.Change = %q, want a change: %v", plan.Website.Change, tt.change)
			}
			if _, err := p.Apply(ctx, plan); err != nil {
				t.Fatal(err)
			}
			got := f.Bucket(bucket).Website
			if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
				t.Errorf("website after publish = %+v, want %+v", got, tt.want)
			}
		})
	}
}
