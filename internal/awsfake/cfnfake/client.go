package cfnfake

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// CreateChangeSet creates a change set through a real SDK client and waits, polling every
// few milliseconds for at most ten seconds, until it settles: CREATE_COMPLETE or FAILED. It
// returns the change set's description, for tests that set up a stack on the fake.
func CreateChangeSet(ctx context.Context, c *cloudformation.Client, in *cloudformation.CreateChangeSetInput) (*cloudformation.DescribeChangeSetOutput, error) {
	out, err := c.CreateChangeSet(ctx, in)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		d, err := c.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: out.Id})
		if err != nil {
			return nil, err
		}
		if d.Status == types.ChangeSetStatusCreateComplete || d.Status == types.ChangeSetStatusFailed {
			return d, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("change set %s still %s: %w", *out.Id, d.Status, ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
}
