package verify_test

import (
	"context"
	"encoding/json"
	"reflect"
	"regexp"
	"testing"

	"github.com/isahit/s3grant/guide"
	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/site"
	"github.com/isahit/s3grant/site/sitetest"
	"github.com/isahit/s3grant/verify"
)

// fixJSON is the JSON document a fix prints: after "the policy ", "the rule " or inside the
// quotes of --policy-document.
var fixJSON = regexp.MustCompile(`(?:--policy-document '|the policy |the rule )(\{.*?\})(?:'| \(| to bucket)`)

// Each JSON a fix prints equals the document the guide's console page shows for the same
// values: the CORS rule, the permissions policy and the trust policy, so a user can paste
// either and get the same setup.
func TestFixJSONEqualsTheManualPage(t *testing.T) {
	cfg := guide.Config{Integration: input().Integration, AccountID: aw.CustomerAccount}
	cfg.Integration.KMSKeyARN = aw.KeyARN
	files := site.Files{}
	if err := guide.Build(context.Background(), cfg, files); err != nil {
		t.Fatal(err)
	}
	doc, err := sitetest.Parse(files["console.html"])
	if err != nil {
		t.Fatal(err)
	}
	var page []any
	for _, b := range sitetest.CodeBlocks(doc) {
		if b.Language == "json" {
			var v any
			if err := json.Unmarshal([]byte(b.Text), &v); err != nil {
				t.Fatal(err)
			}
			page = append(page, v)
		}
	}
	if len(page) != 3 {
		t.Fatalf("%d JSON snippets on the console page, want 3", len(page))
	}
	corsRule := page[0].([]any)[0]

	w := aw.Start(t)
	w.IAM.PutRole(aw.RoleName, aw.TrustPolicy(aw.VendorRoot, nil))  // trust without the external ID
	w.IAM.CreatePolicy(aw.PolicyName, aw.ReadPolicyWithout("Read")) // permissions without GetObject
	b := aw.GoodBucket()
	b.CORS = nil // no CORS at all
	w.S3.PutBucket(b)
	rep := runCustomer(t, w, input())
	fixes := map[string]string{}
	for _, c := range rep.Failed() {
		fixes[c.ID] = c.Fix
	}
	for _, tt := range []struct {
		check string
		want  any
	}{{verify.CheckCORS, corsRule}, {verify.CheckPermissions, page[1]}, {verify.CheckTrust, page[2]}} {
		m := fixJSON.FindStringSubmatch(fixes[tt.check])
		if m == nil {
			t.Errorf("%s: no JSON in the fix %q", tt.check, fixes[tt.check])
			continue
		}
		var got any
		if err := json.Unmarshal([]byte(m[1]), &got); err != nil {
			t.Errorf("%s: the fix's JSON does not parse: %v\n%s", tt.check, err, m[1])
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(tt.want)
			t.Errorf("%s: the fix prints\n%s\nthe manual page shows\n%s", tt.check, g, w)
		}
	}
}
