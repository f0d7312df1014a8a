package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/pflag"

	"github.com/isahit/s3grant/internal/rules"
)

// awsFlags are the flags of every command that talks to AWS. Credentials, region and endpoints
// otherwise come from the standard chain (environment, shared config and SSO profiles,
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>), exactly as the AWS CLI reads them.
type awsFlags struct {
	profile, endpointURL string
}

func (f *awsFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.profile, "profile", "", "AWS shared config `PROFILE` to use (default: AWS_PROFILE or the default profile)")
	fs.StringVar(&f.endpointURL, "endpoint-url", "", "send every AWS call to this `URL` (LocalStack, moto); default: AWS_ENDPOINT_URL or AWS itself")
}

// Deadlines of every AWS call, so that no endpoint can hang a command: an endpoint that accepts
// the connection and never answers fails the call after responseTimeout (and the SDK's
// retries), with a message naming it.
type deadlines struct {
	// connect bounds the TCP connection and the TLS handshake.
	connect time.Duration
	// response bounds the wait for the response's headers once the request is sent.
	response time.Duration
	// request bounds a whole call, body included.
	request time.Duration
}

// defaultDeadlines are generous for AWS, whose calls answer in well under a second.
var defaultDeadlines = deadlines{connect: 10 * time.Second, response: 30 * time.Second, request: 2 * time.Minute}

// httpClient returns the HTTP client of every AWS call of one command.
func (d deadlines) httpClient() aws.HTTPClient {
	return awshttp.NewBuildableClient().
		WithTimeout(d.request).
		WithDialerOptions(func(dl *net.Dialer) { dl.Timeout = d.connect }).
		WithTransportOptions(func(t *http.Transport) {
			t.TLSHandshakeTimeout = d.connect
			t.ResponseHeaderTimeout = d.response
		})
}

// session is what one run of the CLI knows about its AWS calls: the deadlines, and the last
// configuration loaded, with which the error translation may ask STS who the caller is. It
// travels in the context so that every command's AWS configuration comes from this one place.
type session struct {
	deadlines deadlines
	mu        sync.Mutex
	cfg       *aws.Config
}

type sessionKey struct{}

func withSession(ctx context.Context, s *session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// sessionOf returns the run's session, or one with the default deadlines.
func sessionOf(ctx context.Context) *session {
	if s, ok := ctx.Value(sessionKey{}).(*session); ok {
		return s
	}
	return &session{deadlines: defaultDeadlines}
}

// loaded returns the last AWS configuration loaded, if any.
func (s *session) loaded() (aws.Config, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg == nil {
		return aws.Config{}, false
	}
	return *s.cfg, true
}

// config loads the AWS configuration; region, when set, overrides the configured one. Every
// call made with it has the session's deadlines.
func (f *awsFlags) config(ctx context.Context, region string) (aws.Config, error) {
	s := sessionOf(ctx)
	opts := []func(*config.LoadOptions) error{config.WithHTTPClient(s.deadlines.httpClient())}
	if f.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(f.profile))
	}
	if region != "" {
		if err := rules.Region.Validate("--region", region); err != nil {
			return aws.Config{}, err
		}
		opts = append(opts, config.WithRegion(region))
	}
	if f.endpointURL != "" {
		if err := rules.EndpointURL.Validate("--endpoint-url", f.endpointURL); err != nil {
			return aws.Config{}, err
		}
		opts = append(opts, config.WithBaseEndpoint(f.endpointURL))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	s.mu.Lock()
	s.cfg = &cfg
	s.mu.Unlock()
	return cfg, nil
}

// args are the flags that repeat these settings in a command printed for the user to run
// next, each with a leading space.
func (f awsFlags) args() string {
	var s string
	if f.profile != "" {
		s += " --profile " + f.profile
	}
	if f.endpointURL != "" {
		s += " --endpoint-url " + f.endpointURL
	}
	return s
}
