package guide_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/isahit/s3grant/guide"
	"github.com/isahit/s3grant/internal/cfneval"
	"github.com/isahit/s3grant/launch"
	"github.com/isahit/s3grant/profile"
	"github.com/isahit/s3grant/site"
	"github.com/isahit/s3grant/site/sitetest"
	"github.com/isahit/s3grant/stacks"
)

const (
	exampleBucket   = "my-bucket"
	exampleID       = "a6fa9c7f-7f53-4a41-812d-a29f48288a94"
	exampleRegion   = "eu-west-3"
	exampleAccount  = "123456789012"
	exampleTemplate = "https://isahit-templates.s3.eu-west-3.amazonaws.com/s3grant/v1/abc.json"
)

// cliFlags are some of the CLI's flags, as cmd/s3grant passes them.
var cliFlags = map[string]string{"BucketName": "--bucket", "ExternalId": "--external-id", "ManageCors": "--manage-cors"}

// generic is the hosted guide: no customer values, a published template.
func generic() guide.Config {
	return guide.Config{Integration: stacks.New(profile.Default()), TemplateURL: exampleTemplate, Flags: cliFlags}
}

// personal is a guide built for one customer, optionally with the restrictions.
func personal(prefix, kmsKey string) guide.Config {
	in := stacks.New(profile.Default())
	in.BucketName, in.ExternalID, in.Region = exampleBucket, exampleID, exampleRegion
	in.ObjectPrefix, in.KMSKeyARN = prefix, kmsKey
	return guide.Config{Integration: in, AccountID: exampleAccount, TemplateURL: exampleTemplate, Flags: cliFlags}
}

// inRegion is cfg for a bucket in region.
func inRegion(cfg guide.Config, region string) guide.Config {
	cfg.Integration.Region = region
	return cfg
}

func build(t testing.TB, cfg guide.Config) site.Files {
	t.Helper()
	files := site.Files{}
	if err := guide.Build(context.Background(), cfg, files); err != nil {
		t.Fatalf("Build: %v", err)
	}
	return files
}

func page(t *testing.T, files site.Files, name string) *sitetest.Node {
	t.Helper()
	doc, err := sitetest.Parse(files[name])
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return doc
}

func TestGuide_Pages(t *testing.T) {
	files := build(t, generic())
	pages, err := sitetest.Pages(files.FS())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"404.html", "cli.html", "console.html", "index.html", "one-click.html", "organizations.html", "reference.html", "remove.html", "verify.html"}
	if !slices.Equal(pages, want) {
		t.Errorf("pages = %v, want %v", pages, want)
	}
	if _, ok := files[guide.TemplateFile]; !ok {
		t.Errorf("no %s in the site", guide.TemplateFile)
	}
}

func TestGuide_LinksAndWeight(t *testing.T) {
	for name, cfg := range map[string]guide.Config{"generic": generic(), "personal": personal("images/", ""), "no template URL": {Integration: stacks.New(profile.Default())}} {
		t.Run(name, func(t *testing.T) {
			files := build(t, cfg)
			for _, err := range sitetest.CheckLinks(files.FS()) {
				t.Error(err)
			}
			weights, err := sitetest.PageWeights(files.FS())
			if err != nil {
				t.Fatal(err)
			}
			for p, w := range weights {
				t.Logf("%s: %d bytes with its assets", p, w)
				if w > 60<<10 {
					t.Errorf("%s weighs %d bytes with its assets, budget 60 KB", p, w)
				}
			}
		})
	}
}

