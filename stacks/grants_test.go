package stacks

import (
	"strings"
	"testing"

	"github.com/isahit/s3grant/profile"
)

func TestGrantsDescribeEveryStatement(t *testing.T) {
	in := New(profile.Default())
	in.BucketName, in.ExternalID, in.ObjectPrefix = "customer-images", "a6fa9c7f-7f53-4a41-812d-a29f48288a94", "images/"
	grants, err := in.Grants(in.SubstitutionValues("cn-north-1", "111122223333"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"isahit Lab: Allow sts:AssumeRole by arn:aws-cn:iam::999888496268:root if sts:ExternalId StringEquals a6fa9c7f-7f53-4a41-812d-a29f48288a94",
		"isahit Lab's role: Allow s3:ListBucket on arn:aws-cn:s3:::customer-images, arn:aws-cn:s3:cn-north-1:111122223333:accesspoint/isahit-lab-access-point if s3:prefix StringLike images/*",
		"isahit Lab's role: Allow s3:GetObject on arn:aws-cn:s3:::customer-images/images/*, arn:aws-cn:s3:cn-north-1:111122223333:accesspoint/isahit-lab-access-point/object/images/*",
		"CORS function: Allow s3:GetBucketCORS, s3:PutBucketCORS on arn:aws-cn:s3:::customer-images",
	}
	var got []string
	for _, g := range grants {
		got = append(got, g.String())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("grants:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if md := grants[2].Statement.Markdown(); md != "Allow `s3:GetObject` on `arn:aws-cn:s3:::customer-images/images/*`, `arn:aws-cn:s3:cn-north-1:111122223333:accesspoint/isahit-lab-access-point/object/images/*`" {
		t.Errorf("Markdown = %s", md)
	}
	in.ManageCORS = false
	if grants, _ := in.Grants(in.SubstitutionValues("eu-west-3", "111122223333")); grants[len(grants)-1].Policy == PolicyCORSFunction {
		t.Error("without ManageCors the CORS function grants nothing, yet it is listed")
	}
}
