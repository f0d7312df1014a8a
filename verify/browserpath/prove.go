// Package browserpath proves the path an annotator's browser takes to an object of the
// customer's bucket, from each of the vendor's web origins, through presigned GET URLs: the
// CORS preflight, then the GET with Origin and its own Access-Control-Allow-Origin and Vary,
// a Range GET as video players send, and the Content-Type. Browse goes further and has a real
// headless Chromium, on a page served as the vendor's origin, fetch and decode each object.
//
// A preflight is not the request the browser makes next: a proxy or CDN in front of S3 can
// strip the GET's CORS headers while S3 itself answers the preflight, and the images then do
// not load although every S3 setting is right. Each step reports its own kind of failure, so
// a network error is never blamed on permissions and a refused preflight never on the GET.
package browserpath

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout bounds each request when no client is given.
const DefaultTimeout = 20 * time.Second

// An Option configures Prove and Browse.
type Option func(*options)

// HTTPClient sends a request; *http.Client and the AWS SDK's aws.HTTPClient are ones.
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

type options struct {
	client  HTTPClient
	headers []string
	timeout time.Duration
}

// WithHTTPClient sends the requests with c, which should have deadlines (Timeout, or a
// transport with dial, TLS and response-header timeouts). Each request also has the context's
// deadline.
func WithHTTPClient(c HTTPClient) Option { return func(o *options) { o.client = c } }

// WithRequestHeaders sets the headers the vendor's apps send with the GET, which the browser
// names in the preflight's Access-Control-Request-Headers. A "*" (the apps may send any
// header) is not a header name and is left out.
func WithRequestHeaders(headers []string) Option {
	return func(o *options) { o.headers = headers }
}

// WithTimeout bounds each request (default DefaultTimeout); in Browse, each page.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

func newOptions(opts []Option) options {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.client == nil {
		o.client = &http.Client{Timeout: o.timeout}
	}
	return o
}

// requestHeaders is the Access-Control-Request-Headers value a browser sends: the lower-cased
// names, sorted, comma-separated.
func (o options) requestHeaders() string {
	var names []string
	for _, h := range o.headers {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" && h != "*" && !slices.Contains(names, h) {
			names = append(names, h)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

// ValidateOrigin checks that origin is a web origin as a browser sends it in Origin:
// http or https, a host, an optional port, and nothing else.
func ValidateOrigin(origin string) error {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" ||
		u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || origin != u.Scheme+"://"+u.Host {
		return fmt.Errorf("origin %q: an origin is scheme://host[:port], http or https, without path", origin)
	}
	return nil
}

func validate(objects []SignedObject, origins []string) error {
	if len(objects) == 0 {
		return errors.New("no object to load: sample at least one object")
	}
	if len(origins) == 0 {
		return errors.New("no origin to load the objects from")
	}
	for _, o := range origins {
		if err := ValidateOrigin(o); err != nil {
			return err
		}
	}
	for _, o := range objects {
		u, err := url.Parse(o.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("object %s: %q is not an http(s) URL", o, o.URL)
		}
	}
	return nil
}

// Prove runs every step for each object from each origin, with plain HTTP requests shaped as
// the browser's. The error is for bad input or for the context ending (Ctrl-C, deadline);
// everything the endpoint answers, or fails to, is in the Report.
func Prove(ctx context.Context, objects []SignedObject, origins []string, opts ...Option) (Report, error) {
	if err := validate(objects, origins); err != nil {
		return Report{}, err
	}
	o := newOptions(opts)
	var rep Report
	for _, obj := range objects {
		res := ObjectResult{Object: obj}
		for _, origin := range origins {
			steps := o.prove(ctx, obj, origin)
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			res.Origins = append(res.Origins, OriginResult{Origin: origin, Steps: steps})
		}
		rep.Objects = append(rep.Objects, res)
	}
	return rep, nil
}

// answer is what one request got: the response's status, headers and the start of its body,
// or the error.
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// bodyLimit is how much of a body is read: enough for an S3 error document or a content
// sniff, never a whole video.
const bodyLimit = 64 << 10

func (o options) send(ctx context.Context, method, rawURL string, header http.Header) answer {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return answer{err: err}
	}
	req.Header = header
	resp, err := o.client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, bodyLimit))
	if err != nil {
		return answer{status: resp.StatusCode, header: resp.Header, err: err}
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body}
}

