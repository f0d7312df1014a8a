package awsquery

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// ConnectionRetryer is the retryer of test clients that must see every API answer, throttling
// included, exactly as the fake sent it (so the code under test does its own retrying), yet
// ride over a dropped keep-alive connection to the in-process server, as the SDK's default
// retryer would. A test client with RetryMaxAttempts 1 instead fails now and then on a loaded
// machine with "use of closed network connection", which is no behaviour of AWS's.
func ConnectionRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
		o.RateLimiter = ratelimit.None
	})
}
