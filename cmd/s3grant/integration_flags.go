package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/isahit/s3grant/stacks"
)

// integrationFlags are the customer's values, shared by every command that builds the
// integration (template, deploy, link, docs, verify) so each flag means the same everywhere.
type integrationFlags struct {
	bucket, externalID, accessPointName, roleName, prefix, kmsKeyARN, region string
	manageCORS                                                               bool
}

// register adds the flags to fs, but for those named in except (a command they mean nothing to).
func (f *integrationFlags) register(fs *pflag.FlagSet, except ...string) {
	all := pflag.NewFlagSet("integration", pflag.ContinueOnError)
	all.StringVar(&f.bucket, "bucket", "", paramUsage("BucketName"))
	all.StringVar(&f.externalID, "external-id", "", paramUsage("ExternalId"))
	all.StringVar(&f.accessPointName, "access-point-name", "", paramUsage("AccessPointName")+" Default: the vendor's.")
	all.StringVar(&f.roleName, "role-name", "", paramUsage("RoleName"))
	all.StringVar(&f.prefix, "prefix", "", paramUsage("ObjectPrefix"))
	all.StringVar(&f.kmsKeyARN, "kms-key-arn", "", paramUsage("KmsKeyArn"))
	all.StringVar(&f.region, "region", "", "AWS region of the bucket, e.g. eu-west-3 (the stack must be created there)")
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
	in.BucketName = f.bucket
	in.ExternalID = f.externalID
	if f.accessPointName != "" {
		in.AccessPointName = f.accessPointName
	}
	in.RoleName = f.roleName
	in.ObjectPrefix = f.prefix
	in.KMSKeyARN = f.kmsKeyARN
	in.Region = f.region
	in.ManageCORS = f.manageCORS
	if err := in.Validate(); err != nil {
		return in, err
	}
	if w := prefixWarning(f.prefix); w != "" {
		fmt.Fprintln(a.stderr, "s3grant: warning: "+w)
	}
	return in, nil
}

// prefixWarning says what a prefix without a trailing slash also grants: S3 prefixes are
// plain string prefixes, so images also matches images-private/ and images.zip.
func prefixWarning(prefix string) string {
	if prefix == "" || strings.HasSuffix(prefix, "/") {
		return ""
	}
	return fmt.Sprintf("--prefix %q also matches keys such as %q and %q; to grant only that folder use --prefix %q",
		prefix, prefix+"-private/x", prefix+".zip", prefix+"/")
}
