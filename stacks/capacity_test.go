package stacks

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

// capacity is the largest number of buckets one stack holds with the policy quota maxPolicies,
// buckets as worstBuckets makes them (the longest names AWS allows) and sizes at their worst
// (no region): the first count whose template (Template, the real one: ReadPolicy for the first
// bucket, packed policies for the others, the CORS policies, the resource and output counts)
// is refused, less one. It returns the limit that bound it.
func capacity(t testing.TB, maxPolicies int, prefix func(int) string) (int, string) {
	t.Helper()
	all := worstBuckets(t, 600, prefix)
	bound := ""
	n := sort.Search(len(all), func(n int) bool {
		if n == 0 {
			return false
		}
		in := example()
		in.AccessPointName = all[0].AccessPoint
		in.SetBuckets(all[:n])
		in.MaxManagedPolicies = maxPolicies
		if _, err := Template(in); err != nil {
			bound = err.Error()
			return true
		}
		return false
	})
	return n - 1, bound
}

// The README states the largest integration one stack holds; this keeps it true.
func TestREADMEStatesTheCapacity(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		quota int
		claim string
	}{
		{ManagedPoliciesPerRole, "%d buckets with the default quota of 10 managed policies per role"},
		{RaisedManagedPoliciesPerRole, "%d buckets with the quota raised to 20"},
	} {
		n, bound := capacity(t, c.quota, noPrefix)
		t.Logf("quota %d: %d buckets (bound by %s)", c.quota, n, bound)
		if want := fmt.Sprintf(c.claim, n); !strings.Contains(string(readme), want) {
			t.Errorf("README.md does not say %q", want)
		}
	}
	if n, _ := capacity(t, RaisedManagedPoliciesPerRole, noPrefix); n < 200 {
		t.Errorf("one stack holds %d worst-case buckets, the target is 200", n)
	}
}
