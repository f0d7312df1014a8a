package s3fake

import (
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
)

// Website is a bucket's static website configuration (PutBucketWebsite).
type Website struct {
	// IndexSuffix is the index document suffix, e.g. index.html, appended to requests for a
	// folder ("" or ending in "/").
	IndexSuffix string
	// ErrorKey is the key of the error document, served with the error's status; "" for
	// S3's own error page.
	ErrorKey string
	// RedirectHost, when set, redirects every request to that host (RedirectAllRequestsTo),
	// over RedirectProtocol if set.
	RedirectHost, RedirectProtocol string
	// RoutingRules is the inner XML of <RoutingRules>, kept as sent; the fake stores and
	// returns it but does not apply it.
	RoutingRules string
}

// websiteXML is the WebsiteConfiguration document of PutBucketWebsite and GetBucketWebsite.
type websiteXML struct {
	XMLName       xml.Name `xml:"WebsiteConfiguration"`
	IndexDocument *struct {
		Suffix string
	} `xml:",omitempty"`
	ErrorDocument *struct {
		Key string
	} `xml:",omitempty"`
	RedirectAllRequestsTo *struct {
		HostName string
		Protocol string `xml:",omitempty"`
	} `xml:",omitempty"`
	RoutingRules *struct {
		Inner string `xml:",innerxml"`
	} `xml:",omitempty"`
}

var errNoWebsite = &s3Error{status: http.StatusNotFound, code: "NoSuchWebsiteConfiguration", message: "The specified bucket does not have a website configuration"}

func getBucketWebsite(w http.ResponseWriter, r *http.Request, b *Bucket) {
	if b.Website == nil {
		writeError(w, r, errNoWebsite, false)
		return
	}
	c := b.Website
	var doc websiteXML
	doc.XMLName = xml.Name{Space: "http://s3.amazonaws.com/doc/2006-03-01/", Local: "WebsiteConfiguration"}
	if c.IndexSuffix != "" {
		doc.IndexDocument = &struct{ Suffix string }{c.IndexSuffix}
	}
	if c.ErrorKey != "" {
		doc.ErrorDocument = &struct{ Key string }{c.ErrorKey}
	}
	if c.RedirectHost != "" {
		doc.RedirectAllRequestsTo = &struct {
			HostName string
			Protocol string `xml:",omitempty"`
		}{c.RedirectHost, c.RedirectProtocol}
	}
	if c.RoutingRules != "" {
		doc.RoutingRules = &struct {
			Inner string `xml:",innerxml"`
		}{c.RoutingRules}
	}
	writeXML(w, doc)
}

// putBucketWebsite replaces the whole website configuration, as S3 does. It needs either an
// index document with a non-empty suffix without "/", or a redirect of every request, and not
// both.
func putBucketWebsite(w http.ResponseWriter, r *http.Request, b *Bucket) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, newError("IncompleteBody", "%v", err), false)
		return
	}
	var doc websiteXML
	if err := xml.Unmarshal(body, &doc); err != nil {
		writeError(w, r, newError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"), false)
		return
	}
	c := &Website{}
	switch {
	case doc.RedirectAllRequestsTo != nil && (doc.IndexDocument != nil || doc.ErrorDocument != nil || doc.RoutingRules != nil):
		writeError(w, r, newError("InvalidArgument", "RedirectAllRequestsTo cannot be provided in conjunction with other Routing/Redirect configurations."), false)
		return
	case doc.RedirectAllRequestsTo != nil:
		c.RedirectHost, c.RedirectProtocol = doc.RedirectAllRequestsTo.HostName, doc.RedirectAllRequestsTo.Protocol
	case doc.IndexDocument == nil:
		writeError(w, r, newError("InvalidArgument", "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty"), false)
		return
	case doc.IndexDocument.Suffix == "" || strings.Contains(doc.IndexDocument.Suffix, "/"):
		writeError(w, r, newError("InvalidArgument", "The IndexDocument Suffix is not well formed"), false)
		return
	default:
		c.IndexSuffix = doc.IndexDocument.Suffix
		if doc.ErrorDocument != nil {
			c.ErrorKey = doc.ErrorDocument.Key
		}
		if doc.RoutingRules != nil {
			c.RoutingRules = doc.RoutingRules.Inner
		}
	}
	b.Website = c
	w.WriteHeader(http.StatusOK)
}

// Website returns a handler that serves the bucket as its S3 website endpoint does, for an
// anonymous reader of a public bucket: GET and HEAD only; a folder ("" or ending in "/") gets
// the index document; a key that is missing while KEY/INDEX exists redirects (302) to KEY/; a
// missing key gets the error document with status 404 (S3 answers 403 instead when the
// public cannot list the bucket); a bucket without a website configuration answers 404
// NoSuchWebsiteConfiguration. Objects come with their stored Content-Type, Cache-Control,
// ETag and metadata. Routing rules are not applied.
func (f *Fake) Website(bucket string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.record("s3-website", "Website "+r.Method, r.Method)
		f.mu.Lock()
		defer f.mu.Unlock()
		b := f.buckets[bucket]
		switch {
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			websiteError(w, r, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
			return
		case b == nil:
			websiteError(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
			return
		case b.Website == nil:
			websiteError(w, r, http.StatusNotFound, errNoWebsite.code, errNoWebsite.message)
			return
		case b.Website.RedirectHost != "":
			proto := b.Website.RedirectProtocol
			if proto == "" {
				proto = "http"
			}
			http.Redirect(w, r, proto+"://"+b.Website.RedirectHost+r.URL.RequestURI(), http.StatusMovedPermanently)
			return
		}
		key := strings.TrimPrefix(r.URL.Path, "/")
		if key == "" || strings.HasSuffix(key, "/") {
			key += b.Website.IndexSuffix
		}
		if _, ok := b.Objects[key]; ok {
			serveWebsiteObject(w, r, b, key, http.StatusOK)
			return
		}
		if _, ok := b.Objects[key+"/"+b.Website.IndexSuffix]; ok {
			http.Redirect(w, r, r.URL.Path+"/", http.StatusFound)
			return
		}
		if _, ok := b.Objects[b.Website.ErrorKey]; b.Website.ErrorKey != "" && ok {
			serveWebsiteObject(w, r, b, b.Website.ErrorKey, http.StatusNotFound)
			return
		}
		websiteError(w, r, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
	})
}

func serveWebsiteObject(w http.ResponseWriter, r *http.Request, b *Bucket, key string, status int) {
	data := b.Objects[key]
	setObjectHeaders(w.Header(), b, key)
	w.Header().Set("ETag", etag(data))
	w.Header().Set("Last-Modified", lastModified.Format(http.TimeFormat))
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	w.WriteHeader(status)
	if r.Method == http.MethodGet {
		_, _ = w.Write(data)
	}
}

// websiteError writes the HTML error page of the website endpoint (it never answers XML).
func websiteError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method == http.MethodGet {
		_, _ = io.WriteString(w, fmt.Sprintf("<html><head><title>%d %s</title></head><body><h1>%d %s</h1><ul><li>Code: %s</li><li>Message: %s</li></ul></body></html>\n",
			status, http.StatusText(status), status, http.StatusText(status), html.EscapeString(code), html.EscapeString(message)))
	}
}
