package stacks

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/isahit/s3grant/internal/cfneval"
	"github.com/isahit/s3grant/profile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const exampleExternalID = "a6fa9c7f-7f53-4a41-812d-a29f48288a94"

func example() Integration {
	in := New(profile.Default())
	in.BucketName = "my-bucket"
	in.ExternalID = exampleExternalID
	return in
}

func everyOption() Integration {
	in := example()
	in.ObjectPrefix = "images/"
	in.KMSKeyARN = "arn:aws:kms:eu-west-3:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	in.RoleName = "isahit-lab-reader"
	in.Region = "eu-west-3"
	in.ManageCORS = false
	return in
}

func mustJSON(t testing.TB, in Integration) []byte {
	t.Helper()
	body, err := JSON(in)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./stacks -update to create it, then review it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the template built now; review the change and run go test ./stacks -update", path)
	}
}

func TestTemplateGolden(t *testing.T) {
	golden(t, "example.json", mustJSON(t, example()))
	golden(t, "every-option.json", mustJSON(t, everyOption()))
	y, err := YAML(example())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "example.yaml", y)
}

func TestTemplateIsDeterministic(t *testing.T) {
	first := mustJSON(t, everyOption())
	for range 5 {
		if !bytes.Equal(first, mustJSON(t, everyOption())) {
			t.Fatal("two builds of the same integration differ")
		}
	}
}

func TestYAMLIsTheSameTemplate(t *testing.T) {
	var fromJSON, fromYAML any
	if err := json.Unmarshal(mustJSON(t, example()), &fromJSON); err != nil {
		t.Fatal(err)
	}
	y, err := YAML(example())
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(y, &fromYAML); err != nil {
		t.Fatal(err)
	}
	// Round-trip the YAML through JSON so both sides have the same Go types.
	b, _ := json.Marshal(fromYAML)
	fromYAML = nil
	if err := json.Unmarshal(b, &fromYAML); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON, fromYAML) {
		t.Error("the YAML template is not the same template as the JSON one")
	}
}

func TestTemplateFitsInline(t *testing.T) {
	for name, in := range map[string]Integration{"example": example(), "every option": everyOption()} {
		if n := len(mustJSON(t, in)); n > MaxInlineTemplateBytes {
			t.Errorf("%s: template is %d bytes, over CloudFormation's inline limit of %d", name, n, MaxInlineTemplateBytes)
		}
	}
}

type rawTemplate struct {
	Description string
	Metadata    map[string]any
	Parameters  map[string]map[string]any
	Resources   map[string]struct {
		Type       string
		Condition  string
		Properties map[string]any
	}
	Outputs map[string]map[string]any
}

func parse(t *testing.T, body []byte) rawTemplate {
	t.Helper()
	var rt rawTemplate
	if err := json.Unmarshal(body, &rt); err != nil {
		t.Fatal(err)
	}
	return rt
}

// Without the CORS custom resource the template is exactly the vendor's access: one access
// point, one managed policy, one role. The CORS resources are tested in cors_test.go.
func TestTemplateResources(t *testing.T) {
	in := example()
	in.ManageCORS = false
	rt := parse(t, mustJSON(t, in))
	counts := map[string]int{}
	for id, r := range rt.Resources {
		if r.Condition == ManagesCors.Name {
			continue
		}
		counts[r.Type]++
		if id != AccessPointID && id != ReadPolicyID && id != VendorRoleID {
			t.Errorf("unexpected resource %s (%s)", id, r.Type)
		}
	}
	for _, typ := range []string{"AWS::S3::AccessPoint", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role"} {
		if counts[typ] != 1 {
			t.Errorf("want exactly one %s, got %d", typ, counts[typ])
		}
	}
	for _, bad := range []string{"AWS::S3::Bucket", "AWS::S3::BucketPolicy"} {
		if counts[bad] != 0 {
			t.Errorf("the template must never create or replace the customer's bucket settings, found %s", bad)
		}
	}
	ap := rt.Resources[AccessPointID].Properties
	if _, ok := ap["VpcConfiguration"]; ok {
		t.Error("the access point must have an Internet network origin (no VpcConfiguration)")
	}
	pab, _ := ap["PublicAccessBlockConfiguration"].(map[string]any)
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if pab[k] != true {
			t.Errorf("access point PublicAccessBlockConfiguration.%s = %v, want true", k, pab[k])
		}
	}
}

