package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/isahit/s3grant/internal/awserr"
)

// ResourceDrift is a resource CloudFormation's drift detection found changed outside it.
type ResourceDrift struct {
	LogicalID  string `json:"logicalId"`
	PhysicalID string `json:"physicalId,omitempty"`
	Type       string `json:"resourceType"`
	// Status is MODIFIED or DELETED.
	Status string `json:"status"`
	// Differences say, one per property, what the template expects and what is there.
	Differences []string `json:"differences,omitempty"`
}

// maxDriftWait bounds a drift detection: AWS usually finishes in seconds, large stacks in a
// few minutes; this stack is small.
const maxDriftWait = 2 * time.Minute

// Drift runs CloudFormation's drift detection on the stack and returns the resources it finds
// modified or deleted outside CloudFormation (none: the stack is in sync). Custom resources are
// not checked by AWS.
func (e *Engine) Drift(ctx context.Context, stackName string) ([]ResourceDrift, error) {
	ctx, cancel := context.WithTimeout(ctx, maxDriftWait)
	defer cancel()
	var start *cloudformation.DetectStackDriftOutput
	err := e.retryThrottled(ctx, func() (err error) {
		start, err = e.cfn.DetectStackDrift(ctx, &cloudformation.DetectStackDriftInput{StackName: aws.String(stackName)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("starting drift detection: %w", explain(err))
	}
	delay := e.firstPoll / 4
	for {
		if err := awserr.Sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("drift detection did not finish: %w", err)
		}
		var st *cloudformation.DescribeStackDriftDetectionStatusOutput
		err := e.retryThrottled(ctx, func() (err error) {
			st, err = e.cfn.DescribeStackDriftDetectionStatus(ctx, &cloudformation.DescribeStackDriftDetectionStatusInput{StackDriftDetectionId: start.StackDriftDetectionId})
			return err
		})
		if err != nil {
			return nil, explain(err)
		}
		if st.DetectionStatus == types.StackDriftDetectionStatusDetectionFailed && st.StackDriftStatus == "" {
			return nil, fmt.Errorf("drift detection failed: %s", aws.ToString(st.DetectionStatusReason))
		}
		if st.DetectionStatus != types.StackDriftDetectionStatusDetectionInProgress {
			break
		}
		delay = min(delay*2, e.maxPoll)
	}
	in := &cloudformation.DescribeStackResourceDriftsInput{StackName: aws.String(stackName),
		StackResourceDriftStatusFilters: []types.StackResourceDriftStatus{types.StackResourceDriftStatusModified, types.StackResourceDriftStatusDeleted}}
	var out []ResourceDrift
	for {
		var page *cloudformation.DescribeStackResourceDriftsOutput
		err := e.retryThrottled(ctx, func() (err error) {
			page, err = e.cfn.DescribeStackResourceDrifts(ctx, in)
			return err
		})
		if err != nil {
			return nil, explain(err)
		}
		for _, d := range page.StackResourceDrifts {
			rd := ResourceDrift{LogicalID: aws.ToString(d.LogicalResourceId), PhysicalID: aws.ToString(d.PhysicalResourceId),
				Type: aws.ToString(d.ResourceType), Status: string(d.StackResourceDriftStatus)}
			for _, p := range d.PropertyDifferences {
				rd.Differences = append(rd.Differences, fmt.Sprintf("%s %s: expected %s, actual %s", aws.ToString(p.PropertyPath),
					p.DifferenceType, aws.ToString(p.ExpectedValue), aws.ToString(p.ActualValue)))
			}
			out = append(out, rd)
		}
		if page.NextToken == nil {
			break
		}
		in.NextToken = page.NextToken
	}
	slices.SortFunc(out, func(a, b ResourceDrift) int { return strings.Compare(a.LogicalID, b.LogicalID) })
	return out, nil
}

// HasCORSRule reports whether the bucket's CORS configuration holds a rule whose ID is one of
// ids: the vendor's rule, which the CORS custom resource names after the vendor and the stack
// (stacks.CORSRuleIDs). A bucket without CORS configuration holds none.
func HasCORSRule(ctx context.Context, client *s3.Client, bucket string, ids []string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := client.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "NoSuchCORSConfiguration" {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the CORS configuration of bucket %s: %w", bucket, err)
	}
	return slices.ContainsFunc(out.CORSRules, func(r s3types.CORSRule) bool {
		return slices.Contains(ids, aws.ToString(r.ID))
	}), nil
}
