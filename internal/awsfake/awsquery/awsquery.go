// Package awsquery is the shared plumbing of the in-process AWS fakes that speak the Query
// protocol (CloudFormation, IAM, STS): it parses form-encoded requests, writes the XML
// envelopes and error bodies the aws-sdk-go-v2 deserialisers expect, injects throttling and
// rejected credentials, and records the actions called so tests can count them.
//
// It is test support: only _test.go files and other fakes import it.
package awsquery

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Request is one parsed Query-protocol call.
type Request struct {
	Action  string
	Version string
	Params  url.Values
	// AccessKey and Region come from the SigV4 Authorization header ("" when unsigned).
	AccessKey string
	Region    string
}

// Get returns a scalar parameter such as "StackName" or "Parameters.member.1.ParameterKey".
func (r *Request) Get(name string) string { return r.Params.Get(name) }

// Has reports whether the parameter was sent at all (an empty string counts).
func (r *Request) Has(name string) bool { _, ok := r.Params[name]; return ok }

// List returns the values of a list of scalars serialised as name.member.N, in order.
func (r *Request) List(name string) []string {
	var out []string
	for i := 1; ; i++ {
		k := name + ".member." + strconv.Itoa(i)
		if !r.Has(k) {
			return out
		}
		out = append(out, r.Get(k))
	}
}

// Structs returns a list of structures serialised as name.member.N.Field, each as a map from
// field name to value, in order.
func (r *Request) Structs(name string) []map[string]string {
	var out []map[string]string
	for i := 1; ; i++ {
		prefix := name + ".member." + strconv.Itoa(i) + "."
		m := map[string]string{}
		for k, v := range r.Params {
			if strings.HasPrefix(k, prefix) {
				m[strings.TrimPrefix(k, prefix)] = v[0]
			}
		}
		if len(m) == 0 {
			return out
		}
		out = append(out, m)
	}
}

// Map returns a map serialised as name.entry.N.key / name.entry.N.value.
func (r *Request) Map(name string) map[string]string {
	out := map[string]string{}
	for i := 1; ; i++ {
		prefix := name + ".entry." + strconv.Itoa(i) + "."
		if !r.Has(prefix + "key") {
			return out
		}
		out[r.Get(prefix+"key")] = r.Get(prefix + "value")
	}
}

// Error is an AWS error response. Status is the HTTP status code; Type is "Sender" or
// "Receiver" as in the real ErrorResponse body.
type Error struct {
	Status  int
	Type    string
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Sender returns a client-side (HTTP 400) error such as ValidationError.
func Sender(code, message string) *Error {
	return &Error{Status: http.StatusBadRequest, Type: "Sender", Code: code, Message: message}
}

// Throttling is the error the Query services return when a caller exceeds its rate.
func Throttling() *Error { return Sender("Throttling", "Rate exceeded") }

// A Handler answers one action. The result is marshalled by encoding/xml inside the
// <ActionResult> element (nil writes no result element); an *Error becomes an error response.
type Handler func(*Request) (result any, err *Error)

// Service is an http.Handler serving one Query-protocol API.
type Service struct {
	namespace string
	handlers  map[string]Handler
	requestID atomic.Int64

	mu          sync.Mutex
	calls       []Call
	throttle    map[string]int // action ("" = any) -> how many more calls to refuse
	credentials func(accessKey string) *Error
}

// Call is one recorded request.
type Call struct {
	Action    string
	Time      time.Time
	Throttled bool
	Err       string // error code returned, "" on success
}

// NewService returns a Service whose responses carry the XML namespace ns, for example
// "http://cloudformation.amazonaws.com/doc/2010-05-15/".
func NewService(ns string) *Service {
	return &Service{namespace: ns, handlers: map[string]Handler{}, throttle: map[string]int{}}
}

// Handle registers the handler of an action.
func (s *Service) Handle(action string, h Handler) { s.handlers[action] = h }

// Throttle makes the next n calls of the given action (every action when action is "") fail
// with Throttling, as the real services do under load.
func (s *Service) Throttle(action string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle[action] += n
}

// CheckCredentials installs a check of the caller's access key (from the SigV4 header); a
// non-nil error is returned before the action runs, e.g. InvalidClientTokenId or ExpiredToken.
func (s *Service) CheckCredentials(check func(accessKey string) *Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.credentials = check
}

// Calls returns the requests served so far, in order.
func (s *Service) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Actions returns the names of the actions called so far, in order.
func (s *Service) Actions() []string {
	var out []string
	for _, c := range s.Calls() {
		out = append(out, c.Action)
	}
	return out
}

// Count returns how many times the action was called (throttled calls included).
func (s *Service) Count(action string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Action == action {
			n++
		}
	}
	return n
}

