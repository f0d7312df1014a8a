package verify_test

import (
	"context"
	"strings"
	"testing"

	"github.com/isahit/s3grant/internal/awsfake/s3fake"
	"github.com/isahit/s3grant/verify"
)

func runCustomer(t *testing.T, w *world, in verify.Input) verify.Report {
	t.Helper()
	rep, err := verify.New(w.config(customerKey), verify.WithPathStyle(true)).Customer(context.Background(), in)
	if err != nil {
		t.Fatalf("Customer: %v", err)
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

func TestCustomerCorrectIntegrationPasses(t *testing.T) {
	for _, simulator := range []bool{true, false} {
		name := map[bool]string{true: "simulator", false: "parsed policies"}[simulator]
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			if !simulator {
				w.iam.Deny("SimulatePrincipalPolicy")
			}
			w.deployStack(t, stackOutputs)
			in := input()
			in.RoleARN, in.Bucket, in.AccessPointName = "", "", "" // read from the stack
			in.StackName = stackName
			rep := runCustomer(t, w, in)
			want := []string{verify.CheckStack, verify.CheckTrust, verify.CheckPermissions, verify.CheckLeastPrivilege,
				verify.CheckAccessPoint, verify.CheckCORS, verify.CheckEncryption, verify.CheckRegion}
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
	vendorRoot := map[string]any{"AWS": "arn:aws:iam::" + vendorAccount + ":root"}
	withID := map[string]any{"StringEquals": map[string]any{"sts:ExternalId": externalID}}
	tests := []struct {
		name    string
		breakIt func(w *world)
		check   string
		cause   string // in the failed check's cause
		fix     string // in its fix
	}{
		{"wrong account", func(w *world) {
			w.iam.PutRole(roleName, trustPolicy(map[string]any{"AWS": "arn:aws:iam::" + otherAccount + ":root"}, withID))
		}, verify.CheckTrust, "trusts account " + otherAccount, roleName},
		{"missing external ID condition", func(w *world) {
			w.iam.PutRole(roleName, trustPolicy(vendorRoot, nil))
		}, verify.CheckTrust, "no StringEquals sts:ExternalId condition", roleName},
		{"wrong external ID", func(w *world) {
			w.iam.PutRole(roleName, trustPolicy(vendorRoot, map[string]any{"StringEquals": map[string]any{"sts:ExternalId": "a6fa9c7f-typo"}}))
		}, verify.CheckTrust, "requires the external ID a6fa9c7f-typo", externalID},
		{"extra wildcard principal", func(w *world) {
			w.iam.PutRole(roleName, doc(map[string]any{"Version": "2012-10-17", "Statement": []any{
				map[string]any{"Effect": "Allow", "Principal": vendorRoot, "Action": "sts:AssumeRole", "Condition": withID},
				map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "*"}, "Action": "sts:AssumeRole"},
			}}))
		}, verify.CheckTrust, `trusts every AWS account ("*")`, roleName},
		{"policy missing GetObject", func(w *world) {
			w.iam.CreatePolicy(policyName, readPolicyWithout("Read"))
		}, verify.CheckPermissions, "s3:GetObject on arn:aws:s3:::" + bucket, roleName},
		{"extra write permission", func(w *world) {
			w.iam.CreatePolicy(policyName, readPolicy(map[string]any{"Effect": "Allow", "Action": []string{"s3:PutObject", "s3:DeleteObject"},
				"Resource": "arn:aws:s3:::" + bucket + "/*"}))
		}, verify.CheckLeastPrivilege, "allows s3:PutObject", policyName},
		{"CORS rule missing one origin", func(w *world) {
			w.s3.PutBucket(s3fake.Bucket{Name: bucket, Region: region, SSEAlgorithm: "aws:kms", KMSKeyID: keyARN, CORS: []s3fake.CORSRule{
				{AllowedOrigins: origins[:1], AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"*"}}}})
		}, verify.CheckCORS, "https://work.isahit.com: no rule allows the origin", bucket},
		{"CORS rule allowing only PUT", func(w *world) {
			w.s3.PutBucket(s3fake.Bucket{Name: bucket, Region: region, SSEAlgorithm: "aws:kms", KMSKeyID: keyARN, CORS: []s3fake.CORSRule{
				{AllowedOrigins: origins, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"*"}}}})
		}, verify.CheckCORS, "allow only PUT, not GET", bucket},
		{"public access block off", func(w *world) {
			w.s3.PutAccessPoint(s3fake.AccessPoint{Name: apName, Account: customerAccount, Region: region, Bucket: bucket,
				PublicAccessBlock: [4]bool{true, true, false, true}})
		}, verify.CheckAccessPoint, "BlockPublicPolicy is off", apName},
		{"KMS key without decrypt", func(w *world) {
			w.iam.CreatePolicy(policyName, readPolicyWithout("Decrypt"))
		}, verify.CheckEncryption, "may not kms:Decrypt", keyARN},
		{"region mismatch", func(w *world) {
			w.s3.PutBucket(s3fake.Bucket{Name: bucket, Region: "eu-west-1", CORS: goodCORS, SSEAlgorithm: "aws:kms", KMSKeyID: keyARN})
		}, verify.CheckRegion, "is in eu-west-1 but access point " + apName + " is in eu-west-3", bucket},
	}
	for _, tt := range tests {
		for _, simulator := range []bool{true, false} {
			t.Run(tt.name+map[bool]string{true: "/simulator", false: "/parsed"}[simulator], func(t *testing.T) {
				w := newWorld(t)
				if !simulator {
					w.iam.Deny("SimulatePrincipalPolicy")
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
