// Package s3fake is an in-process fake of the S3 and S3 Control REST-XML APIs for tests, for
// the calls gofakes3 does not model: bucket CORS (and the browser preflight S3 answers from
// it), default encryption, bucket location, access points (S3 Control GetAccessPoint, and
// data-plane requests addressed to NAME-ACCOUNT.host as the SDK sends them for an access
// point ARN, or to its alias as a bucket name), ListObjectsV2 and ranged GetObject with the
// CORS headers S3 adds for an allowed Origin, presigned (query-string SigV4) URLs; object
// writes with their stored headers (PutObject, DeleteObject(s), objects.go) and the bucket
// website, its configuration and its endpoint (website.go). Faults in front of S3 (a proxy
// stripping CORS headers, ignoring Range) are injected with Inject. Both APIs share one
// state, as in AWS.
//
// The fake ignores the host part after the first label, so tests can dial it whatever host
// the SDK builds (S3 Control prefixes the account ID, access point ARNs their name).
//
// It is test support: only _test.go files and other fakes import it.
package s3fake

import (
	"crypto/md5"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fake holds buckets and access points and serves S3 (ServeHTTP) and S3 Control (Control).
type Fake struct {
	mu           sync.Mutex
	buckets      map[string]*Bucket
	accessPoints map[string]*AccessPoint // by apKey: names are unique per account and region
	failures     map[string]string       // operation -> error code
	calls        []Call
	authorize    PolicyAuthorizer
	faults       map[Fault]bool
	secrets      SecretFunc
}

// An Authorizer decides whether the caller signing with accessKey may call action (such as
// s3:GetObject or kms:Decrypt) on resource (an ARN), given the request's condition keys
// (lower-case names, e.g. "s3:prefix").
type Authorizer func(accessKey, action, resource string, ctx map[string][]string) bool

// SetAuthorizer makes the fake answer AccessDenied to what auth does not allow, as S3 does
// after evaluating the caller's policies. Without one every request is allowed. Reading an
// object of an SSE-KMS bucket also needs kms:Decrypt on the bucket's key through S3.
func (f *Fake) SetAuthorizer(auth Authorizer) {
	f.SetPolicyAuthorizer(func(r AuthRequest) bool { return auth(r.AccessKey, r.Action, r.Resource, r.Context) })
}

// Bucket is a bucket's state. Tests set its fields directly through PutBucket.
type Bucket struct {
	Name   string
	Region string
	// CORS is nil when the bucket has no CORS configuration.
	CORS []CORSRule
	// SSEAlgorithm is "" (no configuration), AES256, aws:kms or aws:kms:dsse.
	SSEAlgorithm string
	KMSKeyID     string
	Objects      map[string][]byte
	// Meta holds the stored headers of objects that have any (see ObjectMeta).
	Meta map[string]ObjectMeta
	// Website is nil when the bucket has no website configuration.
	Website *Website
	// Policy is the bucket policy's JSON, "" for none.
	Policy string
	// Owner is the owning account; Ownership the Object Ownership setting ("" for none set,
	// BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter).
	Owner, Ownership string
	// ObjectOwners holds the account of objects another account wrote (ACLs enabled).
	ObjectOwners map[string]string
	// ObjectKMSKeys holds the KMS key of objects encrypted with another key than the default.
	ObjectKMSKeys map[string]string
}

// CORSRule is one rule of a bucket CORS configuration.
type CORSRule struct {
	ID             string   `xml:"ID,omitempty"`
	AllowedHeaders []string `xml:"AllowedHeader"`
	AllowedMethods []string `xml:"AllowedMethod"`
	AllowedOrigins []string `xml:"AllowedOrigin"`
	ExposeHeaders  []string `xml:"ExposeHeader"`
	MaxAgeSeconds  int      `xml:"MaxAgeSeconds,omitempty"`
}

// AccessPoint is an S3 access point's state.
type AccessPoint struct {
	Name, Account, Region, Bucket string
	// VPCID is empty for an Internet network origin.
	VPCID string
	// BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets.
	PublicAccessBlock [4]bool
	// Policy is the access point policy's JSON, "" for none.
	Policy string
}

// ARN returns the access point's ARN.
func (a *AccessPoint) ARN() string {
	return fmt.Sprintf("arn:aws:s3:%s:%s:accesspoint/%s", a.Region, a.Account, a.Name)
}

// Call is one recorded request: the API ("s3" or "s3control"), the operation and, for
// operations the fake does not model, the HTTP method and path.
type Call struct {
	API, Operation string
	Method         string
}

// New returns an empty fake.
func New() *Fake {
	return &Fake{buckets: map[string]*Bucket{}, accessPoints: map[string]*AccessPoint{}, failures: map[string]string{}}
}

// Start serves the fake's S3 and S3 Control APIs on one httptest server (S3 Control paths start
// with /v20180820/) and returns the fake and the URL.
func Start(tb testing.TB) (*Fake, string) {
	tb.Helper()
	f := New()
	mux := http.NewServeMux()
	mux.Handle("/v20180820/", f.Control())
	mux.Handle("/", f)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return f, srv.URL
}

// PutBucket adds or replaces a bucket.
func (f *Fake) PutBucket(b Bucket) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b.Objects == nil {
		b.Objects = map[string][]byte{}
	}
	f.buckets[b.Name] = &b
}