// The model's values are on the pages: the vendor account of the profile (not
// the seed's other one) and the access point object ARN form.
func TestGuide_ModelValues(t *testing.T) {
	files := build(t, personal("", ""))
	all := ""
	for name := range files {
		if strings.HasSuffix(name, ".html") {
			all += page(t, files, name).TextContent()
		}
	}
	for _, want := range []string{
		"arn:aws:iam::999888496268:root",
		"arn:aws:s3:eu-west-3:123456789012:accesspoint/isahit-lab-access-point/object/*",
		"s3grant deploy --bucket my-bucket --external-id " + exampleID + " --region eu-west-3",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no page shows %q", want)
		}
	}
	if strings.Contains(all, "090680223052") {
		t.Error("a page shows 090680223052, the seed's wrong account")
	}
	for _, placeholder := range []string{"YOUR-BUCKET", "YOUR-EXTERNAL-ID", "YOUR-REGION", "YOUR-ACCOUNT-ID"} {
		if strings.Contains(all, placeholder) {
			t.Errorf("a personalised guide shows the placeholder %s", placeholder)
		}
	}
}

// The JSON snippets of the manual page, read from the built HTML, equal the
// template's policy documents and CORS rule as CloudFormation evaluates them
// for the same values.
func TestConsolePage_JSONEqualsTemplate(t *testing.T) {
	for name, cfg := range map[string]guide.Config{
		"defaults":       personal("", ""),
		"prefix and KMS": personal("images/2024/", "arn:aws:kms:eu-west-3:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
		"China":          inRegion(personal("", ""), "cn-north-1"),
	} {
		t.Run(name, func(t *testing.T) {
			snippets := jsonSnippets(t, page(t, build(t, cfg), "console.html"))
			if len(snippets) != 3 {
				t.Fatalf("got %d JSON snippets, want 3 (CORS, permissions, trust)", len(snippets))
			}
			res := evaluatedTemplate(t, cfg)
			props := func(id string) map[string]any { return res[id]["Properties"].(map[string]any) }

			cors := props(stacks.BucketCorsID)
			expose, ok := cors["ExposeHeaders"]
			if !ok {
				expose = []any{}
			}
			wantCORS := []any{map[string]any{
				"AllowedHeaders": cors["AllowedHeaders"], "AllowedMethods": cors["AllowedMethods"],
				"AllowedOrigins": cors["AllowedOrigins"], "ExposeHeaders": expose,
			}}
			for _, c := range []struct {
				name      string
				got, want any
			}{
				{"CORS rules", snippets[0], wantCORS},
				{"permissions policy", snippets[1], props(stacks.ReadPolicyID)["PolicyDocument"]},
				{"trust policy", snippets[2], props(stacks.VendorRoleID)["AssumeRolePolicyDocument"]},
			} {
				if !reflect.DeepEqual(c.got, c.want) {
					g, _ := json.MarshalIndent(c.got, "", " ")
					w, _ := json.MarshalIndent(c.want, "", " ")
					t.Errorf("%s on the page:\n%s\nthe template's:\n%s", c.name, g, w)
				}
			}
		})
	}
}

// The launch link opens the quick-create page of the published template with
// the customer's values, and names only parameters the template has.
func TestOneClickPage_LaunchLink(t *testing.T) {
	cfg := personal("", "")
	l := launchButton(t, page(t, build(t, cfg), "one-click.html"))
	body, err := stacks.JSON(cfg.Integration)
	if err != nil {
		t.Fatal(err)
	}
	params, err := launch.ParseTemplate(body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Build(params); err != nil {
		t.Errorf("the launch link does not pass the launch checks: %v", err)
	}
	want := map[string]string{"BucketName": exampleBucket, "ExternalId": exampleID}
	if l.Region != exampleRegion || l.TemplateURL != exampleTemplate || !reflect.DeepEqual(l.Parameters, want) {
		t.Errorf("launch link = %+v, want region %s, template %s, parameters %v", l, exampleRegion, exampleTemplate, want)
	}
	if doc := page(t, build(t, guide.Config{Integration: stacks.New(profile.Default())}), "one-click.html"); len(doc.All(func(n *sitetest.Node) bool { return n.HasClass("launch") })) != 0 {
		t.Error("a guide without a template URL has a launch button")
	}
}

func TestBrowser_Guide(t *testing.T) {
	b := sitetest.NewBrowser(t)
	files := build(t, generic())
	srv := httptest.NewServer(site.Handler(files.FS()))
	defer srv.Close()
	pages, err := sitetest.Pages(files.FS())
	if err != nil {
		t.Fatal(err)
	}
	b.CheckPages(t, srv.URL+"/", pages, sitetest.ScreenshotDir())

	// The form fills the external ID into the snippets and the launch link.
	const id = "e2e-7f53-4a41-812d"
	tab := b.Open(t, srv.URL+"/one-click.html", sitetest.Desktop)
	tab.Fill("ExternalId", id)
	tab.Fill("Bucket", "photos.example")
	tab.Fill("Region", "eu-central-1")
	l, err := launch.Parse(sitetest.Eval[string](tab, `document.querySelector("a.launch").href`))
	if err != nil {
		t.Fatal(err)
	}
	if l.Parameters["ExternalId"] != id || l.Parameters["BucketName"] != "photos.example" || l.Region != "eu-central-1" {
		t.Errorf("after filling the form the launch link is %+v", l)
	}
	console := b.Open(t, srv.URL+"/console.html", sitetest.Desktop)
	blocks := sitetest.CodeBlocks(page(t, files, "console.html"))
	trust := slices.IndexFunc(blocks, func(c sitetest.CodeBlock) bool { return strings.Contains(c.Text, "sts:ExternalId") })
	if trust < 0 {
		t.Fatal("no trust policy on the console page")
	}
	var policy stacks.Document
	if err := json.Unmarshal([]byte(console.Copy(trust)), &policy); err != nil {
		t.Fatal(err)
	}
	if got := policy.Statement[0].Condition["StringEquals"]["sts:ExternalId"]; !slices.Equal(got, []string{id}) {
		t.Errorf("copied trust policy holds external ID %q, want the typed %q", got, id)
	}
	for _, p := range append(tab.Problems(), console.Problems()...) {
		t.Error(p)
	}
}

// BenchmarkBuildGuide measures a whole build of the guide and reports the
// heaviest page, all its assets counted.
func BenchmarkBuildGuide(b *testing.B) {
	cfg := generic()
	var files site.Files
	for b.Loop() {
		files = site.Files{}
		if err := guide.Build(context.Background(), cfg, files); err != nil {
			b.Fatal(err)
		}
	}
	weights, err := sitetest.PageWeights(files.FS())
	if err != nil {
		b.Fatal(err)
	}
	heaviest := 0
	for _, w := range weights {
		heaviest = max(heaviest, w)
	}
	b.ReportMetric(float64(heaviest), "max-page-bytes")
}

// evaluatedTemplate returns the resources of the integration's template with
// every intrinsic evaluated, by cfneval, as CloudFormation would for the
// parameter defaults (the customer's values) and cfg's account and region.
func evaluatedTemplate(t *testing.T, cfg guide.Config) map[string]map[string]any {
	t.Helper()
	body, err := stacks.JSON(cfg.Integration)
	if err != nil {
		t.Fatal(err)
	}
	pseudo := stacks.PseudoValues(cfg.Integration.Region, cfg.AccountID)
	pseudo["AWS::StackName"] = "guide-test"
	pseudo["AWS::StackId"] = "arn:" + pseudo["AWS::Partition"] + ":cloudformation:" + cfg.Integration.Region + ":" + cfg.AccountID + ":stack/guide-test/1"
	tmpl, err := cfneval.Parse(body, nil, pseudo)
	var res map[string]map[string]any
	if err == nil {
		res, err = tmpl.Resources()
	}
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// jsonSnippets are the page's JSON code blocks, parsed.
func jsonSnippets(t *testing.T, doc *sitetest.Node) []any {
	t.Helper()
	var snippets []any
	for _, b := range sitetest.CodeBlocks(doc) {
		if b.Language != "json" {
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(b.Text), &v); err != nil {
			t.Fatalf("JSON snippet does not parse: %v\n%s", err, b.Text)
		}
		snippets = append(snippets, v)
	}
	return snippets
}
