package launch

import (
	"errors"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/isahit/s3grant/internal/rules"
)

func testParams(t *testing.T) Parameters {
	t.Helper()
	body, err := os.ReadFile("testdata/params.json")
	if err != nil {
		t.Fatal(err)
	}
	params, err := ParseTemplate(body)
	if err != nil {
		t.Fatal(err)
	}
	return params
}

const exampleTemplateURL = "https://isahit-templates.s3.eu-west-3.amazonaws.com/s3grant/v1/abc.json"

func TestBuildExactLink(t *testing.T) {
	l := Link{
		Region:      "eu-west-3",
		TemplateURL: exampleTemplateURL,
		StackName:   "s3grant-my-bucket",
		Parameters:  map[string]string{"ExternalId": "a6fa9c7f-7f53-4a41-812d-a29f48288a94", "BucketName": "my-bucket"},
	}
	got, err := l.Build(testParams(t))
	if err != nil {
		t.Fatal(err)
	}
	want := "https://eu-west-3.console.aws.amazon.com/cloudformation/home?region=eu-west-3" +
		"#/stacks/create/review?templateURL=https%3A%2F%2Fisahit-templates.s3.eu-west-3.amazonaws.com%2Fs3grant%2Fv1%2Fabc.json" +
		"&stackName=s3grant-my-bucket&param_BucketName=my-bucket&param_ExternalId=a6fa9c7f-7f53-4a41-812d-a29f48288a94"
	if got != want {
		t.Errorf("link\n got %s\nwant %s", got, want)
	}
}

func TestLinkRoundTrip(t *testing.T) {
	params := testParams(t)
	tricky := "a&b=c#d+e/f g?h%i 'é' 日本 \"q\" <x> ~_.-"
	cases := []Link{
		{Region: "eu-west-3", TemplateURL: exampleTemplateURL},
		{Region: "us-east-1", TemplateURL: "https://s3.amazonaws.com/my.bucket/a+b/t.json", StackName: "A-1",
			Parameters: map[string]string{"Note": tricky, "BucketName": "my.bucket", "Mode": "read", "Visible": "x"}},
		{Region: "cn-north-1", TemplateURL: "https://s3.cn-north-1.amazonaws.com.cn/bkt/k%20with%20space.json",
			Parameters: map[string]string{"ExternalId": "x+y=z,w.v@u:t/s-r_q", "Note": ""}},
		{Region: "us-gov-west-1", TemplateURL: "https://bkt.s3.us-gov-west-1.amazonaws.com/s3grant/v1/t.json", StackName: "gov",
			Parameters: map[string]string{"BucketName": "my-bucket"}},
		// Long's AllowedPattern counts past Go's regexp limit: the console checks it, not Build.
		{Region: "eu-west-3", TemplateURL: exampleTemplateURL, Parameters: map[string]string{"Long": "ABC"}},
	}
	for _, l := range cases {
		link, err := l.Build(params)
		if err != nil {
			t.Fatalf("%+v: %v", l, err)
		}
		got, err := Parse(link)
		if err != nil {
			t.Fatalf("Parse(%s): %v", link, err)
		}
		if !reflect.DeepEqual(normalize(got), normalize(l)) {
			t.Errorf("round trip of %s\n got %+v\nwant %+v", link, got, l)
		}
		// The console may decode with URLSearchParams (+ is a space) or decodeURIComponent
		// (+ stays +): the link must mean the same to both, so it contains no + at all, and
		// splitting on & and = before decoding finds every value intact.
		_, fragment, _ := strings.Cut(link, "#")
		_, query, _ := strings.Cut(fragment, "?")
		if strings.ContainsAny(query, "+ #") {
			t.Errorf("fragment query %q has a raw + space or #", query)
		}
		for _, pair := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(pair, "=")
			key, err1 := url.PathUnescape(k)
			val, err2 := url.PathUnescape(v)
			if err1 != nil || err2 != nil {
				t.Fatalf("undecodable pair %q", pair)
			}
			var want string
			switch name, _ := strings.CutPrefix(key, ParamPrefix); key {
			case "templateURL":
				want = l.TemplateURL
			case "stackName":
				want = l.StackName
			default:
				want = l.Parameters[name]
			}
			if val != want {
				t.Errorf("decodeURIComponent-style read of %s = %q, want %q", key, val, want)
			}
		}
	}
}

