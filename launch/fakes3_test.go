package launch

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// fakeS3 is gofakes3 (a real S3 wire-protocol server) with the parts of S3 behaviour that
// publishing depends on and gofakes3 lacks: anonymous requests are refused with 403 unless the
// object's key is under a prefix made public (as a bucket policy would), and a bucket lives in
// one region, which HeadBucket reports in x-amz-bucket-region, redirecting (301) a request
// signed for another region.
type fakeS3 struct {
	*httptest.Server
	backend gofakes3.Backend

	mu       sync.Mutex
	public   []string // bucket/prefix/ strings readable anonymously
	region   string   // the buckets' region; "" sends no region header, like LocalStack
	mangle   string   // keys containing this are stored with one byte changed
	requests []string // "METHOD /path" of every request seen
}

func newFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	f := &fakeS3{}
	f.backend = &mangler{Backend: s3mem.New(), f: f}
	s3 := gofakes3.New(f.backend).Server()
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.Path)
		region, public := f.region, f.isPublic(r.URL.Path)
		f.mu.Unlock()
		signed := r.Header.Get("Authorization") != "" || r.URL.Query().Get("X-Amz-Signature") != ""
		if !signed && !(r.Method == http.MethodGet && public) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
			return
		}
		if isBucketPath(r.URL.Path) && r.Method == http.MethodHead && region != "" {
			w.Header().Set("X-Amz-Bucket-Region", region)
			if signingRegion(r) != region {
				w.WriteHeader(http.StatusMovedPermanently)
				return
			}
		}
		s3.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeS3) createBucket(t *testing.T, name string) {
	t.Helper()
	if err := f.backend.CreateBucket(name); err != nil {
		t.Fatal(err)
	}
}

// makePublic makes objects under bucket/prefix/ readable anonymously.
func (f *fakeS3) makePublic(bucket, prefix string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.public = append(f.public, "/"+bucket+"/"+prefix+"/")
}

func (f *fakeS3) isPublic(path string) bool {
	for _, p := range f.public {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// count returns how many requests had this method and path.
func (f *fakeS3) count(method, path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if r == method+" "+path {
			n++
		}
	}
	return n
}

func (f *fakeS3) requestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeS3) object(t *testing.T, bucket, key string) []byte {
	t.Helper()
	obj, err := f.backend.GetObject(bucket, key, nil)
	if err != nil {
		t.Fatalf("s3://%s/%s: %v", bucket, key, err)
	}
	defer obj.Contents.Close()
	b, err := io.ReadAll(obj.Contents)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func isBucketPath(path string) bool {
	return strings.Count(strings.Trim(path, "/"), "/") == 0 && strings.Trim(path, "/") != ""
}

var credentialScope = regexp.MustCompile(`Credential=[^/]+/[0-9]{8}/([^/]+)/s3/aws4_request`)

func signingRegion(r *http.Request) string {
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	return ""
}

// mangler stores objects whose key contains f.mangle with their first byte changed and without
// the checksum the client sent (as a store that keeps no checksums would), so the SDK's own
// response checksum validation cannot notice: a fault only a byte-for-byte read-back catches.
type mangler struct {
	gofakes3.Backend
	f *fakeS3
}

func (m *mangler) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, cond *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	m.f.mu.Lock()
	mangle := m.f.mangle != "" && strings.Contains(key, m.f.mangle)
	m.f.mu.Unlock()
	if mangle {
		b, err := gofakes3.ReadAll(input, size)
		if err != nil {
			return gofakes3.PutObjectResult{}, err
		}
		b[0] ^= 0xff
		input = bytes.NewReader(b)
		for k := range meta {
			if strings.HasPrefix(k, "X-Amz-Checksum-") {
				delete(meta, k)
			}
		}
	}
	return m.Backend.PutObject(bucket, key, meta, input, size, cond)
}