// PutAccessPoint adds or replaces an access point.
func (f *Fake) PutAccessPoint(a AccessPoint) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accessPoints[apKey(a.Account, a.Region, a.Name)] = &a
}

// apKey is where an access point is kept: S3 access point names are unique per account and
// region, so two regions may each hold an access point of the same name.
func apKey(account, region, name string) string { return account + "/" + region + "/" + name }

// accessPoint returns the access point of account named name in the region the request is
// signed for (its SigV4 credential scope), as S3 serves the region of the endpoint called; an
// unsigned request finds it by name alone when the name is unique. The caller holds f.mu.
func (f *Fake) accessPoint(r *http.Request, account, name string) *AccessPoint {
	if region := signedRegion(r); region != "" {
		return f.accessPoints[apKey(account, region, name)]
	}
	var found *AccessPoint
	for _, ap := range f.accessPoints {
		if ap.Account == account && ap.Name == name {
			if found != nil {
				return nil
			}
			found = ap
		}
	}
	return found
}

// signedRegion is the region of a request's SigV4 credential scope (KEY/DATE/REGION/SERVICE/
// aws4_request), from its Authorization header or presigned query; "" when unsigned.
func signedRegion(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if _, after, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
		cred, _, _ = strings.Cut(after, ",")
	}
	if parts := strings.Split(cred, "/"); len(parts) >= 5 {
		return parts[2]
	}
	return ""
}

// AccessPoints returns a copy of every access point, for tests.
func (f *Fake) AccessPoints() []AccessPoint {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]AccessPoint, 0, len(f.accessPoints))
	for _, a := range f.accessPoints {
		out = append(out, *a)
	}
	return out
}

// Fail makes every call of operation (e.g. "GetObject") fail with the error code, e.g.
// AccessDenied as when a bucket policy or a KMS key refuses the caller.
func (f *Fake) Fail(operation, code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures[operation] = code
}

// Calls returns the requests served so far, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *Fake) record(api, op, method string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, Call{API: api, Operation: op, Method: method})
	return f.failures[op]
}

type s3Error struct {
	status        int
	code, message string
}

