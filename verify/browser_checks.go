package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/isahit/s3grant/internal/awserr"
	"github.com/isahit/s3grant/verify/browserpath"
)

// presignExpiry is how long the URLs verify presigns for the browser's path stay valid: long
// enough for a slow browser, short enough not to leave usable links around.
const presignExpiry = 5 * time.Minute

// browserPath proves the browser's path on the sampled keys, through presigned URLs via the
// bucket and via the access point: the preflight, the GET's own CORS headers, Vary, a Range
// GET and the Content-Type, and with in.Browser a load in headless Chromium. Without a key
// (an empty prefix) only the preflight is proven, on a probe key: S3 answers a preflight
// whether or not the object exists. The error is the context's.
func (c *Checker) browserPath(ctx context.Context, in Input, s3c *s3.Client, keys []string) ([]Result, error) {
	preflightOnly := len(keys) == 0
	if preflightOnly {
		keys = []string{in.ObjectPrefix + probeObject}
	}
	// An access point that cannot be addressed already fails list-via-access-point; the
	// browser's path is then proven through the bucket alone.
	objects, err := c.signedObjects(ctx, in, s3c, keys, presignExpiry)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if len(objects) == 0 {
		return []Result{fail(CheckPreflight, fmt.Sprintf("cannot make the presigned URLs the browser loads: %v", err),
			"check the vendor credentials and region")}, nil
	}
	rep, err := browserpath.Prove(ctx, objects, in.Vendor.CORS.Origins, browserpath.WithHTTPClient(c.httpClient()),
		browserpath.WithRequestHeaders(in.Vendor.CORS.Headers))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return []Result{fail(CheckPreflight, "cannot prove the browser's path: "+err.Error(), "report this as a bug")}, nil
	}
	out := judgeBrowserPath(in, rep)
	if preflightOnly {
		return out[:1], nil
	}
	if in.Browser {
		r, err := c.browse(ctx, in, objects)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// browse loads the objects in headless Chromium; a missing Chromium fails the check with the
// way to install it.
func (c *Checker) browse(ctx context.Context, in Input, objects []browserpath.SignedObject) (Result, error) {
	rep, err := browserpath.Browse(ctx, objects, in.Vendor.CORS.Origins)
	if ctx.Err() != nil {
		return Result{}, ctx.Err()
	}
	if errors.Is(err, browserpath.ErrNoChromium) {
		return fail(CheckBrowser, err.Error(), "install Chromium (Debian/Ubuntu: apt-get install chromium; or set CHROMIUM to its path), or run verify without --browser"), nil
	}
	if err != nil {
		return fail(CheckBrowser, err.Error(), "check that Chromium starts on this machine (CHROMIUM names the binary), or run verify without --browser"), nil
	}
	fails := rep.Failures()
	if len(fails) == 0 {
		return pass(CheckBrowser, fmt.Sprintf("Chromium loaded %s from %s", objectList(objects), strings.Join(in.Vendor.CORS.Origins, ", "))), nil
	}
	return fail(CheckBrowser, failureList(fails), browserFix(in, fails[0].Kind)), nil
}

// stepChecks says which check reports a failed step, by step and kind.
func stepCheck(f browserpath.Failure) string {
	switch f.Step {
	case browserpath.StepPreflight:
		return CheckPreflight
	case browserpath.StepGet:
		if f.Kind == browserpath.MissingAllowOrigin {
			return CheckGetAllowOrigin
		}
		return CheckPresignedGet
	case browserpath.StepVary:
		return CheckVary
	case browserpath.StepRange:
		if f.Kind == browserpath.MissingAllowOrigin {
			return CheckGetAllowOrigin
		}
		return CheckRange
	case browserpath.StepContentType:
		return CheckContentType
	}
	return CheckBrowser
}

// browserChecks are the checks judgeBrowserPath reports, in order.
var browserChecks = []string{CheckPreflight, CheckPresignedGet, CheckGetAllowOrigin, CheckVary, CheckRange, CheckContentType}

// judgeBrowserPath turns Prove's report into one result per check. A GET that answers
// without Access-Control-Allow-Origin because the preflight was refused is the preflight's
// failure, not a stripped header. A check none of whose steps could be judged (every GET
// failed) is left out: the failed GET already keeps the report from passing.
func judgeBrowserPath(in Input, rep browserpath.Report) []Result {
	denied := map[string]bool{} // object URL + origin whose preflight was refused
	for _, f := range rep.Failures() {
		if f.Step == browserpath.StepPreflight && f.Kind == browserpath.PreflightDenied {
			denied[f.Object.URL+" "+f.Origin] = true
		}
	}
	byCheck := map[string][]browserpath.Failure{}
	judged := map[string]bool{}
	for _, o := range rep.Objects {
		for _, or := range o.Origins {
			for _, s := range or.Steps {
				f := browserpath.Failure{Object: o.Object, Origin: or.Origin, Outcome: s}
				id := stepCheck(f)
				if s.Kind == browserpath.NotChecked {
					continue
				}
				if s.Kind == browserpath.MissingAllowOrigin && denied[o.Object.URL+" "+or.Origin] {
					continue // the refused preflight's consequence
				}
				judged[id] = true
				if !s.Passed() {
					byCheck[id] = append(byCheck[id], f)
				}
			}
		}
	}
	var objects []browserpath.SignedObject
	for _, o := range rep.Objects {
		objects = append(objects, o.Object)
	}
	var out []Result
	for _, id := range browserChecks {
		fails := byCheck[id]
		switch {
		case len(fails) > 0:
			out = append(out, fail(id, failureList(fails), browserFix(in, fails[0].Kind, fails...)))
		case judged[id] || id == CheckGetAllowOrigin && judged[CheckPresignedGet]:
			out = append(out, pass(id, fmt.Sprintf("%s from %s", objectList(objects), strings.Join(in.Vendor.CORS.Origins, ", "))))
		}
	}
	return out
}

// objectList names the objects briefly: their keys and the ways they were addressed.
func objectList(objects []browserpath.SignedObject) string {
	var keys, via []string
	for _, o := range objects {
		if !slices.Contains(keys, o.Key) {
			keys = append(keys, o.Key)
		}
		if !slices.Contains(via, o.Via) {
			via = append(via, o.Via)
		}
	}
	return fmt.Sprintf("%s via the %s", strings.Join(keys, ", "), strings.Join(via, " and the "))
}

// failureList words the failures, at most a few, and how many more.
func failureList(fails []browserpath.Failure) string {
	const shown = 3
	var parts []string
	for i, f := range fails {
		if i == shown {
			parts = append(parts, fmt.Sprintf("and %d more", len(fails)-shown))
			break
		}
		parts = append(parts, f.String())
	}
	return strings.Join(parts, "; ")
}

// browserFix is the fix of a failure of kind, with the failures of its check.
func browserFix(in Input, kind browserpath.Kind, fails ...browserpath.Failure) string {
	b := in.BucketName
	switch kind {
	case browserpath.PreflightDenied:
		rule := in.Integration.CORSRule()
		rule.AllowedOrigins = nil
		for _, f := range fails {
			if !slices.Contains(rule.AllowedOrigins, f.Origin) {
				rule.AllowedOrigins = append(rule.AllowedOrigins, f.Origin)
			}
		}
		if len(rule.AllowedOrigins) == 0 {
			rule.AllowedOrigins = in.Vendor.CORS.Origins
		}
		text, _ := json.Marshal(rule) // plain strings always marshal
		return fmt.Sprintf("the customer adds the rule %s to bucket %s's CORS configuration, keeping its other rules (S3 console → %s → Permissions → Cross-origin resource sharing (CORS) → Edit); `s3grant verify --stack-name STACK` on its side names the rule at fault",
			text, b, b)
	case browserpath.MissingAllowOrigin:
		return "S3 answers the preflight, so its CORS rules are right: something between S3 and the browser (a proxy, a CDN, a TLS-inspecting gateway) strips Access-Control-Allow-Origin from the GET. Make it forward the request's Origin header to S3 and pass the Access-Control-* response headers through (CloudFront: the managed origin request policy CORS-S3Origin and a cache policy that includes Origin)"
	case browserpath.MissingVary:
		return "S3 itself answers with Vary: Origin: make the cache or proxy in front keep it and key its cache on Origin (CloudFront: a cache policy including the Origin header), or one origin's answer is served to another"
	case browserpath.RangeIgnored:
		return "make the proxy or CDN in front of S3 forward the Range header and return S3's 206 answer (S3 honours Range itself)"
	case browserpath.WrongContentType:
		key := ""
		if len(fails) > 0 {
			key = fails[0].Object.Key
		}
		return fmt.Sprintf("the customer sets each object's Content-Type, e.g. aws s3 cp s3://%s/%s s3://%s/%s --content-type TYPE --metadata-directive REPLACE (and uploads with --content-type from now on)", b, key, b, key)
	case browserpath.Network:
		return "a network, DNS, TLS or endpoint problem, not a permission: check the connection to S3 (firewall, proxy, --endpoint-url), then run verify again"
	case browserpath.Forbidden:
		return forbiddenFix(in, fails)
	case browserpath.DecodeFailed:
		return "the object is not the image its key names, or is damaged: re-upload it"
	}
	return fmt.Sprintf("check that the sampled objects exist under %q in bucket %s", in.ObjectPrefix, b)
}

// forbiddenFix reads S3's error code to tell the layers of a 403 apart, as far as the vendor
// can see them: the URL itself (expired, bad signature, session), the access point (refused
// there, allowed through the bucket), the bucket (the other way round), or the objects.
func forbiddenFix(in Input, fails []browserpath.Failure) string {
	customer := fmt.Sprintf("the customer runs `s3grant verify --stack-name STACK` (or with --role-arn %s): it evaluates the bucket policy, the access point policy, each object's KMS key and owner for the role, and names the layer that refuses", in.RoleARN)
	var vias []string
	for _, f := range fails {
		switch {
		case f.Code == "AccessDenied" && strings.Contains(f.Message, "expired"):
			return "the presigned URL had expired when it was used: the clock of the machine that signed it is wrong (check NTP), or the role session it was signed with ended (presigned URLs expire with the session)"
		case f.Code == "SignatureDoesNotMatch":
			return "the URL was changed after signing (a proxy rewriting its host, path or query) or signed for another region: hand the browser the URL exactly as presigned"
		case f.Code == "InvalidAccessKeyId" || f.Code == "ExpiredToken" || f.Code == "InvalidToken" || f.Code == "TokenRefreshRequired":
			return "the session that signed the URL is not valid at S3 (" + f.Code + "): sign with a fresh AssumeRole session, and keep URLs shorter-lived than the session"
		}
		if !slices.Contains(vias, f.Object.Via) {
			vias = append(vias, f.Object.Via)
		}
	}
	if len(vias) == 1 && vias[0] != "bucket" {
		return "the access point refuses what the bucket allows: its access point policy denies the role, or does not allow it; " + customer
	}
	if len(vias) == 1 && vias[0] == "bucket" {
		return "the bucket refuses what the access point allows: a bucket policy statement denies the role on the bucket's own ARN; " + customer
	}
	return customer
}

// describeCallError words an AWS call's failure: S3's or IAM's answer as the SDK gives it, or,
// when nothing answered, the network, DNS, TLS or endpoint problem it is.
func describeCallError(err error) string {
	if isNetworkError(err) {
		return browserpath.DescribeNetworkError(err)
	}
	return err.Error()
}

// isNetworkError reports whether no AWS endpoint answered the call at all. The SDK wraps a
// request that could not be sent in a ResponseError too, with no response (status 0).
func isNetworkError(err error) bool {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.Response.Response != nil && re.Response.StatusCode != 0 {
		return false
	}
	return err != nil && awserr.Code(err) == "" && !errors.Is(err, context.Canceled)
}

// callFix is fix, unless the call failed on the network, which no permission repairs.
func callFix(err error, fix string) string {
	if isNetworkError(err) {
		return "a network, DNS, TLS or endpoint problem, not a permission: check the connection (firewall, proxy, --endpoint-url), then run verify again"
	}
	return fix
}
