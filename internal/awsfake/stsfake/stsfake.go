// Package stsfake is an in-process fake of the STS API for tests: AssumeRole decided by the
// role's trust policy held by an iamfake (principal, action and sts:ExternalId condition),
// temporary credentials, and GetCallerIdentity, over the Query protocol.
//
// It is test support: only _test.go files and other fakes import it.
package stsfake

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
	"github.com/isahit/s3grant/internal/awsfake/iamfake"
)

// Namespace is the XML namespace of STS responses.
const Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// Fake is the fake STS service. Its embedded Service records calls and injects throttling.
type Fake struct {
	*awsquery.Service

	iam      *iamfake.Fake
	mu       sync.Mutex
	callers  map[string]string // access key -> principal ARN
	sessions map[string]string // issued access key -> assumed role ARN
	seq      int
	lag      int // AssumeRole calls still refused while a role change propagates
}

// Lag models IAM's eventual consistency right after a role is created or its trust policy
// changed: the next n AssumeRole calls that the trust policy allows are refused with
// AccessDenied, as STS refuses them until the change has propagated.
func (f *Fake) Lag(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lag = n
}

// New returns a fake STS that reads trust policies from iam; it is an http.Handler.
func New(iam *iamfake.Fake) *Fake {
	f := &Fake{Service: awsquery.NewService(Namespace), iam: iam,
		callers: map[string]string{}, sessions: map[string]string{}}
	f.Handle("AssumeRole", f.assumeRole)
	f.Handle("GetCallerIdentity", f.getCallerIdentity)
	return f
}

// AddCaller registers long-term credentials: accessKey signs as principal (a user ARN).
func (f *Fake) AddCaller(accessKey, principal string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.callers[accessKey] = principal
}

// SessionRole returns the role a temporary access key was issued for.
func (f *Fake) SessionRole(accessKey string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.sessions[accessKey]
	return r, ok
}

// Secret returns the secret access key and session token of a temporary access key this fake
// issued, so that other fakes (S3's presigned URLs) can check signatures made with it.
func (f *Fake) Secret(accessKey string) (secret, token string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.sessions[accessKey]; !ok {
		return "", "", false
	}
	return sessionSecret(accessKey), sessionToken(accessKey), true
}

func sessionSecret(key string) string { return "fake-secret-" + key }
func sessionToken(key string) string  { return "fake-token-" + key }

func (f *Fake) caller(r *awsquery.Request) (string, *awsquery.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.callers[r.AccessKey]; ok {
		return p, nil
	}
	if role, ok := f.sessions[r.AccessKey]; ok {
		return role, nil
	}
	return "", &awsquery.Error{Status: http.StatusForbidden, Type: "Sender", Code: "InvalidClientTokenId",
		Message: "The security token included in the request is invalid."}
}

func accessDenied(principal, action, resource string) *awsquery.Error {
	return &awsquery.Error{Status: http.StatusForbidden, Type: "Sender", Code: "AccessDenied",
		Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", principal, action, resource)}
}

func (f *Fake) assumeRole(r *awsquery.Request) (any, *awsquery.Error) {
	principal, err := f.caller(r)
	if err != nil {
		return nil, err
	}
	roleARN, session := r.Get("RoleArn"), r.Get("RoleSessionName")
	if session == "" {
		return nil, awsquery.Sender("ValidationError", "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	}
	ctx := map[string][]string{}
	if r.Has("ExternalId") {
		ext := r.Get("ExternalId")
		if len(ext) < 2 || len(ext) > 1224 {
			return nil, awsquery.Sender("ValidationError", "1 validation error detected: Value at 'externalId' failed to satisfy constraint: Member must have length between 2 and 1224")
		}
		ctx["sts:externalid"] = []string{ext}
	}
	trust, ok := f.iam.TrustPolicy(roleARN)
	if !ok || !iamfake.TrustAllows(trust, principal, "sts:AssumeRole", ctx) {
		return nil, accessDenied(principal, "sts:AssumeRole", roleARN)
	}
	f.mu.Lock()
	lagging := f.lag > 0
	if lagging {
		f.lag--
	}
	f.mu.Unlock()
	if lagging {
		return nil, accessDenied(principal, "sts:AssumeRole", roleARN)
	}
	duration := 3600
	if d := r.Get("DurationSeconds"); d != "" {
		duration, _ = strconv.Atoi(d)
	}
	f.mu.Lock()
	f.seq++
	key := fmt.Sprintf("ASIAFAKE%012d", f.seq)
	f.sessions[key] = roleARN
	f.mu.Unlock()
	parts := strings.Split(roleARN, ":")
	assumed := fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", parts[4], strings.TrimPrefix(parts[5], "role/"), session)
	type credentials struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
	type user struct{ AssumedRoleId, Arn string }
	return struct {
		Credentials     credentials
		AssumedRoleUser user
	}{
		credentials{key, sessionSecret(key), sessionToken(key),
			awsquery.Time(time.Now().Add(time.Duration(duration) * time.Second))},
		user{"AROAFAKE:" + session, assumed},
	}, nil
}

func (f *Fake) getCallerIdentity(r *awsquery.Request) (any, *awsquery.Error) {
	principal, err := f.caller(r)
	if err != nil {
		return nil, err
	}
	return struct{ UserId, Account, Arn string }{r.AccessKey, strings.Split(principal, ":")[4], principal}, nil
}