func (o options) prove(ctx context.Context, obj SignedObject, origin string) []Outcome {
	pre := http.Header{"Origin": {origin}, "Access-Control-Request-Method": {"GET"}}
	if h := o.requestHeaders(); h != "" {
		pre.Set("Access-Control-Request-Headers", h)
	}
	steps := []Outcome{judgePreflight(o.send(ctx, http.MethodOptions, obj.URL, pre), origin, pre)}

	get := o.send(ctx, http.MethodGet, obj.URL, http.Header{"Origin": {origin}})
	getStep := judgeGet(get, origin, steps[0].Kind == PreflightDenied)
	steps = append(steps, getStep)
	if !getStep.Passed() && getStep.Kind != MissingAllowOrigin {
		why := fmt.Sprintf("not checked: the GET failed (%s)", getStep.Kind)
		steps = append(steps, Outcome{Step: StepVary, Kind: NotChecked, Detail: why},
			Outcome{Step: StepRange, Kind: NotChecked, Detail: why},
			Outcome{Step: StepContentType, Kind: NotChecked, Detail: why})
		return steps
	}
	steps = append(steps, judgeVary(get, origin))
	ranged := o.send(ctx, http.MethodGet, obj.URL, http.Header{"Origin": {origin}, "Range": {"bytes=0-0"}})
	steps = append(steps, judgeRange(ranged, origin, getStep.Passed()))
	return append(steps, judgeContentType(get, obj.Key))
}

func judgePreflight(a answer, origin string, sent http.Header) Outcome {
	what := fmt.Sprintf("the preflight (OPTIONS from %s, Access-Control-Request-Method GET", origin)
	if h := sent.Get("Access-Control-Request-Headers"); h != "" {
		what += ", Access-Control-Request-Headers " + h
	}
	what += ")"
	out := Outcome{Step: StepPreflight, Status: a.status}
	if a.err != nil {
		out.Kind, out.Detail = Network, what+" got no answer: "+DescribeNetworkError(a.err)
		return out
	}
	allow := a.header.Get("Access-Control-Allow-Origin")
	if a.status == http.StatusOK && (allow == origin || allow == "*") {
		out.Detail = fmt.Sprintf("%s answered 200, Access-Control-Allow-Origin %s", what, allow)
		return out
	}
	out.Code, out.Message = s3Error(a.body)
	out.Kind = PreflightDenied
	out.Detail = fmt.Sprintf("%s answered HTTP %d%s, Access-Control-Allow-Origin %q: the bucket's CORS rules do not allow this origin, method or these headers",
		what, a.status, codeSuffix(out.Code, out.Message), allow)
	return out
}

func judgeGet(a answer, origin string, preflightDenied bool) Outcome {
	out := Outcome{Step: StepGet, Status: a.status}
	if a.err != nil && a.status == 0 {
		out.Kind, out.Detail = Network, "the GET got no answer: "+DescribeNetworkError(a.err)
		return out
	}
	if a.status < 200 || a.status > 299 {
		out.Code, out.Message = s3Error(a.body)
		out.Kind = HTTPStatus
		if a.status == http.StatusForbidden {
			out.Kind = Forbidden
		}
		out.Detail = fmt.Sprintf("the GET with Origin %s answered HTTP %d%s", origin, a.status, codeSuffix(out.Code, out.Message))
		return out
	}
	if a.err != nil {
		out.Kind, out.Detail = Network, fmt.Sprintf("the GET answered %d but its body broke off: %s", a.status, DescribeNetworkError(a.err))
		return out
	}
	allow := a.header.Get("Access-Control-Allow-Origin")
	if allow != origin && allow != "*" {
		out.Kind = MissingAllowOrigin
		switch {
		case allow == "" && preflightDenied:
			out.Detail = fmt.Sprintf("the GET answered %d without Access-Control-Allow-Origin, as the preflight was refused: no CORS rule of the bucket allows GET from %s", a.status, origin)
		case allow == "":
			out.Detail = fmt.Sprintf("the GET answered %d without Access-Control-Allow-Origin, so the browser refuses the object to the page from %s (if the preflight passes, something in front of S3, a proxy or CDN, strips the header)", a.status, origin)
		default:
			out.Detail = fmt.Sprintf("the GET answered %d with Access-Control-Allow-Origin %q, not %s or *, so the browser refuses the object to the page (a cache may be serving another origin's answer)", a.status, allow, origin)
		}
		return out
	}
	out.Detail = fmt.Sprintf("the GET answered %d with Access-Control-Allow-Origin %s", a.status, allow)
	return out
}

// varies reports whether the Vary headers name field (or are *).
func varies(h http.Header, field string) bool {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, field) {
				return true
			}
		}
	}
	return false
}

func judgeVary(a answer, origin string) Outcome {
	out := Outcome{Step: StepVary, Status: a.status}
	allow := a.header.Get("Access-Control-Allow-Origin")
	vary := strings.Join(a.header.Values("Vary"), ", ")
	switch {
	case allow == "*":
		out.Detail = "Access-Control-Allow-Origin is *, the same for every origin: no Vary needed"
	case allow != origin:
		out.Kind, out.Detail = NotChecked, "not checked: the GET carries no Access-Control-Allow-Origin for this origin"
	case varies(a.header, "Origin"):
		out.Detail = "the GET's response varies on Origin (Vary: " + vary + ")"
	default:
		out.Kind = MissingVary
		out.Detail = fmt.Sprintf("the GET allows %s but its response does not vary on Origin (Vary %q): a shared cache can serve this origin's answer to another origin, whose page then cannot load the object", origin, vary)
	}
	return out
}

