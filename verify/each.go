package verify

import (
	"context"
	"slices"

	"github.com/isahit/s3grant/stacks"
)

// roleChecks are the checks about the one role (the stack, the role's trust and least
// privilege, assuming it with and without the external IDs): run once, with the first bucket.
// Every other check is about one bucket (its grants, access point, policies, CORS, encryption,
// region, sampled objects and the browser's path) and runs for every bucket: a check added
// later is per bucket unless listed here, so no bucket goes unchecked.
var roleChecks = []string{CheckStack, CheckTrust, CheckLeastPrivilege, CheckAssume, CheckAssumeNoExternalID,
	CheckAssumeBadExternalID, CheckAssumeNextExternalID, CheckAssumePreviousExternalID}

// runEach checks an integration of several buckets (in.MoreBuckets): the first bucket with every
// check, then each other bucket with its own checks, every result naming its bucket. The role's
// least privilege allows the grants of every bucket, and only those.
func (c *Checker) runEach(ctx context.Context, in Input) (Report, error) {
	base := in
	aliases := map[string]string{}
	if base.Region == "" {
		base.Region = c.cfg.Region // the stack's region, whose sizes packed its policies
	}
	if in.StackName != "" {
		if s, err := c.inRegion(base.Region).readStack(ctx, base); err == nil {
			base = base.fromStack(*s)
			for _, b := range stacks.BucketOutputs(s.Outputs) {
				aliases[b.Bucket] = b.AccessPointAlias
			}
		}
	}
	whole := base.Integration
	buckets, err := whole.Buckets()
	if err != nil {
		return Report{}, err
	}
	// What the role may do for every bucket, resolved once: each bucket's least privilege allows it.
	grants, err := whole.Grants(whole.SubstitutionValues(base.Region, base.account()))
	if err != nil {
		return Report{}, err
	}
	others := &Policy{}
	for _, g := range grants {
		if g.Policy == stacks.PolicyPermissions {
			// With its conditions: a statement for another bucket without that bucket's s3:prefix
			// or kms:ViaService condition is broader than the template's, and fails least privilege.
			cond := map[string]map[string]stringList{}
			for op, keys := range g.Statement.Condition {
				cond[op] = map[string]stringList{}
				for k, v := range keys {
					cond[op][k] = v
				}
			}
			others.Statement = append(others.Statement, Statement{Effect: g.Statement.Effect, Action: g.Statement.Action,
				Resource: g.Statement.Resource, Condition: cond})
		}
	}
	var report Report
	for i, b := range buckets {
		one := in
		if i > 0 {
			one = base
			one.StackName, one.AccessPointAlias = "", aliases[b.Name]
			one.laterBucket = true
		}
		one.Integration.SetBuckets([]stacks.Bucket{b})
		one.AccessPointName = b.AccessPoint
		one.others = others
		rep, err := c.Run(ctx, one)
		if err != nil {
			return Report{}, err
		}
		report.Side = rep.Side
		for _, r := range rep.Checks {
			perBucket := !slices.Contains(roleChecks, r.ID)
			if i > 0 && !perBucket {
				continue
			}
			if perBucket {
				r.Bucket = b.Name
				r.Title += " (" + b.Name + ")"
			}
			report.Checks = append(report.Checks, r)
		}
	}
	return report, nil
}
