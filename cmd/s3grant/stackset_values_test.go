package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/isahit/s3grant/internal/awsfake/cfnfake"
	"github.com/isahit/s3grant/stacks"
)

const orgKey = "arn:aws:kms:eu-west-3:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// The targets file's kms-key-arn reaches that instance only (its policy grants
// DecryptThroughS3 there); its external-id is the account's own, the others keep the
// organization's; the vendor is told each. Taking the key out clears it.
func TestStackSetTargetsKMSAndExternalID(t *testing.T) {
	w := startOrg(t)
	ctx := context.Background()
	w.writeTargets(t, `targets:
  - account: "111111111111"
    region: eu-west-3
    buckets: [acme-one-images]
    kms-key-arn: `+orgKey+`
    external-id: acme-one-own-id
  - account: "222222222222"
    region: eu-west-3
    buckets: [acme-two-eu]
`)
	code, out, errOut := runOrgCLI(ctx, t, "", w.deployArgs()...)
	if code != exitOK {
		t.Fatalf("deploy: exit %d, stderr %q\n%s", code, errOut, out)
	}
	byKey := w.instanceStacks(t)
	one, two := byKey["111111111111/eu-west-3"], byKey["222222222222/eu-west-3"]
	if one.Parameters["KmsKeyArn"] != orgKey || two.Parameters["KmsKeyArn"] != "" {
		t.Errorf("KmsKeyArn: account 1 %q, account 2 %q", one.Parameters["KmsKeyArn"], two.Parameters["KmsKeyArn"])
	}
	if one.Resources[stacks.RegionalReadPolicyID] == "" {
		t.Error("no read policy")
	}
	if one.Parameters["ExternalId"] != "acme-one-own-id" || two.Parameters["ExternalId"] == "acme-one-own-id" || two.Parameters["ExternalId"] == "" {
		t.Errorf("ExternalId: account 1 %q, account 2 %q", one.Parameters["ExternalId"], two.Parameters["ExternalId"])
	}
	if !strings.Contains(out, "111111111111  acme-one-own-id  (from the targets file)") {
		t.Errorf("the plan does not say account 1's external ID:\n%s", out)
	}
	if !strings.Contains(out, "ExternalId") || !strings.Contains(out, "acme-one-own-id") {
		t.Errorf("the vendor is not told account 1's external ID:\n%s", out)
	}

	// Without the key, the instance's KmsKeyArn is cleared, not kept.
	w.writeTargets(t, `targets:
  - account: "111111111111"
    region: eu-west-3
    buckets: [acme-one-images]
    external-id: acme-one-own-id
  - account: "222222222222"
    region: eu-west-3
    buckets: [acme-two-eu]
`)
	if code, out, errOut := runOrgCLI(ctx, t, "", w.deployArgs()...); code != exitOK {
		t.Fatalf("deploy without the key: exit %d, stderr %q\n%s", code, errOut, out)
	}
	if got := w.instanceStacks(t)["111111111111/eu-west-3"].Parameters["KmsKeyArn"]; got != "" {
		t.Errorf("KmsKeyArn kept: %q", got)
	}

	// Changing an account's external ID in the file stops the vendor's ID: guarded.
	w.writeTargets(t, `targets:
  - account: "111111111111"
    region: eu-west-3
    buckets: [acme-one-images]
    external-id: acme-one-other-id
  - account: "222222222222"
    region: eu-west-3
    buckets: [acme-two-eu]
`)
	code, out, errOut = runOrgCLI(ctx, t, "", w.deployArgs()...)
	if code != exitBadInput || !strings.Contains(errOut, "--allow-replacement") || !strings.Contains(out, "stops accepting the external ID") {
		t.Errorf("a new external ID without --allow-replacement: exit %d, stderr %q\n%s", code, errOut, out)
	}
}

// A key of another region than the target's is bad input naming the file's line; nothing is
// called.
func TestStackSetTargetsKMSOtherRegion(t *testing.T) {
	w := startOrg(t)
	w.writeTargets(t, "targets:\n  - account: \"111111111111\"\n    region: us-east-1\n    buckets: [acme-one-us]\n    kms-key-arn: "+orgKey+"\n")
	code, out, errOut := runOrgCLI(context.Background(), t, "", w.deployArgs()...)
	wantBadInput(t, code, out, errOut, w.targets+":5: targets[0].kms-key-arn")
	if n := len(w.fake.Calls()); n != 0 {
		t.Errorf("%d calls for bad input", n)
	}
}

// status --stack-set checks drift only with --drift (an operation over every instance), and
// then reports each instance's drift; without it, it says drift was not checked.
func TestStackSetStatusDrift(t *testing.T) {
	w := startOrg(t)
	ctx := context.Background()
	if code, out, errOut := runOrgCLI(ctx, t, "", w.deployArgs()...); code != exitOK {
		t.Fatalf("deploy: exit %d, stderr %q\n%s", code, errOut, out)
	}
	status := append([]string{"status", "--stack-set", orgSet}, accountProfiles()...)
	code, out, errOut := runOrgCLI(ctx, t, "", status...)
	if code != exitOK || !strings.Contains(out, "Drift: not checked") || w.fake.Count("DetectStackSetDrift") != 0 {
		t.Fatalf("status without --drift: exit %d, stderr %q, %d detections\n%s", code, errOut, w.fake.Count("DetectStackSetDrift"), out)
	}
	if !w.fake.DriftStackInstance(orgSet, "222222222222", "us-east-1", stacks.RegionalReadPolicyID, "MODIFIED",
		cfnfake.PropertyDifference{Path: "/PolicyDocument/Statement/0/Action/1", Actual: "s3:PutObject", Type: "ADD"}) {
		t.Fatal("no such instance")
	}
	code, out, errOut = runOrgCLI(ctx, t, "", append(status, "--drift", "--output", "json")...)
	if code != exitOK || w.fake.Count("DetectStackSetDrift") != 1 {
		t.Fatalf("status --drift: exit %d, stderr %q, %d detections\n%s", code, errOut, w.fake.Count("DetectStackSetDrift"), out)
	}
	var st stackSetJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if st.DriftChecked == nil || !*st.DriftChecked || len(st.Instances) != 6 {
		t.Fatalf("status JSON: %+v", st)
	}
	for _, in := range st.Instances {
		want := "IN_SYNC"
		if in.Account == "222222222222" && in.Region == "us-east-1" {
			want = "DRIFTED"
		}
		if in.Drift != want || in.Status != "CURRENT" {
			t.Errorf("%s/%s: drift %s status %s, want %s CURRENT", in.Account, in.Region, in.Drift, in.Status, want)
		}
	}
	code, out, _ = runOrgCLI(ctx, t, "", append(status, "--drift")...)
	if code != exitOK || !strings.Contains(out, "Drift: changed outside CloudFormation in 222222222222/us-east-1") {
		t.Errorf("status --drift text: exit %d\n%s", code, out)
	}
}