var errorStatus = map[string]int{"AccessDenied": http.StatusForbidden, "AccessForbidden": http.StatusForbidden, "NoSuchBucket": http.StatusNotFound,
	"NoSuchKey": http.StatusNotFound, "NoSuchAccessPoint": http.StatusNotFound,
	"NoSuchCORSConfiguration":                        http.StatusNotFound,
	"ServerSideEncryptionConfigurationNotFoundError": http.StatusNotFound,
	"SignatureDoesNotMatch":                          http.StatusForbidden, "InvalidAccessKeyId": http.StatusForbidden,
	"InvalidRange": http.StatusRequestedRangeNotSatisfiable, "NotImplemented": http.StatusNotImplemented}

func newError(code, format string, args ...any) *s3Error {
	status, ok := errorStatus[code]
	if !ok {
		status = http.StatusBadRequest
	}
	return &s3Error{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// writeError writes an S3 error body; wrapped puts it in <ErrorResponse>, as S3 Control does.
func writeError(w http.ResponseWriter, r *http.Request, e *s3Error, wrapped bool) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(e.status)
	if r.Method == http.MethodHead {
		return
	}
	body := struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		RequestID string `xml:"RequestId"`
		HostID    string `xml:"HostId"`
	}{Code: e.code, Message: e.message, RequestID: "FAKEREQUEST", HostID: "fakehost"}
	out, _ := xml.Marshal(body)
	if wrapped {
		out = []byte("<ErrorResponse>" + string(out) + "</ErrorResponse>")
	}
	_, _ = w.Write(append([]byte(xml.Header), out...))
}

func writeXML(w http.ResponseWriter, v any) {
	out, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write(append([]byte(xml.Header), out...))
}

// apHost matches the first host label of an access point request: NAME-ACCOUNT.
var apHost = regexp.MustCompile(`^([a-z0-9-]+)-([0-9]{12})$`)

// target finds the bucket (and access point) and key a data-plane request addresses, by
// access point host or path.
func (f *Fake) target(r *http.Request) (bucket *Bucket, ap *AccessPoint, key string, e *s3Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	label, _, _ := strings.Cut(r.Host, ".")
	path := strings.TrimPrefix(r.URL.Path, "/")
	if m := apHost.FindStringSubmatch(label); m != nil {
		ap = f.accessPoint(r, m[2], m[1])
		if ap == nil {
			return nil, nil, "", newError("NoSuchAccessPoint", "The specified accesspoint does not exist")
		}
		bucket = f.buckets[ap.Bucket]
		key = path
	} else {
		name, k, _ := strings.Cut(path, "/")
		bucket, key = f.buckets[name], k
		if ap = f.byAlias(name); ap != nil {
			bucket = f.buckets[ap.Bucket]
		}
	}
	if bucket == nil {
		return nil, nil, "", newError("NoSuchBucket", "The specified bucket does not exist")
	}
	return bucket, ap, key, nil
}

// accessKey returns the access key a request is signed with, from its header or query.
func accessKey(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if _, after, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
		cred = after
	}
	key, _, _ := strings.Cut(cred, "/")
	return key
}

// permissions lists the action and resource (and condition keys) S3 authorizes an operation on.
var permissions = map[string]string{"ListObjectsV2": "s3:ListBucket", "HeadBucket": "s3:ListBucket",
	"GetObject": "s3:GetObject", "HeadObject": "s3:GetObject", "PutObject": "s3:PutObject", "GetBucketCors": "s3:GetBucketCORS",
	"GetBucketEncryption": "s3:GetEncryptionConfiguration", "GetBucketLocation": "s3:GetBucketLocation",
	"GetBucketPolicy": "s3:GetBucketPolicy", "GetBucketAcl": "s3:GetBucketAcl", "GetObjectAcl": "s3:GetObjectAcl", "GetBucketOwnershipControls": "s3:GetBucketOwnershipControls"}