// normalize makes an empty parameter map and a nil one compare equal.
func normalize(l Link) Link {
	if len(l.Parameters) == 0 {
		l.Parameters = nil
	}
	return l
}

func TestBuildRejects(t *testing.T) {
	params := testParams(t)
	good := func(edit func(*Link)) Link {
		l := Link{Region: "eu-west-3", TemplateURL: exampleTemplateURL, StackName: "s3grant",
			Parameters: map[string]string{"BucketName": "my-bucket"}}
		edit(&l)
		return l
	}
	cases := []struct {
		name   string
		link   Link
		field  string
		reason string
	}{
		{"missing region", good(func(l *Link) { l.Region = "" }), FieldRegion, "is required"},
		{"bad region", good(func(l *Link) { l.Region = "Paris" }), FieldRegion, "region code"},
		{"iso region", good(func(l *Link) { l.Region = "us-iso-east-1" }), FieldRegion, "aws-iso, which is an isolated partition"},
		{"eusc region", good(func(l *Link) { l.Region = "eusc-de-east-1" }), FieldRegion, "aws-eusc, which is the AWS European Sovereign Cloud"},
		{"global template, govcloud region", good(func(l *Link) { l.Region = "us-gov-west-1" }), FieldTemplateURL, "partition aws, but region us-gov-west-1 is in aws-us-gov"},
		{"govcloud template, global region", good(func(l *Link) {
			l.TemplateURL = "https://b-b.s3.us-gov-west-1.amazonaws.com/t.json"
		}), FieldTemplateURL, "partition aws-us-gov, but region eu-west-3 is in aws"},
		{"govcloud region on a china host", good(func(l *Link) {
			l.TemplateURL = "https://b-b.s3.us-gov-west-1.amazonaws.com.cn/t.json"
		}), FieldTemplateURL, "not an S3 URL"},
		{"missing template URL", good(func(l *Link) { l.TemplateURL = "" }), FieldTemplateURL, "is required"},
		{"not S3", good(func(l *Link) { l.TemplateURL = "https://example.com/t.json" }), FieldTemplateURL, "not an S3 URL"},
		{"http", good(func(l *Link) { l.TemplateURL = "http://b.s3.eu-west-3.amazonaws.com/t.json" }), FieldTemplateURL, "must use https"},
		{"s3 scheme", good(func(l *Link) { l.TemplateURL = "s3://bucket/t.json" }), FieldTemplateURL, "must use https"},
		{"too long", good(func(l *Link) {
			l.TemplateURL = "https://b-b.s3.eu-west-3.amazonaws.com/" + strings.Repeat("k", 1024)
		}), FieldTemplateURL, "at most 1024"},
		{"website endpoint", good(func(l *Link) { l.TemplateURL = "https://b-b.s3-website-eu-west-1.amazonaws.com/t.json" }), FieldTemplateURL, "not an S3 URL"},
		{"look-alike host", good(func(l *Link) { l.TemplateURL = "https://b-b.s3.eu-west-3.amazonaws.com.evil.io/t.json" }), FieldTemplateURL, "not an S3 URL"},
		{"query string", good(func(l *Link) { l.TemplateURL = exampleTemplateURL + "?versionId=1" }), FieldTemplateURL, "query string"},
		{"no key", good(func(l *Link) { l.TemplateURL = "https://s3.eu-west-3.amazonaws.com/bucket/" }), FieldTemplateURL, "names no object"},
		{"bad bucket", good(func(l *Link) { l.TemplateURL = "https://s3.eu-west-3.amazonaws.com/Bad_Bucket/t.json" }), FieldTemplateURL, "bucket name"},
		{"china template, global region", good(func(l *Link) {
			l.TemplateURL = "https://b-b.s3.cn-north-1.amazonaws.com.cn/t.json"
		}), FieldTemplateURL, "partition"},
		{"global template, china region", good(func(l *Link) { l.Region = "cn-north-1" }), FieldTemplateURL, "partition"},
		{"bad stack name", good(func(l *Link) { l.StackName = "1stack" }), FieldStackName, "starting with a letter"},
		{"stack name with underscore", good(func(l *Link) { l.StackName = "my_stack" }), FieldStackName, "letters, digits and hyphens"},
		{"unknown parameter", good(func(l *Link) { l.Parameters["BucketNme"] = "x" }), "param_BucketNme", "not a parameter of the template"},
		{"NoEcho parameter", good(func(l *Link) { l.Parameters["Secret"] = "x" }), "param_Secret", "NoEcho"},
		{"NoEcho as string", good(func(l *Link) { l.Parameters["OldSecret"] = "x" }), "param_OldSecret", "NoEcho"},
		{"AllowedPattern", good(func(l *Link) { l.Parameters["BucketName"] = "My Bucket" }), "param_BucketName", "AllowedPattern"},
		{"AllowedValues", good(func(l *Link) { l.Parameters["Mode"] = "admin" }), "param_Mode", "AllowedValues"},
		{"MinLength", good(func(l *Link) { l.Parameters["ExternalId"] = "x" }), "param_ExternalId", "MinLength 2"},
		{"MaxLength", good(func(l *Link) { l.Parameters["ExternalId"] = strings.Repeat("x", 1225) }), "param_ExternalId", "MaxLength 1224"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			link, err := tc.link.Build(params)
			var invalid *rules.InvalidError
			if !errors.As(err, &invalid) {
				t.Fatalf("Build = %q, %v; want an *rules.InvalidError", link, err)
			}
			if link != "" {
				t.Errorf("Build returned a link with an error: %s", link)
			}
			if invalid.Field != tc.field || !strings.Contains(invalid.Reason, tc.reason) {
				t.Errorf("error %q: want field %s and a reason containing %q", err, tc.field, tc.reason)
			}
		})
	}
}

