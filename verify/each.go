package verify

import (
	"context"
	"slices"

	"github.com/isahit/s3grant/stacks"
)

// bucketChecks are the checks about one bucket (its grants, access point, CORS, encryption and
// region, and the vendor's list, read and preflight): run for every bucket of an integration.
// The others (the stack, the role's trust and least privilege, assuming the role) are about the
// one role and run once, with the first bucket.
var bucketChecks = []string{CheckPermissions, CheckAccessPoint, CheckCORS, CheckEncryption, CheckRegion,
	CheckBucketPolicy, CheckAPPolicy, CheckListAccessPoint, CheckListBucket, CheckReadObject, CheckPreflight,
	CheckPresignedGet, CheckGetAllowOrigin, CheckVary, CheckRange, CheckContentType, CheckBrowser}

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
			if i > 0 && !slices.Contains(bucketChecks, r.ID) {
				continue
			}
			if slices.Contains(bucketChecks, r.ID) {
				r.Bucket = b.Name
				r.Title += " (" + b.Name + ")"
			}
			report.Checks = append(report.Checks, r)
		}
	}
	return report, nil
}
