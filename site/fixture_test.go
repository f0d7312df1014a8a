package site_test

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/isahit/s3grant/site"
)

// The fixture's customer values: two form fields and one baked-in value.
var (
	externalID = site.Var{Name: "ExternalId", Label: "External ID", Placeholder: "<YOUR-EXTERNAL-ID>", Example: "a6fa9c7f-7f53-4a41-812d-a29f48288a94"}
	bucket     = site.Var{Name: "Bucket", Label: "Bucket name", Placeholder: "<YOUR-BUCKET>"}
	region     = site.Var{Name: "Region", Value: "eu-west-3"}
)

// fixtureData is what the fixture pages are executed with: a policy that
// carries the external ID marker through encoding/json, and a launch link that
// carries markers through URL encoding.
type fixtureData struct {
	Policy    any
	LaunchURL string
	LongLine  string
}

func newFixtureData(vars ...site.Var) fixtureData {
	get := func(name string) site.Var {
		for _, v := range vars {
			if v.Name == name {
				return v
			}
		}
		panic("fixture: no var " + name)
	}
	q := url.Values{}
	q.Set("templateURL", "https://example-bucket.s3.amazonaws.com/t.json")
	q.Set("stackName", "isahit-lab")
	q.Set("param_ExternalId", get("ExternalId").Mark())
	q.Set("param_BucketName", get("Bucket").Mark())
	return fixtureData{
		Policy: map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{map[string]any{
				"Effect":    "Allow",
				"Action":    "sts:AssumeRole",
				"Principal": map[string]any{"AWS": "arn:aws:iam::999888496268:root"},
				"Condition": map[string]any{"StringEquals": map[string]any{"sts:ExternalId": get("ExternalId").Mark()}},
			}},
		},
		LaunchURL: "https://" + get("Region").Mark() + ".console.aws.amazon.com/cloudformation/home#/stacks/create/review?" + q.Encode(),
		LongLine:  strings.Repeat("a-long-line-without-spaces-", 20),
	}
}

// buildFixture builds testdata/basic with the given vars and options.
func buildFixture(t testing.TB, vars []site.Var, opts ...site.Option) site.Files {
	t.Helper()
	files := site.Files{}
	opts = append([]site.Option{site.WithTitle("Fixture guide"), site.WithVars(vars...), site.WithData(newFixtureData(vars...))}, opts...)
	if err := site.New(opts...).Build(context.Background(), os.DirFS("testdata/basic"), files); err != nil {
		t.Fatalf("Build: %v", err)
	}
	return files
}
