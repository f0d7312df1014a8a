package s3fake

import (
	"net/http/httptest"
	"testing"
)

// Access point names are unique per account and region: two regions each hold one of the same
// name, and a request finds the one of the region it is signed for.
func TestAccessPointsPerRegion(t *testing.T) {
	f := New()
	f.PutAccessPoint(AccessPoint{Name: "ap", Account: "111122223333", Region: "eu-west-3", Bucket: "eu-bucket"})
	f.PutAccessPoint(AccessPoint{Name: "ap", Account: "111122223333", Region: "us-east-1", Bucket: "us-bucket"})
	f.PutAccessPoint(AccessPoint{Name: "solo", Account: "111122223333", Region: "us-east-1", Bucket: "us-bucket"})
	for _, tc := range []struct {
		region, account, name, bucket string
	}{
		{"eu-west-3", "111122223333", "ap", "eu-bucket"},
		{"us-east-1", "111122223333", "ap", "us-bucket"},
		{"eu-central-1", "111122223333", "ap", ""}, // no such access point in that region
		{"us-east-1", "444455556666", "ap", ""},    // nor in another account
		{"", "111122223333", "solo", "us-bucket"},  // unsigned: by its unique name
		{"", "111122223333", "ap", ""},             // unsigned and ambiguous: none
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.region != "" {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIA/20250101/"+tc.region+"/s3/aws4_request, SignedHeaders=host, Signature=x")
		}
		f.mu.Lock()
		ap := f.accessPoint(r, tc.account, tc.name)
		f.mu.Unlock()
		got := ""
		if ap != nil {
			got = ap.Bucket
		}
		if got != tc.bucket {
			t.Errorf("%s %s in %q: bucket %q, want %q", tc.account, tc.name, tc.region, got, tc.bucket)
		}
	}
	if n := len(f.AccessPoints()); n != 3 {
		t.Errorf("%d access points, want 3", n)
	}
}
