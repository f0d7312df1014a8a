package s3fake

import (
	"net/http"
	"testing"
)

// The preflight answers as S3 does: 403 without CORS or without a matching rule, else 200
// with the origin echoed (or "*" for a "*" rule).
func TestPreflight(t *testing.T) {
	f, url := Start(t)
	f.PutBucket(Bucket{Name: "nocors", Region: "eu-west-3"})
	f.PutBucket(Bucket{Name: "b", Region: "eu-west-3", CORS: []CORSRule{
		{AllowedOrigins: []string{"https://*.isahit.com"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"range"}},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"HEAD"}},
	}})
	tests := []struct {
		bucket, origin, method, headers string
		status                          int
		allow                           string
	}{
		{"nocors", "https://lab.isahit.com", "GET", "", 403, ""},
		{"b", "https://lab.isahit.com", "GET", "", 200, "https://lab.isahit.com"},
		{"b", "https://lab.isahit.com", "GET", "Range", 200, "https://lab.isahit.com"},
		{"b", "https://lab.isahit.com", "GET", "Range, Authorization", 403, ""},
		{"b", "https://lab.isahit.com", "PUT", "", 403, ""},
		{"b", "https://evil.example", "HEAD", "", 200, "*"},
		{"b", "", "GET", "", 400, ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodOptions, url+"/"+tt.bucket+"/k.jpg?X-Amz-Signature=x", nil)
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		req.Header.Set("Access-Control-Request-Method", tt.method)
		if tt.headers != "" {
			req.Header.Set("Access-Control-Request-Headers", tt.headers)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Access-Control-Allow-Origin") != tt.allow {
			t.Errorf("%s %s %s [%s]: %d %q, want %d %q", tt.bucket, tt.method, tt.origin, tt.headers,
				resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), tt.status, tt.allow)
		}
	}
}
