package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/google/uuid"

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
			if _, keyed := ov["KmsKeyArn"]; !keyed && have["KmsKeyArn"] != "" {
				ov["KmsKeyArn"] = "" // the key was taken out of the targets file
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
	err := stacks.CheckInstancePolicy(account, region, used, r.kms[account+"/"+region])
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

// Where an account's external ID comes from.
const (
	idFromFile = "from the targets file"
	idKept     = "kept"
	idNew      = "new"
)

// externalIDs gives accounts their own external ID: the targets file's (external-id), else,
// with perAccount, the one its instances have already (cur) or a new one. The other accounts
// use the organization's (the set's ExternalId); one that had its own gets the
// organization's back explicitly. It records where each came from, for the plan.
func (r *rollout) externalIDs(cur *stackset.Current, perAccount bool) {
	ids, from := map[string]string{}, map[string]string{}
	for _, k := range r.order {
		acct, _, _ := strings.Cut(k, "/")
		switch {
		case ids[acct] != "":
		case r.fileIDs[acct] != "":
			ids[acct], from[acct] = r.fileIDs[acct], idFromFile
		case perAccount && cur != nil && cur.Overrides[k]["ExternalId"] != "":
			ids[acct], from[acct] = cur.Overrides[k]["ExternalId"], idKept
		}
	}
	for i, t := range r.req.Targets {
		if perAccount && ids[t.Account] == "" {
			ids[t.Account], from[t.Account] = uuid.NewString(), idNew
		}
		switch k := t.Account + "/" + t.Region; {
		case ids[t.Account] != "":
			r.req.Targets[i].Overrides["ExternalId"] = ids[t.Account]
		case cur != nil && cur.Overrides[k]["ExternalId"] != "":
			r.req.Targets[i].Overrides["ExternalId"] = r.req.Parameters["ExternalId"]
		}
	}
	r.idFrom, r.ids = from, ids
}

// printExternalIDs tells, in the plan, each account's own external ID and where it comes
// from: the vendor must be given each.
func (r *rollout) printExternalIDs(u *ui) {
	if len(r.ids) == 0 {
		return
	}
	fmt.Fprintf(u.w, "External IDs per account (give %s each; it presents the account's own when assuming its role):\n", u.vendorName)
	tw := tabwriter.NewWriter(u.w, 0, 0, 2, ' ', 0)
	for _, acct := range slices.Sorted(maps.Keys(r.ids)) {
		fmt.Fprintf(tw, "  %s\t%s\t(%s)\n", acct, r.ids[acct], r.idFrom[acct])
	}
	tw.Flush()
}

// detectStackSetDrift runs drift detection on every instance (status --drift) and follows it;
// Ctrl-C stops the watching and prints the command that resumes.
func detectStackSetDrift(ctx context.Context, u stackSetUI, eng *stackset.Engine, name string, awsf awsFlags) error {
	fmt.Fprintf(u.w, "Detecting drift on every instance of stack set %s (reads their resources, changes nothing; this takes a few minutes)...\n", name)
	res, err := eng.DetectDrift(ctx, name, stackset.Preferences{})
	var failed *stackset.FailedError
	if err != nil && !errors.As(err, &failed) {
		return u.finish(ctx, eng, "", res, err, nil, "", awsf)
	}
	if failed != nil {
		fmt.Fprintf(u.w, "Drift detection did not succeed everywhere: %v\n", err)
	}
	return nil
}

// printStackSetDrift says what drift detection found per instance, or that it did not run.
func printStackSetDrift(u *ui, name string, ins []instanceJSON, checked bool) {
	if !checked {
		fmt.Fprintf(u.w, "Drift: not checked (it takes minutes); check it with: s3grant status --stack-set %s --drift\n", name)
		return
	}
	var drifted []string
	for _, in := range ins {
		if in.Drift == "DRIFTED" {
			drifted = append(drifted, in.Account+"/"+in.Region)
		}
	}
	if len(drifted) == 0 {
		fmt.Fprintln(u.w, "Drift: none found; every checked instance's role, policy and access points are as its stack made them.")
		return
	}
	fmt.Fprintf(u.w, "Drift: changed outside CloudFormation in %s. CloudFormation does not undo drift: revert the changes where they were made "+
		"(that account's CloudFormation console shows each resource's differences: the instance's stack, Stack actions, View drift results), then check again with --drift.\n", strings.Join(drifted, ", "))
}
