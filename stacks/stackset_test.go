package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/profile"
)

func orgIntegration() Integration {
	in := New(profile.Default())
	in.ExternalID = "a6fa9c7f-7f53-4a41-812d-a29f48288a94"
	in.RoleName = "isahit-lab-org"
	return in
}

// stackSetDoc builds the template and reads it back as generic JSON.
func stackSetDoc(t *testing.T, in Integration, s StackSetTemplate) (raw []byte, doc map[string]any) {
	t.Helper()
	tmpl, err := BuildStackSetTemplate(in, s)
	if err != nil {
		t.Fatal(err)
	}
	raw, err = tmpl.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return raw, doc
}

func section(doc map[string]any, name string) map[string]any {
	m, _ := doc[name].(map[string]any)
	return m
}

// The vendor role exists only where IsHomeRegion holds; every other per-account resource is
// regional, and the policy reaches the role by name (a Ref to the role in the home region).
func TestStackSetTemplateSplitsGlobalFromRegional(t *testing.T) {
	_, doc := stackSetDoc(t, orgIntegration(), StackSetTemplate{Slots: 3})
	res := section(doc, "Resources")
	var roles []string
	for id, r := range res {
		r := r.(map[string]any)
		if r["Type"] != "AWS::IAM::Role" {
			continue
		}
		roles = append(roles, id)
		if id == VendorRoleID && r["Condition"] != IsHomeRegion {
			t.Errorf("the vendor role has condition %v, want %s", r["Condition"], IsHomeRegion)
		}
		if id != VendorRoleID {
			if props := r["Properties"].(map[string]any); props["RoleName"] != nil {
				t.Errorf("role %s is named %v: only the vendor role may have a fixed name (one per account)", id, props["RoleName"])
			}
		}
	}
	if len(roles) != 2 { // the vendor role and the CORS function's (generated name, per region)
		t.Errorf("roles %v", roles)
	}
	vendor := res[VendorRoleID].(map[string]any)["Properties"].(map[string]any)
	if fmt.Sprint(vendor["RoleName"]) != "map[Ref:RoleName]" {
		t.Errorf("RoleName %v", vendor["RoleName"])
	}
	if vendor["ManagedPolicyArns"] != nil {
		t.Errorf("the role lists policies %v: regional policies attach themselves", vendor["ManagedPolicyArns"])
	}
	pol := res[RegionalReadPolicyID].(map[string]any)
	if pol["Condition"] != nil {
		t.Errorf("the regional policy is conditional: %v", pol["Condition"])
	}
	wantRoles := `[map[Fn::If:[IsHomeRegion map[Ref:VendorRole] map[Ref:RoleName]]]]`
	if got := fmt.Sprint(pol["Properties"].(map[string]any)["Roles"]); got != wantRoles {
		t.Errorf("policy Roles %s, want %s", got, wantRoles)
	}
	for k := 1; k <= 3; k++ {
		ap := res[fmt.Sprintf("AccessPoint%d", k)].(map[string]any)
		if ap["Condition"] != fmt.Sprintf("HasBucket%d", k) {
			t.Errorf("AccessPoint%d condition %v", k, ap["Condition"])
		}
		cors := res[fmt.Sprintf("BucketCors%d", k)].(map[string]any)
		if cors["Condition"] != fmt.Sprintf("CorsBucket%d", k) {
			t.Errorf("BucketCors%d condition %v", k, cors["Condition"])
		}
	}
	params := section(doc, "Parameters")
	for _, p := range []string{"Bucket3", "Prefix3", "AccessPointName3", HomeRegionParam, "RoleName", "ExternalId"} {
		if params[p] == nil {
			t.Errorf("no parameter %s", p)
		}
	}
	for _, p := range []string{"BucketName", "AccessPointName", "ObjectPrefix", "Bucket4"} {
		if params[p] != nil {
			t.Errorf("parameter %s should not be in the StackSet template", p)
		}
	}
}

