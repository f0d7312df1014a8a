package s3fake

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SecretFunc returns the secret access key and session token of accessKey; ok is false for a
// key the fake does not know.
type SecretFunc func(accessKey string) (secret, sessionToken string, ok bool)

// SetSecrets makes the fake check the signature of presigned URLs with the secrets fn knows,
// as S3 does. Without it presigned URLs are checked for their parameters and expiry only.
func (f *Fake) SetSecrets(fn SecretFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secrets = fn
}

// queryAuthParams are the query parameters of a SigV4 presigned URL that are not signed
// themselves (X-Amz-Expires is).
var queryAuthParams = []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders",
	"X-Amz-Signature", "X-Amz-Security-Token"}

// queryAuth checks a request authenticated in its query string (a presigned URL) as S3 does:
// every parameter present, X-Amz-Expires at most a week, the URL not expired, and, when the
// fake knows the secret, the signature. Preflights are not authenticated by S3 and requests
// without X-Amz-Signature are left to the Authorization header. The caller holds f.mu.
func (f *Fake) queryAuth(r *http.Request, now time.Time) *s3Error {
	q := r.URL.Query()
	if r.Method == http.MethodOptions || !q.Has("X-Amz-Signature") {
		return nil
	}
	for _, p := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders"} {
		if q.Get(p) == "" {
			return newError("AuthorizationQueryParametersError", "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
		}
	}
	if q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" {
		return newError("AuthorizationQueryParametersError", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
	}
	signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return newError("AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	expires, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || expires < 0 {
		return newError("AuthorizationQueryParametersError", "X-Amz-Expires should be a number")
	}
	if expires > 604800 {
		return newError("AuthorizationQueryParametersError", "X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	if now.After(signed.Add(time.Duration(expires) * time.Second)) {
		return &s3Error{status: http.StatusForbidden, code: "AccessDenied", message: "Request has expired"}
	}
	if f.secrets == nil {
		return nil
	}
	scope := strings.Split(q.Get("X-Amz-Credential"), "/")
	if len(scope) != 5 {
		return newError("AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential parameter")
	}
	secret, token, ok := f.secrets(scope[0])
	if !ok {
		return &s3Error{status: http.StatusForbidden, code: "InvalidAccessKeyId", message: "The AWS Access Key Id you provided does not exist in our records."}
	}
	if token != q.Get("X-Amz-Security-Token") {
		return &s3Error{status: http.StatusBadRequest, code: "InvalidToken", message: "The provided token is malformed or otherwise invalid."}
	}
	want, err := signature(r, scope, secret, token, signed)
	if err != nil || want != q.Get("X-Amz-Signature") {
		return &s3Error{status: http.StatusForbidden, code: "SignatureDoesNotMatch", message: "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
	}
	return nil
}

// signature signs the request again, without its authentication parameters, with SigV4's
// query-string form, and returns the signature S3 would expect.
func signature(r *http.Request, scope []string, secret, token string, at time.Time) (string, error) {
	q := r.URL.Query()
	for _, p := range queryAuthParams {
		q.Del(p)
	}
	u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: q.Encode()}
	req, err := http.NewRequest(r.Method, u.String(), nil)
	if err != nil {
		return "", err
	}
	for _, h := range strings.Split(r.URL.Query().Get("X-Amz-SignedHeaders"), ";") {
		if h != "host" && h != "" {
			req.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	creds := aws.Credentials{AccessKeyID: scope[0], SecretAccessKey: secret, SessionToken: token}
	signedURL, _, err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).
		PresignHTTP(r.Context(), creds, req, "UNSIGNED-PAYLOAD", scope[3], scope[2], at)
	if err != nil {
		return "", err
	}
	parsed, err := url.Parse(signedURL)
	if err != nil {
		return "", err
	}
	return parsed.Query().Get("X-Amz-Signature"), nil
}
