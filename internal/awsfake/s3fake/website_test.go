package s3fake

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The website endpoint serves index documents for folders, redirects a folder named without
// its slash, and answers a missing key with the error document and 404.
func TestWebsite(t *testing.T) {
	f := New()
	f.PutBucket(Bucket{Name: "site", Region: "eu-west-3", Website: &Website{IndexSuffix: "index.html", ErrorKey: "g/404.html"},
		Objects: map[string][]byte{"g/index.html": []byte("home"), "g/404.html": []byte("missing"), "g/a.css": []byte("css")},
		Meta:    map[string]ObjectMeta{"g/a.css": {ContentType: "text/css", CacheControl: "max-age=1"}}})
	f.PutBucket(Bucket{Name: "plain", Region: "eu-west-3"})
	srv := httptest.NewServer(f.Website("site"))
	defer srv.Close()
	plain := httptest.NewServer(f.Website("plain"))
	defer plain.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		url, body, location, ctype string
		status                     int
	}{
		{srv.URL + "/g/", "home", "", "binary/octet-stream", 200},
		{srv.URL + "/g/a.css", "css", "", "text/css", 200},
		{srv.URL + "/g", "", "/g/", "", 302},
		{srv.URL + "/g/nope.html", "missing", "", "binary/octet-stream", 404},
		{plain.URL + "/x", "", "", "text/html; charset=utf-8", 404},
	}
	for _, tt := range tests {
		resp, err := noRedirect.Get(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || tt.body != "" && string(body) != tt.body || resp.Header.Get("Location") != tt.location ||
			tt.ctype != "" && resp.Header.Get("Content-Type") != tt.ctype {
			t.Errorf("GET %s: %d %q Location %q type %q; want %d %q %q %q", tt.url, resp.StatusCode, body, resp.Header.Get("Location"),
				resp.Header.Get("Content-Type"), tt.status, tt.body, tt.location, tt.ctype)
		}
	}
	resp, err := http.Post(srv.URL+"/g/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
}
