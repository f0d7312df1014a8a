package verify_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/internal/awsfake/kmsfake"
	"github.com/isahit/s3grant/internal/awsfake/s3fake"
	"github.com/isahit/s3grant/verify"
)

func TestCustomerCorrectIntegrationPasses(t *testing.T) {
	for _, simulator := range []bool{true, false} {
		name := map[bool]string{true: "simulator", false: "parsed policies"}[simulator]
		t.Run(name, func(t *testing.T) {
			w := aw.Start(t)
			if !simulator {
				w.IAM.Deny("SimulatePrincipalPolicy")
			}
			w.DeployStack(t, aw.StackOutputs)
			in := input()
			in.RoleARN, in.BucketName, in.AccessPointName = "", "", "" // read from the stack
			in.StackName = aw.StackName
			rep := runCustomer(t, w, in)
			want := []string{verify.CheckStack, verify.CheckTrust, verify.CheckPermissions, verify.CheckLeastPrivilege,
				verify.CheckAccessPoint, verify.CheckCORS, verify.CheckEncryption, verify.CheckBucketPolicy, verify.CheckAPPolicy, verify.CheckRegion,
				verify.CheckObjectEncryption, verify.CheckObjectOwner}
			if got := ids(rep.Checks); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("checks = %v, want %v", got, want)
			}
			for _, c := range rep.Failed() {
				t.Errorf("%s failed: %s", c.ID, c.Cause)
			}
			perms := rep.Checks[2]
			if wantMethod := map[bool]string{true: "simulator", false: "parsed"}[simulator]; !strings.Contains(perms.Detail, wantMethod) {
				t.Errorf("permissions detail %q does not say the method %q", perms.Detail, wantMethod)
			}
			if !rep.Passed() {
				t.Error("Passed() = false for a correct integration")
			}
		})
	}
}

