package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/isahit/s3grant/internal/arn"
)

// sessionName names the vendor's verification sessions in the customer's CloudTrail.
const sessionName = "s3grant-verify"

// Vendor checks the integration from the vendor's account: the role can be assumed with the
// external ID and only with it, and the session can list, read and pass a browser preflight.
// The error is an *rules.InvalidError for bad input.
func (c *Checker) Vendor(ctx context.Context, in Input) (Report, error) {
	if in.Region == "" {
		in.Region = c.cfg.Region
	}
	if err := in.validate(); err != nil {
		return Report{}, err
	}
	if err := validateTarget(in); err != nil {
		return Report{}, err
	}
	report := Report{Side: SideVendor}
	c = c.inRegion(in.Region)
	stc := sts.NewFromConfig(c.cfg)
	assume := func(externalID *string) (*sts.AssumeRoleOutput, error) {
		return stc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &in.RoleARN, RoleSessionName: aws.String(sessionName),
			ExternalId: externalID, DurationSeconds: aws.Int32(900)})
	}
	wait := &propagation{c: c}
	var session *sts.AssumeRoleOutput
	err := wait.do(ctx, "AssumeRole on "+in.RoleARN, func() (err error) {
		session, err = assume(&in.ExternalID)
		return err
	})
	if ctx.Err() != nil {
		return Report{}, ctx.Err()
	}
	name := arn.RoleName(in.RoleARN)
	if err != nil {
		cause := fmt.Sprintf("AssumeRole on %s with external ID %s failed: %v", in.RoleARN, in.ExternalID, err)
		fix := fmt.Sprintf("the customer runs `s3grant verify` on its side to see why; role %s must trust account %s with sts:ExternalId %s", name, in.Vendor.AccountID, in.ExternalID)
		if isNetworkError(err) {
			cause = fmt.Sprintf("AssumeRole on %s could not be sent: %s", in.RoleARN, describeCallError(err))
			fix = "check the network, the proxy and --endpoint-url, then run verify again"
		}
		report.Checks = append(report.Checks, fail(CheckAssume, cause, fix))
	} else {
		report.Checks = append(report.Checks, pass(CheckAssume, aws.ToString(session.AssumedRoleUser.Arn)))
	}
	if in.NextExternalID != "" {
		// During a rotation the vendor switches to the next ID: the role must accept it too.
		if next, err := assume(&in.NextExternalID); err != nil {
			report.Checks = append(report.Checks, fail(CheckAssumeNextExternalID,
				fmt.Sprintf("AssumeRole on %s with the next external ID %s failed: %v", in.RoleARN, in.NextExternalID, err),
				fmt.Sprintf("the customer starts the rotation to this ID (s3grant rotate --stack-name STACK --external-id %s), or the vendor checks the ID it recorded", in.NextExternalID)))
		} else {
			report.Checks = append(report.Checks, pass(CheckAssumeNextExternalID, aws.ToString(next.AssumedRoleUser.Arn)))
		}
	}
	condition, _ := json.Marshal(map[string]map[string][]string{"StringEquals": {"sts:ExternalId": in.liveExternalIDs()}})
	addCondition := fmt.Sprintf("the customer adds the condition %s to the trust policy of role %s (IAM console → Roles → %s → Trust relationships → Edit trust policy)", condition, name, name)
	wrong := "s3grant-wrong-" + in.ExternalID
	probes := []struct {
		id, what, why, fix string
		externalID         *string
	}{
		{CheckAssumeNoExternalID, "without an external ID", fmt.Sprintf("any principal of account %s can reach the bucket (confused deputy)", in.Vendor.AccountID), addCondition, nil},
		{CheckAssumeBadExternalID, "with the wrong external ID " + wrong, fmt.Sprintf("any principal of account %s can reach the bucket (confused deputy)", in.Vendor.AccountID), addCondition, &wrong},
	}
	if in.PreviousExternalID != "" {
		probes = append(probes, struct {
			id, what, why, fix string
			externalID         *string
		}{CheckAssumePreviousExternalID, "with the previous external ID " + in.PreviousExternalID,
			"the rotation is not finished: whoever still holds the old ID can reach the bucket",
			"the customer finishes the rotation (s3grant rotate --stack-name STACK --finish), once the vendor uses only " + in.ExternalID,
			&in.PreviousExternalID})
	}
	for _, probe := range probes {
		_, err := assume(probe.externalID)
		switch {
		case isAccessDenied(err):
			report.Checks = append(report.Checks, pass(probe.id, "AccessDenied, as it must"))
		case err == nil:
			report.Checks = append(report.Checks, fail(probe.id,
				fmt.Sprintf("AssumeRole on %s %s succeeded: %s", in.RoleARN, probe.what, probe.why), probe.fix))
		default:
			report.Checks = append(report.Checks, fail(probe.id,
				fmt.Sprintf("AssumeRole %s failed with %v, not AccessDenied", probe.what, err),
				"check the vendor credentials and network, then run verify again"))
		}
	}
	if session == nil {
		return report, nil
	}
	cfg := c.cfg.Copy()
	cred := session.Credentials
	cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
		aws.ToString(cred.AccessKeyId), aws.ToString(cred.SecretAccessKey), aws.ToString(cred.SessionToken)))
	checks, err := c.sessionChecks(ctx, in, c.s3(cfg), wait)
	if err != nil {
		return Report{}, err
	}
	report.Checks = append(report.Checks, checks...)
	return report, nil
}

