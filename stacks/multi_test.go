package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/isahit/s3grant/internal/cfneval"
	"github.com/isahit/s3grant/internal/rules"
)

// manyBuckets is example() with n buckets: my-bucket first, then data-NNN.example, every 50th with
// a prefix of its own (buckets with distinct prefixes cannot share a listing statement).
func manyBuckets(n int) Integration {
	in := example()
	for i := 1; i < n; i++ {
		b := Bucket{Name: fmt.Sprintf("data-%03d.example", i)}
		if i%50 == 0 {
			b.Prefix = fmt.Sprintf("team-%d/", i)
		}
		in.MoreBuckets = append(in.MoreBuckets, b)
	}
	return in
}

type genericTemplate struct {
	Metadata   map[string]any
	Parameters map[string]any
	Conditions map[string]any
	Resources  map[string]struct {
		Type       string
		Properties map[string]any
		DependsOn  []string
		Condition  string
	}
	Outputs map[string]struct{ Value any }
}

func readGeneric(t *testing.T, body []byte) genericTemplate {
	t.Helper()
	var g genericTemplate
	if err := json.Unmarshal(body, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// stackPseudo are the pseudo parameters CloudFormation gives a stack named isahit-lab-my-bucket
// in region.
func stackPseudo(region string) map[string]string {
	p := PseudoValues(region, "111122223333")
	p["AWS::StackName"] = "isahit-lab-my-bucket"
	return p
}

// evaluated resolves the template as CloudFormation would in eu-west-3, resource by resource.
func evaluated(t *testing.T, body []byte) map[string]map[string]any {
	t.Helper()
	ev, err := cfneval.Parse(body, nil, stackPseudo("eu-west-3"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for id, r := range readGeneric(t, body).Resources {
		if !ev.Condition(r.Condition) {
			continue
		}
		props, err := ev.Eval(r.Properties)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		m, _ := props.(map[string]any)
		out[id] = map[string]any{"Type": r.Type, "Properties": m, "DependsOn": r.DependsOn}
	}
	return out
}

func TestThreeBucketsTemplate(t *testing.T) {
	in := manyBuckets(3)
	body := mustJSON(t, in)
	res := evaluated(t, body)
	buckets, err := in.Buckets()
	if err != nil {
		t.Fatal(err)
	}
	aps := map[string]string{}
	for id, r := range res {
		if r["Type"] == "AWS::S3::AccessPoint" {
			p := r["Properties"].(map[string]any)
			aps[p["Bucket"].(string)] = p["Name"].(string)
			if id == AccessPointID && p["Bucket"] != "my-bucket" {
				t.Errorf("AccessPoint is on %v; the first bucket keeps the one-bucket logical ID", p["Bucket"])
			}
		}
	}
	for _, b := range buckets {
		if aps[b.Name] != b.AccessPoint || b.AccessPoint == "" {
			t.Errorf("bucket %s: access point %q, want %q", b.Name, aps[b.Name], b.AccessPoint)
		}
	}
	if len(aps) != 3 || aps["my-bucket"] != "isahit-lab-access-point" {
		t.Errorf("access points %v, want three, the first named isahit-lab-access-point", aps)
	}
	// One CORS function, one rule per bucket, each depending on a policy that lets it write its bucket.
	var rules []string
	for id, r := range res {
		switch r["Type"] {
		case "AWS::Lambda::Function":
			if id != CorsFunctionID {
				t.Errorf("a second function %s", id)
			}
		case BucketCorsType:
			p := r["Properties"].(map[string]any)
			rules = append(rules, p["BucketName"].(string))
			granted := false
			for _, dep := range r["DependsOn"].([]string) {
				raw, _ := json.Marshal(res[dep]["Properties"])
				granted = granted || strings.Contains(string(raw), "arn:aws:s3:::"+p["BucketName"].(string)+`"`)
			}
			if !granted {
				t.Errorf("%s (bucket %v) depends on no policy granting its bucket: %v", id, p["BucketName"], r["DependsOn"])
			}
		}
	}
	slices.Sort(rules)
	if want := []string{"data-001.example", "data-002.example", "my-bucket"}; !reflect.DeepEqual(rules, want) {
		t.Errorf("CORS rules on %v, want %v", rules, want)
	}
	// The one vendor role holds every read policy.
	role := res[VendorRoleID]["Properties"].(map[string]any)
	arns := role["ManagedPolicyArns"].([]any)
	var readIDs []string
	for id, r := range res {
		if r["Type"] == "AWS::IAM::ManagedPolicy" && strings.HasPrefix(id, ReadPolicyID) {
			readIDs = append(readIDs, id)
		}
	}
	if len(arns) != len(readIDs) || len(arns) != 2 {
		t.Errorf("role has %d policies (%v), the template %d read policies; want 2", len(arns), arns, len(readIDs))
	}
	g := readGeneric(t, body)
	if o, ok := g.Outputs["MoreBuckets1"]; !ok {
		t.Errorf("no MoreBuckets1 output: %v", g.Outputs)
	} else {
		ev, err := cfneval.Parse(body, nil, PseudoValues("eu-west-3", "111122223333"))
		if err != nil {
			t.Fatal(err)
		}
		v, err := ev.Eval(o.Value)
		if err != nil {
			t.Fatal(err)
		}
		got := BucketOutputs(map[string]string{"MoreBuckets1": v.(string)})
		if len(got) != 2 || got[0].Bucket != "data-001.example" || got[1].Bucket != "data-002.example" ||
			got[0].AccessPointArn != "<"+BucketLogicalID(AccessPointID, 1, buckets[1])+".Arn>" || got[1].AccessPointAlias != "<"+BucketLogicalID(AccessPointID, 2, buckets[2])+".Alias>" {
			t.Errorf("MoreBuckets1 = %q reads as %+v", v, got)
		}
	}
	more, role2, err := ShapeOf(body)
	if err != nil || len(more) != 2 || more[0].Name != "data-001.example" || more[1].Name != "data-002.example" {
		t.Errorf("ShapeOf = %v, %v", more, err)
	}
	if _, attached := role2.Attached(); attached {
		t.Error("ShapeOf says the stack attaches to a role")
	}
}

// Today's one-bucket template and the two-bucket one share the first bucket's resources, so an
// upgrade keeps the role and the access point (same logical IDs, same replacing properties).
func TestGrowingKeepsTheFirstBucketsResources(t *testing.T) {
	one, two := evaluated(t, mustJSON(t, example())), evaluated(t, mustJSON(t, manyBuckets(2)))
	for _, id := range []string{AccessPointID, VendorRoleID, ReadPolicyID, BucketCorsID, CorsFunctionID, CorsFunctionRoleID, CorsFunctionBucketID} {
		if _, ok := two[id]; !ok {
			t.Errorf("%s is gone from the two-bucket template", id)
		}
	}
	if !reflect.DeepEqual(one[AccessPointID], two[AccessPointID]) {
		t.Errorf("the access point changes:\n%v\n%v", one[AccessPointID], two[AccessPointID])
	}
	if !reflect.DeepEqual(one[BucketCorsID]["Properties"], two[BucketCorsID]["Properties"]) {
		t.Errorf("the first bucket's CORS rule changes")
	}
	r1, r2 := one[VendorRoleID]["Properties"].(map[string]any), two[VendorRoleID]["Properties"].(map[string]any)
	for _, p := range []string{"RoleName", "Path", "AssumeRolePolicyDocument"} {
		if !reflect.DeepEqual(r1[p], r2[p]) {
			t.Errorf("the role's %s changes: %v → %v", p, r1[p], r2[p])
		}
	}
	if !reflect.DeepEqual(one[ReadPolicyID], two[ReadPolicyID]) {
		t.Errorf("ReadPolicy changes")
	}
}

// Removing a bucket removes its access point and its rule only; the CORS policy that covered it
// is replaced (a new logical ID), so the old one outlives the removed rule's deletion.
func TestRemovingABucketTouchesOnlyItsOwn(t *testing.T) {
	four := manyBuckets(4)
	three := four
	three.MoreBuckets = slices.Delete(slices.Clone(four.MoreBuckets), 1, 2) // data-002 leaves
	a, b := evaluated(t, mustJSON(t, four)), evaluated(t, mustJSON(t, three))
	var gone, changed []string
	for id, r := range a {
		nr, ok := b[id]
		switch {
		case !ok:
			gone = append(gone, id)
		case !reflect.DeepEqual(r["Properties"], nr["Properties"]):
			changed = append(changed, id)
		}
	}
	slices.Sort(gone)
	removed := Bucket{Name: "data-002.example"}
	for _, want := range []string{BucketLogicalID(AccessPointID, 1, removed), BucketLogicalID(BucketCorsID, 1, removed)} {
		if !slices.Contains(gone, want) {
			t.Errorf("%s not removed; removed: %v", want, gone)
		}
	}
	for _, id := range gone {
		typ := a[id]["Type"]
		if typ != "AWS::S3::AccessPoint" && typ != BucketCorsType && !strings.HasPrefix(id, CorsFunctionBucketID) {
			t.Errorf("%s (%s) removed", id, typ)
		}
		if typ == "AWS::S3::AccessPoint" && id != BucketLogicalID(AccessPointID, 1, removed) {
			t.Errorf("another bucket's access point %s removed", id)
		}
	}
	if !slices.ContainsFunc(gone, func(id string) bool { return strings.HasPrefix(id, CorsFunctionBucketID) }) {
		t.Errorf("the CORS policy that covered the removed bucket keeps its logical ID (it would lose the bucket before the rule's removal): removed %v", gone)
	}
	for _, id := range changed {
		if typ := a[id]["Type"]; typ != "AWS::IAM::ManagedPolicy" {
			t.Errorf("%s (%s) changes", id, typ)
		}
	}
}

func TestRoleAttach(t *testing.T) {
	in := manyBuckets(3)
	in.Role = RoleAttach("isahit-lab-reader")
	in.ExternalID = ""
	body := mustJSON(t, in)
	g := readGeneric(t, body)
	for _, p := range []string{"ExternalId", "NextExternalId", "TrustedAccountId", "RoleName"} {
		if _, ok := g.Parameters[p]; ok {
			t.Errorf("parameter %s in a stack that attaches to a role", p)
		}
	}
	for _, c := range []string{HasRoleName.Name, Rotating.Name} {
		if _, ok := g.Conditions[c]; ok {
			t.Errorf("condition %s in a stack that attaches to a role", c)
		}
	}
	res := evaluated(t, body)
	for id, r := range res {
		if r["Type"] == "AWS::IAM::Role" && id != CorsFunctionRoleID {
			t.Errorf("the attaching stack creates role %s", id)
		}
		if r["Type"] == "AWS::IAM::ManagedPolicy" && strings.HasPrefix(id, ReadPolicyID) {
			if roles := r["Properties"].(map[string]any)["Roles"]; !reflect.DeepEqual(roles, []any{"isahit-lab-reader"}) {
				t.Errorf("%s attaches to %v", id, roles)
			}
		}
	}
	ev, err := cfneval.Parse(body, nil, PseudoValues("us-east-1", "111122223333"))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := ev.Eval(g.Outputs["RoleArn"].Value); err != nil || v != "arn:aws:iam::111122223333:role/isahit-lab-reader" {
		t.Errorf("RoleArn = %v, %v", v, err)
	}
	if _, ok := g.Outputs["ExternalId"]; ok {
		t.Error("an ExternalId output in a stack without the role")
	}
	if _, role, _ := ShapeOf(body); role != RoleAttach("isahit-lab-reader") {
		t.Errorf("ShapeOf role = %+v", role)
	}
	in.Role = RoleAttach("bad role")
	var inv *rules.InvalidError
	if _, err := JSON(in); !errors.As(err, &inv) || inv.Field != FieldAttachRole {
		t.Errorf("a bad role name: %v", err)
	}
}

// 200 buckets fit one stack: every policy within IAM's size, the role's quota, the resources
// and outputs of one stack, the template within S3's 1 MB (and over the inline limit).
func TestTwoHundredBucketsWithinTheLimits(t *testing.T) {
	in := manyBuckets(200)
	in.Region = "eu-west-3"
	body := mustJSON(t, in)
	if len(body) <= MaxInlineTemplateBytes || len(body) > MaxS3TemplateBytes {
		t.Errorf("template is %d bytes; want over the inline %d and within %d", len(body), MaxInlineTemplateBytes, MaxS3TemplateBytes)
	}
	g := readGeneric(t, body)
	if n := len(g.Resources); n > MaxStackResources {
		t.Errorf("%d resources", n)
	}
	if n := len(g.Outputs); n > MaxStackOutputs {
		t.Errorf("%d outputs", n)
	}
	res := evaluated(t, body)
	policies := map[string]int{}
	for id, r := range res {
		if r["Type"] != "AWS::IAM::ManagedPolicy" {
			continue
		}
		doc, _ := json.Marshal(r["Properties"].(map[string]any)["PolicyDocument"])
		// Measured on the evaluated document, whitespace-free JSON, as IAM counts it.
		if n := len([]rune(string(doc))); n > MaxManagedPolicyChars {
			t.Errorf("%s is %d characters", id, n)
		}
		if strings.HasPrefix(id, ReadPolicyID) {
			policies["read"]++
		} else {
			policies["cors"]++
		}
	}
	if policies["read"] > ManagedPoliciesPerRole || policies["cors"] > ManagedPoliciesPerRole || policies["read"] < 2 {
		t.Errorf("policies: %v", policies)
	}
	if n := len(res[VendorRoleID]["Properties"].(map[string]any)["ManagedPolicyArns"].([]any)); n != policies["read"] {
		t.Errorf("role holds %d of %d read policies", n, policies["read"])
	}
	// Every bucket is granted: its list, read and CORS permissions are in some policy.
	var all strings.Builder
	for _, r := range res {
		raw, _ := json.Marshal(r["Properties"])
		all.Write(raw)
	}
	buckets, _ := in.Buckets()
	for _, b := range buckets {
		for _, want := range []string{"arn:aws:s3:::" + b.Name + `"`, "arn:aws:s3:::" + b.Name + "/" + b.Prefix + `*"`, "accesspoint/" + b.AccessPoint + `"`} {
			if !strings.Contains(all.String(), want) {
				t.Errorf("bucket %s: %s granted nowhere", b.Name, want)
			}
		}
	}
}

func TestManyBucketsRefusals(t *testing.T) {
	dup := manyBuckets(3)
	dup.MoreBuckets = append(dup.MoreBuckets, Bucket{Name: "my-bucket", Prefix: "x/"})
	tooMany := manyBuckets(3)
	tooMany.MaxManagedPolicies = 1
	cases := map[string]struct {
		in    Integration
		field string
		says  string
	}{
		"a bucket twice": {dup, FieldBuckets, "conflicting prefixes"},
		"no policy left": {tooMany, FieldBuckets, "managed policies a role may have attached"},
	}
	for name, c := range cases {
		_, err := JSON(c.in)
		var inv *rules.InvalidError
		if !errors.As(err, &inv) || inv.Field != c.field || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v; want %s saying %q", name, err, c.field, c.says)
		}
	}
	huge := example()
	for i := 0; i < 260; i++ {
		huge.MoreBuckets = append(huge.MoreBuckets, Bucket{Name: fmt.Sprintf("b-%04d", i)})
	}
	huge.MaxManagedPolicies = RaisedManagedPoliciesPerRole
	var lim *LimitError
	if _, err := JSON(huge); !errors.As(err, &lim) || !strings.Contains(err.Error(), "resources per stack") {
		t.Errorf("261 buckets: %v, want the resources limit", err)
	}
}

func TestBucketChanges(t *testing.T) {
	four := manyBuckets(4)
	old, _ := four.Buckets()
	three := four
	three.MoreBuckets = slices.Delete(slices.Clone(four.MoreBuckets), 0, 1)
	now, _ := three.Buckets()
	got := BucketChanges("isahit Lab", old, now)
	if len(got) != 1 || got[0].Old != "data-001.example" || got[0].Resource != BucketLogicalID(AccessPointID, 1, old[1]) ||
		!strings.Contains(got[0].Tell, "leaves the integration") {
		t.Errorf("removing data-001: %+v", got)
	}
	if c, ok := ReplacementOf("isahit Lab", got[0].Resource, "Remove", ""); !ok || !strings.Contains(c.Tell, "removed") {
		t.Errorf("the change set's removal of %s is not guarded: %+v", got[0].Resource, c)
	}
	renamed := four
	renamed.AccessPointName = "other-ap"
	now, _ = renamed.Buckets()
	if got := BucketChanges("isahit Lab", old, now); len(got) != 3 {
		t.Errorf("a new AccessPointName renames the 3 derived access points: %+v", got)
	}
	grown := manyBuckets(6)
	now, _ = grown.Buckets()
	if got := BucketChanges("isahit Lab", old, now); len(got) != 0 {
		t.Errorf("adding buckets: %+v", got)
	}
	if _, ok := ReplacementOf("isahit Lab", BucketLogicalID(BucketCorsID, 1, old[1]), "Remove", ""); ok {
		t.Error("a CORS rule's removal is called vendor-held")
	}
}
