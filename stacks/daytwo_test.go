package stacks

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/isahit/s3grant/internal/cfneval"
	"github.com/isahit/s3grant/profile"
)

const nextExternalID = "0b7d3c1e-51a4-4f0e-9d6b-8c2f7e1a9b30"

// During a rotation the trust policy, as CloudFormation resolves it, accepts exactly the two
// IDs; before and after, exactly one. Resolve (what the docs and the preview show) agrees.
func TestTrustPolicyDuringRotation(t *testing.T) {
	rotating := example()
	rotating.NextExternalID = nextExternalID
	cases := []struct {
		name string
		in   Integration
		want []any
	}{
		{"no rotation", example(), []any{exampleExternalID}},
		{"overlap", rotating, []any{exampleExternalID, nextExternalID}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := evaluate(t, c.in, "eu-west-3", "111122223333")
			doc := policyOf(t, res, VendorRoleID, "AssumeRolePolicyDocument").(map[string]any)
			st := doc["Statement"].([]any)
			if len(st) != 1 {
				t.Fatalf("want one trust statement, got %v", st)
			}
			got := st[0].(map[string]any)["Condition"].(map[string]any)["StringEquals"].(map[string]any)["sts:ExternalId"]
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("sts:ExternalId as deployed = %v, want %v", got, c.want)
			}
			resolved, err := TrustPolicy().Resolve(c.in.SubstitutionValues("eu-west-3", "111122223333"))
			if err != nil {
				t.Fatal(err)
			}
			ids := resolved.Statement[0].Condition["StringEquals"]["sts:ExternalId"]
			if strings.Join(ids, ",") != strings.Join(LiveExternalIDs(c.in.Values()), ",") || len(ids) != len(c.want) {
				t.Errorf("Resolve gives %v, live IDs %v", ids, LiveExternalIDs(c.in.Values()))
			}
		})
	}
}

func TestLiveExternalIdsOutput(t *testing.T) {
	rotating := example()
	rotating.NextExternalID = nextExternalID
	for in, want := range map[*Integration]string{
		func() *Integration { e := example(); return &e }(): exampleExternalID,
		&rotating: exampleExternalID + "," + nextExternalID,
	} {
		tmpl, err := cfneval.Parse(mustJSON(t, *in), nil, PseudoValues("eu-west-3", "111122223333"))
		if err != nil {
			t.Fatal(err)
		}
		var raw struct {
			Outputs map[string]struct{ Value any }
		}
		if err := json.Unmarshal(mustJSON(t, *in), &raw); err != nil {
			t.Fatal(err)
		}
		got, err := tmpl.Eval(raw.Outputs["LiveExternalIds"].Value)
		if err != nil || got != want {
			t.Errorf("LiveExternalIds = %v (%v), want %s", got, err, want)
		}
	}
}

// A stack's parameter values read back give the integration that produced them.
func TestFromValuesInvertsValues(t *testing.T) {
	in := everyOption()
	in.Region = ""
	in.NextExternalID = nextExternalID
	in.CORSRepairToken = "r-1"
	in.AccessPointName = "second-ap"
	in.Vendor.CORS.Origins = []string{"https://a.example.com"}
	back := FromValues(profile.Default(), in.Values())
	if !reflect.DeepEqual(back.Values(), in.Values()) {
		t.Errorf("round trip:\n got %v\nwant %v", back.Values(), in.Values())
	}
	// A v1 stack has no NextExternalId: it reads as "no rotation", the vendor's defaults elsewhere.
	old := FromValues(profile.Default(), map[string]string{"BucketName": "b-1", "ExternalId": exampleExternalID})
	if old.NextExternalID != "" || old.AccessPointName != profile.Default().AccessPointName || !old.ManageCORS {
		t.Errorf("defaults lost: %+v", old)
	}
}

func TestVendorChanges(t *testing.T) {
	base := example().Values()
	with := func(k, v string) map[string]string { return Overlay(base, map[string]string{k: v}) }
	rotating := with("NextExternalId", nextExternalID)
	cases := []struct {
		name     string
		old, new map[string]string
		want     []string // resource or parameter of each change
	}{
		{"nothing", base, base, nil},
		{"a KMS key", base, with("KmsKeyArn", "arn:aws:kms:eu-west-3:111122223333:key/k"), nil},
		{"a prefix", base, with("ObjectPrefix", "images/"), nil},
		{"access point name", base, with("AccessPointName", "other-ap"), []string{"AccessPointName:AccessPoint"}},
		{"bucket", base, with("BucketName", "other-bucket"), []string{"BucketName:AccessPoint"}},
		{"role name", base, with("RoleName", "reader"), []string{"RoleName:VendorRole"}},
		{"external ID reset", base, with("ExternalId", nextExternalID), []string{"ExternalId:"}},
		{"rotation starts", base, rotating, nil},
		{"rotation finishes", rotating, with("ExternalId", nextExternalID), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, vc := range VendorChanges("isahit Lab", c.old, c.new) {
				got = append(got, vc.Param+":"+vc.Resource)
				if !strings.Contains(vc.Tell, "isahit Lab") {
					t.Errorf("%q does not say whom to tell", vc.Tell)
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
	if _, ok := ReplacementOf("isahit Lab", AccessPointID, "Modify", "True"); !ok {
		t.Error("a replaced access point is a vendor change")
	}
	if _, ok := ReplacementOf("isahit Lab", VendorRoleID, "Modify", "False"); ok {
		t.Error("a role updated in place is not")
	}
	if _, ok := ReplacementOf("isahit Lab", CorsFunctionID, "Modify", "True"); ok {
		t.Error("the CORS function is not held by the vendor")
	}
}

func TestVersionOf(t *testing.T) {
	desc := description(example())
	if got := VersionOf(desc); got != TemplateVersion {
		t.Errorf("VersionOf(%q) = %q", desc, got)
	}
	if got := VersionOf("s3grant v1: read-only access"); got != "v1" {
		t.Errorf("v1 description: %q", got)
	}
	if got := VersionOf("someone else's stack"); got != "" {
		t.Errorf("foreign description: %q", got)
	}
}

// Each external ID may be 1,224 characters, but during a rotation the trust policy holds both,
// and IAM refuses a trust policy over 2,048 characters: Validate says so before any update.
func TestRotationFitsTheTrustPolicy(t *testing.T) {
	for _, c := range []struct {
		name, current, next, region string
		fits                        bool
	}{
		{"two UUIDs", exampleExternalID, nextExternalID, "eu-west-3", true},
		{"one long ID alone", strings.Repeat("x", 1224), "", "", true},
		{"two long IDs", strings.Repeat("x", 1224), strings.Repeat("y", 1224), "eu-west-3", false},
		{"two long IDs, no region", strings.Repeat("x", 1224), strings.Repeat("y", 1224), "", false},
	} {
		in := example()
		in.ExternalID, in.NextExternalID, in.Region = c.current, c.next, c.region
		err := in.Validate()
		var lim *LimitError
		switch {
		case c.fits && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case !c.fits && (!errors.As(err, &lim) || lim.Max != MaxTrustPolicyChars):
			t.Errorf("%s: %v, want the trust policy's limit", c.name, err)
		}
	}
}
