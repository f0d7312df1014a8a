package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/internal/awsfake/s3fake"
	"github.com/isahit/s3grant/internal/awsfake/s3public"
)

// cliPartitions are a region of each partition with what AWS documents for it: the ARN
// partition, the endpoints' DNS suffix, the console's domain (empty where no quick-create link
// opens it: the isolated partitions) and a template URL in a bucket of that partition.
var cliPartitions = []struct {
	region, partition, suffix, console, templateURL string
}{
	{"eu-west-3", "aws", "amazonaws.com", "eu-west-3.console.aws.amazon.com",
		"https://isahit-templates.s3.eu-west-3.amazonaws.com/s3grant/v1/abc.json"},
	{"cn-north-1", "aws-cn", "amazonaws.com.cn", "cn-north-1.console.amazonaws.cn",
		"https://isahit-templates.s3.cn-north-1.amazonaws.com.cn/s3grant/v1/abc.json"},
	{"us-gov-west-1", "aws-us-gov", "amazonaws.com", "us-gov-west-1.console.amazonaws-us-gov.com",
		"https://isahit-templates.s3.us-gov-west-1.amazonaws.com/s3grant/v1/abc.json"},
	{"us-iso-east-1", "aws-iso", "c2s.ic.gov", "",
		"https://isahit-templates.s3.us-iso-east-1.c2s.ic.gov/s3grant/v1/abc.json"},
	{"eusc-de-east-1", "aws-eusc", "amazonaws.eu", "",
		"https://isahit-templates.s3.eusc-de-east-1.amazonaws.eu/s3grant/v1/abc.json"},
}

// link and docs build, in a region of each partition: the link opens that partition's console
// on a template of that partition; a template of any other partition is bad input naming
// --template-url; the isolated partitions are refused, naming --region (link) or
// --template-url (docs build), with the reason.
func TestEveryPartition_LinkAndDocs(t *testing.T) {
	for _, c := range cliPartitions {
		t.Run(c.region, func(t *testing.T) {
			args := []string{"link", "--region", c.region, "--bucket", "my-bucket", "--external-id", exampleID}
			docs := []string{"docs", "build", "--region", c.region, "--dir", filepath.Join(t.TempDir(), "site")}
			if c.console == "" {
				code, out, errOut := runCLI(t, "", append(args, "--template-url", c.templateURL)...)
				wantBadInput(t, code, out, errOut, "--region")
				if want := "is in partition " + c.partition + ", which is"; !strings.Contains(errOut, want) {
					t.Errorf("link's refusal %q does not say %q", errOut, want)
				}
				code, out, errOut = runCLI(t, "", append(docs, "--template-url", c.templateURL)...)
				wantBadInput(t, code, out, errOut, "--template-url")
				if !strings.Contains(errOut, "no quick-create link can open it") {
					t.Errorf("docs build's refusal %q gives no reason", errOut)
				}
				return
			}
			code, out, errOut := runCLI(t, "", append(args, "--template-url", c.templateURL)...)
			if code != exitOK {
				t.Fatalf("link: exit %d: %s", code, errOut)
			}
			l := firstLink(t, out)
			if !strings.HasPrefix(out, "https://"+c.console+"/cloudformation/home?region="+c.region+"#/stacks/create/review?") ||
				l.TemplateURL != c.templateURL || l.Parameters["BucketName"] != "my-bucket" {
				t.Errorf("link = %s", out)
			}
			for _, other := range cliPartitions {
				if other.partition == c.partition || other.console == "" {
					continue
				}
				code, out, errOut := runCLI(t, "", append(args, "--template-url", other.templateURL)...)
				wantBadInput(t, code, out, errOut, "--template-url")
				if want := "is in AWS partition " + other.partition + ", but region " + c.region + " is in " + c.partition; !strings.Contains(errOut, want) {
					t.Errorf("link with %s: %q does not say %q", other.templateURL, errOut, want)
				}
				code, out, errOut = runCLI(t, "", append(docs, "--template-url", other.templateURL)...)
				wantBadInput(t, code, out, errOut, "--template-url")
			}
		})
	}
}

// deploy's preview, for a bucket in a region of each partition, shows the grants resolved in
// that partition: its ARNs and the region's S3 service name in the KMS condition.
func TestEveryPartition_DeployPreview(t *testing.T) {
	for _, c := range cliPartitions {
		t.Run(c.region, func(t *testing.T) {
			verifyEnv(t)
			w := aw.Start(t)
			w.S3.PutBucket(s3fake.Bucket{Name: "part-bucket", Region: c.region})
			key := "arn:" + c.partition + ":kms:" + c.region + ":" + aw.CustomerAccount + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
			code, out, errOut := runDeployCLI(context.Background(), t, nil, nil, "deploy", "--bucket", "part-bucket",
				"--region", c.region, "--external-id", aw.ExternalID, "--kms-key-arn", key, "--endpoint-url", w.URL, "--dry-run")
			if code != exitOK {
				t.Fatalf("deploy --dry-run: exit %d, stderr %q\n%s", code, errOut, out)
			}
			_, grants, _ := strings.Cut(out, "What the stack grants:")
			p := "arn:" + c.partition + ":"
			for _, want := range []string{
				"isahit Lab: Allow sts:AssumeRole by " + p + "iam::" + aw.VendorAccount + ":root",
				"on " + p + "s3:::part-bucket/*, " + p + "s3:" + c.region + ":" + aw.CustomerAccount + ":accesspoint/",
				"Allow kms:Decrypt on " + key + " if kms:ViaService StringEquals s3." + c.region + "." + c.suffix,
			} {
				if !strings.Contains(grants, want) {
					t.Errorf("the preview does not say %q:\n%s", want, out)
				}
			}
			if c.partition != "aws" && strings.Contains(grants, "arn:aws:") {
				t.Errorf("the preview shows an aws ARN for %s:\n%s", c.region, out)
			}
		})
	}
}

// publish to a template bucket of each partition: the template URL is on that partition's S3
// endpoint, and the link opens that partition's console; in the isolated partitions the
// template is published (for the CLI and console uploads) with no link, and the reason.
func TestEveryPartition_Publish(t *testing.T) {
	for _, c := range cliPartitions {
		t.Run(c.region, func(t *testing.T) {
			f := s3public.New(t)
			f.CreateBucket(t, "isahit-templates")
			f.SetRegion(c.region)
			f.MakePublic("isahit-templates", "s3grant")
			aw.Isolate(t, f.URL, "AKIDTEST", "secret", c.region)
			code, out, errOut := runCLI(t, "", "publish", "--output", "json", "--template-bucket", "isahit-templates", "--region", c.region)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var res struct{ TemplateURL, Link, NoLink string }
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(err)
			}
			if want := "https://isahit-templates.s3." + c.region + "." + c.suffix + "/s3grant/"; !strings.HasPrefix(res.TemplateURL, want) {
				t.Errorf("template URL %s, want %s…", res.TemplateURL, want)
			}
			if c.console == "" {
				if res.Link != "" || !strings.Contains(res.NoLink, "partition "+c.partition+", which is") {
					t.Errorf("link %q, reason %q", res.Link, res.NoLink)
				}
				return
			}
			if want := "https://" + c.console + "/cloudformation/home?region=" + c.region + "#"; !strings.HasPrefix(res.Link, want) || res.NoLink != "" {
				t.Errorf("link %q (%q), want %s…", res.Link, res.NoLink, want)
			}
		})
	}
}
