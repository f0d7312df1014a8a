package stackset

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Current is a stack set as it is deployed: what an update must start from so that it keeps
// what the vendor holds (an instance's buckets in their slots, its external ID).
type Current struct {
	// TemplateBody and Parameters are the set's template and its own parameter values.
	TemplateBody string
	Parameters   map[string]string
	// Overrides are each instance's parameter overrides, by "account/region".
	Overrides map[string]map[string]string
}

// Current reads the stack set's template, parameters and every instance's overrides. It
// returns nil and no error when the set does not exist yet, and refuses a set this tool did
// not create (prefix as in Request.DescriptionPrefix).
func (e *Engine) Current(ctx context.Context, stackSet, prefix string) (*Current, error) {
	set, err := e.describeOurs(ctx, stackSet, prefix)
	var nf *NotFoundError
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cur := &Current{TemplateBody: aws.ToString(set.TemplateBody), Parameters: map[string]string{}, Overrides: map[string]map[string]string{}}
	for _, p := range set.Parameters {
		cur.Parameters[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	all, err := e.instances(ctx, stackSet)
	if err != nil {
		return nil, err
	}
	for _, in := range all {
		ov, err := e.overrides(ctx, stackSet, in.Account, in.Region)
		if err != nil {
			return nil, err
		}
		cur.Overrides[in.Account+"/"+in.Region] = ov
	}
	return cur, nil
}
