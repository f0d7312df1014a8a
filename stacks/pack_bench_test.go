package stacks

import (
	"fmt"
	"strings"
	"testing"
)

// Packing, with its size measurements, at 1, 10, 100 and 200 worst-case buckets: the vendor
// role's policies, the CORS function's and the stack's resource count, as deploy would plan them.
func BenchmarkPack(b *testing.B) {
	for _, n := range []int{1, 10, 100, 200} {
		buckets := worstBuckets(b, n, func(i int) string { return fmt.Sprintf("team-%d/", i%7) })
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				read, err := PackReadPolicies(buckets, WithMaxPolicies(RaisedManagedPoliciesPerRole), WithKMSKeys(testKey))
				if err != nil {
					b.Fatal(err)
				}
				cors, err := PackCorsPolicies(buckets, WithMaxPolicies(RaisedManagedPoliciesPerRole))
				if err != nil {
					b.Fatal(err)
				}
				if err := (StackShape{Buckets: n, ReadPolicies: len(read), CorsPolicies: len(cors), ManageCORS: true}).Check(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Size estimation alone: measuring every packed policy again as IAM counts it.
func BenchmarkPolicyChars(b *testing.B) {
	for _, n := range []int{1, 10, 100, 200} {
		packed, err := PackReadPolicies(worstBuckets(b, n, noPrefix), WithMaxPolicies(RaisedManagedPoliciesPerRole))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, p := range packed {
					if _, err := PolicyChars(p.Document, WorstCase, nil); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// Parsing and checking the --bucket values.
func BenchmarkParseBuckets(b *testing.B) {
	for _, n := range []int{1, 10, 100, 200} {
		values := make([]string, n)
		for i := range values {
			values[i] = fmt.Sprintf("s3://%04d%s/images/%d/", i, strings.Repeat("b", 59), i)
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseBuckets(values); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
