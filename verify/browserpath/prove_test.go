package browserpath_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/isahit/s3grant/internal/awsfake/s3fake"
	"github.com/isahit/s3grant/verify/browserpath"
)

const (
	region  = "eu-west-3"
	bucket  = "customer-images"
	key     = "AKIASESSION"
	secret  = "session-secret"
	imgKey  = "images/cat.png"
	account = "111122223333"
)

var origins = []string{"https://lab.isahit.com", "https://work.isahit.com"}

// testPNG is a real 3x2 PNG, so the browser has something to decode.
func testPNG(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// world is the S3 fake holding the customer's bucket set up right: the vendor's CORS rule
// among the customer's own, a PNG stored with its Content-Type, an access point.
type world struct {
	fake *s3fake.Fake
	url  string
	ap   s3fake.AccessPoint
}

func goodBucket(t testing.TB) s3fake.Bucket {
	return s3fake.Bucket{Name: bucket, Region: region,
		CORS: []s3fake.CORSRule{
			{ID: "customer-own", AllowedOrigins: []string{"https://intranet.example.com"}, AllowedMethods: []string{"GET", "PUT"}, AllowedHeaders: []string{"authorization"}},
			{ID: "isahit-lab", AllowedOrigins: origins, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"*"}},
		},
		Objects: map[string][]byte{imgKey: testPNG(t), "notes/readme.txt": []byte("hello")},
		Meta:    map[string]s3fake.ObjectMeta{imgKey: {ContentType: "image/png"}, "notes/readme.txt": {ContentType: "text/plain"}}}
}

func start(t testing.TB) *world {
	f, u := s3fake.Start(t)
	f.PutBucket(goodBucket(t))
	ap := s3fake.AccessPoint{Name: "isahit-lab-access-point", Account: account, Region: region, Bucket: bucket,
		PublicAccessBlock: [4]bool{true, true, true, true}}
	f.PutAccessPoint(ap)
	f.SetSecrets(func(k string) (string, string, bool) { return secret, "", k == key })
	return &world{fake: f, url: u, ap: ap}
}

