package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/internal/awsfake/s3fake"
	"github.com/isahit/s3grant/stacks"
)

// One integration over buckets in two regions, through the CLI and the fakes: a list spanning
// regions is refused naming each region and its buckets; the home stack (eu-west-3) creates the
// role; the us-east-1 stack attaches its policies to it (--attach-role, --max-policies for the
// role's remaining quota). The vendor holds one role ARN; each access point is in its bucket's
// region; the role's managed policies from both stacks fit IAM's 10 (the IAM fake refuses an
// attachment beyond it, as IAM does).
func TestDeployAndVerifyTwoRegions(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	ctx := context.Background()
	const us = "us-east-1"
	euMore := addBuckets(w, 1) // acme-data-0001-images, eu-west-3
	usBuckets := []string{"acme-us-0001-images", "acme-us-0002-images"}
	for _, name := range usBuckets {
		w.S3.PutBucket(s3fake.Bucket{Name: name, Region: us,
			Objects: map[string][]byte{"raw/cat.jpg": []byte("\xff\xd8cat"), "cat.jpg": []byte("\xff\xd8cat")}})
	}
	euArgs := []string{"--bucket", aw.Bucket, "--bucket", euMore[0] + "/raw/"}
	usArgs := []string{"--bucket", usBuckets[0], "--bucket", usBuckets[1] + "/raw/"}

	// All of them in one stack: refused, naming each region with its buckets and the next step.
	args := append(append(append([]string{"deploy"}, euArgs...), usArgs...), "--external-id", aw.ExternalID, "--endpoint-url", w.URL, "--yes")
	code, out, errOut := runDeployCLI(ctx, t, strings.NewReader(""), nil, args...)
	// The home stack of eu-west-3 takes 2 of the role's 10 managed policies (ReadPolicy and one packed policy).
	wantRefusal := []string{"eu-west-3 (" + aw.Bucket + ", " + euMore[0] + ")", us + " (" + usBuckets[0] + ", " + usBuckets[1] + ")",
		"s3grant deploy --region " + us + " --bucket " + usBuckets[0] + " --bucket " + usBuckets[1] + "/raw/,", "--attach-role ROLE-NAME",
		"--max-policies 8 (10 less the 2 of this region's stack"}
	if code != exitBadInput || w.CFN.Count("CreateChangeSet") != 0 {
		t.Fatalf("mixed regions: exit %d, %d change sets, stderr %q\n%s", code, w.CFN.Count("CreateChangeSet"), errOut, out)
	}
	for _, want := range wantRefusal {
		if !strings.Contains(errOut, want) {
			t.Errorf("the refusal lacks %q:\n%s", want, errOut)
		}
	}

	// The home stack creates the role.
	code, out, errOut = runDeployCLI(ctx, t, strings.NewReader(""), nil,
		append(append([]string{"deploy"}, euArgs...), "--external-id", aw.ExternalID, "--kms-key-arn", aw.KeyARN, "--endpoint-url", w.URL, "--yes")...)
	if code != exitOK {
		t.Fatalf("home deploy: exit %d, stderr %q\n%s", code, errOut, out)
	}
	home, ok := w.CFN.Stack(deployStack)
	if !ok || home.Status != "CREATE_COMPLETE" {
		t.Fatalf("home stack %+v", home.Status)
	}
	w.Provision(t, deployStack, aw.Region)
	roleARN := home.Outputs["RoleArn"]
	roleName := roleARN[strings.LastIndex(roleARN, "/")+1:]
	used := len(w.IAM.AttachedPolicies(roleName))
	if roleARN == "" || used == 0 {
		t.Fatalf("home stack: role %q with %d policies", roleARN, used)
	}

	// The other region's stack attaches to it, within the role's remaining quota.
	usStack := "isahit-lab-" + usBuckets[0]
	code, out, errOut = runDeployCLI(ctx, t, strings.NewReader(""), nil, append(append([]string{"deploy"}, usArgs...),
		"--attach-role", roleName, "--max-policies", fmt.Sprint(stacks.ManagedPoliciesPerRole-used), "--endpoint-url", w.URL, "--yes")...)
	if code != exitOK {
		t.Fatalf("attach deploy: exit %d, stderr %q\n%s", code, errOut, out)
	}
	att, ok := w.CFN.Stack(usStack)
	if !ok || att.Status != "CREATE_COMPLETE" || !strings.Contains(att.ID, ":"+us+":") {
		t.Fatalf("attach stack %s: %s", att.ID, att.Status)
	}
	for id := range att.Resources {
		if strings.HasPrefix(id, stacks.VendorRoleID) {
			t.Errorf("the attaching stack creates a role: %s", id)
		}
	}
	if att.Outputs["RoleArn"] != roleARN {
		t.Errorf("attach stack's RoleArn %q, want the home stack's %q", att.Outputs["RoleArn"], roleARN)
	}
	if !strings.Contains(out, roleARN) {
		t.Errorf("the attach deploy does not print the role to paste:\n%s", out)
	}
	w.Provision(t, usStack, us)
	if n := len(w.IAM.AttachedPolicies(roleName)); n <= used || n > stacks.ManagedPoliciesPerRole {
		t.Errorf("the role holds %d managed policies after both stacks (home %d), want more than the home's and at most %d",
			n, used, stacks.ManagedPoliciesPerRole)
	}

	// Each access point lives in its bucket's region.
	for _, b := range append(append([]string{}, aw.Bucket, euMore[0]), usBuckets...) {
		want := aw.Region
		if strings.HasPrefix(b, "acme-us-") {
			want = us
		}
		found := 0
		for _, ap := range w.S3.AccessPoints() {
			if ap.Bucket == b {
				found++
				if ap.Region != want {
					t.Errorf("access point %s of bucket %s in %s, want %s", ap.Name, b, ap.Region, want)
				}
			}
		}
		if found != 1 {
			t.Errorf("bucket %s has %d access points", b, found)
		}
	}
	// The outputs name each stack's own buckets, with ARNs of their region.
	for _, st := range []struct {
		name, region string
		buckets      []string
	}{{deployStack, aw.Region, []string{aw.Bucket, euMore[0]}}, {usStack, us, usBuckets}} {
		s, _ := w.CFN.Stack(st.name)
		got := stacks.BucketOutputs(s.Outputs)
		if len(got) != len(st.buckets) {
			t.Fatalf("%s: outputs for %d buckets: %+v", st.name, len(got), got)
		}
		for i, b := range got {
			if b.Bucket != st.buckets[i] || !strings.HasPrefix(b.AccessPointArn, "arn:aws:s3:"+st.region+":") {
				t.Errorf("%s: output %+v", st.name, b)
			}
		}
	}
}
