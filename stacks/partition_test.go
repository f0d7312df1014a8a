package stacks

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/isahit/s3grant/internal/cfneval"
)

// partitionCases are a region of each partition with the pseudo parameters CloudFormation
// gives a stack there (AWS::Partition, AWS::URLSuffix), written from AWS's documentation,
// independently of internal/partition.
var partitionCases = []struct {
	region, partition, urlSuffix string
}{
	{"eu-west-3", "aws", "amazonaws.com"},
	{"cn-north-1", "aws-cn", "amazonaws.com.cn"},
	{"us-gov-west-1", "aws-us-gov", "amazonaws.com"},
	{"us-iso-east-1", "aws-iso", "c2s.ic.gov"},
	{"eusc-de-east-1", "aws-eusc", "amazonaws.eu"},
}

// The template, evaluated as CloudFormation does in a region of each partition, grants exactly
// that partition's ARNs and the S3 service name of the region (kms:ViaService); and the
// documents resolved with SubstitutionValues for the region — what deploy's preview, the guide
// and verify's expectations print and compare — are the policies the stack really creates.
func TestEveryPartition_TemplateAndDocuments(t *testing.T) {
	const account = "111122223333"
	for _, c := range partitionCases {
		t.Run(c.region, func(t *testing.T) {
			in := example()
			in.Region = c.region
			in.ObjectPrefix = "images/"
			in.KMSKeyARN = "arn:" + c.partition + ":kms:" + c.region + ":" + account + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
			pseudo := map[string]string{"AWS::Region": c.region, "AWS::AccountId": account,
				"AWS::Partition": c.partition, "AWS::URLSuffix": c.urlSuffix, "AWS::StackName": "isahit-lab-my-bucket",
				"AWS::StackId": "arn:" + c.partition + ":cloudformation:" + c.region + ":" + account + ":stack/isahit-lab-my-bucket/6f0e2a40"}
			tmpl, err := cfneval.Parse(mustJSON(t, in), nil, pseudo)
			if err != nil {
				t.Fatal(err)
			}
			res, err := tmpl.Resources()
			if err != nil {
				t.Fatal(err)
			}
			perms := policyOf(t, res, ReadPolicyID, "PolicyDocument")
			trust := policyOf(t, res, VendorRoleID, "AssumeRolePolicyDocument")

			p := "arn:" + c.partition + ":"
			ap := p + "s3:" + c.region + ":" + account + ":accesspoint/isahit-lab-access-point"
			permsJSON, _ := json.Marshal(perms)
			var got struct {
				Statement []struct {
					Resource  []string
					Condition map[string]map[string]any
				}
			}
			if err := json.Unmarshal(permsJSON, &got); err != nil {
				t.Fatal(err)
			}
			var resources []string
			via := ""
			for _, s := range got.Statement {
				resources = append(resources, s.Resource...)
				if v, ok := s.Condition["StringEquals"]["kms:ViaService"]; ok {
					via = strings.Trim(mustString(t, v), `[]"`) // "x" or ["x"]
				}
			}
			for _, want := range []string{p + "s3:::my-bucket", p + "s3:::my-bucket/images/*", ap, ap + "/object/images/*", in.KMSKeyARN} {
				if !slices.Contains(resources, want) {
					t.Errorf("the policy grants no %s; its resources: %v", want, resources)
				}
			}
			for _, r := range resources {
				if !strings.HasPrefix(r, p) {
					t.Errorf("resource %s is not in partition %s", r, c.partition)
				}
			}
			if want := "s3." + c.region + "." + c.urlSuffix; via != want {
				t.Errorf("kms:ViaService = %q, want %q", via, want)
			}
			trustJSON, _ := json.Marshal(trust)
			if want := `"` + p + `iam::999888496268:root"`; !strings.Contains(string(trustJSON), want) {
				t.Errorf("trust policy %s does not trust %s", trustJSON, want)
			}

			vals := in.SubstitutionValues(c.region, account)
			for name, d := range map[string]struct {
				doc      Document
				deployed any
			}{"permissions": {PermissionsPolicy(), perms}, "trust": {TrustPolicy(), trust}} {
				resolved, err := d.doc.Resolve(vals)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := json.Marshal(resolved)
				if !reflect.DeepEqual(jsonValue(t, string(b)), d.deployed) {
					dep, _ := json.Marshal(d.deployed)
					t.Errorf("%s policy as the docs resolve it:\n%s\nas the stack creates it:\n%s", name, b, dep)
				}
			}
			grants, err := in.Grants(vals)
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			for _, g := range grants {
				text.WriteString(g.String() + "\n")
			}
			for _, want := range []string{p + "s3:::my-bucket/images/*", ap, p + "iam::999888496268:root", "kms:ViaService StringEquals s3." + c.region + "." + c.urlSuffix} {
				if !strings.Contains(text.String(), want) {
					t.Errorf("the grants text lacks %s:\n%s", want, &text)
				}
			}
			if c.partition != "aws" && strings.Contains(text.String(), "arn:aws:") {
				t.Errorf("the grants text shows an aws ARN in %s:\n%s", c.partition, &text)
			}
		})
	}
}

func mustString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
