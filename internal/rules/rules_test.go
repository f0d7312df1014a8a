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
		{Region, "eusc-de-east-1"},
		{Region, "us-isob-east-1"},
		{KMSKeyARN, "arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
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

// Every rule's pattern compiles: they are compiled on first use, so a typo would otherwise
// surface only in the command that first checks that rule.
func TestEveryPatternCompiles(t *testing.T) {
	for _, r := range []*Rule{BucketName, AccountID, ExternalID, Origin, Origins, AccessPointName,
		RoleName, ObjectPrefix, KMSKeyARN, Region, StackName, TagKey, TagValue, EndpointURL, VendorID} {
		if _, err := regexp.Compile(r.Pattern); err != nil {
			t.Errorf("%s: %v", r.Description, err)
		}
	}
}

// The tag rules check characters by hand instead of compiling their Unicode classes; the hand
// check accepts exactly what the pattern (the documented rule) accepts.
func TestTagCheckAgreesWithPattern(t *testing.T) {
	values := []string{
		"", "a", "cost-center", "Équipe données", "部門", "٣٤", "Ⅻ", "a\u2028b", "a\u3000b",
		"a_b.c:d/e=f+g@h-i", "tab\there", "new\nline", "x*", "a#b", "emoji😀", "a$", "(x)",
		"bad\xffutf8", "\ufffd", "a\u00a0b", "x\u0301", "aws:x",
		strings.Repeat("k", 128), strings.Repeat("k", 129), strings.Repeat("é", 128), strings.Repeat("é", 129),
		strings.Repeat("v", 256), strings.Repeat("v", 257), strings.Repeat("部", 256), strings.Repeat("部", 257),
	}
	for _, r := range []*Rule{TagKey, TagValue} {
		re := regexp.MustCompile(r.Pattern)
		for _, v := range values {
			if got, want := r.match(v), re.MatchString(v); got != want {
				t.Errorf("%s: hand check says %v for %.20q, the pattern says %v", r.Pattern, got, v, want)
			}
		}
	}
}