func TestTemplateOutputs(t *testing.T) {
	rt := parse(t, mustJSON(t, example()))
	for _, name := range []string{"RoleArn", "ExternalId", "AccessPointArn", "AccessPointAlias", "BucketName", "CorsManaged"} {
		o, ok := rt.Outputs[name]
		if !ok {
			t.Errorf("output %s is missing", name)
			continue
		}
		if d, _ := o["Description"].(string); strings.TrimSpace(d) == "" {
			t.Errorf("output %s has no description", name)
		}
	}
}

func TestTemplateParameters(t *testing.T) {
	rt := parse(t, mustJSON(t, example()))
	for _, p := range Params {
		got, ok := rt.Parameters[p.Name]
		if !ok {
			t.Errorf("parameter %s is missing", p.Name)
			continue
		}
		if got["NoEcho"] != nil {
			t.Errorf("parameter %s is NoEcho: quick-create links cannot prefill NoEcho parameters", p.Name)
		}
		if got["AllowedValues"] == nil && (got["AllowedPattern"] == nil || got["ConstraintDescription"] == nil) {
			t.Errorf("parameter %s has no AllowedPattern and ConstraintDescription", p.Name)
		}
	}
	if len(rt.Parameters) != len(Params) {
		t.Errorf("template has %d parameters, the model %d", len(rt.Parameters), len(Params))
	}
	if rt.Parameters["BucketName"]["Default"] != "my-bucket" || rt.Parameters["ExternalId"]["Default"] != exampleExternalID {
		t.Error("the flags' values must become the parameters' defaults")
	}
	if rt.Parameters["TrustedAccountId"]["Default"] != "999888496268" {
		t.Errorf("TrustedAccountId default = %v, want isahit Lab's account 999888496268", rt.Parameters["TrustedAccountId"]["Default"])
	}

	// The console interface lists every parameter exactly once, with a label.
	iface := rt.Metadata["AWS::CloudFormation::Interface"].(map[string]any)
	var grouped []string
	for _, g := range iface["ParameterGroups"].([]any) {
		for _, p := range g.(map[string]any)["Parameters"].([]any) {
			grouped = append(grouped, p.(string))
		}
	}
	var names []string
	for n := range rt.Parameters {
		names = append(names, n)
	}
	sort.Strings(grouped)
	sort.Strings(names)
	if !slices.Equal(grouped, names) {
		t.Errorf("parameter groups list %v, want each of %v once", grouped, names)
	}
	labels := iface["ParameterLabels"].(map[string]any)
	for _, n := range names {
		if labels[n] == nil {
			t.Errorf("parameter %s has no console label", n)
		}
	}
}

func TestRequiredParametersHaveNoDefaultWhenUnset(t *testing.T) {
	in := New(profile.Default())
	rt := parse(t, mustJSON(t, in))
	for _, name := range []string{"BucketName", "ExternalId"} {
		if d, ok := rt.Parameters[name]["Default"]; ok {
			t.Errorf("%s has default %v without a flag: the customer must fill it in", name, d)
		}
	}
}

