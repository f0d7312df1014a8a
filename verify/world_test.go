package verify_test

import (
	"context"
	"testing"
	"time"

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

// noSleep stands for the wait between retries while IAM propagates: tests never sleep.
func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func runVendor(t *testing.T, w *aw.World, in verify.Input, opts ...verify.Option) verify.Report {
	t.Helper()
	rep, err := verify.New(w.Config(aw.VendorKey), append([]verify.Option{verify.WithSleep(noSleep)}, opts...)...).Vendor(context.Background(), in)
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
