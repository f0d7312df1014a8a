package verify

import (
	"context"
	"time"

	"github.com/isahit/s3grant/verify/browserpath"
)

// SignedObjects exposes signedObjects to the tests, with the Checker's own credentials.
func (c *Checker) SignedObjects(ctx context.Context, in Input, keys []string, expires time.Duration) ([]browserpath.SignedObject, error) {
	return c.signedObjects(ctx, in, c.s3(c.cfg), keys, expires)
}
