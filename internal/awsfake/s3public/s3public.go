// Package s3public is an in-process S3 for tests of template publishing: gofakes3 (a real S3
// wire-protocol server) behind the S3 behaviour publishing depends on and gofakes3 lacks.
// Anonymous requests are refused with 403 AccessDenied unless the object's key is under a
// prefix made public (as a public-read bucket policy would); a bucket lives in one region,
// which HeadBucket reports in x-amz-bucket-region, answering 301 to a request signed for
// another region; and a storage fault can be injected to prove read-back checks.
//
// It is test support: only _test.go files import it.
package s3public

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

// Fake is the S3 server; URL is its endpoint, for AWS_ENDPOINT_URL.
type Fake struct {
	*httptest.Server
	backend gofakes3.Backend

	mu       sync.Mutex
	public   []string          // "/bucket/prefix/" paths readable anonymously
	region   string            // the buckets' region; "" sends no region header, like LocalStack
	mangle   string            // keys containing this are stored corrupted
	racers   map[string][]byte // "/bucket/key" -> bytes another writer stores just before our PUT
	requests []string          // "METHOD /path" of every request
}

// New starts a fake S3, stopped when the test ends.
func New(t testing.TB) *Fake {
	f := &Fake{}
	f.backend = &mangler{Backend: s3mem.New(), f: f}
	s3 := gofakes3.New(f.backend).Server()
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.Path)
		region, public := f.region, f.isPublic(r.URL.Path)
		racer, racing := f.racers[r.URL.Path]
		if r.Method == http.MethodPut && racing {
			delete(f.racers, r.URL.Path)
		}
		f.mu.Unlock()
		if r.Method == http.MethodPut && racing {
			bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
			if _, err := f.backend.PutObject(bucket, key, nil, bytes.NewReader(racer), int64(len(racer)), nil); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
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

// CreateBucket creates a bucket.
func (f *Fake) CreateBucket(t testing.TB, name string) {
	t.Helper()
	if err := f.backend.CreateBucket(name); err != nil {
		t.Fatal(err)
	}
}

// SetRegion puts every bucket in region (HeadBucket then reports it and redirects others).
func (f *Fake) SetRegion(region string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.region = region
}

// MakePublic makes the objects under bucket/prefix/ readable anonymously.
func (f *Fake) MakePublic(bucket, prefix string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.public = append(f.public, "/"+bucket+"/"+prefix+"/")
}

// Mangle makes the store corrupt objects whose key contains substr: their first byte changes
// and the checksum the client sent is dropped (as a store that keeps no checksums would), so
// the SDK's response checksum validation cannot notice: only a byte-for-byte read-back can.
func (f *Fake) Mangle(substr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mangle = substr
}

// Race makes another writer store body at bucket/key just before the next PUT of that key
// reaches S3, as a concurrent publisher would.
func (f *Fake) Race(bucket, key string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.racers == nil {
		f.racers = map[string][]byte{}
	}
	f.racers["/"+bucket+"/"+key] = body
}

// Count returns how many requests had this method and path.
func (f *Fake) Count(method, path string) int {
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

// Requests returns how many requests the fake has served.
func (f *Fake) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// Object returns an object's stored bytes.
func (f *Fake) Object(t testing.TB, bucket, key string) []byte {
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

// PutObject stores an object directly, as someone else would have.
func (f *Fake) PutObject(t testing.TB, bucket, key string, body []byte) {
	t.Helper()
	if _, err := f.backend.PutObject(bucket, key, nil, bytes.NewReader(body), int64(len(body)), nil); err != nil {
		t.Fatal(err)
	}
}

func (f *Fake) isPublic(path string) bool {
	for _, p := range f.public {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

func isBucketPath(path string) bool {
	p := strings.Trim(path, "/")
	return p != "" && !strings.Contains(p, "/")
}

var credentialScope = regexp.MustCompile(`Credential=[^/]+/[0-9]{8}/([^/]+)/s3/aws4_request`)

func signingRegion(r *http.Request) string {
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	return ""
}

type mangler struct {
	gofakes3.Backend
	f *Fake
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