// denied returns the AccessDenied error for a request the authorizer refuses, or nil. An
// object another account owns is refused to the bucket owner's principals (ACLs enabled, no
// grant), and reading an SSE-KMS object also needs kms:Decrypt on its own key through S3.
func (f *Fake) denied(r *http.Request, op string, b *Bucket, ap *AccessPoint, key string) *s3Error {
	action, modelled := permissions[op]
	if f.authorize == nil || !modelled {
		return nil
	}
	resource := "arn:aws:s3:::" + b.Name
	object := resource + "/" + key
	if ap != nil {
		resource = ap.ARN()
		object = resource + "/object/" + key
	}
	ctx := requestContext(r)
	if op == "ListObjectsV2" {
		ctx["s3:prefix"] = []string{r.URL.Query().Get("prefix")}
	}
	objectLevel := action == "s3:GetObject" || action == "s3:GetObjectAcl"
	if objectLevel {
		resource = object
	}
	caller := accessKey(r)
	bucketResource := "arn:aws:s3:::" + b.Name
	if objectLevel {
		bucketResource += "/" + key
	}
	req := AuthRequest{AccessKey: caller, Action: action, Resource: resource, BucketResource: bucketResource, Context: ctx, BucketPolicy: b.Policy}
	if ap != nil {
		req.AccessPointPolicy = ap.Policy
	}
	if !f.authorize(req) {
		return newError("AccessDenied", "User: %s is not authorized to perform: %s on resource: %s", caller, action, resource)
	}
	if !objectLevel {
		return nil
	}
	if owner := b.objectOwner(key); owner != "" && b.Owner != "" && owner != b.Owner {
		// ACLs enabled: the object's ACL grants its owner alone (READ and READ_ACP included).
		return newError("AccessDenied", "Access Denied")
	}
	if action != "s3:GetObject" {
		return nil
	}
	if k := b.objectKMSKey(key); k != "" {
		kctx := map[string][]string{"kms:viaservice": {"s3." + b.Region + ".amazonaws.com"}}
		if !f.authorize(AuthRequest{AccessKey: caller, Action: "kms:Decrypt", Resource: k, Context: kctx, KMSKey: k}) {
			return newError("AccessDenied", "User: %s is not authorized to perform: kms:Decrypt on the resource associated with this ciphertext because no identity-based policy allows the kms:Decrypt action", caller)
		}
	}
	return nil
}

// operation names a data-plane request the way the S3 API reference does.
func operation(r *http.Request, key string) string {
	if op := writeOperation(r, key); op != "" {
		return op
	}
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodOptions:
		return "Preflight"
	case r.Method == http.MethodHead && key == "":
		return "HeadBucket"
	case r.Method == http.MethodHead:
		return "HeadObject"
	case r.Method != http.MethodGet:
		return r.Method + " " + r.URL.Path
	case key != "" && q.Has("acl"):
		return "GetObjectAcl"
	case key != "":
		return "GetObject"
	case q.Has("cors"):
		return "GetBucketCors"
	case q.Has("encryption"):
		return "GetBucketEncryption"
	case q.Has("location"):
		return "GetBucketLocation"
	case q.Has("policy"):
		return "GetBucketPolicy"
	case q.Has("acl"):
		return "GetBucketAcl"
	case q.Has("ownershipControls"):
		return "GetBucketOwnershipControls"
	case q.Get("list-type") == "2":
		return "ListObjectsV2"
	}
	return "GET " + r.URL.Path + "?" + r.URL.RawQuery
}

