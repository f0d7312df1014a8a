package main

import (
	"github.com/spf13/pflag"

	"github.com/isahit/s3grant/stacks"
)

// integrationFlags are the customer's values, shared by every command that builds the
// integration (template, deploy, link, docs, verify) so each flag means the same everywhere.
type integrationFlags struct {
	bucket, externalID, accessPointName, roleName, prefix, kmsKeyARN, region string
	manageCORS                                                               bool
}

func paramUsage(name string) string {
	p, _ := stacks.ParamByName(name)
	return p.Description
}

func (f *integrationFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.bucket, "bucket", "", paramUsage("BucketName"))
	fs.StringVar(&f.externalID, "external-id", "", paramUsage("ExternalId"))
	fs.StringVar(&f.accessPointName, "access-point-name", "", paramUsage("AccessPointName")+" Default: the vendor's.")
	fs.StringVar(&f.roleName, "role-name", "", paramUsage("RoleName"))
	fs.StringVar(&f.prefix, "prefix", "", paramUsage("ObjectPrefix"))
	fs.StringVar(&f.kmsKeyARN, "kms-key-arn", "", paramUsage("KmsKeyArn"))
	fs.StringVar(&f.region, "region", "", "AWS region of the bucket, e.g. eu-west-3 (the stack must be created there)")
	fs.BoolVar(&f.manageCORS, "manage-cors", true, paramUsage("ManageCors")+" Use --manage-cors=false to turn it off.")
}

// integration returns the checked model for the app's vendor with these flags applied.
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
	return in, in.Validate()
}
