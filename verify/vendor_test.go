package verify_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/isahit/s3grant/internal/awsfake/s3fake"
	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/verify"
)

func runVendor(t *testing.T, w *world, in verify.Input) verify.Report {
	t.Helper()
	rep, err := verify.New(w.config(vendorKey), verify.WithPathStyle(true)).Vendor(context.Background(), in)
	if err != nil {
		t.Fatalf("Vendor: %v", err)
	}
	return rep
}

var vendorChecks = []string{verify.CheckAssume, verify.CheckAssumeNoExternalID, verify.CheckAssumeBadExternalID,
	verify.CheckListAccessPoint, verify.CheckListBucket, verify.CheckReadObject, verify.CheckPreflight}

func TestVendorCorrectIntegrationPasses(t *testing.T) {
	w := newWorld(t)
	rep := runVendor(t, w, input())
	if got := ids(rep.Checks); !slices.Equal(got, vendorChecks) {
		t.Fatalf("checks = %v, want %v", got, vendorChecks)
	}
	for _, c := range rep.Failed() {
		t.Errorf("%s failed: %s", c.ID, c.Cause)
	}
	// The session really went through the access point, the bucket and a browser preflight.
	var ops []string
	for _, c := range w.s3.Calls() {
		ops = append(ops, c.Operation)
	}
	for _, want := range []string{"ListObjectsV2", "GetObject", "Preflight"} {
		if !slices.Contains(ops, want) {
			t.Errorf("S3 calls %v lack %s", ops, want)
		}
	}
	if n := strings.Count(strings.Join(ops, " "), "Preflight"); n != len(origins) {
		t.Errorf("%d preflights sent, want one per origin (%d)", n, len(origins))
	}
}

func TestVendorFaults(t *testing.T) {
	vendorRoot := map[string]any{"AWS": "arn:aws:iam::" + vendorAccount + ":root"}
	tests := []struct {
		name    string
		breakIt func(w *world)
		failed  []string
		cause   string
		fix     string
	}{
		{"AssumeRole without external ID succeeds", func(w *world) {
			// IfExists: a missing external ID passes the condition, a wrong one does not.
			w.iam.PutRole(roleName, trustPolicy(vendorRoot, map[string]any{"StringEqualsIfExists": map[string]any{"sts:ExternalId": externalID}}))
		}, []string{verify.CheckAssumeNoExternalID}, "without an external ID succeeded", roleName},
		{"no external ID condition at all", func(w *world) {
			w.iam.PutRole(roleName, trustPolicy(vendorRoot, nil))
		}, []string{verify.CheckAssumeNoExternalID, verify.CheckAssumeBadExternalID}, "succeeded", roleName},
		{"role trusts another external ID", func(w *world) {
			w.iam.PutRole(roleName, trustPolicy(vendorRoot, map[string]any{"StringEquals": map[string]any{"sts:ExternalId": "a6fa9c7f-typo"}}))
		}, []string{verify.CheckAssume}, "AccessDenied", roleName},
		{"CORS rule missing one origin", func(w *world) {
			w.s3.PutBucket(s3fake.Bucket{Name: bucket, Region: region, Objects: map[string][]byte{"a.jpg": []byte("x")},
				CORS: []s3fake.CORSRule{{AllowedOrigins: origins[:1], AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"*"}}}})
		}, []string{verify.CheckPreflight}, `https://work.isahit.com: GET answered HTTP 403, Access-Control-Allow-Origin ""`, bucket},
		{"object read refused (KMS)", func(w *world) {
			w.s3.Fail("GetObject", "AccessDenied")
		}, []string{verify.CheckReadObject}, "kms:Decrypt", roleName},
		{"empty bucket", func(w *world) {
			w.s3.PutBucket(s3fake.Bucket{Name: bucket, Region: region, CORS: goodCORS})
		}, []string{verify.CheckReadObject}, "no non-empty object", bucket},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			tt.breakIt(w)
			rep := runVendor(t, w, input())
			failed := rep.Failed()
			if !slices.Equal(ids(failed), tt.failed) {
				for _, f := range failed {
					t.Logf("%s: %s", f.ID, f.Cause)
				}
				t.Fatalf("failed checks = %v, want %v", ids(failed), tt.failed)
			}
			for _, f := range failed {
				if !strings.Contains(f.Cause, tt.cause) {
					t.Errorf("%s cause %q does not say %q", f.ID, f.Cause, tt.cause)
				}
				if !strings.Contains(f.Fix, tt.fix) {
					t.Errorf("%s fix %q does not name %q", f.ID, f.Fix, tt.fix)
				}
			}
		})
	}
}

func TestBadInputNamesTheFlag(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name   string
		change func(*verify.Input)
		field  string
	}{
		{"no role", func(in *verify.Input) { in.RoleARN = "" }, "--role-arn"},
		{"not a role ARN", func(in *verify.Input) { in.RoleARN = "arn:aws:iam::111122223333:user/bob" }, "--role-arn"},
		{"bad bucket", func(in *verify.Input) { in.Bucket = "Bad_Bucket" }, "--bucket"},
		{"bad external ID", func(in *verify.Input) { in.ExternalID = "x" }, "--external-id"},
		{"bad stack name", func(in *verify.Input) { in.StackName = "1stack" }, "--stack-name"},
	}
	for _, tt := range tests {
		for _, side := range []string{"customer", "vendor"} {
			t.Run(tt.name+"/"+side, func(t *testing.T) {
				in := input()
				tt.change(&in)
				c := verify.New(w.config(customerKey))
				var err error
				if side == "customer" {
					_, err = c.Customer(context.Background(), in)
				} else {
					_, err = c.Vendor(context.Background(), in)
				}
				var inv *rules.InvalidError
				if !errors.As(err, &inv) || inv.Field != tt.field {
					t.Fatalf("err = %v, want an InvalidError for %s", err, tt.field)
				}
			})
		}
	}
	if calls := len(w.iam.Calls()) + len(w.sts.Calls()) + len(w.s3.Calls()); calls != 0 {
		t.Errorf("bad input made %d AWS calls, want none", calls)
	}
}
