package cfnfake_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/isahit/s3grant/internal/awsfake/cfnfake"
)

// DetectStackSetDrift is an operation (DETECT_DRIFT) that checks every instance: NOT_CHECKED
// before, then IN_SYNC or DRIFTED; the instances' status is not changed.
func TestStackSetDriftDetection(t *testing.T) {
	f, url := cfnfake.Start(t, cfnfake.WithDelay("", time.Millisecond))
	c := client(url, 1)
	ctx := context.Background()
	newSet(t, c, "org", nil)
	op, err := c.CreateStackInstances(ctx, &cloudformation.CreateStackInstancesInput{StackSetName: aws.String("org"),
		Accounts: []string{"111111111111", "222222222222"}, Regions: []string{"eu-west-3"},
		ParameterOverrides: params("BucketName", "shared-bucket")})
	if err != nil {
		t.Fatal(err)
	}
	waitOp(t, c, "org", aws.ToString(op.OperationId))
	drift := func() map[string]types.StackDriftStatus {
		t.Helper()
		list, err := c.ListStackInstances(ctx, &cloudformation.ListStackInstancesInput{StackSetName: aws.String("org")})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]types.StackDriftStatus{}
		for _, s := range list.Summaries {
			m[aws.ToString(s.Account)] = s.DriftStatus
			if s.Status != types.StackInstanceStatusCurrent {
				t.Errorf("%s: status %s after drift detection", aws.ToString(s.Account), s.Status)
			}
		}
		return m
	}
	if got := drift(); got["111111111111"] != types.StackDriftStatusNotChecked {
		t.Errorf("before detection: %v", got)
	}
	if !f.DriftStackInstance("org", "222222222222", "eu-west-3", "AccessPoint", "MODIFIED",
		cfnfake.PropertyDifference{Path: "/Policy", Expected: "", Actual: "{}", Type: "ADD"}) {
		t.Fatal("no such instance")
	}
	det, err := c.DetectStackSetDrift(ctx, &cloudformation.DetectStackSetDriftInput{StackSetName: aws.String("org")})
	if err != nil {
		t.Fatal(err)
	}
	// One operation at a time.
	if _, err := c.DetectStackSetDrift(ctx, &cloudformation.DetectStackSetDriftInput{StackSetName: aws.String("org")}); apiCode(err) == "" {
		t.Error("a second operation while drift detection runs was accepted")
	}
	final := waitOp(t, c, "org", aws.ToString(det.OperationId))
	if final.Action != types.StackSetOperationActionDetectDrift || final.Status != types.StackSetOperationStatusSucceeded {
		t.Errorf("operation %s %s", final.Action, final.Status)
	}
	got := drift()
	if got["111111111111"] != types.StackDriftStatusInSync || got["222222222222"] != types.StackDriftStatusDrifted {
		t.Errorf("after detection: %v", got)
	}
	if r := results(t, c, "org", aws.ToString(det.OperationId)); len(r) != 2 || r["222222222222/eu-west-3"] != "SUCCEEDED" {
		t.Errorf("results %v", r)
	}
	if _, err := c.DetectStackSetDrift(ctx, &cloudformation.DetectStackSetDriftInput{StackSetName: aws.String("nope")}); apiCode(err) == "" {
		t.Error("an unknown stack set was accepted")
	}
}