// Each fault breaks the correct world in one way and must fail exactly one check, with a cause
// saying what is wrong and a fix naming the resource to change.
func TestCustomerFaults(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(w *aw.World)
		check   string
		cause   string // in the failed check's cause
		fix     string // in its fix
	}{
		{"wrong account", func(w *aw.World) {
			w.IAM.PutRole(aw.RoleName, aw.TrustPolicy(map[string]any{"AWS": "arn:aws:iam::" + aw.OtherAccount + ":root"}, aw.WithExternalID))
		}, verify.CheckTrust, "trusts account " + aw.OtherAccount, aw.RoleName},
		{"missing external ID condition", func(w *aw.World) {
			w.IAM.PutRole(aw.RoleName, aw.TrustPolicy(aw.VendorRoot, nil))
		}, verify.CheckTrust, "no StringEquals sts:ExternalId condition", aw.RoleName},
		{"wrong external ID", func(w *aw.World) {
			w.IAM.PutRole(aw.RoleName, aw.TrustPolicy(aw.VendorRoot, map[string]any{"StringEquals": map[string]any{"sts:ExternalId": "a6fa9c7f-typo"}}))
		}, verify.CheckTrust, "requires the external ID a6fa9c7f-typo", aw.ExternalID},
		{"extra wildcard principal", func(w *aw.World) {
			w.IAM.PutRole(aw.RoleName, aw.Doc(map[string]any{"Version": "2012-10-17", "Statement": []any{
				map[string]any{"Effect": "Allow", "Principal": aw.VendorRoot, "Action": "sts:AssumeRole", "Condition": aw.WithExternalID},
				map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "*"}, "Action": "sts:AssumeRole"},
			}}))
		}, verify.CheckTrust, `trusts every AWS account ("*")`, aw.RoleName},
		{"policy missing GetObject", func(w *aw.World) {
			w.IAM.CreatePolicy(aw.PolicyName, aw.ReadPolicyWithout("Read"))
		}, verify.CheckPermissions, "s3:GetObject on arn:aws:s3:::" + aw.Bucket, aw.RoleName},
		{"extra write permission", func(w *aw.World) {
			w.IAM.CreatePolicy(aw.PolicyName, aw.ReadPolicy(map[string]any{"Effect": "Allow", "Action": []string{"s3:PutObject", "s3:DeleteObject"},
				"Resource": "arn:aws:s3:::" + aw.Bucket + "/*"}))
		}, verify.CheckLeastPrivilege, "allows s3:PutObject", aw.PolicyName},
		{"CORS rule missing one origin", func(w *aw.World) {
			b := aw.GoodBucket()
			b.CORS = []s3fake.CORSRule{{AllowedOrigins: aw.Origins[:1], AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"*"}}}
			w.S3.PutBucket(b)
		}, verify.CheckCORS, "https://work.isahit.com: no rule allows the origin", aw.Bucket},
		{"CORS rule allowing only PUT", func(w *aw.World) {
			b := aw.GoodBucket()
			b.CORS = []s3fake.CORSRule{{AllowedOrigins: aw.Origins, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"*"}}}
			w.S3.PutBucket(b)
		}, verify.CheckCORS, "allow only PUT, not GET", aw.Bucket},
		{"public access block off", func(w *aw.World) {
			ap := aw.GoodAccessPoint()
			ap.PublicAccessBlock[2] = false // BlockPublicPolicy
			w.S3.PutAccessPoint(ap)
		}, verify.CheckAccessPoint, "BlockPublicPolicy is off", aw.AccessPoint},
		{"KMS key without decrypt", func(w *aw.World) {
			w.IAM.CreatePolicy(aw.PolicyName, aw.ReadPolicyWithout("Decrypt"))
		}, verify.CheckEncryption, "may not kms:Decrypt", aw.KeyARN},
		{"object under another KMS key", func(w *aw.World) {
			b := aw.GoodBucket()
			b.ObjectKMSKeys = map[string]string{"images/dog.jpg": aw.OtherKeyARN}
			w.S3.PutBucket(b)
		}, verify.CheckObjectEncryption, "images/dog.jpg is encrypted with the KMS key " + aw.OtherKeyARN,
			"--copy-source " + aw.Bucket + "/images/dog.jpg --metadata-directive COPY --server-side-encryption aws:kms --ssekms-key-id " + aw.KeyARN},
		{"object owned by another account", func(w *aw.World) {
			b := aw.GoodBucket()
			b.Ownership = "ObjectWriter"
			b.ObjectOwners = map[string]string{"images/dog.jpg": aw.OtherAccount}
			w.S3.PutBucket(b)
		}, verify.CheckObjectOwner, aw.Bucket + "/images/dog.jpg is owned by another account (canonical ID " + s3fake.CanonicalID(aw.OtherAccount) + ")",
			"aws s3api put-bucket-ownership-controls --bucket " + aw.Bucket + " --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'"},
		{"region mismatch", func(w *aw.World) {
			b := aw.GoodBucket()
			b.Region = "eu-west-1"
			w.S3.PutBucket(b)
		}, verify.CheckRegion, "is in eu-west-1 but access point " + aw.AccessPoint + " is in eu-west-3", aw.Bucket},
	}
	for _, tt := range tests {
		for _, simulator := range []bool{true, false} {
			t.Run(tt.name+map[bool]string{true: "/simulator", false: "/parsed"}[simulator], func(t *testing.T) {
				w := aw.Start(t)
				if !simulator {
					w.IAM.Deny("SimulatePrincipalPolicy")
				}
				tt.breakIt(w)
				rep := runCustomer(t, w, input())
				failed := rep.Failed()
				if len(failed) != 1 || failed[0].ID != tt.check {
					for _, f := range failed {
						t.Logf("%s: %s", f.ID, f.Cause)
					}
					t.Fatalf("failed checks = %v, want exactly [%s]", ids(failed), tt.check)
				}
				if !strings.Contains(failed[0].Cause, tt.cause) {
					t.Errorf("cause %q does not say %q", failed[0].Cause, tt.cause)
				}
				if !strings.Contains(failed[0].Fix, tt.fix) {
					t.Errorf("fix %q does not name %q", failed[0].Fix, tt.fix)
				}
			})
		}
	}
}

func TestCustomerStackMissing(t *testing.T) {
	w := aw.Start(t)
	in := input()
	in.RoleARN, in.BucketName, in.AccessPointName, in.ExternalID = "", "", "", ""
	in.StackName = aw.StackName
	rep := runCustomer(t, w, in)
	if len(rep.Checks) != 1 || rep.Checks[0].ID != verify.CheckStack || rep.Checks[0].Pass {
		t.Fatalf("report %+v, want only a failed stack check", rep)
	}
	if c := rep.Checks[0]; !strings.Contains(c.Cause, "does not exist") || !strings.Contains(c.Fix, aw.StackName) {
		t.Errorf("cause %q, fix %q", c.Cause, c.Fix)
	}
}

