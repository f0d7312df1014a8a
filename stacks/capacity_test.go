package stacks

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

// capacity is the largest number of buckets one stack holds with the policy quota maxPolicies,
// buckets as worstBuckets makes them: the first count whose packing or resource count fails,
// less one. It returns what bound it.
func capacity(t testing.TB, maxPolicies int, prefix func(int) string) (int, string) {
	t.Helper()
	all := worstBuckets(t, 600, prefix)
	bound := ""
	n := sort.Search(len(all), func(n int) bool {
		if n == 0 {
			return false
		}
		read, err := PackReadPolicies(all[:n], WithMaxPolicies(maxPolicies))
		if err != nil {
			bound = "policies"
			return true
		}
		cors, err := PackCorsPolicies(all[:n], WithMaxPolicies(maxPolicies))
		if err != nil {
			bound = "CORS policies"
			return true
		}
		if err := (StackShape{Buckets: n, ReadPolicies: len(read), CorsPolicies: len(cors), ManageCORS: true}).Check(); err != nil {
			bound = "resources"
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
