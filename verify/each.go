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
	CheckListAccessPoint, CheckListBucket, CheckReadObject, CheckPreflight}

// runEach checks an integration of several buckets (in.MoreBuckets): the first bucket with every
// check, then each other bucket with its own checks, every result naming its bucket. The role's
// least privilege allows the grants of every bucket, and only those.
func (c *Checker) runEach(ctx context.Context, in Input) (Report, error) {
	buckets, err := in.Integration.Buckets()
	if err != nil {
		return Report{}, err
	}
	whole := in.Integration
	base := in
	aliases := map[string]string{}
	if in.StackName != "" {
		region := in.Region
		if region == "" {
			region = c.cfg.Region
		}
		if s, err := c.inRegion(region).readStack(ctx, in); err == nil {
			base = in.fromStack(*s)
			for _, b := range stacks.BucketOutputs(s.Outputs) {
				aliases[b.Bucket] = b.AccessPointAlias
			}
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
		one.whole = &whole
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
