package verify_test

import (
	"context"
	"errors"
	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"slices"
	"strings"
	"testing"

	"github.com/isahit/s3grant/internal/awsfake/s3fake"
	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/verify"
)

var vendorChecks = []string{verify.CheckAssume, verify.CheckAssumeNoExternalID, verify.CheckAssumeBadExternalID,
	verify.CheckListAccessPoint, verify.CheckListBucket, verify.CheckReadObject, verify.CheckPreflight,
	verify.CheckPresignedGet, verify.CheckGetAllowOrigin, verify.CheckVary, verify.CheckRange, verify.CheckContentType}

func TestVendorCorrectIntegrationPasses(t *testing.T) {
	w := aw.Start(t)
	rep := runVendor(t, w, input())
	if got := ids(rep.Checks); !slices.Equal(got, vendorChecks) {
		t.Fatalf("checks = %v, want %v", got, vendorChecks)
	}
	for _, c := range rep.Failed() {
		t.Errorf("%s failed: %s", c.ID, c.Cause)
	}
	// The session really went through the access point, the aw.Bucket and a browser preflight.
	var ops []string
	for _, c := range w.S3.Calls() {
		ops = append(ops, c.Operation)
	}
	for _, want := range []string{"ListObjectsV2", "GetObject", "Preflight"} {
		if !slices.Contains(ops, want) {
			t.Errorf("S3 calls %v lack %s", ops, want)
		}
	}
	// Both sampled images, through the bucket and the access point alias, from each origin.
	if n, want := strings.Count(strings.Join(ops, " "), "Preflight"), 2*2*len(aw.Origins); n != want {
		t.Errorf("%d preflights sent, want %d", n, want)
	}
}

