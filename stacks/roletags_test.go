package stacks

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/isahit/s3grant/internal/cfneval"
)

// CloudFormation puts no aws:cloudformation:* tags on IAM roles, so every template that creates
// the vendor role tags it with its stack's name and region itself: verify finds the stack from
// them.
func TestVendorRoleTagsNameItsStack(t *testing.T) {
	set, err := BuildStackSetTemplate(orgIntegration(), StackSetTemplate{Slots: 2})
	if err != nil {
		t.Fatal(err)
	}
	setBody, err := set.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"single stack", mustJSON(t, example())},
		{"several buckets", mustJSON(t, manyBuckets(3))},
		{"stack set", setBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g struct {
				Resources map[string]struct{ Properties map[string]any }
			}
			if err := json.Unmarshal(tc.body, &g); err != nil {
				t.Fatal(err)
			}
			ev, err := cfneval.Parse(tc.body, map[string]string{HomeRegionParam: "us-east-1"}, stackPseudo("us-east-1"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ev.Eval(g.Resources[VendorRoleID].Properties["Tags"])
			if err != nil {
				t.Fatal(err)
			}
			want := []any{
				map[string]any{"Key": "s3grant:stack-name", "Value": "isahit-lab-my-bucket"},
				map[string]any{"Key": "s3grant:stack-region", "Value": "us-east-1"},
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("VendorRole Tags = %v; want %v", got, want)
			}
		})
	}
}
