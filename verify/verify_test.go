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
	vin := input()
	vin.Browser = true // its check is listed whether or not Chromium is installed here
	results := append(runCustomer(t, w, in).Checks, runVendor(t, w, vin).Checks...)
	catalog := verify.Checks()
	if got, want := ids(results), catalogIDs(catalog); !slices.Equal(got, want) {
		t.Fatalf("the reports run %v, the catalog lists %v", got, want)
	}
	for i, r := range results {
		c := catalog[i]
		if r.Title != c.Title || c.Title == "" || c.Proves == "" {
			t.Errorf("check %s: report title %q, catalog %+v", r.ID, r.Title, c)
		}
		if c.Vendor != (i >= len(results)-len(vendorChecks)-1) {
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
