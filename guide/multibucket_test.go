package guide_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/isahit/s3grant/guide"
	"github.com/isahit/s3grant/site/sitetest"
	"github.com/isahit/s3grant/stacks"
)

// several is a personal guide for three buckets, one under a prefix.
func several() guide.Config {
	cfg := personal("", "")
	cfg.Integration.SetBuckets([]stacks.Bucket{{Name: exampleBucket}, {Name: "team-b-data", Prefix: "raw/"}, {Name: "team-c.video"}})
	return cfg
}

// The manual page of several buckets creates what the stack creates: the CORS rule for each
// bucket, an access point per bucket, and each of the role's packed policies as the template
// evaluates it; the overview lists each bucket's resources.
func TestConsolePage_SeveralBuckets(t *testing.T) {
	cfg := several()
	files := build(t, cfg)
	console := page(t, files, "console.html")
	snippets := jsonSnippets(t, console)
	res := evaluatedTemplate(t, cfg)
	var policies []any
	for _, id := range []string{stacks.ReadPolicyID, stacks.ReadPolicyID + "2", stacks.ReadPolicyID + "3"} {
		if r, ok := res[id]; ok {
			policies = append(policies, r["Properties"].(map[string]any)["PolicyDocument"])
		}
	}
	if len(policies) < 2 || len(snippets) != 2+len(policies) {
		t.Fatalf("%d JSON snippets, %d role policies in the template", len(snippets), len(policies))
	}
	for i, want := range policies {
		if !reflect.DeepEqual(snippets[1+i], want) {
			g, _ := json.MarshalIndent(snippets[1+i], "", " ")
			w, _ := json.MarshalIndent(want, "", " ")
			t.Errorf("policy %d on the page:\n%s\nthe template's:\n%s", i+1, g, w)
		}
	}
	trust := res[stacks.VendorRoleID]["Properties"].(map[string]any)["AssumeRolePolicyDocument"]
	if !reflect.DeepEqual(snippets[len(snippets)-1], trust) {
		t.Errorf("trust policy differs from the template's")
	}
	text := console.TextContent()
	buckets, err := cfg.Integration.Buckets()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range buckets {
		for _, want := range []string{b.Name, b.AccessPoint, fmt.Sprintf("arn:aws:s3:%s:%s:accesspoint/%s", exampleRegion, exampleAccount, b.AccessPoint)} {
			if !strings.Contains(text, want) {
				t.Errorf("the manual page lacks %q", want)
			}
		}
	}
	for id, r := range res {
		if r["Type"] == "AWS::S3::AccessPoint" && !strings.Contains(text, r["Properties"].(map[string]any)["Name"].(string)) {
			t.Errorf("access point %s of the template is not on the manual page", id)
		}
	}
	overview := page(t, files, "index.html").TextContent()
	for id := range res {
		if !strings.Contains(overview, id) {
			t.Errorf("the overview does not list %s", id)
		}
	}
	for _, want := range []string{"read access to 3 buckets", "keys under raw/"} {
		if !strings.Contains(overview, want) {
			t.Errorf("the overview lacks %q", want)
		}
	}
	reference := page(t, files, "reference.html").TextContent()
	for _, want := range []string{"MoreBuckets1", "isahit-lab-s3-read-2"} {
		if !strings.Contains(reference, want) {
			t.Errorf("the reference lacks %q", want)
		}
	}
	for _, err := range sitetest.CheckLinks(files.FS()) {
		t.Error(err)
	}
}
