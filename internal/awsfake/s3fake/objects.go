package s3fake

import (
	"io"
	"net/http"
	"net/url"
)

// defaultContentType is what S3 stores for an object put without a Content-Type.
const defaultContentType = "binary/octet-stream"

// putObject stores the request's body under key with its Content-Type, as PutObject does.
// The caller holds f.mu.
func putObject(w http.ResponseWriter, r *http.Request, b *Bucket, key string) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, r, newError("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header"), false)
		return
	}
	b.Objects[key] = data
	if b.ContentTypes == nil {
		b.ContentTypes = map[string]string{}
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = defaultContentType
	}
	b.ContentTypes[key] = ct
	w.Header().Set("ETag", etag(data))
	w.WriteHeader(http.StatusOK)
}

// contentType is the Content-Type S3 serves the object key with.
func (b *Bucket) contentType(key string) string {
	if ct := b.ContentTypes[key]; ct != "" {
		return ct
	}
	return defaultContentType
}

// objectSubresources are query parameters that make a PUT on a key another operation than
// PutObject (PutObjectAcl, PutObjectTagging, UploadPart, ...).
var objectSubresources = []string{"acl", "tagging", "uploadId", "partNumber", "retention", "legal-hold", "restore", "torrent"}

func objectSubresource(q url.Values) bool {
	for _, p := range objectSubresources {
		if q.Has(p) {
			return true
		}
	}
	return false
}
