package rules

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestValidValues(t *testing.T) {
	cases := []struct {
		rule  *Rule
		value string
	}{
		{BucketName, "my-bucket"},
		{BucketName, "abc"},
		{BucketName, "logs.example.com"},
		{BucketName, strings.Repeat("a", 63)},
		{AccountID, "999888496268"},
		{AccountID, "012345678901"},
		{ExternalID, "a6fa9c7f-7f53-4a41-812d-a29f48288a94"},
		{ExternalID, "ab"},
		{ExternalID, "tenant:42/env=prod,x@y.z+_"},
		{ExternalID, strings.Repeat("x", 1224)},
		{Origin, "https://lab.isahit.com"},
		{Origin, "https://localhost.example:8443"},
		{Origins, "https://lab.isahit.com,https://work.isahit.com"},
		{AccessPointName, "isahit-lab-access-point"},
		{AccessPointName, "ap1"},
		{RoleName, ""},
		{RoleName, "isahit.lab+reader@team=1,x_y-z"},
		{ObjectPrefix, ""},
		{ObjectPrefix, "images/2026/"},
		{KMSKeyARN, ""},
		{KMSKeyARN, "arn:aws:kms:eu-west-3:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"},
		{KMSKeyARN, "arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
		{Region, "eu-west-3"},
		{Region, "us-gov-west-1"},
		{Region, "cn-northwest-1"},
		{Region, "ap-southeast-4"},
		{StackName, "isahit-lab-my-bucket"},
		{TagKey, "cost-center"},
		{TagValue, ""},
		{VendorID, "isahit-lab"},
	}
	for _, c := range cases {
		if err := c.rule.Validate("--x", c.value); err != nil {
			t.Errorf("%.40q rejected: %v", c.value, err)
		}
	}
}

func TestInvalidErrorNamesTheField(t *testing.T) {
	err := BucketName.Validate("--bucket", "Bad_Bucket")
	var inv *InvalidError
	if !errors.As(err, &inv) || inv.Field != "--bucket" || !strings.HasPrefix(err.Error(), "--bucket: ") {
		t.Fatalf("got %v", err)
	}
	if err := BucketName.Validate("--bucket", ""); err == nil || !strings.Contains(err.Error(), "is required") {
		t.Errorf("an empty required value: %v", err)
	}
}

// The template's AllowedPattern accepts and refuses the same values as Validate, so the
// console and the CLI agree (length bounds are MaxLength in the template).
func TestAllowedPatternAgreesWithValidate(t *testing.T) {
	values := []string{"", "a", "ab", "my-bucket", "My-Bucket", "/x", "images/", "eu-west-3", "isahit-", "x*"}
	for _, r := range []*Rule{BucketName, ExternalID, AccessPointName, RoleName, ObjectPrefix, KMSKeyARN, Region, Origins} {
		re := regexp.MustCompile(r.AllowedPattern())
		for _, v := range values {
			pattern := re.MatchString(v)
			valid := r.Validate("x", v) == nil
			if pattern != valid && r.check == nil {
				t.Errorf("pattern %s: AllowedPattern says %v for %q, Validate says %v", r.Pattern, pattern, v, valid)
			}
			if valid && !pattern {
				t.Errorf("pattern %s refuses %q that Validate accepts", r.Pattern, v)
			}
		}
	}
}
