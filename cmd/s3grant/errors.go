package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/isahit/s3grant/deploy"
)

// This file is the one place where the failures every command can meet on its way to AWS
// (Ctrl-C, a stalled endpoint, credentials, region and profile problems) become one line that
// says what to do, and an exit code.

// explained is a failure put in the user's words.
type explained struct {
	msg  string
	code int
}

// credentialCodes are the error codes AWS answers when it does not accept the caller's
// credentials (as opposed to refusing an action the caller is known to lack).
var credentialCodes = map[string]string{
	"InvalidClientTokenId":        "invalid",
	"InvalidAccessKeyId":          "invalid",
	"SignatureDoesNotMatch":       "invalid",
	"UnrecognizedClientException": "invalid",
	"AuthFailure":                 "invalid",
	"ExpiredToken":                "expired",
	"ExpiredTokenException":       "expired",
	"TokenRefreshRequired":        "expired",
	"RequestExpired":              "clock",
}

// credentialsAdvice is the one sentence for each kind of refused credentials.
var credentialsAdvice = map[string]string{
	"invalid": "AWS does not accept these credentials (%s): check the access key and secret in use " +
		"(--profile, AWS_PROFILE or AWS_ACCESS_KEY_ID), or sign in again (aws sso login, aws configure)",
	"expired": "the AWS credentials have expired (%s): sign in again (aws sso login) or refresh AWS_SESSION_TOKEN, " +
		"then run the command again",
	"clock": "AWS refused the request as expired (%s): this machine's clock is off; set it right (NTP) and run again",
}

// translate explains err, the failure of a run whose context is ctx. It asks STS who the
// caller is when an S3 HEAD answered 403 or 400 with no error code (HEAD responses have no
// body), the only way to tell bad credentials from a missing permission there.
func translate(ctx context.Context, err error) explained {
	var missingRegion *aws.MissingRegionError
	var noProfile config.SharedConfigProfileNotExistError
	var noProfilePtr *config.SharedConfigProfileNotExistError
	var credentials *deploy.CredentialsError
	switch {
	case interrupted(ctx, err):
		return explained{"interrupted", exitInterrupted}
	case errors.As(err, &missingRegion):
		return explained{"no AWS region: pass --region, or set AWS_REGION or a region in your AWS profile", exitBadInput}
	case errors.As(err, &noProfile):
		return explained{profileMissing(noProfile.Profile), exitBadInput}
	case errors.As(err, &noProfilePtr):
		return explained{profileMissing(noProfilePtr.Profile), exitBadInput}
	}
	if e, ok := stalled(err); ok {
		return e
	}
	if kind, code := credentialKind(err); kind != "" {
		return explained{fmt.Sprintf(credentialsAdvice[kind], code), exitFailure}
	}
	if errors.As(err, &credentials) {
		return explained{err.Error() + " (check --profile, AWS_PROFILE or the AWS_ACCESS_KEY_ID in use)", exitFailure}
	}
	if strings.Contains(err.Error(), "get identity: ") || strings.Contains(err.Error(), "failed to retrieve credentials") ||
		strings.Contains(err.Error(), "failed to refresh cached credentials") {
		return explained{"no usable AWS credentials: sign in (aws sso login, aws configure) and choose them with --profile or " +
			"AWS_PROFILE, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", exitFailure}
	}
	if codelessRefusal(err) {
		if kind, code := probeCredentials(ctx); kind != "" {
			return explained{fmt.Sprintf(credentialsAdvice[kind], code), exitFailure}
		}
	}
	return explained{err.Error(), exitCode(err)}
}

// interrupted reports whether the run's own context ended (Ctrl-C): whatever failed then
// failed because of it. A failure already explained with code 130 (deploy saying how to
// resume watching) keeps its own words.
func interrupted(ctx context.Context, err error) bool {
	var exit exitError
	if errors.As(err, &exit) && exit.code == exitInterrupted {
		return false
	}
	return ctx.Err() != nil
}

func profileMissing(name string) string {
	return fmt.Sprintf("--profile: AWS profile %q is not in ~/.aws/config or ~/.aws/credentials: check the name "+
		"(aws configure list-profiles lists them) or create it (aws configure --profile %s)", name, name)
}

// stalled explains a call that timed out: the endpoint accepted no connection in time, or
// never answered. It names the endpoint.
func stalled(err error) (explained, bool) {
	var ue *url.Error
	var ne net.Error
	timeout := errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(err.Error(), "timeout awaiting response headers")
	if !timeout {
		return explained{}, false
	}
	endpoint := "the AWS endpoint"
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			endpoint = u.Scheme + "://" + u.Host
		}
	}
	call := ""
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		call = " to " + oe.ServiceID + " " + oe.OperationName
	}
	return explained{fmt.Sprintf("no answer from %s%s in time (the call timed out): check --endpoint-url or "+
		"AWS_ENDPOINT_URL, the network and any proxy, then run again", endpoint, call), exitFailure}, true
}

// credentialKind returns the kind of credentials problem err is, and AWS's error code.
func credentialKind(err error) (kind, code string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if k, ok := credentialCodes[ae.ErrorCode()]; ok {
			return k, ae.ErrorCode()
		}
	}
	return "", ""
}

// codelessRefusal reports whether err is an S3 HEAD answered 403 or 400 without an error code.
func codelessRefusal(err error) bool {
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil || re.Response.Request == nil || re.Response.Request.Method != http.MethodHead {
		return false
	}
	if s := re.HTTPStatusCode(); s != http.StatusForbidden && s != http.StatusBadRequest {
		return false
	}
	var ae smithy.APIError
	return !errors.As(err, &ae) || ae.ErrorCode() == "" || ae.ErrorCode() == "Forbidden" || ae.ErrorCode() == "BadRequest"
}

// probeCredentials asks STS GetCallerIdentity, which any valid credentials may call, with the
// run's configuration; a credentials error code there means the credentials are the problem.
func probeCredentials(ctx context.Context) (kind, code string) {
	cfg, ok := sessionOf(ctx).loaded()
	if !ok {
		return "", ""
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	_, err := sts.NewFromConfig(cfg, func(o *sts.Options) {
		if o.Region == "" {
			o.Region = "us-east-1"
		}
	}).GetCallerIdentity(pctx, &sts.GetCallerIdentityInput{})
	if err == nil {
		return "", ""
	}
	return credentialKind(err)
}
