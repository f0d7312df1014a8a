// Package arn parses and builds Amazon Resource Names: the one place s3grant splits an ARN
// or writes the ARNs of the resources an integration names (bucket, object, access point,
// role, account root).
package arn

import (
	"fmt"
	"strings"

	"github.com/isahit/s3grant/internal/partition"
)

// ARN is an Amazon Resource Name split into its six fields.
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// Parse splits s into its fields. It checks the shape (arn: and six fields), not the values.
func Parse(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ARN{}, fmt.Errorf("%q is not an ARN", s)
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, nil
}

// String formats the ARN.
func (a ARN) String() string {
	return strings.Join([]string{"arn", a.Partition, a.Service, a.Region, a.Account, a.Resource}, ":")
}

// Account returns the account field of s, or "" if s is not an ARN.
func Account(s string) string {
	a, _ := Parse(s)
	return a.Account
}

// Bucket is the ARN of bucket in region's partition.
func Bucket(region, bucket string) string {
	return ARN{Partition: partition.Of(region).ID, Service: "s3", Resource: bucket}.String()
}

// Object is the ARN of the objects matching key (which may hold wildcards) in bucket.
func Object(region, bucket, key string) string {
	return Bucket(region, bucket) + "/" + key
}

// AccessPoint is the ARN of access point name in account and region.
func AccessPoint(region, account, name string) string {
	return ARN{Partition: partition.Of(region).ID, Service: "s3", Region: region, Account: account,
		Resource: "accesspoint/" + name}.String()
}

// AccountRoot is the ARN of account's root principal, in region's partition.
func AccountRoot(region, account string) string {
	return ARN{Partition: partition.Of(region).ID, Service: "iam", Account: account, Resource: "root"}.String()
}

// RoleName returns the name of the role in a role ARN (the last path element), or "" if s is
// not an IAM role ARN.
func RoleName(s string) string {
	a, err := Parse(s)
	r, ok := strings.CutPrefix(a.Resource, "role/")
	if err != nil || a.Service != "iam" || !ok {
		return ""
	}
	return r[strings.LastIndex(r, "/")+1:]
}

// AccessPointName returns the name in an access point ARN, or "" if s is not one.
func AccessPointName(s string) string {
	a, err := Parse(s)
	name, ok := strings.CutPrefix(a.Resource, "accesspoint/")
	if err != nil || a.Service != "s3" || !ok {
		return ""
	}
	return name
}

// Role is the ARN of the IAM role name in account, in region's partition.
func Role(region, account, name string) string {
	return ARN{Partition: partition.Of(region).ID, Service: "iam", Account: account, Resource: "role/" + name}.String()
}