// ServeHTTP serves the S3 data plane.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket, ap, key, e := f.target(r)
	op := "unknown"
	if e == nil {
		op = operation(r, key)
	}
	if code := f.record("s3", op, r.Method); code != "" && e == nil {
		e = newError(code, "injected failure of %s", op)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w = f.inFront(w, r)
	if op == "GetObject" || op == "HeadObject" {
		corsResponse(w, r, bucket)
	}
	if e == nil {
		e = f.queryAuth(r, time.Now())
	}
	if e == nil {
		e = f.denied(r, op, bucket, ap, key)
	}
	if e != nil {
		writeError(w, r, e, false)
		return
	}
	switch op {
	case "Preflight":
		preflight(w, r, bucket)
	case "HeadBucket":
		w.Header().Set("x-amz-bucket-region", bucket.Region)
	case "GetBucketLocation":
		loc := bucket.Region
		if loc == "us-east-1" {
			loc = ""
		}
		writeXML(w, struct {
			XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
			Value   string   `xml:",chardata"`
		}{Value: loc})
	case "GetBucketCors":
		if bucket.CORS == nil {
			writeError(w, r, newError("NoSuchCORSConfiguration", "The CORS configuration does not exist"), false)
			return
		}
		writeXML(w, struct {
			XMLName xml.Name   `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CORSConfiguration"`
			Rules   []CORSRule `xml:"CORSRule"`
		}{Rules: bucket.CORS})
	case "GetBucketEncryption":
		getBucketEncryption(w, r, bucket)
	case "GetBucketPolicy":
		getBucketPolicy(w, r, bucket)
	case "GetBucketAcl":
		getBucketACL(w, bucket)
	case "GetBucketOwnershipControls":
		getBucketOwnershipControls(w, r, bucket)
	case "ListObjectsV2":
		listObjects(w, r, bucket)
	case "GetObject", "HeadObject":
		getObject(w, r, bucket, key)
	case "GetObjectAcl":
		getObjectACL(w, r, bucket, key)
	default:
		if !serveWrite(w, r, bucket, key, op) {
			writeError(w, r, newError("NotImplemented", "the fake does not implement %s", op), false)
		}
	}
}

func getBucketEncryption(w http.ResponseWriter, r *http.Request, b *Bucket) {
	if b.SSEAlgorithm == "" {
		writeError(w, r, newError("ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found"), false)
		return
	}
	type byDefault struct {
		SSEAlgorithm   string
		KMSMasterKeyID string `xml:",omitempty"`
	}
	writeXML(w, struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ServerSideEncryptionConfiguration"`
		Rule    struct {
			ApplyServerSideEncryptionByDefault byDefault
			BucketKeyEnabled                   bool
		}
	}{Rule: struct {
		ApplyServerSideEncryptionByDefault byDefault
		BucketKeyEnabled                   bool
	}{byDefault{b.SSEAlgorithm, b.KMSKeyID}, b.SSEAlgorithm != "AES256"}})
}

var lastModified = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// etag is the ETag of an object uploaded in one part: the hex MD5 of its bytes, quoted.
func etag(data []byte) string { return fmt.Sprintf(`"%x"`, md5.Sum(data)) }

func listObjects(w http.ResponseWriter, r *http.Request, b *Bucket) {
	q := r.URL.Query()
	prefix, after := q.Get("prefix"), q.Get("continuation-token")
	if sa := q.Get("start-after"); sa > after {
		after = sa
	}
	maxKeys := 1000
	if m := q.Get("max-keys"); m != "" {
		maxKeys, _ = strconv.Atoi(m)
	}
	var keys []string
	for k := range b.Objects {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	type object struct {
		Key          string
		LastModified string
		ETag         string
		Size         int
		StorageClass string
		Owner        *ownerXML `xml:",omitempty"`
	}
	res := struct {
		XMLName               xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
		Name                  string
		Prefix                string
		KeyCount              int
		MaxKeys               int
		IsTruncated           bool
		NextContinuationToken string `xml:",omitempty"`
		Contents              []object
	}{Name: b.Name, Prefix: prefix, MaxKeys: maxKeys}
	if len(keys) > maxKeys {
		res.IsTruncated, res.NextContinuationToken = true, keys[maxKeys-1]
		keys = keys[:maxKeys]
	}
	for _, k := range keys {
		o := object{k, lastModified.Format(time.RFC3339), etag(b.Objects[k]), len(b.Objects[k]), "STANDARD", nil}
		if q.Get("fetch-owner") == "true" && b.objectOwner(k) != "" {
			o.Owner = &ownerXML{ID: CanonicalID(b.objectOwner(k))}
		}
		res.Contents = append(res.Contents, o)
	}
	res.KeyCount = len(keys)
	writeXML(w, res)
}

var rangeHeader = regexp.MustCompile(`^bytes=([0-9]+)-([0-9]*)$`)

func getObject(w http.ResponseWriter, r *http.Request, b *Bucket, key string) {
	data, ok := b.Objects[key]
	if !ok {
		writeError(w, r, newError("NoSuchKey", "The specified key does not exist."), false)
		return
	}
	w.Header().Set("ETag", etag(data))
	w.Header().Set("Last-Modified", lastModified.Format(http.TimeFormat))
	setObjectHeaders(w.Header(), b, key)
	status := http.StatusOK
	if m := rangeHeader.FindStringSubmatch(r.Header.Get("Range")); m != nil {
		start, _ := strconv.Atoi(m[1])
		end := len(data) - 1
		if m[2] != "" {
			end, _ = strconv.Atoi(m[2])
		}
		if start >= len(data) {
			writeError(w, r, newError("InvalidRange", "The requested range is not satisfiable"), false)
			return
		}
		end = min(end, len(data)-1)
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(data)))
		data, status = data[start:end+1], http.StatusPartialContent
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	if r.Method == http.MethodGet {
		_, _ = w.Write(data)
	}
}

