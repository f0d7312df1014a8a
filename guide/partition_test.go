package guide_test

import (
	"strings"
	"testing"

	"github.com/isahit/s3grant/launch"
	"github.com/isahit/s3grant/site/sitetest"
)

// A guide for a region of each partition shows that partition's ARNs, S3 service domain (the
// KMS condition) and console, and no other partition's. The isolated partitions get no Launch
// Stack button (no quick-create link opens their consoles), even given a template URL.
func TestGuide_EveryPartition(t *testing.T) {
	for _, c := range []struct {
		region, arn, via, console, template string
	}{
		{"eu-west-3", "arn:aws:", "s3.eu-west-3.amazonaws.com", "https://eu-west-3.console.aws.amazon.com/",
			"https://isahit-templates.s3.eu-west-3.amazonaws.com/s3grant/v1/abc.json"},
		{"cn-north-1", "arn:aws-cn:", "s3.cn-north-1.amazonaws.com.cn", "https://cn-north-1.console.amazonaws.cn/",
			"https://isahit-templates.s3.cn-north-1.amazonaws.com.cn/s3grant/v1/abc.json"},
		{"us-gov-west-1", "arn:aws-us-gov:", "s3.us-gov-west-1.amazonaws.com", "https://us-gov-west-1.console.amazonaws-us-gov.com/",
			"https://isahit-templates.s3.us-gov-west-1.amazonaws.com/s3grant/v1/abc.json"},
		{"us-iso-east-1", "arn:aws-iso:", "s3.us-iso-east-1.c2s.ic.gov", "",
			"https://isahit-templates.s3.us-iso-east-1.c2s.ic.gov/s3grant/v1/abc.json"},
		{"eusc-de-east-1", "arn:aws-eusc:", "s3.eusc-de-east-1.amazonaws.eu", "",
			"https://isahit-templates.s3.eusc-de-east-1.amazonaws.eu/s3grant/v1/abc.json"},
	} {
		t.Run(c.region, func(t *testing.T) {
			cfg := inRegion(personal("images/", ""), c.region)
			cfg.Integration.KMSKeyARN = strings.TrimSuffix(c.arn, ":") + ":kms:" + c.region + ":123456789012:key/abc"
			cfg.TemplateURL = c.template
			files := build(t, cfg)
			all := ""
			for name := range files {
				if strings.HasSuffix(name, ".html") {
					all += page(t, files, name).TextContent()
				}
			}
			for _, want := range []string{c.arn + "s3:::" + exampleBucket, c.arn + "iam::999888496268:root", "kms:ViaService StringEquals " + c.via + "."} {
				if !strings.Contains(all, want) {
					t.Errorf("no page shows %s", want)
				}
			}
			for _, other := range []string{"arn:aws:", "arn:aws-cn:", "arn:aws-us-gov:", "arn:aws-iso:", "arn:aws-eusc:"} {
				if other != c.arn && strings.Contains(all, other) {
					t.Errorf("a page shows %s…, another partition's ARN", other)
				}
			}
			doc := page(t, files, "one-click.html")
			href := ""
			for _, n := range doc.All(func(n *sitetest.Node) bool { return n.HasClass("launch") }) {
				href = n.Attr["href"]
			}
			if c.console == "" {
				if href != "" {
					t.Errorf("Launch Stack = %q in a partition without quick-create", href)
				}
				return
			}
			if !strings.HasPrefix(href, c.console) {
				t.Errorf("Launch Stack = %q, want the console %s", href, c.console)
			}
			if l, err := launch.Parse(href); err != nil || l.TemplateURL != c.template || l.Region != c.region {
				t.Errorf("Launch Stack %q: %+v, %v", href, l, err)
			}
		})
	}
}