// signed presigns GET URLs for keys through the bucket and through the access point's alias,
// as the vendor's servers do with the role session.
func (w *world) signed(t testing.TB, keys ...string) []browserpath.SignedObject {
	t.Helper()
	c := s3.New(s3.Options{Region: region, BaseEndpoint: aws.String(w.url), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
	pc := s3.NewPresignClient(c)
	var out []browserpath.SignedObject
	for _, k := range keys {
		for via, b := range map[string]string{"bucket": bucket, "access point alias": w.ap.Alias()} {
			req, err := pc.PresignGetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(k)},
				s3.WithPresignExpires(5*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, browserpath.SignedObject{Key: k, Via: via, URL: req.URL})
		}
	}
	slices.SortFunc(out, func(a, b browserpath.SignedObject) int { return strings.Compare(a.Key+a.Via, b.Key+b.Via) })
	return out
}

func prove(t *testing.T, objects []browserpath.SignedObject, opts ...browserpath.Option) browserpath.Report {
	t.Helper()
	opts = append([]browserpath.Option{browserpath.WithTimeout(5 * time.Second)}, opts...)
	rep, err := browserpath.Prove(context.Background(), objects, origins, opts...)
	if err != nil {
		t.Fatalf("Prove: %v", err)
	}
	return rep
}

func TestCorrectSetupPasses(t *testing.T) {
	w := start(t)
	rep := prove(t, w.signed(t, imgKey, "notes/readme.txt"), browserpath.WithRequestHeaders([]string{"*", "Range"}))
	for _, f := range rep.Failures() {
		t.Errorf("%s", f)
	}
	if !rep.Passed() {
		t.Fatal("a correct setup does not pass")
	}
	if len(rep.Objects) != 4 || len(rep.Objects[0].Origins) != 2 || len(rep.Objects[0].Origins[0].Steps) != 5 {
		t.Fatalf("report shape: %+v", rep)
	}
	// Every step really went to S3: one preflight and two GETs per object and origin.
	var ops []string
	for _, c := range w.fake.Calls() {
		ops = append(ops, c.Operation)
	}
	if got := strings.Count(strings.Join(ops, " "), "Preflight"); got != 8 {
		t.Errorf("%d preflights, want 8 (calls %v)", got, ops)
	}
	if got := strings.Count(strings.Join(ops, " "), "GetObject"); got != 16 {
		t.Errorf("%d GETs, want 16", got)
	}
}

// Each fault fails exactly its kind of failure, and says so in its own words.
func TestEachFaultFailsItsStep(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(w *world)
		origins []string // the origins that fail; nil for every origin
		kinds   []browserpath.Kind
		detail  string
		code    string
	}{
		{"a proxy strips Access-Control-Allow-Origin from GETs", func(w *world) { w.fake.Inject(s3fake.StripAllowOrigin) }, nil,
			[]browserpath.Kind{browserpath.MissingAllowOrigin}, "proxy or CDN", ""},
		{"a cache drops Vary", func(w *world) { w.fake.Inject(s3fake.StripVary) }, nil,
			[]browserpath.Kind{browserpath.MissingVary}, "does not vary on Origin", ""},
		{"a proxy drops Range", func(w *world) { w.fake.Inject(s3fake.IgnoreRange) }, nil,
			[]browserpath.Kind{browserpath.RangeIgnored}, "Range is not honoured", ""},
		{"image uploaded without its Content-Type", func(w *world) {
			b := goodBucket(t)
			b.Meta = nil
			w.fake.PutBucket(b)
		}, nil, []browserpath.Kind{browserpath.WrongContentType}, "binary/octet-stream, but the key names a image/png", ""},
		{"CORS rule lacks one origin", func(w *world) {
			b := goodBucket(t)
			b.CORS[1].AllowedOrigins = origins[:1]
			w.fake.PutBucket(b)
		}, origins[1:], []browserpath.Kind{browserpath.PreflightDenied, browserpath.MissingAllowOrigin}, "the preflight (OPTIONS from https://work.isahit.com", "AccessForbidden"},
		{"the role may not read", func(w *world) {
			w.fake.SetAuthorizer(func(string, string, string, map[string][]string) bool { return false })
		}, nil, []browserpath.Kind{browserpath.Forbidden}, "answered HTTP 403 AccessDenied", "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := start(t)
			objects := w.signed(t, imgKey)
			tt.breakIt(w)
			rep := prove(t, objects)
			if rep.Passed() {
				t.Fatal("passed")
			}
			if got := rep.Kinds(); !slices.Equal(got, tt.kinds) {
				for _, f := range rep.Failures() {
					t.Log(f)
				}
				t.Fatalf("kinds %v, want %v", got, tt.kinds)
			}
			want := tt.origins
			if want == nil {
				want = origins
			}
			for _, f := range rep.Failures() {
				if !slices.Contains(want, f.Origin) {
					t.Errorf("failed from %s too: %s", f.Origin, f)
				}
				if f.Kind == tt.kinds[0] && !strings.Contains(f.Detail, tt.detail) {
					t.Errorf("detail %q does not say %q", f.Detail, tt.detail)
				}
				if tt.code != "" && f.Kind == tt.kinds[0] && f.Code != tt.code {
					t.Errorf("code %q, want %q", f.Code, tt.code)
				}
				if f.Step != browserpath.StepPreflight && strings.Contains(f.Detail, "preflight (OPTIONS") {
					t.Errorf("the %s step is worded as the preflight: %s", f.Step, f.Detail)
				}
				if f.Step == browserpath.StepPreflight && strings.Contains(f.Detail, "GET answered") {
					t.Errorf("the preflight is worded as the GET: %s", f.Detail)
				}
			}
		})
	}
}