// evaluate reads the template as CloudFormation would for these parameter values.
func evaluate(t *testing.T, in Integration, region, account string) map[string]map[string]any {
	t.Helper()
	pseudo := PseudoValues(region, account)
	pseudo["AWS::StackName"] = "isahit-lab-my-bucket"
	pseudo["AWS::StackId"] = "arn:aws:cloudformation:" + region + ":" + account + ":stack/isahit-lab-my-bucket/6f0e2a40-0f4b-11ef-9a6f-0a1b2c3d4e5f"
	tmpl, err := cfneval.Parse(mustJSON(t, in), nil, pseudo)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tmpl.Resources()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func policyOf(t *testing.T, res map[string]map[string]any, id, key string) any {
	t.Helper()
	r, ok := res[id]
	if !ok {
		t.Fatalf("resource %s does not exist", id)
	}
	return r["Properties"].(map[string]any)[key]
}

func jsonValue(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// The permissions policy, as IAM receives it, written out by hand for each shape.
func TestPermissionsPolicyAsDeployed(t *testing.T) {
	const ap = "arn:aws:s3:eu-west-3:111122223333:accesspoint/isahit-lab-access-point"
	withPrefix := example()
	withPrefix.ObjectPrefix = "images/"
	withKey := example()
	withKey.KMSKeyARN = "arn:aws:kms:eu-west-3:111122223333:key/k-1"
	cases := []struct {
		name string
		in   Integration
		want string
	}{
		{"whole bucket", example(), `{"Version":"2012-10-17","Statement":[
			{"Sid":"ListBucket","Effect":"Allow","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::my-bucket","` + ap + `"]},
			{"Sid":"GetObject","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::my-bucket/*","` + ap + `/object/*"]}]}`},
		{"prefix", withPrefix, `{"Version":"2012-10-17","Statement":[
			{"Sid":"ListBucketUnderPrefix","Effect":"Allow","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::my-bucket","` + ap + `"],
			 "Condition":{"StringLike":{"s3:prefix":["images/*"]}}},
			{"Sid":"GetObject","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::my-bucket/images/*","` + ap + `/object/images/*"]}]}`},
		{"kms key", withKey, `{"Version":"2012-10-17","Statement":[
			{"Sid":"ListBucket","Effect":"Allow","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::my-bucket","` + ap + `"]},
			{"Sid":"GetObject","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::my-bucket/*","` + ap + `/object/*"]},
			{"Sid":"DecryptThroughS3","Effect":"Allow","Action":["kms:Decrypt"],"Resource":["arn:aws:kms:eu-west-3:111122223333:key/k-1"],
			 "Condition":{"StringEquals":{"kms:ViaService":["s3.eu-west-3.amazonaws.com"]}}}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := evaluate(t, c.in, "eu-west-3", "111122223333")
			got := policyOf(t, res, ReadPolicyID, "PolicyDocument")
			if want := jsonValue(t, c.want); !reflect.DeepEqual(got, want) {
				g, _ := json.MarshalIndent(got, "", " ")
				t.Errorf("policy as deployed:\n%s", g)
			}
		})
	}
}

func TestPartitionIsNotHardCoded(t *testing.T) {
	res := evaluate(t, example(), "cn-north-1", "111122223333")
	doc, _ := json.Marshal(policyOf(t, res, ReadPolicyID, "PolicyDocument"))
	if !strings.Contains(string(doc), "arn:aws-cn:s3:::my-bucket") || strings.Contains(string(doc), "arn:aws:") {
		t.Errorf("in the China partition the policy must use arn:aws-cn: %s", doc)
	}
}

func TestTrustPolicyAsDeployed(t *testing.T) {
	res := evaluate(t, example(), "eu-west-3", "111122223333")
	got := policyOf(t, res, VendorRoleID, "AssumeRolePolicyDocument")
	want := jsonValue(t, `{"Version":"2012-10-17","Statement":[{"Sid":"VendorWithExternalId","Effect":"Allow",
		"Principal":{"AWS":"arn:aws:iam::999888496268:root"},"Action":["sts:AssumeRole"],
		"Condition":{"StringEquals":{"sts:ExternalId":["`+exampleExternalID+`"]}}}]}`)
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		t.Errorf("trust policy as deployed:\n%s", g)
	}
	if res[VendorRoleID]["Properties"].(map[string]any)["RoleName"] != nil {
		t.Error("without --role-name CloudFormation must name the role, so integrations never collide")
	}
	named := example()
	named.RoleName = "isahit-reader"
	res = evaluate(t, named, "eu-west-3", "111122223333")
	if got := res[VendorRoleID]["Properties"].(map[string]any)["RoleName"]; got != "isahit-reader" {
		t.Errorf("RoleName = %v, want isahit-reader", got)
	}
}

// Every statement of every policy in the template, in any shape, is least privilege.
func TestPoliciesAreLeastPrivilege(t *testing.T) {
	allowed := map[string]bool{"s3:ListBucket": true, "s3:GetObject": true, "kms:Decrypt": true, "sts:AssumeRole": true,
		"s3:GetBucketCORS": true, "s3:PutBucketCORS": true, "logs:CreateLogStream": true, "logs:PutLogEvents": true}
	for name, in := range map[string]Integration{"example": example(), "every option": everyOption()} {
		for _, prefix := range []string{"", "data/"} {
			in.ObjectPrefix = prefix
			res := evaluate(t, in, "eu-west-3", "111122223333")
			for id, r := range res {
				b, _ := json.Marshal(r["Properties"])
				var props struct {
					PolicyDocument, AssumeRolePolicyDocument *Document
					Policies                                 []struct{ PolicyDocument Document }
				}
				if err := json.Unmarshal(b, &props); err != nil {
					t.Fatal(err)
				}
				docs := []*Document{props.PolicyDocument, props.AssumeRolePolicyDocument}
				for i := range props.Policies {
					docs = append(docs, &props.Policies[i].PolicyDocument)
				}
				for _, d := range docs {
					if d == nil {
						continue
					}
					for _, s := range d.Statement {
						if s.Effect != "Allow" {
							continue
						}
						for _, a := range s.Action {
							if !allowed[a] || strings.Contains(a, "*") {
								t.Errorf("%s/%s: %s statement %s allows %q", name, prefix, id, s.Sid, a)
							}
						}
						for _, r := range s.Resource {
							if r == "*" || strings.HasSuffix(r, ":*") && !strings.HasPrefix(r, "arn:aws:logs:") {
								t.Errorf("%s/%s: %s statement %s has resource %q", name, prefix, id, s.Sid, r)
							}
						}
						for _, p := range s.Principal {
							if p == "*" {
								t.Errorf("%s/%s: %s statement %s trusts everyone", name, prefix, id, s.Sid)
							}
						}
					}
				}
			}
		}
	}
}

// Document.Resolve (used by the docs and checks) gives exactly what CloudFormation deploys.
func TestResolveMatchesTheDeployedTemplate(t *testing.T) {
	for name, in := range map[string]Integration{"example": example(), "every option": everyOption()} {
		vals := in.SubstitutionValues("eu-west-3", "111122223333")
		res := evaluate(t, in, "eu-west-3", "111122223333")
		for id, doc := range map[string]Document{ReadPolicyID: PermissionsPolicy(), VendorRoleID: TrustPolicy()} {
			key := "PolicyDocument"
			if id == VendorRoleID {
				key = "AssumeRolePolicyDocument"
			}
			resolved, err := doc.Resolve(vals)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(resolved)
			if want := jsonValue(t, string(b)); !reflect.DeepEqual(policyOf(t, res, id, key), want) {
				t.Errorf("%s: Resolve of %s differs from the deployed template", name, id)
			}
		}
	}
}

func TestResolveRefusesUnknownNames(t *testing.T) {
	if _, err := TrustPolicy().Resolve(map[string]string{"AWS::Partition": "aws"}); err == nil {
		t.Error("Resolve must fail when a value is missing")
	}
}

func BenchmarkTemplateJSON(b *testing.B) {
	in := everyOption()
	for b.Loop() {
		if _, err := JSON(in); err != nil {
			b.Fatal(err)
		}
	}
}
