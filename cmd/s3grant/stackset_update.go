package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/stacks"
	"github.com/isahit/s3grant/stackset"
)

// settle completes the rollout from the stack set as it is deployed (cur; nil before the set
// exists, or before it was read): every bucket an instance holds keeps its slot and its access
// point name, so its access point (whose ARN the vendor holds) is not replaced; a removed
// bucket empties its slot; a new one takes an empty slot first. The template never has fewer
// slots than the deployed one. Then it builds the template.
func (r *rollout) settle(cur *stackset.Current) error {
	if !r.req.Permissions.ServiceManaged {
		slots := 0
		if cur != nil {
			slots = stacks.TemplateSlots(cur.TemplateBody)
		}
		for i, t := range r.req.Targets {
			k := t.Account + "/" + t.Region
			var have map[string]string
			if cur != nil {
				have = cur.Overrides[k]
			}
			placed, err := stacks.PlaceBuckets(r.in.AccessPointName, stacks.InstanceSlots(have), r.buckets[k])
			if err != nil {
				return err
			}
			if cur != nil {
				if err := r.checkPolicy(t.Account, t.Region, placed); err != nil {
					return err
				}
			}
			ov := stacks.SlotOverrides(placed, have)
			for name, v := range t.Overrides {
				if !stacks.IsSlotParam(name) {
					ov[name] = v // the home region and the per-target values
				}
			}
			r.req.Targets[i].Overrides = ov
			slots = max(slots, len(placed))
		}
		r.shape.Slots = max(slots, 1)
	}
	return r.build()
}

// checkPolicy measures an instance's read policy with its placed buckets.
func (r *rollout) checkPolicy(account, region string, placed []stacks.Bucket) error {
	var used []stacks.Bucket
	for _, b := range placed {
		if b.Name != "" {
			used = append(used, b)
		}
	}
	err := stacks.CheckInstancePolicy(account, region, used)
	var inv *rules.InvalidError
	if errors.As(err, &inv) {
		inv.Field = fmt.Sprintf("%s:%d", r.file, r.lines[account+"/"+region])
	}
	return err
}

// build makes the template body of the rollout's shape, refusing one over CloudFormation's
// inline limit.
func (r *rollout) build() error {
	t, err := stacks.BuildStackSetTemplate(r.in, r.shape)
	if err != nil {
		return err
	}
	body, err := t.JSON()
	if err != nil {
		return err
	}
	// Sent inline: compact, since CloudFormation counts the indentation in its 51,200 bytes.
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		return err
	}
	r.req.TemplateBody = compact.Bytes()
	if n := len(r.req.TemplateBody); n > stacks.MaxInlineTemplateBytes {
		return rules.Invalid("--targets", r.file, fmt.Sprintf("the stack set template would be %d bytes, over CloudFormation's %d for a template sent inline: fewer buckets per account and region", n, stacks.MaxInlineTemplateBytes))
	}
	return nil
}

// instanceChange is a change the vendor must be told about, in one instance.
type instanceChange struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	stacks.VendorChange
}

// vendorChanges lists what the rollout changes for the vendor in the instances that exist
// (new instances only add): known from the model, per instance, as single-stack deploy knows
// it. A bucket removed from one account and added to another is called a move.
func (r *rollout) vendorChanges(cur *stackset.Current) []instanceChange {
	if cur == nil {
		return nil
	}
	added := map[string]string{} // bucket -> "account/region" where it is new
	for _, t := range r.req.Targets {
		k := t.Account + "/" + t.Region
		before := map[string]bool{}
		for _, b := range stacks.InstanceSlots(cur.Overrides[k]) {
			before[b.Name] = true
		}
		for _, b := range stacks.InstanceSlots(t.Overrides) {
			if b.Name != "" && !before[b.Name] {
				added[b.Name] = k
			}
		}
	}
	var out []instanceChange
	seen := map[string]bool{}
	for _, t := range r.req.Targets {
		k := t.Account + "/" + t.Region
		have, exists := cur.Overrides[k]
		if !exists {
			continue
		}
		old := stacks.Overlay(cur.Parameters, have)
		now := stacks.Overlay(r.req.Parameters, t.Overrides)
		for _, c := range stacks.InstanceVendorChanges(r.in.Vendor.Name, t.Region, old, now) {
			if c.Param == "RoleName" || c.Param == "ExternalId" {
				// One role per account: say it once per account.
				if seen[t.Account+c.Param] {
					continue
				}
				seen[t.Account+c.Param] = true
			}
			if to, moved := added[c.Old]; moved && strings.HasPrefix(c.Param, "Bucket") {
				c.Tell = fmt.Sprintf("bucket %s moves from %s to %s: its access point here is deleted and a new one made there; tell %s its new AccessPointArn",
					c.Old, k, to, r.in.Vendor.Name)
			}
			out = append(out, instanceChange{Account: t.Account, Region: t.Region, VendorChange: c})
		}
	}
	return out
}