// Throttled IAM calls are retried by the SDK: every check still passes.
func TestCustomerSurvivesThrottling(t *testing.T) {
	w := aw.Start(t)
	w.IAM.Throttle("GetRole", 1)
	w.IAM.Throttle("SimulatePrincipalPolicy", 1)
	rep := runCustomer(t, w, input())
	for _, c := range rep.Failed() {
		t.Errorf("%s failed: %s", c.ID, c.Cause)
	}
	if n := w.IAM.Count("GetRole"); n != 2 {
		t.Errorf("GetRole called %d times, want the throttled call and its retry", n)
	}
}

// With Bucket owner enforced, an object another account wrote is the bucket owner's: it
// passes, and no object ACL is read.
func TestCustomerOwnerEnforcedIgnoresWriters(t *testing.T) {
	w := aw.Start(t)
	b := aw.GoodBucket()
	b.ObjectOwners = map[string]string{"images/dog.jpg": aw.OtherAccount}
	w.S3.PutBucket(b)
	rep := runCustomer(t, w, input())
	for _, c := range rep.Failed() {
		t.Errorf("%s failed: %s", c.ID, c.Cause)
	}
	for _, c := range w.S3.Calls() {
		if c.Operation == "GetObjectAcl" || c.Operation == "GetBucketAcl" {
			t.Errorf("%s read although ACLs are disabled", c.Operation)
		}
	}
}

// The customer side samples in.Sample objects: one HeadObject each, no more.
func TestCustomerSamplesObjects(t *testing.T) {
	for _, n := range []int{1, 2} {
		w := aw.Start(t)
		in := input()
		in.Sample = n
		runCustomer(t, w, in)
		heads := 0
		for _, c := range w.S3.Calls() {
			if c.Operation == "HeadObject" {
				heads++
			}
		}
		if heads != n {
			t.Errorf("Sample %d: %d HeadObject calls", n, heads)
		}
	}
}

// An object under another key the role's policy grants, whose key policy trusts only an
// admin: object-encryption names the key policy, and least privilege the extra grant.
func TestCustomerObjectKeyPolicyRefuses(t *testing.T) {
	const third = "arn:aws:kms:eu-west-3:111122223333:key/7777abcd-12ab-34cd-56ef-1234567890ab"
	w := aw.Start(t)
	b := aw.GoodBucket()
	b.ObjectKMSKeys = map[string]string{"images/dog.jpg": third}
	w.S3.PutBucket(b)
	w.IAM.CreatePolicy(aw.PolicyName, aw.ReadPolicy(map[string]any{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": third,
		"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": "s3." + aw.Region + ".amazonaws.com"}}}))
	w.KMS.PutKey(kmsfake.Key{ARN: third, Manager: "CUSTOMER", Policy: aw.Doc(map[string]any{"Version": "2012-10-17", "Statement": []any{
		map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::" + aw.CustomerAccount + ":user/admin"}, "Action": "kms:*", "Resource": "*"}}})})
	rep := runCustomer(t, w, input())
	if got := ids(rep.Failed()); strings.Join(got, " ") != verify.CheckLeastPrivilege+" "+verify.CheckObjectEncryption {
		t.Fatalf("failed checks = %v", got)
	}
	c := rep.Failed()[1]
	if !strings.Contains(c.Cause, "whose key policy does not allow kms:Decrypt to the role") || !strings.Contains(c.Fix, "the key policy of "+third) {
		t.Errorf("cause %q\nfix %q", c.Cause, c.Fix)
	}
}

// An endpoint that does not answer is a network problem on the customer side too: every check
// says so, and none blames a permission.
func TestCustomerNetworkErrorsAreNotPermissions(t *testing.T) {
	w := aw.Start(t)
	cfg := w.Config(aw.CustomerKey)
	cfg.BaseEndpoint = aws.String("http://127.0.0.1:1") // nothing listens there
	cfg.HTTPClient = nil
	cfg.RetryMaxAttempts = 1
	rep, err := verify.New(cfg).Customer(context.Background(), input())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checks {
		if c.Pass {
			t.Errorf("%s passed without an endpoint", c.ID)
			continue
		}
		if !strings.Contains(c.Fix, "not a permission") || strings.Contains(c.Fix, "the caller needs") {
			t.Errorf("%s: fix %q blames a permission for a network error (cause %q)", c.ID, c.Fix, c.Cause)
		}
	}
}
