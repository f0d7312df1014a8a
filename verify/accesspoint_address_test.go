package verify_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/verify"
)

// localEndpoint is the vendor's SDK configuration against the world as a local endpoint
// really is: an ordinary HTTP client, which resolves the host the SDK builds. (The world's own
// client dials the endpoint whatever the host, which hides NAME-ACCOUNT.127.0.0.1.)
func localEndpoint(w *aw.World) aws.Config {
	return aws.Config{Region: aw.Region, BaseEndpoint: aws.String(w.URL), HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Credentials: credentials.NewStaticCredentialsProvider(aw.VendorKey, aw.Secret, "")}
}

// Against a custom endpoint the vendor side reaches the access point, by its alias given or
// read with GetAccessPoint; and it is the access point that answers, not the bucket.
func TestVendorAccessPointOnLocalEndpoint(t *testing.T) {
	alias := aw.StackOutputs["AccessPointAlias"]
	tests := []struct {
		name      string
		alias     string
		breakIt   func(w *aw.World)
		failed    []string
		cause     string
		getAPCall bool
	}{
		{"alias given", alias, nil, nil, "", false},
		{"alias read with GetAccessPoint", "", nil, nil, "", true},
		{"alias given, the role may list only the bucket", alias, func(w *aw.World) {
			w.IAM.CreatePolicy(aw.PolicyName, strings.Replace(aw.ReadPolicy(), `,"`+aw.AccessPointARN+`"]`, `]`, 1))
		}, []string{verify.CheckListAccessPoint}, "AccessDenied", false},
		{"no alias and GetAccessPoint refused", "", func(w *aw.World) { w.S3.Fail("GetAccessPoint", "AccessDenied") },
			[]string{verify.CheckListAccessPoint}, "--access-point-alias", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := aw.Start(t)
			if tt.breakIt != nil {
				tt.breakIt(w)
			}
			in := input()
			in.AccessPointAlias = tt.alias
			rep, err := verify.New(localEndpoint(w), verify.WithSleep(noSleep)).Vendor(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			failed := rep.Failed()
			if !slices.Equal(ids(failed), tt.failed) {
				for _, f := range failed {
					t.Logf("%s: %s", f.ID, f.Cause)
				}
				t.Fatalf("failed checks = %v, want %v", ids(failed), tt.failed)
			}
			for _, f := range failed {
				if !strings.Contains(f.Cause, tt.cause) || strings.Contains(f.Cause, "no such host") {
					t.Errorf("%s cause %q does not say %q", f.ID, f.Cause, tt.cause)
				}
			}
			var getAP bool
			for _, c := range w.S3.Calls() {
				getAP = getAP || c.API == "s3control" && c.Operation == "GetAccessPoint"
			}
			if getAP != tt.getAPCall {
				t.Errorf("GetAccessPoint called = %v, want %v", getAP, tt.getAPCall)
			}
		})
	}
}
