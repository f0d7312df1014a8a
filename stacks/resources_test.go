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
	big := manyBuckets(200)
	big.MaxManagedPolicies = RaisedManagedPoliciesPerRole
	attached := manyBuckets(3)
	attached.Role = RoleAttach("isahit-lab-home")
	for name, in := range map[string]Integration{"example": example(), "every option": everyOption(),
		"3 buckets": manyBuckets(3), "200 buckets": big, "attached role": attached} {
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

// With several buckets each per-bucket resource names the buckets it serves, every bucket has
// its access point and CORS rule, and every bucket is covered by one of the role's policies.
func TestResourcesPerBucket(t *testing.T) {
	in := manyBuckets(40)
	buckets, err := in.Buckets()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Resources(in)
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]map[string]int{}
	for _, r := range got {
		kind := r.Type
		if strings.HasPrefix(r.LogicalID, ReadPolicyID) {
			kind = "read"
		} else if strings.HasPrefix(r.LogicalID, CorsFunctionBucketID) {
			kind = "cors-access"
		}
		for _, b := range r.Buckets {
			if covered[kind] == nil {
				covered[kind] = map[string]int{}
			}
			covered[kind][b]++
		}
		if len(r.Buckets) == 0 && (r.Type == "AWS::S3::AccessPoint" || r.Type == BucketCorsType) {
			t.Errorf("%s names no bucket", r.LogicalID)
		}
	}
	for _, kind := range []string{"AWS::S3::AccessPoint", BucketCorsType, "read", "cors-access"} {
		for _, b := range buckets {
			if covered[kind][b.Name] != 1 {
				t.Errorf("%s: bucket %s served by %d resources", kind, b.Name, covered[kind][b.Name])
			}
		}
	}
	if got[0].LogicalID != AccessPointID || got[0].Buckets[0] != buckets[0].Name {
		t.Errorf("first resource %+v", got[0])
	}
}