// ServeHTTP parses the request, applies throttling and the credential check, runs the
// action's handler and writes its XML response.
func (s *Service) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	req, perr := Parse(hr)
	if perr != nil {
		s.writeError(w, perr)
		return
	}
	call := Call{Action: req.Action, Time: time.Now()}
	s.mu.Lock()
	err := s.gate(req)
	if err != nil && err.Code == "Throttling" {
		call.Throttled = true
	}
	check := s.credentials
	s.mu.Unlock()
	if err == nil && check != nil {
		err = check(req.AccessKey)
	}
	var result any
	if err == nil {
		h, ok := s.handlers[req.Action]
		if !ok {
			err = &Error{Status: http.StatusBadRequest, Type: "Sender", Code: "InvalidAction",
				Message: fmt.Sprintf("Could not find operation %s for version %s", req.Action, req.Version)}
		} else {
			result, err = h(req)
		}
	}
	if err != nil {
		call.Err = err.Code
	}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()
	if err != nil {
		s.writeError(w, err)
		return
	}
	s.writeResult(w, req.Action, result)
}

// gate consumes one pending throttle for the request's action, if any. Called with s.mu held.
func (s *Service) gate(req *Request) *Error {
	for _, key := range []string{req.Action, ""} {
		if s.throttle[key] > 0 {
			s.throttle[key]--
			return Throttling()
		}
	}
	return nil
}

// Parse reads a Query-protocol request: a form-encoded POST body (or the URL query of a GET).
func Parse(hr *http.Request) (*Request, *Error) {
	body, err := io.ReadAll(hr.Body)
	if err != nil {
		return nil, Sender("MalformedQueryString", err.Error())
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, Sender("MalformedQueryString", err.Error())
	}
	for k, v := range hr.URL.Query() {
		values[k] = append(values[k], v...)
	}
	req := &Request{Action: values.Get("Action"), Version: values.Get("Version"), Params: values}
	if req.Action == "" {
		return nil, Sender("MissingAction", "The request must contain the parameter Action.")
	}
	req.AccessKey, req.Region = credentialScope(hr.Header.Get("Authorization"))
	return req, nil
}

// credentialScope extracts the access key and region from
// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...".
func credentialScope(auth string) (accessKey, region string) {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) < 3 {
		return parts[0], ""
	}
	return parts[0], parts[2]
}

func (s *Service) nextRequestID() string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", s.requestID.Add(1))
}

func (s *Service) writeResult(w http.ResponseWriter, action string, result any) {
	w.Header().Set("Content-Type", "text/xml")
	var b strings.Builder
	enc := xml.NewEncoder(&b)
	start := xml.StartElement{Name: xml.Name{Local: action + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: s.namespace}}}
	must(enc.EncodeToken(start))
	if result != nil {
		must(enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}))
	}
	must(enc.EncodeElement(struct {
		RequestID string `xml:"RequestId"`
	}{s.nextRequestID()}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}))
	must(enc.EncodeToken(start.End()))
	must(enc.Flush())
	_, _ = io.WriteString(w, b.String())
}

func (s *Service) writeError(w http.ResponseWriter, e *Error) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.Status)
	body := struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Xmlns   string   `xml:"xmlns,attr"`
		Type    string   `xml:"Error>Type"`
		Code    string   `xml:"Error>Code"`
		Message string   `xml:"Error>Message"`
		ReqID   string   `xml:"RequestId"`
	}{Xmlns: s.namespace, Type: e.Type, Code: e.Code, Message: e.Message, ReqID: s.nextRequestID()}
	out, err := xml.Marshal(body)
	must(err)
	_, _ = w.Write(out)
}

// must panics on an encoding error, which only a programming error in a fake can cause
// (the values encoded are plain structs of strings).
func must(err error) {
	if err != nil {
		panic("awsquery: " + err.Error())
	}
}

// Time formats a timestamp the way the Query services do (ISO 8601, UTC, milliseconds).
func Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// SortedKeys returns the keys of m in order, for deterministic responses.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
