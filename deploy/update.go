package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/isahit/s3grant/stacks"
)

// Stack is an existing stack as a day-two operation starts from it: its parameter values are
// what an update keeps unless told otherwise.
type Stack struct {
	Name, ID, Status, Description string
	// Version is the template version its description names (stacks.VersionOf).
	Version    string
	Parameters map[string]string
	Outputs    []Output
	// RoleARN is the CloudFormation service role the stack's operations run as, if any.
	RoleARN string
	// Template is the stack's current template (GetTemplate): what its parameters do not hold,
	// such as the buckets after the first (stacks.ShapeOf).
	Template []byte
}

// Current returns the stack named name, or nil when it does not exist.
func (e *Engine) Current(ctx context.Context, name string) (*Stack, error) {
	s, err := e.describe(ctx, name)
	if err != nil || s == nil {
		return nil, err
	}
	desc := aws.ToString(s.Description)
	var tmpl *cloudformation.GetTemplateOutput
	err = e.retryThrottled(ctx, func() (err error) {
		tmpl, err = e.cfn.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: s.StackId})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the template of stack %s: %w", name, explain(err))
	}
	return &Stack{Name: aws.ToString(s.StackName), ID: aws.ToString(s.StackId), Status: string(s.StackStatus),
		Description: desc, Version: stacks.VersionOf(desc), Parameters: parametersOf(s), Outputs: outputsOf(s),
		RoleARN: aws.ToString(s.RoleARN), Template: []byte(aws.ToString(tmpl.TemplateBody))}, nil
}

func parametersOf(s *types.Stack) map[string]string {
	out := map[string]string{}
	for _, p := range s.Parameters {
		out[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// templateInfo is what the engine reads of a template: its description and its parameters'
// defaults.
type templateInfo struct {
	Description string
	Parameters  map[string]struct {
		Default *string
	}
}

func readTemplate(body []byte) (templateInfo, error) {
	var t templateInfo
	if err := json.Unmarshal(body, &t); err != nil {
		return t, fmt.Errorf("reading the template: %w", err)
	}
	return t, nil
}

// keptParameters names the template parameters an update sends with UsePreviousValue: every
// parameter of the new template the stack already has and the request does not set. A
// parameter new in this template (an upgrade) takes its default; one the stack has but the
// template dropped cannot be sent.
func keptParameters(req Request, s *types.Stack, create bool) ([]string, error) {
	if create || s == nil {
		return nil, nil
	}
	t, err := readTemplate(req.TemplateBody)
	if err != nil {
		return nil, err
	}
	old := parametersOf(s)
	var keep []string
	for _, name := range slices.Sorted(maps.Keys(t.Parameters)) {
		if _, given := req.Parameters[name]; given {
			continue
		}
		if _, had := old[name]; had {
			keep = append(keep, name)
		}
	}
	return keep, nil
}

// describeUpdate adds to the preview what changes beyond resources: parameter values old →
// new, the template version, and what the vendor must be told, from the model (which
// parameters replace which resources) and from the change set's Replacement field.
func describeUpdate(p *Preview, req Request, s *types.Stack, d *cloudformation.DescribeChangeSetOutput, create bool) {
	t, _ := readTemplate(req.TemplateBody)
	p.NewVersion = stacks.VersionOf(t.Description)
	newVals := map[string]string{}
	for name, param := range t.Parameters {
		if param.Default != nil {
			newVals[name] = *param.Default
		}
	}
	var old map[string]string
	if !create && s != nil {
		old = parametersOf(s)
		p.OldVersion = stacks.VersionOf(aws.ToString(s.Description))
		for name := range t.Parameters {
			if v, had := old[name]; had {
				newVals[name] = v
			}
		}
	}
	for k, v := range req.Parameters {
		newVals[k] = v
	}
	// What CloudFormation resolved wins: it is what the change set will apply.
	for _, cp := range d.Parameters {
		if cp.ParameterValue != nil && !aws.ToBool(cp.UsePreviousValue) {
			newVals[aws.ToString(cp.ParameterKey)] = aws.ToString(cp.ParameterValue)
		}
	}
	p.OldValues, p.NewValues = old, newVals
	if old == nil {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(newVals)) {
		if o, n := old[name], newVals[name]; o != n {
			p.Parameters = append(p.Parameters, ParameterChange{Name: name, Old: o, New: n})
		}
	}
	p.VendorChanges = stacks.VendorChanges(req.Vendor, old, newVals)
	for _, vc := range req.VendorChanges {
		if !slices.ContainsFunc(p.VendorChanges, func(m stacks.VendorChange) bool { return vc.Resource != "" && m.Resource == vc.Resource }) {
			p.VendorChanges = append(p.VendorChanges, vc)
		}
	}
	for _, c := range p.Changes {
		vc, ok := stacks.ReplacementOf(req.Vendor, c.LogicalID, c.Action, c.Replacement)
		if ok && !slices.ContainsFunc(p.VendorChanges, func(m stacks.VendorChange) bool { return m.Resource == c.LogicalID }) {
			p.VendorChanges = append(p.VendorChanges, vc)
		}
	}
}

// effectiveValues are the values the change set will use for the parameters it sends: the
// kept ones' current values and the given ones (template defaults fill in the rest).
func effectiveValues(req Request, s *types.Stack, keep []string) map[string]string {
	if len(keep) == 0 {
		return req.Parameters
	}
	old := parametersOf(s)
	vals := map[string]string{}
	for _, k := range keep {
		vals[k] = old[k]
	}
	return stacks.Overlay(vals, req.Parameters)
}
