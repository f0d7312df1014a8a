package stacks

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// The resource list is compared with the template's Resources section as JSON, read here
// independently of the goformation values Resources walks.
func TestResourcesAreTheTemplates(t *testing.T) {
	for name, in := range map[string]Integration{"example": example(), "every option": everyOption()} {
		t.Run(name, func(t *testing.T) {
			var doc struct {
				Resources map[string]struct{ Type, Condition string }
			}
			if err := json.Unmarshal(mustJSON(t, in), &doc); err != nil {
				t.Fatal(err)
			}
			got, err := Resources(in)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(doc.Resources) {
				t.Fatalf("Resources lists %d resources, the template has %d", len(got), len(doc.Resources))
			}
			for _, r := range got {
				want, ok := doc.Resources[r.LogicalID]
				if !ok {
					t.Errorf("%s is not a resource of the template", r.LogicalID)
					continue
				}
				if r.Type != want.Type || r.Condition != want.Condition {
					t.Errorf("%s: type %q condition %q, the template says %q %q", r.LogicalID, r.Type, r.Condition, want.Type, want.Condition)
				}
				if r.Purpose == "" || strings.Contains(r.Purpose, "%!") {
					t.Errorf("%s: purpose %q", r.LogicalID, r.Purpose)
				}
			}
		})
	}
}

func TestResourcesOrderAndConditions(t *testing.T) {
	got, err := Resources(example())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range got {
		ids = append(ids, r.LogicalID)
		if want := r.LogicalID != AccessPointID && r.LogicalID != ReadPolicyID && r.LogicalID != VendorRoleID; r.Conditional() != want {
			t.Errorf("%s conditional %v, want %v", r.LogicalID, r.Conditional(), want)
		}
	}
	want := []string{AccessPointID, ReadPolicyID, VendorRoleID, BucketCorsID, CorsFunctionID, CorsFunctionRoleID,
		CorsFunctionBucketID, CorsFunctionLogGroupID, CorsFunctionNoRetryID}
	if !slices.Equal(ids, want) {
		t.Errorf("order %v, want %v", ids, want)
	}
}
