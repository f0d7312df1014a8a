package s3fake

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const (
	lab      = "https://lab.isahit.com"
	testKey  = "AKIATEST"
	testSecr = "test-secret"
)

func testClient(base string) *s3.Client {
	return s3.New(s3.Options{Region: "eu-west-3", BaseEndpoint: aws.String(base), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecr, "")})
}

func corsBucket() Bucket {
	return Bucket{Name: "b", Region: "eu-west-3", Objects: map[string][]byte{"a.png": []byte("0123456789")},
		CORS: []CORSRule{
			{AllowedOrigins: []string{"https://intranet.example"}, AllowedMethods: []string{"PUT"}},
			{AllowedOrigins: []string{"https://*.isahit.com"}, AllowedMethods: []string{"GET", "HEAD"}, AllowedHeaders: []string{"*"},
				ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: 600},
		}}
}

func do(t *testing.T, method, u, origin, rng string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// A GET or HEAD with an allowed Origin carries S3's CORS response headers; one from another
// origin is still served, without them.
func TestCORSOnActualRequests(t *testing.T) {
	f, base := Start(t)
	f.PutBucket(corsBucket())
	f.PutBucket(Bucket{Name: "star", Region: "eu-west-3", Objects: map[string][]byte{"a": []byte("x")},
		CORS: []CORSRule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}}})
	tests := []struct {
		method, path, origin string
		want                 map[string]string
	}{
		{"GET", "/b/a.png", lab, map[string]string{"Access-Control-Allow-Origin": lab, "Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods": "GET, HEAD", "Access-Control-Expose-Headers": "ETag", "Access-Control-Max-Age": "600",
			"Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"}},
		{"HEAD", "/b/a.png", lab, map[string]string{"Access-Control-Allow-Origin": lab}},
		{"GET", "/b/a.png", "https://evil.example", map[string]string{"Access-Control-Allow-Origin": "", "Vary": ""}},
		{"GET", "/b/a.png", "", map[string]string{"Access-Control-Allow-Origin": ""}},
		// The rule for intranet.example allows PUT only: a GET from it gets no CORS headers.
		{"GET", "/b/a.png", "https://intranet.example", map[string]string{"Access-Control-Allow-Origin": ""}},
		{"GET", "/star/a", lab, map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": ""}},
	}
	for _, tt := range tests {
		resp := do(t, tt.method, base+tt.path, tt.origin, "")
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s %s from %q: HTTP %d", tt.method, tt.path, tt.origin, resp.StatusCode)
		}
		for h, v := range tt.want {
			if got := resp.Header.Get(h); got != v {
				t.Errorf("%s %s from %q: %s = %q, want %q", tt.method, tt.path, tt.origin, h, got, v)
			}
		}
	}
}

// Each fault changes only what it names, on GET, and leaves the preflight alone.
func TestFaults(t *testing.T) {
	tests := []struct {
		fault               Fault
		allow, vary, status bool
	}{
		{0, true, true, true},
		{StripAllowOrigin, false, true, true},
		{StripVary, true, false, true},
		{IgnoreRange, true, true, false},
	}
	for _, tt := range tests {
		f, base := Start(t)
		f.PutBucket(corsBucket())
		if tt.fault != 0 {
			f.Inject(tt.fault)
		}
		resp := do(t, "GET", base+"/b/a.png", lab, "bytes=0-0")
		if got := resp.Header.Get("Access-Control-Allow-Origin") == lab; got != tt.allow {
			t.Errorf("fault %d: Access-Control-Allow-Origin present = %v, want %v", tt.fault, got, tt.allow)
		}
		if got := resp.Header.Get("Vary") != ""; got != tt.vary {
			t.Errorf("fault %d: Vary present = %v, want %v", tt.fault, got, tt.vary)
		}
		if got := resp.StatusCode == http.StatusPartialContent; got != tt.status {
			t.Errorf("fault %d: HTTP %d, want 206 = %v", tt.fault, resp.StatusCode, tt.status)
		}
		req, _ := http.NewRequest(http.MethodOptions, base+"/b/a.png", nil)
		req.Header.Set("Origin", lab)
		req.Header.Set("Access-Control-Request-Method", "GET")
		pre, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		pre.Body.Close()
		if pre.StatusCode != http.StatusOK || pre.Header.Get("Access-Control-Allow-Origin") != lab {
			t.Errorf("fault %d: the preflight answered %d %q", tt.fault, pre.StatusCode, pre.Header.Get("Access-Control-Allow-Origin"))
		}
		f.Clear()
		if resp := do(t, "GET", base+"/b/a.png", lab, "bytes=0-0"); resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Vary") == "" ||
			resp.Header.Get("Access-Control-Allow-Origin") != lab {
			t.Errorf("fault %d: still in effect after Clear", tt.fault)
		}
	}
}

