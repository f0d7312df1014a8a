package verify_test

import (
	"slices"
	"strings"
	"testing"

	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/verify"
)

// The false passes found by adversarial tests, and the 403 chain's layers, one fault at a
// time, with the policy simulator and without it: each fails exactly its checks, and the
// cause names the layer and the condition.
func TestCustomerNoFalsePasses(t *testing.T) {
	prefixed := func(in *verify.Input) { in.ObjectPrefix = "images/" }
	listAll := map[string]any{"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket",
		"Resource": []string{"arn:aws:s3:::" + aw.Bucket, aw.AccessPointARN}}
	readImages := map[string]any{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject",
		"Resource": []string{"arn:aws:s3:::" + aw.Bucket + "/images/*", aw.AccessPointARN + "/object/images/*"}}
	decrypt := map[string]any{"Sid": "Decrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": aw.KeyARN,
		"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": "s3." + aw.Region + ".amazonaws.com"}}}
	policy := func(st ...map[string]any) string {
		return aw.Doc(map[string]any{"Version": "2012-10-17", "Statement": st})
	}
	bucketPolicy := func(p string) func(w *aw.World) {
		return func(w *aw.World) {
			b := aw.GoodBucket()
			b.Policy = p
			w.S3.PutBucket(b)
		}
	}
	roleOnly := map[string]any{"AWS": aw.RoleARN}
	tests := []struct {
		name    string
		input   func(*verify.Input)
		breakIt func(w *aw.World)
		failed  []string
		cause   string
	}{
		{"a bucket policy lets the role write and delete", nil, bucketPolicy(policy(map[string]any{"Sid": "Upload", "Effect": "Allow",
			"Principal": roleOnly, "Action": []string{"s3:PutObject", "s3:DeleteObject"}, "Resource": "arn:aws:s3:::" + aw.Bucket + "/*"})),
			[]string{verify.CheckLeastPrivilege}, "bucket policy of " + aw.Bucket + " allows s3:PutObject"},
		{"ListBucket without the s3:prefix condition", prefixed, func(w *aw.World) {
			w.IAM.CreatePolicy(aw.PolicyName, policy(listAll, readImages, decrypt))
		}, []string{verify.CheckLeastPrivilege}, "without the condition StringLike s3:prefix images/*"},
		{"kms:Decrypt without kms:ViaService", nil, func(w *aw.World) {
			w.IAM.CreatePolicy(aw.PolicyName, aw.ReadPolicyWithout("Decrypt", map[string]any{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": aw.KeyARN}))
		}, []string{verify.CheckLeastPrivilege}, "without the condition StringEquals kms:ViaService"},
		{"a permissions boundary blocks all of S3", nil, func(w *aw.World) {
			w.IAM.PutRolePermissionsBoundary(aw.RoleName, w.IAM.CreatePolicy("kms-only", policy(map[string]any{"Effect": "Allow", "Action": "kms:*", "Resource": "*"})))
		}, []string{verify.CheckPermissions}, "s3:ListBucket on arn:aws:s3:::" + aw.Bucket},
		{"the trust policy also denies the vendor", nil, func(w *aw.World) {
			w.IAM.PutRole(aw.RoleName, aw.Doc(map[string]any{"Version": "2012-10-17", "Statement": []any{
				map[string]any{"Effect": "Allow", "Principal": aw.VendorRoot, "Action": "sts:AssumeRole", "Condition": aw.WithExternalID},
				map[string]any{"Sid": "NoVendor", "Effect": "Deny", "Principal": aw.VendorRoot, "Action": "sts:AssumeRole"},
			}}))
		}, []string{verify.CheckTrust}, `statement "NoVendor" denies`},
		{"a bucket policy denies the role s3:GetObject", nil, bucketPolicy(policy(map[string]any{"Sid": "NoRead", "Effect": "Deny",
			"Principal": roleOnly, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::" + aw.Bucket + "/*"})),
			[]string{verify.CheckPermissions, verify.CheckBucketPolicy}, `statement "NoRead" denies s3:GetObject`},
		{"a bucket policy denies outside an IP range", nil, bucketPolicy(aw.DenyUnless("NotIpAddress", "aws:SourceIp", "203.0.113.0/24")),
			[]string{verify.CheckPermissions, verify.CheckBucketPolicy}, "condition NotIpAddress aws:SourceIp 203.0.113.0/24"},
		{"a bucket policy denies outside a VPC endpoint", nil, bucketPolicy(aw.DenyUnless("StringNotEquals", "aws:SourceVpce", "vpce-1a2b3c4d")),
			[]string{verify.CheckPermissions, verify.CheckBucketPolicy}, "condition StringNotEquals aws:SourceVpce vpce-1a2b3c4d"},
		{"a bucket policy denies plain HTTP: the vendor uses HTTPS", nil, bucketPolicy(aw.DenyUnless("Bool", "aws:SecureTransport", "false")),
			nil, ""},
		{"a bucket policy denies other organizations: assumed in it", nil, bucketPolicy(aw.DenyUnless("StringNotEquals", "aws:PrincipalOrgID", "o-a1b2c3d4e5")),
			nil, ""},
	}
	for _, tt := range tests {
		for _, simulator := range []bool{true, false} {
			t.Run(tt.name+map[bool]string{true: "/simulator", false: "/parsed"}[simulator], func(t *testing.T) {
				w := aw.Start(t)
				if !simulator {
					w.IAM.Deny("SimulatePrincipalPolicy")
				}
				tt.breakIt(w)
				in := input()
				if tt.input != nil {
					tt.input(&in)
				}
				rep := runCustomer(t, w, in)
				failed := rep.Failed()
				if !slices.Equal(ids(failed), tt.failed) {
					for _, f := range failed {
						t.Logf("%s: %s", f.ID, f.Cause)
					}
					t.Fatalf("failed checks = %v, want %v", ids(failed), tt.failed)
				}
				var causes []string
				for _, f := range failed {
					causes = append(causes, f.Cause)
				}
				if all := strings.Join(causes, "\n"); !strings.Contains(all, tt.cause) {
					t.Errorf("causes %q do not say %q", all, tt.cause)
				}
			})
		}
	}
}