// Service-managed rollouts write the bucket naming rules into the template: no slots, no
// per-account parameter, the rule resolved by CloudFormation in each account.
func TestStackSetTemplateWithNamingRules(t *testing.T) {
	buckets, err := NameAccessPoints("isahit-lab-access-point", []Bucket{{Name: "data-${AWS::AccountId}"}, {Name: "video-${AWS::AccountId}-${AWS::Region}", Prefix: "clips/"}})
	if err != nil {
		t.Fatal(err)
	}
	raw, doc := stackSetDoc(t, orgIntegration(), StackSetTemplate{Rules: buckets})
	if params := section(doc, "Parameters"); params["Bucket1"] != nil {
		t.Error("a naming rule template has slot parameters")
	}
	if !strings.Contains(string(raw), `"Fn::Sub": "arn:${AWS::Partition}:s3:::video-${AWS::AccountId}-${AWS::Region}/clips/*"`) {
		t.Errorf("the rule is not in the read policy:\n%s", raw)
	}
	if _, err := BuildStackSetTemplate(orgIntegration(), StackSetTemplate{Rules: []Bucket{{Name: "data-${AWS::StackName}"}}}); err == nil {
		t.Error("a rule with another variable is accepted")
	}
}

func TestStackSetTemplateRefusals(t *testing.T) {
	in := orgIntegration()
	in.RoleName = ""
	var inv *rules.InvalidError
	if _, err := BuildStackSetTemplate(in, StackSetTemplate{Slots: 1}); !errors.As(err, &inv) || inv.Field != "RoleName" {
		t.Errorf("no role name: %v", err)
	}
	if _, err := BuildStackSetTemplate(orgIntegration(), StackSetTemplate{Slots: MaxStackSetSlots + 1}); !errors.As(err, &inv) {
		t.Errorf("too many slots: %v", err)
	}
	tmpl, err := BuildStackSetTemplate(orgIntegration(), StackSetTemplate{Slots: MaxStackSetSlots})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(tmpl.Parameters); n > MaxStackParameters {
		t.Errorf("%d parameters at the most slots, over CloudFormation's %d", n, MaxStackParameters)
	}
	if n := len(tmpl.Outputs); n > MaxStackOutputs {
		t.Errorf("%d outputs at the most slots, over CloudFormation's %d", n, MaxStackOutputs)
	}
}

// The regional read policy IAM receives for one instance grants exactly its buckets, and an
// instance whose policy would pass IAM's size limit is refused before anything is deployed.
func TestInstancePolicy(t *testing.T) {
	buckets, _ := NameAccessPoints("isahit-lab-access-point", []Bucket{{Name: "acme-images"}, {Name: "acme-video", Prefix: "clips/"}})
	vals := InstanceValues("eu-west-3", buckets)
	want := map[string]string{"HomeRegion": "eu-west-3", "Bucket1": "acme-images", "AccessPointName1": "isahit-lab-access-point",
		"Bucket2": "acme-video", "Prefix2": "clips/", "AccessPointName2": buckets[1].AccessPoint}
	if fmt.Sprint(vals) != fmt.Sprint(want) {
		t.Errorf("values %v, want %v", vals, want)
	}
	if err := CheckInstancePolicy("111122223333", "eu-west-3", buckets); err != nil {
		t.Errorf("two buckets: %v", err)
	}
	var many []Bucket
	for i := range 40 {
		many = append(many, Bucket{Name: fmt.Sprintf("acme-bucket-with-a-long-name-%02d", i), Prefix: "some/prefix/"})
	}
	many, _ = NameAccessPoints("isahit-lab-access-point", many)
	var inv *rules.InvalidError
	if err := CheckInstancePolicy("111122223333", "eu-west-3", many); !errors.As(err, &inv) || !strings.Contains(inv.Reason, "6144") {
		t.Errorf("40 buckets: %v", err)
	}
}

// cfn-lint reads the StackSet templates as valid CloudFormation.
func TestStackSetTemplatesPassCfnLint(t *testing.T) {
	lint := cfnLintPath(t)
	dir := t.TempDir()
	rulesB, _ := NameAccessPoints("isahit-lab-access-point", []Bucket{{Name: "data-${AWS::AccountId}", Prefix: "images/"}})
	var files []string
	for name, s := range map[string]StackSetTemplate{"slots-1": {Slots: 1}, "slots-4": {Slots: 4}, "rules": {Rules: rulesB}} {
		for _, cors := range []bool{true, false} {
			in := orgIntegration()
			in.ManageCORS = cors
			raw, _ := stackSetDoc(t, in, s)
			f := filepath.Join(dir, fmt.Sprintf("%s-cors-%t.json", name, cors))
			if err := os.WriteFile(f, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
	}
	cfnLint(t, lint, files)
}