// sessionChecks lists through the access point and the bucket, reads one byte, then proves
// the browser's path on a sample of objects, all with the assumed role's session. The error
// is the context's (Ctrl-C, deadline).
func (c *Checker) sessionChecks(ctx context.Context, in Input, s3c *s3.Client, wait *propagation) ([]Result, error) {
	name := arn.RoleName(in.RoleARN)
	permFix := fmt.Sprintf("the customer runs `s3grant verify` with the role %s to see which permission, bucket policy, access point policy or key policy refuses it", name)
	list := func(what, bucket string, opts ...func(*s3.Options)) (out *s3.ListObjectsV2Output, err error) {
		err = wait.do(ctx, what, func() (err error) {
			out, err = s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, MaxKeys: aws.Int32(100),
				Prefix: aws.String(in.ObjectPrefix)}, opts...)
			return err
		})
		return out, err
	}
	var out []Result
	apARN := in.accessPointARN()
	apBucket, apOpts, err := c.accessPointBucket(ctx, in, s3c)
	if err == nil {
		_, err = list("ListObjectsV2 through "+apARN, apBucket, apOpts...)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		out = append(out, fail(CheckListAccessPoint, fmt.Sprintf("ListObjectsV2 through %s failed: %s", apARN, describeCallError(err)), callFix(err, permFix)))
	} else {
		out = append(out, pass(CheckListAccessPoint, apARN))
	}
	listed, err := list("ListObjectsV2 on bucket "+in.BucketName, in.BucketName)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		out = append(out, fail(CheckListBucket, fmt.Sprintf("ListObjectsV2 on bucket %s failed: %s", in.BucketName, describeCallError(err)), callFix(err, permFix)))
	} else {
		out = append(out, pass(CheckListBucket, fmt.Sprintf("%d keys in the first page", len(listed.Contents))))
	}
	keys := sampleKeys(listed, in.sample())
	switch {
	case err != nil:
		out = append(out, fail(CheckReadObject, "no object to read: the listing failed", permFix))
	case len(keys) == 0:
		out = append(out, fail(CheckReadObject, fmt.Sprintf("bucket %s has no non-empty object under %q to read", in.BucketName, in.ObjectPrefix),
			fmt.Sprintf("upload one object under %q to bucket %s, then run verify again", in.ObjectPrefix, in.BucketName)))
	default:
		out = append(out, readFirstByte(ctx, s3c, in, keys[0], permFix, wait))
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	browser, err := c.browserPath(ctx, in, s3c, keys)
	if err != nil {
		return nil, err
	}
	return append(out, browser...), nil
}

// sampleKeys picks up to n non-empty keys of the listing.
func sampleKeys(listed *s3.ListObjectsV2Output, n int) []string {
	var keys []string
	if listed == nil {
		return nil
	}
	for _, o := range listed.Contents {
		if aws.ToInt64(o.Size) > 0 && len(keys) < n {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

func (in Input) sample() int {
	if in.Sample > 0 {
		return in.Sample
	}
	return DefaultSample
}

func readFirstByte(ctx context.Context, s3c *s3.Client, in Input, key, permFix string, wait *propagation) Result {
	var obj *s3.GetObjectOutput
	err := wait.do(ctx, "GetObject "+in.BucketName+"/"+key, func() (err error) {
		obj, err = s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &in.BucketName, Key: &key, Range: aws.String("bytes=0-0")})
		return err
	})
	if err != nil {
		cause := fmt.Sprintf("GetObject %s/%s failed: %s", in.BucketName, key, describeCallError(err))
		if isAccessDenied(err) {
			cause += " (listing works, so the object itself is refused: its SSE-KMS key (kms:Decrypt, or the key policy), its owner, or a bucket policy Deny on s3:GetObject)"
		}
		return fail(CheckReadObject, cause, callFix(err, permFix))
	}
	defer obj.Body.Close()
	// One byte proves the read; whether Range is honoured is range-get's to say.
	b, err := io.ReadAll(io.LimitReader(obj.Body, 1))
	if err != nil || len(b) != 1 {
		return fail(CheckReadObject, fmt.Sprintf("GetObject %s/%s with Range bytes=0-0 returned %d bytes (%v)", in.BucketName, key, len(b), err), permFix)
	}
	return pass(CheckReadObject, in.BucketName+"/"+key)
}
