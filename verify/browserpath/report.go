package browserpath

import "fmt"

// A SignedObject is one object the browser loads, by a presigned GET URL.
type SignedObject struct {
	// Key is the object's key; its extension says whether a media type is expected.
	Key string `json:"key"`
	// Via names how URL addresses the object, e.g. "bucket" or "access point alias".
	Via string `json:"via"`
	// URL is the presigned GET URL, as the vendor's servers hand it to the browser.
	URL string `json:"-"`
}

func (o SignedObject) String() string {
	if o.Via == "" {
		return o.Key
	}
	return o.Key + " via " + o.Via
}

// A Step is one request or judgement of the browser's path, in the order a browser meets them.
type Step string

// The steps, per object and origin.
const (
	// StepPreflight is the OPTIONS request with Origin and Access-Control-Request-Method.
	StepPreflight Step = "preflight"
	// StepGet is the GET with Origin: it must succeed and carry its own
	// Access-Control-Allow-Origin, or the browser hands the page nothing.
	StepGet Step = "get"
	// StepVary checks that the GET's response varies on Origin, so a shared cache does not
	// serve one origin's answer to another.
	StepVary Step = "vary"
	// StepRange is a Range GET (bytes=0-0), as video players send: 206 with Content-Range.
	StepRange Step = "range"
	// StepContentType judges the GET's Content-Type against the key's media type.
	StepContentType Step = "content-type"
	// StepDecode is the browser mode's fetch and image decode in Chromium.
	StepDecode Step = "decode"
)

// A Kind says what failed in a step, so that callers word causes and fixes by kind.
type Kind string

// The kinds of failure. The empty Kind is a pass.
const (
	// PreflightDenied: the preflight was not answered 200 with a matching
	// Access-Control-Allow-Origin; the bucket's CORS rules do not allow the origin, method or
	// headers. Worded as the preflight's answer, never as the GET's.
	PreflightDenied Kind = "preflight-denied"
	// MissingAllowOrigin: the GET succeeded but its response has no (or another)
	// Access-Control-Allow-Origin. With the preflight passing, a proxy or CDN in front of S3
	// probably strips it.
	MissingAllowOrigin Kind = "missing-allow-origin"
	// MissingVary: the response allows one origin but does not vary on Origin.
	MissingVary Kind = "missing-vary"
	// RangeIgnored: a Range GET was not answered 206 with Content-Range.
	RangeIgnored Kind = "range-ignored"
	// WrongContentType: a media object (by its key) is served with a non-media Content-Type.
	WrongContentType Kind = "wrong-content-type"
	// Network: DNS, connection, TLS or timeout; not a permissions problem.
	Network Kind = "network"
	// Forbidden: the GET was answered 403; Outcome.Code holds S3's error code (AccessDenied,
	// SignatureDoesNotMatch, InvalidAccessKeyId, ...).
	Forbidden Kind = "forbidden"
	// HTTPStatus: the GET was answered another non-2xx status (404 NoSuchKey, 400, 5xx).
	HTTPStatus Kind = "http-status"
	// DecodeFailed: in the browser, the fetch or the image decode failed.
	DecodeFailed Kind = "decode-failed"
	// NotChecked: the step could not be judged because an earlier one failed. It does not
	// pass, and is not a cause of its own.
	NotChecked Kind = "not-checked"
)

// Outcome is the result of one step.
type Outcome struct {
	Step Step `json:"step"`
	// Kind is empty when the step passed.
	Kind Kind `json:"kind,omitempty"`
	// Status is the HTTP status answered, 0 when there was no answer.
	Status int `json:"status,omitempty"`
	// Code and Message are S3's error code and message, from an error response's body.
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// Detail says what was seen, pass or fail, in a sentence.
	Detail string `json:"detail"`
}

// Passed reports whether the step passed.
func (o Outcome) Passed() bool { return o.Kind == "" }

// OriginResult is every step for one object from one origin.
type OriginResult struct {
	Origin string    `json:"origin"`
	Steps  []Outcome `json:"steps"`
}

// ObjectResult is the results for one object, per origin.
type ObjectResult struct {
	Object  SignedObject   `json:"object"`
	Origins []OriginResult `json:"origins"`
}

// Report is the proof for every object and origin.
type Report struct {
	Objects []ObjectResult `json:"objects"`
}

// A Failure is one failed step, with the object and origin it failed for.
type Failure struct {
	Object SignedObject
	Origin string
	Outcome
}

func (f Failure) String() string {
	return fmt.Sprintf("%s from %s: %s: %s", f.Object, f.Origin, f.Step, f.Detail)
}

// Passed reports whether every step passed for every object and origin (and there was one).
func (r Report) Passed() bool {
	n := 0
	for _, o := range r.Objects {
		for _, or := range o.Origins {
			for _, s := range or.Steps {
				if !s.Passed() {
					return false
				}
				n++
			}
		}
	}
	return n > 0
}

// Failures returns the failed steps that are causes, in order: NotChecked steps are left out
// (they still keep Passed false).
func (r Report) Failures() []Failure {
	var out []Failure
	for _, o := range r.Objects {
		for _, or := range o.Origins {
			for _, s := range or.Steps {
				if !s.Passed() && s.Kind != NotChecked {
					out = append(out, Failure{Object: o.Object, Origin: or.Origin, Outcome: s})
				}
			}
		}
	}
	return out
}

// Kinds returns the distinct kinds of failure in the report, in order of first appearance.
func (r Report) Kinds() []Kind {
	var out []Kind
	seen := map[Kind]bool{}
	for _, f := range r.Failures() {
		if !seen[f.Kind] {
			seen[f.Kind] = true
			out = append(out, f.Kind)
		}
	}
	return out
}
