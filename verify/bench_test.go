package verify_test

import (
	"context"
	"testing"

	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/verify"
)

// BenchmarkCustomer measures one customer-side verification against the in-process fakes:
// the cost of verify's own work and its round trips, without the network.
func BenchmarkCustomer(b *testing.B) {
	w := aw.Start(b)
	c := verify.New(w.Config(aw.CustomerKey))
	in := input()
	for b.Loop() {
		if _, err := c.Customer(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVendor measures one vendor-side verification: three AssumeRole calls, two listings,
// a ranged GET and a preflight per origin.
func BenchmarkVendor(b *testing.B) {
	w := aw.Start(b)
	c := verify.New(w.Config(aw.VendorKey), verify.WithSleep(noSleep))
	in := input()
	for b.Loop() {
		if _, err := c.Vendor(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}