// PutObject keeps the Content-Type GetObject serves; without one S3 serves binary/octet-stream.
// A ranged GET answers 206 with Content-Range.
func TestPutObjectContentTypeAndRange(t *testing.T) {
	f, base := Start(t)
	f.PutBucket(Bucket{Name: "b", Region: "eu-west-3"})
	c := testClient(base)
	ctx := context.Background()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("a.png"),
		Body: bytes.NewReader([]byte("0123456789")), ContentType: aws.String("image/png")}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	// The SDK always sends a Content-Type; a bare PUT has none.
	req, _ := http.NewRequest(http.MethodPut, base+"/b/raw", strings.NewReader("0123456789"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT raw: %v %v", resp, err)
	}
	resp.Body.Close()
	for key, want := range map[string]string{"a.png": "image/png", "raw": "binary/octet-stream"} {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String(key), Range: aws.String("bytes=2-4")})
		if err != nil {
			t.Fatalf("GetObject %s: %v", key, err)
		}
		body, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if got := aws.ToString(out.ContentType); got != want {
			t.Errorf("%s: Content-Type %q, want %q", key, got, want)
		}
		if string(body) != "234" || aws.ToString(out.ContentRange) != "bytes 2-4/10" {
			t.Errorf("%s: range body %q, Content-Range %q", key, body, aws.ToString(out.ContentRange))
		}
	}
}

// A presigned URL is accepted while valid and correctly signed, through the bucket and through
// the access point's alias; a tampered, expired or unknown-key URL is refused with S3's code.
func TestPresignedURLs(t *testing.T) {
	f, base := Start(t)
	b := corsBucket()
	b.Objects["dir/with space.png"] = []byte("img")
	f.PutBucket(b)
	ap := AccessPoint{Name: "isahit-lab-access-point", Account: "111122223333", Region: "eu-west-3", Bucket: "b"}
	f.PutAccessPoint(ap)
	f.SetSecrets(func(key string) (string, string, bool) { return testSecr, "", key == testKey })
	pc := s3.NewPresignClient(testClient(base))
	presign := func(bucket, key string) string {
		req, err := pc.PresignGetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)},
			s3.WithPresignExpires(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return req.URL
	}
	code := func(resp *http.Response) string {
		body, _ := io.ReadAll(resp.Body)
		_, after, _ := strings.Cut(string(body), "<Code>")
		c, _, _ := strings.Cut(after, "</Code>")
		return c
	}
	for _, u := range []string{presign("b", "a.png"), presign(ap.Alias(), "a.png"), presign("b", "dir/with space.png")} {
		if resp := do(t, "GET", u, lab, ""); resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != lab {
			t.Errorf("GET %s: HTTP %d (%s), Access-Control-Allow-Origin %q", u, resp.StatusCode, code(resp), resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	good := presign("b", "a.png")
	tampered := strings.Replace(good, "/a.png", "/other.png", 1)
	expired, _ := url.Parse(good)
	q := expired.Query()
	q.Set("X-Amz-Date", "20200101T000000Z")
	expired.RawQuery = q.Encode()
	unknown := strings.Replace(good, testKey, "AKIAUNKNOWN", 1)
	for u, want := range map[string]string{tampered: "SignatureDoesNotMatch", expired.String(): "AccessDenied", unknown: "InvalidAccessKeyId"} {
		resp := do(t, "GET", u, lab, "")
		if got := code(resp); resp.StatusCode != http.StatusForbidden || got != want {
			t.Errorf("GET %s: HTTP %d %s, want 403 %s", u, resp.StatusCode, got, want)
		}
	}
}