// preflight answers a CORS preflight as S3 does: the first rule matching the origin, the
// requested method and every requested header answers; otherwise 403.
func preflight(w http.ResponseWriter, r *http.Request, b *Bucket) {
	origin, method := r.Header.Get("Origin"), r.Header.Get("Access-Control-Request-Method")
	if origin == "" || method == "" {
		writeError(w, r, newError("BadRequest", "Insufficient information. Origin request header needed."), false)
		return
	}
	if b.CORS == nil {
		writeError(w, r, newError("AccessForbidden", "CORSResponse: CORS is not enabled for this bucket."), false)
		return
	}
	var headers []string
	for _, h := range strings.Split(r.Header.Get("Access-Control-Request-Headers"), ",") {
		if h = strings.TrimSpace(h); h != "" {
			headers = append(headers, strings.ToLower(h))
		}
	}
	for _, rule := range b.CORS {
		allowOrigin, ok := matchOrigin(rule.AllowedOrigins, origin)
		if !ok || !slices.Contains(rule.AllowedMethods, method) || !headersAllowed(rule.AllowedHeaders, headers) {
			continue
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", allowOrigin)
		h.Set("Access-Control-Allow-Methods", strings.Join(rule.AllowedMethods, ", "))
		if len(headers) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(headers, ", "))
		}
		if len(rule.ExposeHeaders) > 0 {
			h.Set("Access-Control-Expose-Headers", strings.Join(rule.ExposeHeaders, ", "))
		}
		if rule.MaxAgeSeconds > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(rule.MaxAgeSeconds))
		}
		h.Set("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
		w.WriteHeader(http.StatusOK)
		return
	}
	writeError(w, r, newError("AccessForbidden", "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."), false)
}

// matchOrigin returns the Access-Control-Allow-Origin value for origin: "*" for a "*" rule,
// else the origin itself when an AllowedOrigin (with at most one *) matches it.
func matchOrigin(allowed []string, origin string) (string, bool) {
	for _, a := range allowed {
		if a == "*" {
			return "*", true
		}
		i := strings.Index(a, "*")
		if a == origin || i >= 0 && strings.HasPrefix(origin, a[:i]) && strings.HasSuffix(origin[i:], a[i+1:]) {
			return origin, true
		}
	}
	return "", false
}

func headersAllowed(allowed, requested []string) bool {
	for _, h := range requested {
		_, ok := matchOrigin(lower(allowed), h)
		if !ok {
			return false
		}
	}
	return true
}

func lower(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToLower(s)
	}
	return out
}
