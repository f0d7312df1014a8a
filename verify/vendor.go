package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

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
	session, err := assume(&in.ExternalID)
	name := arn.RoleName(in.RoleARN)
	if err != nil {
		report.Checks = append(report.Checks, fail(CheckAssume,
			fmt.Sprintf("AssumeRole on %s with external ID %s failed: %v", in.RoleARN, in.ExternalID, err),
			fmt.Sprintf("the customer runs `s3grant verify` on its side to see why; role %s must trust account %s with sts:ExternalId %s", name, in.Vendor.AccountID, in.ExternalID)))
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
	report.Checks = append(report.Checks, c.sessionChecks(ctx, in, c.s3(cfg))...)
	return report, nil
}

// sessionChecks lists through the access point and the bucket, reads one byte and sends one
// browser preflight per origin, all with the assumed role's session.
func (c *Checker) sessionChecks(ctx context.Context, in Input, s3c *s3.Client) []Result {
	name := arn.RoleName(in.RoleARN)
	permFix := fmt.Sprintf("the customer runs `s3grant verify` with the role %s to see which permission, bucket policy or key policy refuses it", name)
	list := func(bucket string, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
		return s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, MaxKeys: aws.Int32(10),
			Prefix: aws.String(in.ObjectPrefix)}, opts...)
	}
	var out []Result
	apARN := in.accessPointARN()
	apBucket, apOpts, err := c.accessPointBucket(ctx, in, s3c)
	if err == nil {
		_, err = list(apBucket, apOpts...)
	}
	if err != nil {
		out = append(out, fail(CheckListAccessPoint, fmt.Sprintf("ListObjectsV2 through %s failed: %v", apARN, err), permFix))
	} else {
		out = append(out, pass(CheckListAccessPoint, apARN))
	}
	listed, err := list(in.BucketName)
	if err != nil {
		out = append(out, fail(CheckListBucket, fmt.Sprintf("ListObjectsV2 on bucket %s failed: %v", in.BucketName, err), permFix))
	} else {
		out = append(out, pass(CheckListBucket, fmt.Sprintf("%d keys in the first page", len(listed.Contents))))
	}
	key := ""
	if listed != nil {
		for _, o := range listed.Contents {
			if aws.ToInt64(o.Size) > 0 {
				key = aws.ToString(o.Key)
				break
			}
		}
	}
	switch {
	case err != nil:
		out = append(out, fail(CheckReadObject, "no object to read: the listing failed", permFix))
	case key == "":
		out = append(out, fail(CheckReadObject, fmt.Sprintf("bucket %s has no non-empty object under %q to read", in.BucketName, in.ObjectPrefix),
			fmt.Sprintf("upload one object under %q to bucket %s, then run verify again", in.ObjectPrefix, in.BucketName)))
	default:
		out = append(out, readFirstByte(ctx, s3c, in, key, permFix))
	}
	if key == "" {
		key = in.ObjectPrefix + probeObject
	}
	return append(out, c.preflight(ctx, in, s3c, key))
}

func readFirstByte(ctx context.Context, s3c *s3.Client, in Input, key, permFix string) Result {
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &in.BucketName, Key: &key, Range: aws.String("bytes=0-0")})
	if err != nil {
		cause := fmt.Sprintf("GetObject %s/%s failed: %v", in.BucketName, key, err)
		if isAccessDenied(err) {
			cause += " (listing works, so if the object is SSE-KMS encrypted, the role probably lacks kms:Decrypt on its key)"
		}
		return fail(CheckReadObject, cause, permFix)
	}
	defer obj.Body.Close()
	b, err := io.ReadAll(obj.Body)
	if err != nil || len(b) != 1 {
		return fail(CheckReadObject, fmt.Sprintf("GetObject %s/%s with Range bytes=0-0 returned %d bytes (%v)", in.BucketName, key, len(b), err), permFix)
	}
	return pass(CheckReadObject, in.BucketName+"/"+key)
}

// preflight sends the OPTIONS request a browser sends before loading the object from each
// vendor origin, to a presigned GET URL, and checks Access-Control-Allow-Origin.
func (c *Checker) preflight(ctx context.Context, in Input, s3c *s3.Client, key string) Result {
	signed, err := s3.NewPresignClient(s3c).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &in.BucketName, Key: &key})
	if err != nil {
		return fail(CheckPreflight, "cannot presign a GET URL: "+err.Error(), "check the vendor credentials and region")
	}
	headers, _ := requestHeaders(in.Vendor.CORS.Headers)
	var problems, failing []string
	for _, origin := range in.Vendor.CORS.Origins {
		for _, method := range in.Vendor.CORS.Methods {
			req, err := http.NewRequestWithContext(ctx, http.MethodOptions, signed.URL, nil)
			if err != nil {
				return fail(CheckPreflight, "bad presigned URL: "+err.Error(), "report this as a bug")
			}
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", method)
			if len(headers) > 0 {
				req.Header.Set("Access-Control-Request-Headers", strings.Join(headers, ","))
			}
			resp, err := c.httpClient().Do(req)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", origin, err))
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			allow := resp.Header.Get("Access-Control-Allow-Origin")
			if resp.StatusCode != http.StatusOK || (allow != origin && allow != "*") {
				problems = append(problems, fmt.Sprintf("%s: %s answered HTTP %d, Access-Control-Allow-Origin %q", origin, method, resp.StatusCode, allow))
				failing = append(failing, origin)
			}
		}
	}
	if len(problems) == 0 {
		return pass(CheckPreflight, "allowed from "+strings.Join(in.Vendor.CORS.Origins, ", "))
	}
	return fail(CheckPreflight, strings.Join(problems, "; "), fmt.Sprintf(
		"the customer adds a CORS rule allowing %s from %s to bucket %s (S3 console → %s → Permissions → Cross-origin resource sharing (CORS)); `s3grant verify --stack-name` on its side shows the rule to add",
		strings.Join(in.Vendor.CORS.Methods, ", "), strings.Join(failing, ", "), in.BucketName, in.BucketName))
}
