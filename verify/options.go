package verify

import (
	"context"
	"fmt"
	"time"
)

// An Option configures a Checker.
type Option func(*Checker)

// Observer is told what verify is doing while it waits, so the CLI can show it; verify itself
// never prints.
type Observer interface {
	// Waiting reports that a refusal is retried: IAM is eventually consistent, and a role
	// changed a moment ago can be refused for 10-30 s. what names the refused call; retry is
	// how long verify sleeps before the next attempt, left how much of the wait remains.
	Waiting(what string, retry, left time.Duration)
}

type nopObserver struct{}

func (nopObserver) Waiting(string, time.Duration, time.Duration) {}

// WithObserver sets who is told about waits (default: nobody).
func WithObserver(o Observer) Option { return func(c *Checker) { c.observer = o } }

// DefaultPropagationWait is how long the vendor side retries a refusal while IAM propagates a
// change: AWS documents a few seconds, and 10-30 s are seen right after a role is created.
const DefaultPropagationWait = 30 * time.Second

// WithPropagationWait sets how long, in all, refusals are retried (0: never).
func WithPropagationWait(d time.Duration) Option { return func(c *Checker) { c.propagation = d } }

// WithSleep replaces the wait between retries (tests pass one that returns at once). It must
// return the context's error when the context ends first.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Checker) { c.sleep = sleep }
}

// propagation is the wait budget of one run: every retried refusal draws on it, so a setup
// that is really broken costs at most one wait, never one per check.
type propagation struct {
	c      *Checker
	waited time.Duration
}

// retryInterval grows with each attempt, up to 5 s.
func retryInterval(attempt int) time.Duration {
	return min(time.Duration(attempt+1)*time.Second, 5*time.Second)
}

// do runs call until it is not refused (AccessDenied) or the budget is spent, telling the
// observer before each wait. It returns call's last error, or the context's.
func (p *propagation) do(ctx context.Context, what string, call func() error) error {
	for attempt := 0; ; attempt++ {
		err := call()
		left := p.c.propagation - p.waited
		if err == nil || !isAccessDenied(err) || left <= 0 {
			return err
		}
		d := min(retryInterval(attempt), left)
		p.c.observer.Waiting(what, d, left)
		if serr := p.c.sleep(ctx, d); serr != nil {
			return fmt.Errorf("%w (while waiting for IAM to propagate: %w)", err, serr)
		}
		p.waited += d
	}
}
