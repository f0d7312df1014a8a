// Package awserr reads the errors of AWS calls one way everywhere: the API's error code and
// message, whether the API refused the call rate, and the backoff loop that retries a call
// the API keeps throttling after the SDK's own retries ran out. deploy, stackset and verify
// all wait and retry through it, so they agree on what counts as throttling.
package awserr

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/smithy-go"
)

// Code returns the API error code of err ("AccessDenied", "ValidationError"), or "" when err
// is not an answer of the API.
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Message returns "Code: message" for an API error, and err's own text otherwise.
func Message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

// throttlingCodes are the codes AWS APIs answer a call rate they refuse with.
var throttlingCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true,
	"RequestThrottledException": true, "TooManyRequestsException": true, "RequestLimitExceeded": true,
	"SlowDown": true,
}

// Throttled reports whether err is the API refusing the call rate, after the SDK's own
// retries (or its retry quota) ran out.
func Throttled(err error) bool {
	var quota ratelimit.QuotaExceededError
	return errors.As(err, &quota) || throttlingCodes[Code(err)]
}

// Sleep waits d, or until ctx ends, whose error it then returns.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Backoff says how a throttled call is retried: First is the first wait, doubled after each
// try up to Max; Tries bounds the retries; CallTimeout, when set, is each try's own deadline.
type Backoff struct {
	First, Max  time.Duration
	Tries       int
	CallTimeout time.Duration
}

// Retry runs call, and runs it again with backoff while the API keeps throttling it, at most
// b.Tries more times. Any other error, and the last throttling one, is returned as is.
func Retry(ctx context.Context, b Backoff, call func(ctx context.Context) error) error {
	delay := b.First
	for i := 0; ; i++ {
		cctx, cancel := ctx, context.CancelFunc(func() {})
		if b.CallTimeout > 0 {
			cctx, cancel = context.WithTimeout(ctx, b.CallTimeout)
		}
		err := call(cctx)
		cancel()
		if err == nil || !Throttled(err) || i >= b.Tries {
			return err
		}
		if werr := Sleep(ctx, delay); werr != nil {
			return werr
		}
		delay = min(delay*2, b.Max)
	}
}