func TestVendorFaults(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(w *aw.World)
		failed  []string
		cause   string
		fix     string
	}{
		{"AssumeRole without external ID succeeds", func(w *aw.World) {
			// IfExists: a missing external ID passes the condition, a wrong one does not.
			w.IAM.PutRole(aw.RoleName, aw.TrustPolicy(aw.VendorRoot, map[string]any{"StringEqualsIfExists": map[string]any{"sts:ExternalId": aw.ExternalID}}))
		}, []string{verify.CheckAssumeNoExternalID}, "without an external ID succeeded", aw.RoleName},
		{"no external ID condition at all", func(w *aw.World) {
			w.IAM.PutRole(aw.RoleName, aw.TrustPolicy(aw.VendorRoot, nil))
		}, []string{verify.CheckAssumeNoExternalID, verify.CheckAssumeBadExternalID}, "succeeded", aw.RoleName},
		{"role trusts another external ID", func(w *aw.World) {
			w.IAM.PutRole(aw.RoleName, aw.TrustPolicy(aw.VendorRoot, map[string]any{"StringEquals": map[string]any{"sts:ExternalId": "a6fa9c7f-typo"}}))
		}, []string{verify.CheckAssume}, "AccessDenied", aw.RoleName},
		{"CORS rule missing one origin", func(w *aw.World) {
			b := aw.GoodBucket()
			b.CORS = []s3fake.CORSRule{{AllowedOrigins: aw.Origins[:1], AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"*"}}}
			w.S3.PutBucket(b)
		}, []string{verify.CheckPreflight}, `from https://work.isahit.com: preflight: the preflight (OPTIONS from https://work.isahit.com, Access-Control-Request-Method GET) answered HTTP 403`,
			`"AllowedOrigins":["https://work.isahit.com"]`},
		// The servers' read and the browser's GET are both refused: two checks, one cause.
		{"KMS key without decrypt", func(w *aw.World) {
			w.IAM.CreatePolicy(aw.PolicyName, aw.ReadPolicyWithout("Decrypt"))
		}, []string{verify.CheckReadObject, verify.CheckPresignedGet}, "kms:Decrypt", aw.RoleName},
		{"policy missing GetObject", func(w *aw.World) {
			w.IAM.CreatePolicy(aw.PolicyName, aw.ReadPolicyWithout("Read"))
		}, []string{verify.CheckReadObject, verify.CheckPresignedGet}, "AccessDenied", aw.RoleName},
		{"list allowed on the bucket only", func(w *aw.World) {
			w.IAM.CreatePolicy(aw.PolicyName, strings.Replace(aw.ReadPolicy(), `,"`+aw.AccessPointARN+`"]`, `]`, 1))
		}, []string{verify.CheckListAccessPoint}, "AccessDenied", aw.RoleName},
		{"a bucket policy refuses everything", func(w *aw.World) {
			w.S3.Fail("ListObjectsV2", "AccessDenied")
		}, []string{verify.CheckListAccessPoint, verify.CheckListBucket, verify.CheckReadObject}, "", aw.RoleName},
		{"bucket policy denies outside an IP range", func(w *aw.World) {
			b := aw.GoodBucket()
			b.Policy = aw.DenyUnless("NotIpAddress", "aws:SourceIp", "203.0.113.0/24")
			w.S3.PutBucket(b)
		}, []string{verify.CheckListAccessPoint, verify.CheckListBucket, verify.CheckReadObject}, "", aw.RoleName},
		{"bucket policy denies outside a VPC endpoint", func(w *aw.World) {
			b := aw.GoodBucket()
			b.Policy = aw.DenyUnless("StringNotEquals", "aws:SourceVpce", "vpce-1a2b3c4d")
			w.S3.PutBucket(b)
		}, []string{verify.CheckListAccessPoint, verify.CheckListBucket, verify.CheckReadObject}, "", aw.RoleName},
		// The first object reads; the sampled second one, under another key, does not.
		{"an object under another KMS key", func(w *aw.World) {
			b := aw.GoodBucket()
			b.ObjectKMSKeys = map[string]string{"images/dog.jpg": aw.OtherKeyARN}
			w.S3.PutBucket(b)
		}, []string{verify.CheckPresignedGet}, "images/dog.jpg via bucket", aw.RoleARN},
		{"an object owned by another account", func(w *aw.World) {
			b := aw.GoodBucket()
			b.Ownership, b.ObjectOwners = "ObjectWriter", map[string]string{"images/dog.jpg": aw.OtherAccount}
			w.S3.PutBucket(b)
		}, []string{verify.CheckPresignedGet}, "images/dog.jpg via bucket", aw.RoleARN},
		{"a proxy strips the GET's Access-Control-Allow-Origin", func(w *aw.World) {
			w.S3.Inject(s3fake.StripAllowOrigin)
		}, []string{verify.CheckGetAllowOrigin}, "without Access-Control-Allow-Origin", "proxy"},
		{"a proxy drops Vary", func(w *aw.World) {
			w.S3.Inject(s3fake.StripVary)
		}, []string{verify.CheckVary}, "does not vary on Origin", "Origin"},
		{"a proxy ignores Range", func(w *aw.World) {
			w.S3.Inject(s3fake.IgnoreRange)
		}, []string{verify.CheckRange}, "Range is not honoured", "Range"},
		{"an image uploaded without its type", func(w *aw.World) {
			b := aw.GoodBucket()
			delete(b.Meta, "images/dog.jpg")
			w.S3.PutBucket(b)
		}, []string{verify.CheckContentType}, "binary/octet-stream", "--content-type"},
		{"empty bucket", func(w *aw.World) {
			w.S3.PutBucket(s3fake.Bucket{Name: aw.Bucket, Region: aw.Region, CORS: aw.GoodCORS})
		}, []string{verify.CheckReadObject}, "no non-empty object", aw.Bucket},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := aw.Start(t)
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
	w := aw.Start(t)
	tests := []struct {
		name   string
		change func(*verify.Input)
		field  string
	}{
		{"no role", func(in *verify.Input) { in.RoleARN = "" }, verify.FieldRoleARN},
		{"not a role ARN", func(in *verify.Input) { in.RoleARN = "arn:aws:iam::111122223333:user/bob" }, verify.FieldRoleARN},
		{"bad bucket", func(in *verify.Input) { in.BucketName = "Bad_Bucket" }, "BucketName"},
		{"bad external ID", func(in *verify.Input) { in.ExternalID = "x" }, "ExternalId"},
		{"bad stack name", func(in *verify.Input) { in.StackName = "1stack" }, verify.FieldStackName},
		{"bad next external ID", func(in *verify.Input) { in.NextExternalID = "x" }, "NextExternalId"},
		{"bad previous external ID", func(in *verify.Input) { in.PreviousExternalID = "x" }, verify.FieldPreviousExternalID},
		{"previous is the current one", func(in *verify.Input) { in.PreviousExternalID = in.ExternalID }, verify.FieldPreviousExternalID},
		{"previous is the next one", func(in *verify.Input) {
			in.NextExternalID, in.PreviousExternalID = aw.ExternalID+"-next", aw.ExternalID+"-next"
		}, verify.FieldPreviousExternalID},
	}
	for _, tt := range tests {
		for _, side := range []string{"customer", "vendor"} {
			t.Run(tt.name+"/"+side, func(t *testing.T) {
				in := input()
				tt.change(&in)
				c := verify.New(w.Config(aw.CustomerKey))
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
	if calls := len(w.IAM.Calls()) + len(w.STS.Calls()) + len(w.S3.Calls()); calls != 0 {
		t.Errorf("bad input made %d AWS calls, want none", calls)
	}
}

// Both phases of an external-ID rotation, from the vendor's side against STS: during the overlap
// the role accepts the current and the next ID; after --finish it refuses the previous one.
func TestVendorRotation(t *testing.T) {
	const next = "0b7d3c1e-51a4-4f0e-9d6b-8c2f7e1a9b30"
	trust := func(w *aw.World, ids ...string) {
		w.IAM.PutRole(aw.RoleName, aw.TrustPolicy(aw.VendorRoot, map[string]any{"StringEquals": map[string]any{"sts:ExternalId": ids}}))
	}
	overlap := func(in *verify.Input) { in.NextExternalID = next }
	finished := func(in *verify.Input) { in.ExternalID, in.PreviousExternalID = next, aw.ExternalID }
	tests := []struct {
		name   string
		trust  []string
		input  func(*verify.Input)
		ran    string // the rotation check that must run
		failed []string
	}{
		{"overlap", []string{aw.ExternalID, next}, overlap, verify.CheckAssumeNextExternalID, nil},
		{"overlap not deployed", []string{aw.ExternalID}, overlap, verify.CheckAssumeNextExternalID, []string{verify.CheckAssumeNextExternalID}},
		{"finished", []string{next}, finished, verify.CheckAssumePreviousExternalID, nil},
		{"finish not deployed", []string{aw.ExternalID, next}, finished, verify.CheckAssumePreviousExternalID, []string{verify.CheckAssumePreviousExternalID}},
		{"finished too early", []string{aw.ExternalID}, finished, verify.CheckAssumePreviousExternalID,
			// The vendor's new ID is refused, the old one still works: both say so.
			[]string{verify.CheckAssume, verify.CheckAssumePreviousExternalID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := aw.Start(t)
			trust(w, tt.trust...)
			in := input()
			tt.input(&in)
			rep := runVendor(t, w, in)
			if !slices.Contains(ids(rep.Checks), tt.ran) {
				t.Fatalf("checks %v lack %s", ids(rep.Checks), tt.ran)
			}
			if got := ids(rep.Failed()); !slices.Equal(got, tt.failed) {
				for _, f := range rep.Failed() {
					t.Logf("%s: %s (fix: %s)", f.ID, f.Cause, f.Fix)
				}
				t.Fatalf("failed checks = %v, want %v", got, tt.failed)
			}
		})
	}
}