// The apps' request headers go into the preflight: a rule not allowing them refuses it.
func TestPreflightSendsTheAppsHeaders(t *testing.T) {
	w := start(t)
	b := goodBucket(t)
	b.CORS[1].AllowedHeaders = []string{"range"}
	w.fake.PutBucket(b)
	objects := w.signed(t, imgKey)
	if rep := prove(t, objects, browserpath.WithRequestHeaders([]string{"Range"})); !rep.Passed() {
		t.Fatalf("Range is allowed, yet: %v", rep.Failures())
	}
	rep := prove(t, objects, browserpath.WithRequestHeaders([]string{"Range", "X-Lab-Token"}))
	if got := rep.Kinds(); !slices.Equal(got, []browserpath.Kind{browserpath.PreflightDenied}) {
		t.Fatalf("kinds %v, want preflight-denied only", got)
	}
	if d := rep.Failures()[0].Detail; !strings.Contains(d, "Access-Control-Request-Headers range,x-lab-token") {
		t.Errorf("detail %q does not name the headers sent", d)
	}
}

// An expired URL is S3's 403 with its message, not a network or CORS problem.
func TestExpiredURL(t *testing.T) {
	w := start(t)
	objects := w.signed(t, imgKey)
	for i := range objects {
		objects[i].URL = strings.Replace(objects[i].URL, "X-Amz-Date=2", "X-Amz-Date=1", 1)
	}
	rep := prove(t, objects)
	f := rep.Failures()
	if !slices.Equal(rep.Kinds(), []browserpath.Kind{browserpath.Forbidden}) || f[0].Message != "Request has expired" {
		t.Fatalf("failures %v", f)
	}
}

// DNS, connection and TLS failures are reported as such, never as permissions.
func TestNetworkErrors(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsSrv.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	noDNS := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "s3.example.invalid", IsNotFound: true}}
	}}}
	tests := []struct {
		name, url string
		client    *http.Client
		want      string
	}{
		{"DNS", "https://s3.example.invalid/b/k.png?X-Amz-Signature=x", noDNS, "DNS: cannot resolve s3.example.invalid"},
		{"refused", closedURL + "/b/k.png", nil, "cannot connect"},
		{"TLS", tlsSrv.URL + "/b/k.png", nil, "TLS: the server's certificate is not trusted"},
		{"http as https", strings.Replace(closedURL, "http:", "https:", 1), nil, "cannot connect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []browserpath.Option
			if tt.client != nil {
				opts = append(opts, browserpath.WithHTTPClient(tt.client))
			}
			rep := prove(t, []browserpath.SignedObject{{Key: "k.png", URL: tt.url}}, opts...)
			if got := rep.Kinds(); !slices.Equal(got, []browserpath.Kind{browserpath.Network}) {
				t.Fatalf("kinds %v, want network only: %v", got, rep.Failures())
			}
			for _, f := range rep.Failures() {
				if !strings.Contains(f.Detail, tt.want) || strings.Contains(f.Detail, "403") {
					t.Errorf("%s", f)
				}
			}
		})
	}
}

func TestBadInputAndCancel(t *testing.T) {
	good := []browserpath.SignedObject{{Key: "k", URL: "http://127.0.0.1:1/b/k"}}
	for _, tt := range []struct {
		objects []browserpath.SignedObject
		origins []string
	}{
		{nil, origins},
		{good, nil},
		{good, []string{"https://lab.isahit.com/"}},
		{good, []string{"lab.isahit.com"}},
		{[]browserpath.SignedObject{{Key: "k", URL: "ftp://x/k"}}, origins},
	} {
		if _, err := browserpath.Prove(context.Background(), tt.objects, tt.origins); err == nil {
			t.Errorf("Prove(%v, %v) accepted bad input", tt.objects, tt.origins)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := browserpath.Prove(ctx, good, origins); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Prove: err %v", err)
	}
}
