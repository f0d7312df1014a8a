package arn

import "testing"

func TestParseAndString(t *testing.T) {
	for _, s := range []string{
		"arn:aws:iam::111122223333:role/path/isahit-lab",
		"arn:aws-cn:s3:cn-north-1:111122223333:accesspoint/ap",
		"arn:aws:s3:::bucket/a:b/c",
	} {
		a, err := Parse(s)
		if err != nil || a.String() != s {
			t.Errorf("Parse(%q) = %+v, %v; String %q", s, a, err, a.String())
		}
	}
	for _, s := range []string{"", "arn:aws:s3", "urn:aws:s3:::b:x", "111122223333"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted a non-ARN", s)
		}
	}
}

func TestBuilders(t *testing.T) {
	tests := []struct{ got, want string }{
		{Bucket("eu-west-3", "b"), "arn:aws:s3:::b"},
		{Bucket("cn-north-1", "b"), "arn:aws-cn:s3:::b"},
		{Object("us-gov-west-1", "b", "images/*"), "arn:aws-us-gov:s3:::b/images/*"},
		{AccessPoint("eu-west-3", "111122223333", "ap"), "arn:aws:s3:eu-west-3:111122223333:accesspoint/ap"},
		{AccountRoot("us-isob-east-1", "999888496268"), "arn:aws-iso-b:iam::999888496268:root"},
		{Role("cn-north-1", "111122223333", "isahit-lab-org"), "arn:aws-cn:iam::111122223333:role/isahit-lab-org"},
		{RoleName("arn:aws:iam::111122223333:role/path/isahit-lab"), "isahit-lab"},
		{RoleName("arn:aws:iam::111122223333:user/bob"), ""},
		{AccessPointName("arn:aws:s3:eu-west-3:111122223333:accesspoint/ap"), "ap"},
		{AccessPointName("arn:aws:s3:::bucket"), ""},
		{Account("arn:aws:cloudformation:eu-west-3:111122223333:changeSet/x/y"), "111122223333"},
		{Account("not an arn"), ""},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}
