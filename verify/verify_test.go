package verify_test

import (
	"slices"
	"testing"

	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/verify"
)

// The catalog the guide lists is exactly what verify runs: every check of both reports, in
// order, with the same title, and nothing else.
func TestChecksCatalogIsWhatRuns(t *testing.T) {
	w := aw.Start(t)
	w.DeployStack(t, aw.StackOutputs)
	in := input()
	in.StackName = aw.StackName
	customer := runCustomer(t, w, in).Checks
	// The vendor side in the middle of a second rotation runs every vendor check: the next ID
	// accepted, the one before the current refused.
	const next, previous = "0b7d3c1e-51a4-4f0e-9d6b-8c2f7e1a9b30", "9e3f2a1b-0000-4000-8000-000000000001"
	w.IAM.PutRole(aw.RoleName, aw.TrustPolicy(aw.VendorRoot, map[string]any{"StringEquals": map[string]any{"sts:ExternalId": []string{aw.ExternalID, next}}}))
	vin := input()
	vin.Browser = true // its check is listed whether or not Chromium is installed here
	vin.NextExternalID, vin.PreviousExternalID = next, previous
	vendor := runVendor(t, w, vin).Checks
	results := append(customer, vendor...)
	catalog := verify.Checks()
	if got, want := ids(results), catalogIDs(catalog); !slices.Equal(got, want) {
		t.Fatalf("the reports run %v, the catalog lists %v", got, want)
	}
	for i, r := range results {
		c := catalog[i]
		if r.Title != c.Title || c.Title == "" || c.Proves == "" {
			t.Errorf("check %s: report title %q, catalog %+v", r.ID, r.Title, c)
		}
		if c.Vendor != (i >= len(results)-len(vendor)) {
			t.Errorf("check %s: Vendor = %v", c.ID, c.Vendor)
		}
	}
}

func catalogIDs(cs []verify.Check) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}
