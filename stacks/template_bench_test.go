package stacks

import (
	"encoding/json"
	"fmt"
	"testing"
)

// Synthesis of the whole template (model, packing, goformation, JSON) at 1, 10, 100 and 200
// buckets, with the sizes that bind reported next to their limits: the template's bytes (inline
// 51,200, S3 1,000,000), its resources (500), outputs (200) and the vendor role's managed
// policies (10). Time and allocations per bucket should stay flat: the growth is linear.
func BenchmarkTemplate(b *testing.B) {
	for _, n := range []int{1, 10, 100, 200} {
		in := manyBuckets(n)
		in.Region = "eu-west-3"
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			var body []byte
			for b.Loop() {
				var err error
				if body, err = JSON(in); err != nil {
					b.Fatal(err)
				}
			}
			var t struct {
				Resources map[string]struct{ Type string }
				Outputs   map[string]any
			}
			if err := json.Unmarshal(body, &t); err != nil {
				b.Fatal(err)
			}
			policies := 0
			for _, r := range t.Resources {
				if r.Type == "AWS::IAM::ManagedPolicy" {
					policies++
				}
			}
			b.ReportMetric(float64(len(body)), "template-bytes")
			b.ReportMetric(float64(len(t.Resources)), "resources")
			b.ReportMetric(float64(len(t.Outputs)), "outputs")
			b.ReportMetric(float64(policies), "managed-policies")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/bucket")
		})
	}
}