var contentRange = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^bytes 0-0/([0-9]+|\*)$`) })

func judgeRange(a answer, origin string, getAllowed bool) Outcome {
	out := Outcome{Step: StepRange, Status: a.status}
	if a.err != nil && a.status == 0 {
		out.Kind, out.Detail = Network, "the Range GET got no answer: "+DescribeNetworkError(a.err)
		return out
	}
	cr := a.header.Get("Content-Range")
	switch {
	case a.status == http.StatusPartialContent && contentRange().MatchString(cr):
	case a.status == http.StatusOK:
		out.Kind, out.Detail = RangeIgnored, "the Range GET (bytes=0-0) answered 200 with the whole object: Range is not honoured (a proxy in front of S3 may drop it), so video players cannot seek and load everything"
		return out
	case a.status == http.StatusForbidden:
		out.Code, out.Message = s3Error(a.body)
		out.Kind, out.Detail = Forbidden, fmt.Sprintf("the Range GET (bytes=0-0) answered HTTP 403%s while the plain GET succeeded", codeSuffix(out.Code, out.Message))
		return out
	default:
		out.Code, out.Message = s3Error(a.body)
		out.Kind, out.Detail = RangeIgnored, fmt.Sprintf("the Range GET (bytes=0-0) answered HTTP %d%s with Content-Range %q, not 206 with bytes 0-0/SIZE", a.status, codeSuffix(out.Code, out.Message), cr)
		return out
	}
	allow := a.header.Get("Access-Control-Allow-Origin")
	if allow != origin && allow != "*" {
		if getAllowed {
			out.Kind, out.Detail = MissingAllowOrigin, fmt.Sprintf("the Range GET answered 206 without Access-Control-Allow-Origin for %s, while the plain GET has it: something in front of S3 treats ranged requests differently, and video players are refused", origin)
		} else {
			out.Detail = "the Range GET answered 206 with " + cr + " (its Access-Control-Allow-Origin is missing too, as on the GET)"
		}
		return out
	}
	out.Detail = "the Range GET answered 206 with " + cr + " and Access-Control-Allow-Origin " + allow
	return out
}

// mediaTypes maps the extensions of images and videos an annotation app shows to their type.
var mediaTypes = map[string]string{
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
	".avif": "image/avif", ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff", ".svg": "image/svg+xml",
	".heic": "image/heic", ".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime",
	".ogv": "video/ogg", ".mkv": "video/x-matroska",
}

func isMedia(contentType string) bool {
	ct := strings.ToLower(strings.TrimSpace(contentType))
	return strings.HasPrefix(ct, "image/") || strings.HasPrefix(ct, "video/") || strings.HasPrefix(ct, "audio/")
}

func judgeContentType(a answer, key string) Outcome {
	out := Outcome{Step: StepContentType, Status: a.status}
	ct := a.header.Get("Content-Type")
	want, media := mediaTypes[strings.ToLower(path.Ext(key))]
	switch {
	case isMedia(ct):
		out.Detail = "served as " + ct
	case media:
		shown := ct
		if shown == "" {
			shown = "no Content-Type"
		}
		out.Kind = WrongContentType
		out.Detail = fmt.Sprintf("served as %s, but the key names a %s: the object was uploaded without its media type; browsers may refuse to play or show it (re-upload with Content-Type %s, e.g. aws s3 cp --content-type %s)", shown, want, want, want)
	case ct == "":
		out.Detail = "served without a Content-Type (the key does not name a media type)"
	default:
		out.Detail = "served as " + ct + " (the key does not name a media type)"
	}
	return out
}

// s3Error reads the code and message of an S3 error document.
func s3Error(body []byte) (code, message string) {
	var doc struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	if xml.Unmarshal(body, &doc) != nil {
		return "", ""
	}
	return doc.Code, doc.Message
}

func codeSuffix(code, message string) string {
	switch {
	case code == "":
		return ""
	case message == "":
		return " " + code
	}
	return fmt.Sprintf(" %s (%s)", code, message)
}

// DescribeNetworkError words a failed request as what it is: DNS, connection, TLS or timeout.
func DescribeNetworkError(err error) string {
	var dns *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var record tls.RecordHeaderError
	var op *net.OpError
	switch {
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.As(err, &dns):
		return fmt.Sprintf("DNS: cannot resolve %s (%v); a network, DNS or endpoint problem, not a permission", dns.Name, dns.Err)
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verify):
		return fmt.Sprintf("TLS: the server's certificate is not trusted (%v); a TLS-inspecting proxy or a wrong endpoint, not a permission", err)
	case errors.As(err, &record):
		return "TLS: the server does not speak TLS (an http endpoint given as https?)"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), isTimeout(err):
		return fmt.Sprintf("timeout: no answer in time (%v); a network or firewall problem, not a permission", err)
	case errors.As(err, &op) && op.Op == "dial":
		return fmt.Sprintf("cannot connect (%v); a network, firewall or endpoint problem, not a permission", op.Err)
	}
	return fmt.Sprintf("network: %v", err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