func TestParseTemplateURL(t *testing.T) {
	cases := []struct {
		url  string
		want S3Location
		// canonical is what S3Location.URL gives back, when it differs from url.
		canonical string
	}{
		{url: exampleTemplateURL, want: S3Location{Bucket: "isahit-templates", Key: "s3grant/v1/abc.json", Region: "eu-west-3", Partition: "aws"}},
		{url: "https://bkt.s3.amazonaws.com/t.json", want: S3Location{Bucket: "bkt", Key: "t.json", Partition: "aws"}},
		{url: "https://s3.eu-west-3.amazonaws.com/bkt/p/t.json", want: S3Location{Bucket: "bkt", Key: "p/t.json", Region: "eu-west-3", Partition: "aws"},
			canonical: "https://bkt.s3.eu-west-3.amazonaws.com/p/t.json"},
		{url: "https://s3.amazonaws.com/my.bucket/t.json", want: S3Location{Bucket: "my.bucket", Key: "t.json", Partition: "aws"}},
		{url: "https://bkt.s3-eu-west-1.amazonaws.com/t.json", want: S3Location{Bucket: "bkt", Key: "t.json", Region: "eu-west-1", Partition: "aws"},
			canonical: "https://bkt.s3.eu-west-1.amazonaws.com/t.json"},
		{url: "https://bkt.s3.dualstack.us-west-2.amazonaws.com/t.json", want: S3Location{Bucket: "bkt", Key: "t.json", Region: "us-west-2", Partition: "aws"},
			canonical: "https://bkt.s3.us-west-2.amazonaws.com/t.json"},
		{url: "https://my.s3.bucket.s3.eu-west-3.amazonaws.com/t.json", want: S3Location{Bucket: "my.s3.bucket", Key: "t.json", Region: "eu-west-3", Partition: "aws"},
			canonical: "https://s3.eu-west-3.amazonaws.com/my.s3.bucket/t.json"},
		{url: "https://bkt.s3.cn-northwest-1.amazonaws.com.cn/a%20b.json", want: S3Location{Bucket: "bkt", Key: "a b.json", Region: "cn-northwest-1", Partition: "aws-cn"}},
		{url: "https://bkt.s3.us-gov-west-1.amazonaws.com/t.json", want: S3Location{Bucket: "bkt", Key: "t.json", Region: "us-gov-west-1", Partition: "aws-us-gov"}},
		{url: "https://s3-us-gov-east-1.amazonaws.com/bkt/t.json", want: S3Location{Bucket: "bkt", Key: "t.json", Region: "us-gov-east-1", Partition: "aws-us-gov"},
			canonical: "https://bkt.s3.us-gov-east-1.amazonaws.com/t.json"},
		{url: "https://BKT.S3.EU-WEST-3.AMAZONAWS.COM/K.json", want: S3Location{Bucket: "bkt", Key: "K.json", Region: "eu-west-3", Partition: "aws"},
			canonical: "https://bkt.s3.eu-west-3.amazonaws.com/K.json"},
	}
	for _, tc := range cases {
		got, err := ParseTemplateURL("--template-url", tc.url)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.url, got, tc.want)
		}
		canonical := tc.canonical
		if canonical == "" {
			canonical = tc.url
		}
		if u := got.URL(); u != canonical {
			t.Errorf("%s: URL() = %s, want %s", tc.url, u, canonical)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, link := range []string{
		"https://example.com/cloudformation/home?region=eu-west-3#/stacks/create/review?templateURL=x",
		"http://eu-west-3.console.aws.amazon.com/cloudformation/home?region=eu-west-3#/stacks/create/review?templateURL=x",
		"https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-3#/stacks/create/review?templateURL=x",
		"https://eu-west-3.console.aws.amazon.com/cloudformation/home?region=eu-west-3#/stacks/new?templateURL=x",
		"https://eu-west-3.console.aws.amazon.com/cloudformation/home?region=eu-west-3#/stacks/create/review?stackName=x",
		"https://eu-west-3.console.aws.amazon.com/cloudformation/home?region=eu-west-3#/stacks/create/review?templateURL=x&foo=1",
		"https://eu-west-3.console.aws.amazon.com/cloudformation/home?region=eu-west-3#/stacks/create/review?templateURL=x&param_A=1&param_A=2",
	} {
		if l, err := Parse(link); err == nil {
			t.Errorf("Parse(%s) = %+v, want an error", link, l)
		}
	}
}

func TestParseTemplate(t *testing.T) {
	params := testParams(t)
	if got, want := strings.Join(params.Names(), ","), "BucketName,ExternalId,Long,Mode,Note,OldSecret,Secret,Visible"; got != want {
		t.Errorf("names = %s, want %s", got, want)
	}
	for name, noEcho := range map[string]bool{"Secret": true, "OldSecret": true, "Visible": false, "Note": false} {
		if params[name].NoEcho != noEcho {
			t.Errorf("%s NoEcho = %v, want %v", name, params[name].NoEcho, noEcho)
		}
	}
	for _, body := range []string{`not json`, `{"Parameters": {}}`, `{"Resources": {"A": {}}, "Parameters": {"P": {"MaxLength": "ten"}}}`} {
		if _, err := ParseTemplate([]byte(body)); err == nil {
			t.Errorf("ParseTemplate(%s) succeeded, want an error", body)
		}
	}
}
