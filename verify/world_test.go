package verify_test

import (
	"context"
	"testing"

	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/profile"
	"github.com/isahit/s3grant/stacks"
	"github.com/isahit/s3grant/verify"
)

// input is what the CLI builds: the model for the isahit Lab profile and the customer's values.
func input() verify.Input {
	in := verify.Input{Integration: stacks.New(profile.Default()), RoleARN: aw.RoleARN}
	in.BucketName, in.ExternalID, in.Region = aw.Bucket, aw.ExternalID, aw.Region
	in.AccessPointName = aw.AccessPoint
	return in
}

func runCustomer(t *testing.T, w *aw.World, in verify.Input) verify.Report {
	t.Helper()
	rep, err := verify.New(w.Config(aw.CustomerKey)).Customer(context.Background(), in)
	if err != nil {
		t.Fatalf("Customer: %v", err)
	}
	return rep
}

func runVendor(t *testing.T, w *aw.World, in verify.Input) verify.Report {
	t.Helper()
	rep, err := verify.New(w.Config(aw.VendorKey)).Vendor(context.Background(), in)
	if err != nil {
		t.Fatalf("Vendor: %v", err)
	}
	return rep
}

func ids(results []verify.Result) []string {
	var out []string
	for _, r := range results {
		out = append(out, r.ID)
	}
	return out
}
