package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
	"github.com/isahit/s3grant/internal/awsfake/cfnfake"
	"github.com/isahit/s3grant/stacks"
)

const slotAccount = "111111111111"

func slotTargets(buckets string) string {
	return "targets:\n  - account: \"" + slotAccount + "\"\n    region: eu-west-3\n    buckets: [" + buckets + "]\n"
}

// slotStack is the one instance's stack of a one-target rollout.
func (w *orgWorld) slotStack(t *testing.T) (id string, outputs, params map[string]string) {
	t.Helper()
	for k, s := range w.instanceStacks(t) {
		if k == slotAccount+"/eu-west-3" {
			return s.ID, s.Outputs, s.Parameters
		}
	}
	t.Fatal("no instance in " + slotAccount + "/eu-west-3")
	return "", nil, nil
}

// resourceEvents counts, per logical ID, the events CloudFormation recorded for the stack's
// resources, read with the account's own credentials: a resource left alone by an update
// gets none.
func (w *orgWorld) resourceEvents(t *testing.T, stackID string) map[string]int {
	t.Helper()
	c := cloudformation.New(cloudformation.Options{Region: "eu-west-3", BaseEndpoint: aws.String(w.url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIA"+slotAccount, "secret", ""), Retryer: awsquery.ConnectionRetryer()})
	out := map[string]int{}
	in := &cloudformation.DescribeStackEventsInput{StackName: aws.String(stackID)}
	for {
		page, err := c.DescribeStackEvents(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page.StackEvents {
			out[aws.ToString(ev.LogicalResourceId)]++
		}
		if page.NextToken == nil {
			return out
		}
		in.NextToken = page.NextToken
	}
}

// Removing the middle bucket of three keeps the other two in their slots: their access
// points (the ARNs the vendor holds) are not touched. The removal deletes a vendor-held access
// point, so it is listed first and --yes alone does not run it; --allow-replacement does. A
// bucket added later fills the free slot.
func TestStackSetSlotsStayWhenABucketIsRemoved(t *testing.T) {
	w := startOrg(t)
	ctx := context.Background()
	w.writeTargets(t, slotTargets("acme-a, acme-b/clips/, acme-c"))
	if code, out, errOut := runOrgCLI(ctx, t, "", w.deployArgs()...); code != exitOK {
		t.Fatalf("deploy: exit %d, stderr %q\n%s", code, errOut, out)
	}
	id, before, _ := w.slotStack(t)
	events := w.resourceEvents(t, id)
	for k, b := range []string{"acme-a", "acme-b", "acme-c"} {
		if got := before[stacks.SlotOutput("BucketName", k+1)]; got != b {
			t.Fatalf("slot %d holds %q, want %s (outputs %v)", k+1, got, b, before)
		}
	}

	w.writeTargets(t, slotTargets("acme-a, acme-c"))
	opsBefore := len(mustSet(t, w).Operations)
	code, out, errOut := runOrgCLI(ctx, t, "", w.deployArgs()...)
	if code != exitBadInput || !strings.Contains(errOut, "--allow-replacement") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("--yes alone: exit %d, stderr %q, want 2 naming --allow-replacement", code, errOut)
	}
	if !strings.Contains(out, "!! This change breaks isahit Lab's access") ||
		!strings.Contains(out, slotAccount+" eu-west-3: bucket acme-b leaves the integration") {
		t.Errorf("the removal is not called out:\n%s", out)
	}
	if strings.Index(out, "!!") > strings.Index(out, "Stack set "+orgSet+":") {
		t.Errorf("the vendor changes are not listed first:\n%s", out)
	}
	if n := len(mustSet(t, w).Operations); n != opsBefore {
		t.Fatalf("--yes alone ran %d operation(s)", n-opsBefore)
	}

	code, out, errOut = runOrgCLI(ctx, t, "", w.deployArgs("--allow-replacement")...)
	if code != exitOK {
		t.Fatalf("deploy --allow-replacement: exit %d, stderr %q\n%s", code, errOut, out)
	}
	_, after, params := w.slotStack(t)
	for _, k := range []int{1, 3} {
		if o := stacks.SlotOutput("AccessPointArn", k); after[o] != before[o] || after[o] == "" {
			t.Errorf("%s: %q, was %q", o, after[o], before[o])
		}
	}
	if _, ok := after[stacks.SlotOutput("AccessPointArn", 2)]; ok || params[stacks.SlotBucket(2)] != "" || params[stacks.SlotPrefix(2)] != "" {
		t.Errorf("slot 2 is not empty: outputs %v, parameters %v", after, params)
	}
	now := w.resourceEvents(t, id)
	for _, res := range []string{"AccessPoint1", "AccessPoint3"} {
		if now[res] != events[res] {
			t.Errorf("%s got %d new event(s): CloudFormation touched it", res, now[res]-events[res])
		}
	}
	if now["AccessPoint2"] == events["AccessPoint2"] {
		t.Error("AccessPoint2 was not deleted")
	}

	// A new bucket fills the free slot 2: nothing the vendor holds changes, --yes is enough.
	w.writeTargets(t, slotTargets("acme-a, acme-c, acme-d"))
	code, out, errOut = runOrgCLI(ctx, t, "", w.deployArgs()...)
	if code != exitOK || strings.Contains(out, "!!") {
		t.Fatalf("adding a bucket: exit %d, stderr %q\n%s", code, errOut, out)
	}
	_, added, params := w.slotStack(t)
	if added[stacks.SlotOutput("BucketName", 2)] != "acme-d" || params[stacks.SlotBucket(4)] != "" {
		t.Errorf("acme-d is not in slot 2: outputs %v", added)
	}
	for _, k := range []int{1, 3} {
		if o := stacks.SlotOutput("AccessPointArn", k); added[o] != before[o] {
			t.Errorf("%s changed to %q", o, added[o])
		}
	}
	// The template keeps its three slots (N never shrinks).
	if n := stacks.TemplateSlots(mustStackBody(t, w)); n != 3 {
		t.Errorf("the template has %d slots, want 3", n)
	}
	if code, out, _ := runOrgCLI(ctx, t, "", w.deployArgs()...); code != exitOK || !strings.Contains(out, "up to date") {
		t.Errorf("a second run changed something: exit %d\n%s", code, out)
	}
}

func mustSet(t *testing.T, w *orgWorld) cfnfake.StackSetState {
	t.Helper()
	s, ok := w.fake.StackSet(orgSet)
	if !ok {
		t.Fatal("no stack set")
	}
	return s
}

func mustStackBody(t *testing.T, w *orgWorld) string {
	t.Helper()
	for _, s := range w.instanceStacks(t) {
		return s.Body
	}
	t.Fatal("no instance")
	return ""
}
