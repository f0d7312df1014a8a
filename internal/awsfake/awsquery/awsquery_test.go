package awsquery_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
)

func TestRequestParsing(t *testing.T) {
	form := url.Values{
		"Action": {"CreateChangeSet"}, "Version": {"2010-05-15"}, "StackName": {"s"},
		"Capabilities.member.1": {"CAPABILITY_IAM"}, "Capabilities.member.2": {"CAPABILITY_NAMED_IAM"},
		"Parameters.member.1.ParameterKey": {"A"}, "Parameters.member.1.ParameterValue": {""},
		"Parameters.member.2.ParameterKey": {"B"}, "Parameters.member.2.UsePreviousValue": {"true"},
		"Tags.entry.1.key": {"k1"}, "Tags.entry.1.value": {"v1"}, "Tags.entry.2.key": {"k2"}, "Tags.entry.2.value": {""},
	}
	hr := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	hr.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261127/eu-west-3/cloudformation/aws4_request, SignedHeaders=host, Signature=abc")
	r, err := awsquery.Parse(hr)
	if err != nil {
		t.Fatal(err)
	}
	if r.Action != "CreateChangeSet" || r.Version != "2010-05-15" || r.AccessKey != "AKIDEXAMPLE" || r.Region != "eu-west-3" {
		t.Fatalf("request %+v", r)
	}
	if got := r.List("Capabilities"); !slices.Equal(got, []string{"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"}) {
		t.Fatalf("list %v", got)
	}
	ps := r.Structs("Parameters")
	if len(ps) != 2 || ps[0]["ParameterKey"] != "A" || ps[0]["ParameterValue"] != "" || ps[1]["UsePreviousValue"] != "true" {
		t.Fatalf("structs %v", ps)
	}
	if m := r.Map("Tags"); len(m) != 2 || m["k1"] != "v1" || m["k2"] != "" {
		t.Fatalf("map %v", m)
	}
	if !r.Has("Parameters.member.1.ParameterValue") || r.Has("Missing") {
		t.Fatal("Has cannot tell empty from absent")
	}
}

func call(t *testing.T, srv *httptest.Server, action string) (int, string) {
	t.Helper()
	resp, err := http.PostForm(srv.URL, url.Values{"Action": {action}, "Version": {"2010-05-15"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEnvelopesThrottlingAndCalls(t *testing.T) {
	s := awsquery.NewService("http://example.com/doc/")
	s.Handle("Hello", func(*awsquery.Request) (any, *awsquery.Error) {
		return struct {
			Names []string `xml:"Names>member"`
		}{[]string{"a", "b"}}, nil
	})
	s.Handle("Fail", func(*awsquery.Request) (any, *awsquery.Error) {
		return nil, awsquery.Sender("ValidationError", "Stack with id x does not exist")
	})
	srv := httptest.NewServer(s)
	defer srv.Close()

	code, body := call(t, srv, "Hello")
	want := `<HelloResponse xmlns="http://example.com/doc/"><HelloResult><Names><member>a</member><member>b</member></Names></HelloResult><ResponseMetadata><RequestId>`
	if code != 200 || !strings.HasPrefix(body, want) || !strings.HasSuffix(body, "</RequestId></ResponseMetadata></HelloResponse>") {
		t.Fatalf("%d %s", code, body)
	}
	code, body = call(t, srv, "Fail")
	want = `<ErrorResponse xmlns="http://example.com/doc/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id x does not exist</Message></Error><RequestId>`
	if code != 400 || !strings.HasPrefix(body, want) {
		t.Fatalf("%d %s", code, body)
	}
	s.Throttle("Hello", 1)
	if code, body = call(t, srv, "Hello"); code != 400 || !strings.Contains(body, "<Code>Throttling</Code><Message>Rate exceeded</Message>") {
		t.Fatalf("%d %s", code, body)
	}
	if code, _ = call(t, srv, "Hello"); code != 200 {
		t.Fatal("throttling outlived its count")
	}
	if code, body = call(t, srv, "Nope"); code != 400 || !strings.Contains(body, "InvalidAction") {
		t.Fatalf("%d %s", code, body)
	}
	if got := s.Actions(); !slices.Equal(got, []string{"Hello", "Fail", "Hello", "Hello", "Nope"}) || s.Count("Hello") != 3 {
		t.Fatalf("calls %v", got)
	}
	if calls := s.Calls(); !calls[2].Throttled || calls[1].Err != "ValidationError" {
		t.Fatalf("calls %+v", calls)
	}
}
