package s3fake

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// ObjectMeta is what S3 stores with an object besides its bytes: the headers given to
// PutObject that GetObject and HeadObject return.
type ObjectMeta struct {
	ContentType  string
	CacheControl string
	// Metadata is the user metadata (x-amz-meta-NAME), keyed by lower-case NAME as S3 keeps it.
	Metadata map[string]string
}

// Object returns a copy of the object's bytes and metadata, for tests.
func (f *Fake) Object(bucket, key string) (data []byte, meta ObjectMeta, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.buckets[bucket]
	if b == nil {
		return nil, ObjectMeta{}, false
	}
	data, ok = b.Objects[key]
	return bytes.Clone(data), b.Meta[key], ok
}

// Keys returns the keys of the bucket's objects, sorted, for tests.
func (f *Fake) Keys(bucket string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.buckets[bucket]
	if b == nil {
		return nil
	}
	return sortedKeys(b.Objects, "", "")
}

// writeOperation names the write and website requests of the data plane, or returns "".
func writeOperation(r *http.Request, key string) string {
	q := r.URL.Query()
	q.Del("x-id") // the SDK names the operation in the query; S3 ignores it
	plain := len(q) == 0
	switch {
	case r.Method == http.MethodPut && key == "" && q.Has("website"):
		return "PutBucketWebsite"
	case r.Method == http.MethodGet && key == "" && q.Has("website"):
		return "GetBucketWebsite"
	case r.Method == http.MethodDelete && key == "" && q.Has("website"):
		return "DeleteBucketWebsite"
	case r.Method == http.MethodPut && key != "" && r.Header.Get("x-amz-copy-source") == "" && plain:
		return "PutObject"
	case r.Method == http.MethodPost && key == "" && q.Has("delete"):
		return "DeleteObjects"
	case r.Method == http.MethodDelete && key != "" && plain:
		return "DeleteObject"
	}
	return ""
}

// serveWrite serves the operations named by writeOperation; it returns false for others.
// The caller holds f.mu.
func serveWrite(w http.ResponseWriter, r *http.Request, b *Bucket, key, op string) bool {
	switch op {
	case "PutObject":
		putObject(w, r, b, key)
	case "DeleteObject":
		delete(b.Objects, key)
		delete(b.Meta, key)
		w.WriteHeader(http.StatusNoContent)
	case "DeleteObjects":
		deleteObjects(w, r, b)
	case "GetBucketWebsite":
		getBucketWebsite(w, r, b)
	case "PutBucketWebsite":
		putBucketWebsite(w, r, b)
	case "DeleteBucketWebsite":
		b.Website = nil
		w.WriteHeader(http.StatusNoContent)
	default:
		return false
	}
	return true
}

// setObjectHeaders writes the stored headers of an object on a GET or HEAD response. An
// object put without a Content-Type (or set directly by a test) is binary/octet-stream, as
// in S3.
func setObjectHeaders(h http.Header, b *Bucket, key string) {
	m := b.Meta[key]
	h.Set("Content-Type", "binary/octet-stream")
	if m.ContentType != "" {
		h.Set("Content-Type", m.ContentType)
	}
	if m.CacheControl != "" {
		h.Set("Cache-Control", m.CacheControl)
	}
	for k, v := range m.Metadata {
		h.Set("x-amz-meta-"+k, v)
	}
	switch kms := b.objectKMSKey(key); {
	case kms != "":
		h.Set("x-amz-server-side-encryption", "aws:kms")
		h.Set("x-amz-server-side-encryption-aws-kms-key-id", kms)
	case b.SSEAlgorithm != "":
		h.Set("x-amz-server-side-encryption", b.SSEAlgorithm)
	}
}

