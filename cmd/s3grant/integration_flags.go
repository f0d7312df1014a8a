package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/stacks"
)

// integrationFlags are the customer's values, shared by every command that builds the
// integration (template, deploy, link, docs, verify) so each flag means the same everywhere.
type integrationFlags struct {
	// buckets are the --bucket values, NAME, NAME/PREFIX or s3://NAME/PREFIX, in order.
	buckets                                                          []string
	externalID, accessPointName, roleName, prefix, kmsKeyARN, region string
	manageCORS                                                       bool
	// attachRole and maxPolicies: a stack of another region attaching to the home stack's role.
	attachRole  string
	maxPolicies int
}

// register adds the flags to fs, but for those named in except (a command they mean nothing to).
func (f *integrationFlags) register(fs *pflag.FlagSet, except ...string) {
	all := pflag.NewFlagSet("integration", pflag.ContinueOnError)
	all.StringArrayVar(&f.buckets, "bucket", nil, paramUsage("BucketName")+
		" Repeatable, one bucket each: `NAME`, NAME/PREFIX or s3://NAME/PREFIX (the prefix limits the vendor to keys under it). "+
		"One role for all; each bucket gets its access point and CORS rule.")
	all.StringVar(&f.externalID, "external-id", "", paramUsage("ExternalId"))
	all.StringVar(&f.accessPointName, "access-point-name", "", paramUsage("AccessPointName")+" Default: the vendor's.")
	all.StringVar(&f.roleName, "role-name", "", paramUsage("RoleName"))
	all.StringVar(&f.prefix, "prefix", "", paramUsage("ObjectPrefix"))
	all.StringVar(&f.kmsKeyARN, "kms-key-arn", "", paramUsage("KmsKeyArn"))
	all.StringVar(&f.region, "region", "", "AWS region of the bucket, e.g. eu-west-3 (the stack must be created there)")
	all.StringVar(&f.attachRole, "attach-role", "", "attach the policies to the existing vendor role `NAME` instead of creating a role: "+
		"for buckets of another region, whose stack shares the role of the integration's home stack")
	all.IntVar(&f.maxPolicies, "max-policies", 0, "managed policies the stack may attach to the vendor role (default IAM's quota, 10; up to 20 once raised, less those other stacks attach)")
	all.BoolVar(&f.manageCORS, "manage-cors", true, paramUsage("ManageCors")+" Use --manage-cors=false to turn it off.")
	all.VisitAll(func(fl *pflag.Flag) {
		if !slices.Contains(except, fl.Name) {
			fs.AddFlag(fl)
		}
	})
}

// integration returns the checked model for the app's vendor with these flags applied. Errors
// name the bad value's template parameter; the CLI prints its flag (see fieldFlags).
func (f *integrationFlags) integration(a *app) (stacks.Integration, error) {
	vendor, err := a.vendor()
	if err != nil {
		return stacks.Integration{}, err
	}
	in := stacks.New(vendor)
	if len(f.buckets) > 0 {
		buckets, err := stacks.ParseBuckets(f.buckets)
		if err != nil {
			return stacks.Integration{}, err
		}
		if f.prefix != "" {
			// --prefix is the one-bucket spelling of --bucket NAME/PREFIX.
			if len(buckets) > 1 {
				return stacks.Integration{}, rules.Invalid("ObjectPrefix", f.prefix,
					"applies to one bucket only: with several buckets give each its prefix as --bucket NAME/PREFIX")
			}
			if buckets[0].Prefix != "" && buckets[0].Prefix != f.prefix {
				return stacks.Integration{}, rules.Invalid("ObjectPrefix", f.prefix, fmt.Sprintf(
					"conflicts with the prefix %q of --bucket %s: give one", buckets[0].Prefix, f.buckets[0]))
			}
			buckets[0].Prefix = f.prefix
		}
		in.SetBuckets(buckets)
	} else {
		in.ObjectPrefix = f.prefix
	}
	in.ExternalID = f.externalID
	if f.accessPointName != "" {
		in.AccessPointName = f.accessPointName
	}
	in.RoleName = f.roleName
	in.KMSKeyARN = f.kmsKeyARN
	in.Region = f.region
	in.ManageCORS = f.manageCORS
	if f.attachRole != "" {
		in.Role = stacks.RoleAttach(f.attachRole)
	}
	in.MaxManagedPolicies = f.maxPolicies
	if err := in.Validate(); err != nil {
		return in, err
	}
	if f.prefix != "" || len(f.buckets) == 0 {
		if w := prefixWarning("--prefix", f.prefix); w != "" {
			fmt.Fprintln(a.stderr, "s3grant: warning: "+w)
		}
	} else if buckets, err := in.Buckets(); err == nil {
		for _, b := range buckets {
			if w := prefixWarning("--bucket "+b.Name+"/", b.Prefix); w != "" {
				fmt.Fprintln(a.stderr, "s3grant: warning: "+w)
			}
		}
	}
	return in, nil
}

// prefixWarning says what a prefix without a trailing slash also grants: S3 prefixes are
// plain string prefixes, so images also matches images-private/ and images.zip. spelling is
// how the user gave it (--prefix, or --bucket NAME/ before the prefix).
func prefixWarning(spelling, prefix string) string {
	if prefix == "" || strings.HasSuffix(prefix, "/") {
		return ""
	}
	if spelling == "--prefix" {
		return fmt.Sprintf("--prefix %q also matches keys such as %q and %q; to grant only that folder use --prefix %q",
			prefix, prefix+"-private/x", prefix+".zip", prefix+"/")
	}
	return fmt.Sprintf("%s%s also matches keys such as %q and %q; to grant only that folder use %s%s",
		spelling, prefix, prefix+"-private/x", prefix+".zip", spelling, prefix+"/")
}

// bucket is the first --bucket's name, "" when none was given: the stack's default name and
// where its region is looked up.
func (f *integrationFlags) bucket() string {
	if len(f.buckets) == 0 {
		return ""
	}
	b, err := stacks.ParseBucket(f.buckets[0])
	if err != nil {
		return ""
	}
	return b.Name
}
