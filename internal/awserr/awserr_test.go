package awserr

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

func apiErr(code string) error {
	return fmt.Errorf("operation error: %w", &smithy.GenericAPIError{Code: code, Message: "m"})
}

func TestCodeMessageThrottled(t *testing.T) {
	tests := []struct {
		err       error
		code, msg string
		throttled bool
	}{
		{apiErr("Throttling"), "Throttling", "Throttling: m", true},
		{apiErr("SlowDown"), "SlowDown", "SlowDown: m", true},
		{apiErr("AccessDenied"), "AccessDenied", "AccessDenied: m", false},
		{errors.New("dial tcp: refused"), "", "dial tcp: refused", false},
	}
	for _, tt := range tests {
		if got := Code(tt.err); got != tt.code {
			t.Errorf("Code(%v) = %q, want %q", tt.err, got, tt.code)
		}
		if got := Message(tt.err); got != tt.msg {
			t.Errorf("Message(%v) = %q, want %q", tt.err, got, tt.msg)
		}
		if got := Throttled(tt.err); got != tt.throttled {
			t.Errorf("Throttled(%v) = %v, want %v", tt.err, got, tt.throttled)
		}
	}
}

func TestRetry(t *testing.T) {
	b := Backoff{First: time.Millisecond, Max: 2 * time.Millisecond, Tries: 3, CallTimeout: time.Second}
	tests := []struct {
		name      string
		fails     []error // the answers of the tries, then success
		wantCalls int
		wantErr   string
	}{
		{"succeeds at once", nil, 1, ""},
		{"throttled twice, then succeeds", []error{apiErr("Throttling"), apiErr("ThrottlingException")}, 3, ""},
		{"throttled beyond the tries", []error{apiErr("Throttling"), apiErr("Throttling"), apiErr("Throttling"), apiErr("Throttling"), apiErr("Throttling")}, 4, "Throttling"},
		{"another error is not retried", []error{apiErr("AccessDenied")}, 1, "AccessDenied"},
	}
	for _, tt := range tests {
		calls := 0
		err := Retry(context.Background(), b, func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				t.Errorf("%s: a try has no deadline", tt.name)
			}
			calls++
			if calls <= len(tt.fails) {
				return tt.fails[calls-1]
			}
			return nil
		})
		if calls != tt.wantCalls || (err == nil) != (tt.wantErr == "") || (err != nil && Code(err) != tt.wantErr) {
			t.Errorf("%s: %d calls, err %v; want %d calls, %q", tt.name, calls, err, tt.wantCalls, tt.wantErr)
		}
	}
}

func TestRetryStopsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Retry(ctx, Backoff{First: time.Hour, Max: time.Hour, Tries: 5}, func(context.Context) error {
		calls++
		cancel()
		return apiErr("Throttling")
	})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("err %v after %d calls, want context.Canceled after 1", err, calls)
	}
}