// putObject stores the body, decoding the aws-chunked encoding the SDK uses for streaming
// uploads with a trailing checksum, and checks Content-MD5 when given, as S3 does.
func putObject(w http.ResponseWriter, r *http.Request, b *Bucket, key string) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, newError("IncompleteBody", "%v", err), false)
		return
	}
	if sum := r.Header.Get("Content-MD5"); sum != "" {
		got := md5.Sum(body)
		if sum != base64.StdEncoding.EncodeToString(got[:]) {
			writeError(w, r, newError("BadDigest", "The Content-MD5 you specified did not match what we received."), false)
			return
		}
	}
	m := ObjectMeta{ContentType: r.Header.Get("Content-Type"), CacheControl: r.Header.Get("Cache-Control")}
	for name, vals := range r.Header {
		if k, ok := strings.CutPrefix(strings.ToLower(name), "x-amz-meta-"); ok && len(vals) > 0 {
			if m.Metadata == nil {
				m.Metadata = map[string]string{}
			}
			m.Metadata[k] = vals[0]
		}
	}
	if b.Meta == nil {
		b.Meta = map[string]ObjectMeta{}
	}
	b.Objects[key] = body
	b.Meta[key] = m
	w.Header().Set("ETag", etag(body))
	w.WriteHeader(http.StatusOK)
}

// readBody returns the request's payload, decoded from aws-chunked when so encoded.
func readBody(r *http.Request) ([]byte, error) {
	chunked := strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") ||
		strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-")
	if !chunked {
		return io.ReadAll(r.Body)
	}
	var out bytes.Buffer
	br := bufio.NewReader(r.Body)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("aws-chunked body: %w", err)
		}
		sizeHex, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		size, err := strconv.ParseInt(sizeHex, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("aws-chunked body: chunk size %q", sizeHex)
		}
		if size == 0 {
			return out.Bytes(), nil // trailers follow; the fake does not verify them
		}
		if _, err := io.CopyN(&out, br, size); err != nil {
			return nil, fmt.Errorf("aws-chunked body: %w", err)
		}
		if _, err := br.ReadString('\n'); err != nil {
			return nil, fmt.Errorf("aws-chunked body: %w", err)
		}
	}
}

// maxDeleteKeys is the most keys one DeleteObjects request may name.
const maxDeleteKeys = 1000

// deleteObjects deletes up to 1000 keys. S3 requires an integrity header on this operation
// (Content-MD5 or an x-amz-checksum-*), and reports a key that did not exist as deleted.
func deleteObjects(w http.ResponseWriter, r *http.Request, b *Bucket) {
	hasChecksum := r.Header.Get("Content-MD5") != "" || r.Header.Get("x-amz-sdk-checksum-algorithm") != ""
	for name := range r.Header {
		if strings.HasPrefix(strings.ToLower(name), "x-amz-checksum-") {
			hasChecksum = true
		}
	}
	if !hasChecksum {
		writeError(w, r, newError("InvalidRequest", "Missing required header for this request: Content-MD5 OR x-amz-checksum-*"), false)
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, newError("IncompleteBody", "%v", err), false)
		return
	}
	var req struct {
		Objects []struct{ Key string } `xml:"Object"`
		Quiet   bool
	}
	if err := xml.Unmarshal(body, &req); err != nil || len(req.Objects) == 0 || len(req.Objects) > maxDeleteKeys {
		writeError(w, r, newError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"), false)
		return
	}
	type deleted struct{ Key string }
	res := struct {
		XMLName xml.Name  `xml:"http://s3.amazonaws.com/doc/2006-03-01/ DeleteResult"`
		Deleted []deleted `xml:"Deleted"`
	}{}
	for _, o := range req.Objects {
		delete(b.Objects, o.Key)
		delete(b.Meta, o.Key)
		if !req.Quiet {
			res.Deleted = append(res.Deleted, deleted{o.Key})
		}
	}
	writeXML(w, res)
}

// sortedKeys returns the keys of objects that start with prefix and sort after after.
func sortedKeys(objects map[string][]byte, prefix, after string) []string {
	var keys []string
	for k := range objects {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// Bucket returns a copy of the bucket's state (objects shared), or nil, for tests.
func (f *Fake) Bucket(name string) *Bucket {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.buckets[name]
	if b == nil {
		return nil
	}
	c := *b
	if b.Website != nil {
		w := *b.Website
		c.Website = &w
	}
	return &c
}
