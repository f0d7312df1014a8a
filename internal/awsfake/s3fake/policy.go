package s3fake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"net"
	"net/http"
	"strings"
)

// AuthRequest is one authorization S3 makes: the caller, the action on the resource, the
// request's condition keys (lower-case names: s3:prefix, aws:sourceip, aws:securetransport,
// aws:sourcevpce when through a VPC endpoint), and the resource-based policies that apply:
// the bucket policy, the access point policy when the request came through one, and for
// kms:Decrypt the key's ARN.
type AuthRequest struct {
	AccessKey, Action, Resource string
	// BucketResource is Resource in the bucket's own ARN form (arn:aws:s3:::BUCKET[/KEY]),
	// which the bucket policy is evaluated against, also for requests through an access point.
	BucketResource    string
	Context           map[string][]string
	BucketPolicy      string
	AccessPointPolicy string
	KMSKey            string
}

// PolicyAuthorizer decides an AuthRequest as AWS's policy evaluation does.
type PolicyAuthorizer func(AuthRequest) bool

// SetPolicyAuthorizer is SetAuthorizer with the resource policies in hand.
func (f *Fake) SetPolicyAuthorizer(auth PolicyAuthorizer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.authorize = auth
}

// CanonicalID is the canonical user ID S3 shows for an account (a stand-in with its form:
// 64 hex digits).
func CanonicalID(account string) string {
	sum := sha256.Sum256([]byte("s3fake-canonical-" + account))
	return hex.EncodeToString(sum[:])
}

// requestContext is the global condition keys S3 puts in every request's context.
func requestContext(r *http.Request) map[string][]string {
	ctx := map[string][]string{"aws:securetransport": {"false"}}
	if r.TLS != nil {
		ctx["aws:securetransport"] = []string{"true"}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ctx["aws:sourceip"] = []string{host}
	}
	if v := r.Header.Get("x-test-source-vpce"); v != "" {
		// Only tests set it: a request that came through a VPC endpoint.
		ctx["aws:sourcevpce"] = []string{v}
	}
	return ctx
}

// objectKMSKey is the KMS key an object is encrypted with: its own, else the bucket's default.
func (b *Bucket) objectKMSKey(key string) string {
	if k, ok := b.ObjectKMSKeys[key]; ok {
		return k
	}
	if strings.HasPrefix(b.SSEAlgorithm, "aws:kms") {
		return b.KMSKeyID
	}
	return ""
}

// objectOwner is the account owning an object: the writer's, recorded in ObjectOwners, else
// the bucket owner's. With BucketOwnerEnforced (ACLs disabled) the bucket owner owns all.
func (b *Bucket) objectOwner(key string) string {
	if o, ok := b.ObjectOwners[key]; ok && b.Ownership != "BucketOwnerEnforced" {
		return o
	}
	return b.Owner
}

func getBucketPolicy(w http.ResponseWriter, r *http.Request, b *Bucket) {
	if b.Policy == "" {
		writeError(w, r, newError("NoSuchBucketPolicy", "The bucket policy does not exist"), false)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(b.Policy))
}

type ownerXML struct {
	ID          string
	DisplayName string `xml:",omitempty"`
}

func getBucketACL(w http.ResponseWriter, b *Bucket) {
	writeXML(w, struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ AccessControlPolicy"`
		Owner   ownerXML
	}{Owner: ownerXML{ID: CanonicalID(b.Owner)}})
}

func getBucketOwnershipControls(w http.ResponseWriter, r *http.Request, b *Bucket) {
	if b.Ownership == "" {
		writeError(w, r, newError("OwnershipControlsNotFoundError", "The bucket ownership controls were not found"), false)
		return
	}
	writeXML(w, struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ OwnershipControls"`
		Rule    struct{ ObjectOwnership string }
	}{Rule: struct{ ObjectOwnership string }{b.Ownership}})
}

// getObjectACL answers the object's ACL: its owner, granted FULL_CONTROL, as S3 writes the
// default (private) ACL.
func getObjectACL(w http.ResponseWriter, r *http.Request, b *Bucket, key string) {
	if _, ok := b.Objects[key]; !ok {
		writeError(w, r, newError("NoSuchKey", "The specified key does not exist."), false)
		return
	}
	owner := ownerXML{ID: CanonicalID(b.objectOwner(key))}
	type grantee struct {
		XMLName xml.Name `xml:"Grantee"`
		XSI     string   `xml:"xmlns:xsi,attr"`
		Type    string   `xml:"xsi:type,attr"`
		ID      string
	}
	type grant struct {
		Grantee    grantee
		Permission string
	}
	writeXML(w, struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ AccessControlPolicy"`
		Owner   ownerXML
		Grants  []grant `xml:"AccessControlList>Grant"`
	}{Owner: owner, Grants: []grant{{Grantee: grantee{XSI: "http://www.w3.org/2001/XMLSchema-instance", Type: "CanonicalUser", ID: owner.ID}, Permission: "FULL_CONTROL"}}})
}
