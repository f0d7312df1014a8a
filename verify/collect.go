package verify

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	smithyendpoints "github.com/aws/smithy-go/endpoints"

	"github.com/isahit/s3grant/internal/arn"
	"github.com/isahit/s3grant/internal/awserr"
	"github.com/isahit/s3grant/internal/partition"
	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/internal/s3client"
	"github.com/isahit/s3grant/stacks"
)

// Checker runs the checks with one set of AWS credentials: the customer's for Customer, the
// vendor's for Vendor. It only ever reads, describes and assumes.
type Checker struct {
	cfg         aws.Config
	observer    Observer
	propagation time.Duration
	sleep       func(context.Context, time.Duration) error
}

// New returns a Checker calling AWS with cfg, typically from config.LoadDefaultConfig, which
// honours AWS_ENDPOINT_URL. Its region is the expected region when Input.Region is empty.
func New(cfg aws.Config, opts ...Option) *Checker {
	c := &Checker{cfg: cfg, observer: nopObserver{}, propagation: DefaultPropagationWait, sleep: awserr.Sleep}
	for _, o := range opts {
		o(c)
	}
	return c
}

// inRegion returns a Checker whose calls go to region (the stack's, the access point's).
func (c *Checker) inRegion(region string) *Checker {
	cp := *c
	cp.cfg = c.cfg.Copy()
	cp.cfg.Region = region
	return &cp
}

// s3 returns an S3 client for cfg (see s3client.New).
func (c *Checker) s3(cfg aws.Config) *s3.Client { return s3client.New(cfg) }

// s3control returns an S3 Control client. Against a custom endpoint it sends requests to that
// endpoint as given: the SDK would prefix the account ID to its host, a name local endpoints
// do not serve, while the account also travels in the x-amz-account-id header.
func (c *Checker) s3control() *s3control.Client {
	return s3control.NewFromConfig(c.cfg, func(o *s3control.Options) {
		if o.BaseEndpoint != nil {
			o.EndpointResolverV2 = endpointAsGiven{base: *o.BaseEndpoint, next: s3control.NewDefaultEndpointResolverV2()}
		}
	})
}

type endpointAsGiven struct {
	base string
	next s3control.EndpointResolverV2
}

func (r endpointAsGiven) ResolveEndpoint(ctx context.Context, p s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	ep, err := r.next.ResolveEndpoint(ctx, p)
	if err != nil {
		return ep, err
	}
	base, err := url.Parse(r.base)
	if err != nil {
		return ep, fmt.Errorf("endpoint %q: %w", r.base, err)
	}
	ep.URI.Scheme, ep.URI.Host = base.Scheme, base.Host
	return ep, nil
}

func isAccessDenied(err error) bool {
	code := awserr.Code(err)
	return code == "AccessDenied" || code == "AccessDeniedException"
}

// Run checks the integration from in.Side: Customer or Vendor.
// An integration of several buckets (MoreBuckets) is checked bucket by bucket (runEach).
func (c *Checker) Run(ctx context.Context, in Input) (Report, error) {
	if len(in.MoreBuckets) > 0 {
		return c.runEach(ctx, in)
	}
	if in.Side == SideVendor {
		return c.Vendor(ctx, in)
	}
	return c.Customer(ctx, in)
}

// Customer checks the integration from the customer's account. The error is an
// *rules.InvalidError for bad input; AWS failures become failed checks in the report.
func (c *Checker) Customer(ctx context.Context, in Input) (Report, error) {
	if in.Region == "" {
		in.Region = c.cfg.Region
	}
	if err := in.validate(); err != nil {
		return Report{}, err
	}
	report := Report{Side: SideCustomer}
	c = c.inRegion(in.Region)
	var f Facts
	if in.StackName != "" {
		f.Stack, f.StackErr = c.readStack(ctx, in)
		if f.Stack != nil {
			in = in.fromStack(*f.Stack)
		}
	} else if err := validateTarget(in); err != nil {
		return Report{}, err
	}
	if validateTarget(in) != nil {
		// The stack could not tell the resources to check: only its own check can run.
		r := judgeStack(in, f)
		if r.Pass {
			r = fail(CheckStack, fmt.Sprintf("stack %s does not name the role, bucket, access point and external ID in its outputs", in.StackName),
				"pass the role ARN, bucket, access point name and external ID explicitly")
		}
		report.Checks = []Result{r}
		return report, nil
	}

	f.BucketRegion, f.BucketRegionErr = s3client.Location(ctx, c.s3(c.cfg), in.BucketName)
	s3cfg := c.cfg.Copy()
	if f.BucketRegion != "" {
		s3cfg.Region = f.BucketRegion
	}
	s3c := c.s3(s3cfg)
	f.CORS, f.CORSErr = readCORS(ctx, s3c, in.BucketName)
	f.Encryption, f.EncryptionErr = c.readEncryption(ctx, s3c, in.BucketName, s3cfg)
	keyARN := f.Encryption.customerKey()
	if keyARN == "" {
		keyARN = in.KMSKeyARN
	}
	exp, err := in.expect(keyARN)
	if err != nil {
		return Report{}, err
	}
	f.Objects, f.ObjectsErr = c.readObjects(ctx, s3c, kms.NewFromConfig(s3cfg), in)
	if ctx.Err() != nil {
		return Report{}, ctx.Err()
	}
	probes := append(exp.probes("s3"), exp.probes("kms")...)
	for _, k := range f.Objects.otherKeys(keyARN) {
		probes = append(probes, keyProbe(exp, in, k))
	}
	f.Role, f.RoleErr = c.readRole(ctx, in, probes)
	if f.RoleErr == nil {
		f.ManagedBy, f.NoStack = c.managingStack(ctx, in, f.Stack)
	}
	f.AccessPoint, f.AccessPointErr = c.readAccessPoint(ctx, in)
	f.BucketPolicy, f.BucketPolicyErr = readBucketPolicy(ctx, s3c, in.BucketName)
	f.AccessPointPolicy, f.AccessPointPolicyErr = c.readAccessPointPolicy(ctx, in)
	report.Checks = judge(in, exp, f)
	return report, nil
}

// validate checks the input before any AWS call: the model's values by their rules, and the
// fields only verify has.
func (in Input) validate() error {
	if err := rules.AccountID.Validate("TrustedAccountId", in.Vendor.AccountID); err != nil {
		return err
	}
	if len(in.Vendor.CORS.Origins) == 0 || len(in.Vendor.CORS.Methods) == 0 {
		return rules.Invalid("AllowedOrigins", "", "the vendor profile lists no CORS origins or methods")
	}
	if err := rules.Region.Validate(stacks.FieldRegion, in.Region); err != nil {
		return err
	}
	if in.StackName != "" {
		if err := rules.StackName.Validate(FieldStackName, in.StackName); err != nil {
			return err
		}
	}
	if err := in.Integration.Validate(); err != nil {
		return err
	}
	if in.PreviousExternalID != "" {
		if err := rules.ExternalID.Validate(FieldPreviousExternalID, in.PreviousExternalID); err != nil {
			return err
		}
		if in.PreviousExternalID == in.ExternalID || in.PreviousExternalID == in.NextExternalID {
			return rules.Invalid(FieldPreviousExternalID, in.PreviousExternalID,
				"is a live external ID (the current or the next one): the previous one is the ID a finished rotation dropped")
		}
	}
	if in.RoleARN != "" {
		part := partition.Of(in.Region).ID
		name := arn.RoleName(in.RoleARN)
		if name == "" {
			return rules.Invalid(FieldRoleARN, in.RoleARN, fmt.Sprintf("%q is not an IAM role ARN (arn:%s:iam::ACCOUNT:role/NAME)", in.RoleARN, part))
		}
		// The role must be in the bucket's partition: no role crosses partitions.
		if a, _ := arn.Parse(in.RoleARN); a.Partition != part {
			return rules.Invalid(FieldRoleARN, in.RoleARN, fmt.Sprintf("is in AWS partition %s, but region %s is in %s: the role ARN starts arn:%s:iam::",
				a.Partition, in.Region, part, part))
		}
		if in.RoleName != "" && in.RoleName != name {
			return rules.Invalid("RoleName", in.RoleName, fmt.Sprintf("is %s but the role ARN names the role %s", in.RoleName, name))
		}
	}
	return nil
}

// validateTarget checks that the resources to verify are known.
func validateTarget(in Input) error {
	for _, v := range []struct{ field, value string }{
		{FieldRoleARN, in.RoleARN}, {"BucketName", in.BucketName},
		{"AccessPointName", in.AccessPointName}, {"ExternalId", in.ExternalID},
	} {
		if v.value == "" {
			return rules.Invalid(v.field, "", "is required without a stack to read it from")
		}
	}
	return nil
}

// fromStack fills the fields left empty from the stack's outputs and parameters: explicit
// flags win, so --external-id checks the stack against the ID the vendor really generated.
func (in Input) fromStack(s Stack) Input {
	set := func(field *string, value string) {
		if *field == "" {
			*field = value
		}
	}
	set(&in.RoleARN, s.Outputs["RoleArn"])
	set(&in.BucketName, s.Outputs["BucketName"])
	set(&in.ExternalID, s.Outputs["ExternalId"])
	set(&in.NextExternalID, s.Parameters["NextExternalId"]) // a v1 stack has none: no rotation
	set(&in.AccessPointName, arn.AccessPointName(s.Outputs["AccessPointArn"]))
	set(&in.AccessPointAlias, s.Outputs["AccessPointAlias"])
	set(&in.ObjectPrefix, s.Parameters["ObjectPrefix"])
	set(&in.KMSKeyARN, s.Parameters["KmsKeyArn"])
	return in
}

func (c *Checker) readStack(ctx context.Context, in Input) (*Stack, error) {
	out, err := cloudformation.NewFromConfig(c.cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: &in.StackName})
	if err != nil {
		return nil, err
	}
	if len(out.Stacks) == 0 {
		return nil, fmt.Errorf("stack %s does not exist", in.StackName)
	}
	st := out.Stacks[0]
	s := &Stack{Name: aws.ToString(st.StackName), Status: string(st.StackStatus), StatusReason: aws.ToString(st.StackStatusReason),
		Outputs: map[string]string{}, Parameters: map[string]string{}}
	for _, o := range st.Outputs {
		s.Outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	for _, p := range st.Parameters {
		s.Parameters[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	return s, nil
}

func readCORS(ctx context.Context, s3c *s3.Client, bucket string) ([]stacks.CORSRule, error) {
	out, err := s3c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: &bucket})
	if awserr.Code(err) == "NoSuchCORSConfiguration" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rules := make([]stacks.CORSRule, 0, len(out.CORSRules))
	for _, r := range out.CORSRules {
		rules = append(rules, stacks.CORSRule{ID: aws.ToString(r.ID), AllowedOrigins: r.AllowedOrigins, AllowedMethods: r.AllowedMethods,
			AllowedHeaders: r.AllowedHeaders, ExposeHeaders: r.ExposeHeaders, MaxAgeSeconds: int(aws.ToInt32(r.MaxAgeSeconds))})
	}
	return rules, nil
}

func (c *Checker) readEncryption(ctx context.Context, s3c *s3.Client, bucket string, cfg aws.Config) (*Encryption, error) {
	out, err := s3c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &bucket})
	if awserr.Code(err) == "ServerSideEncryptionConfigurationNotFoundError" {
		return &Encryption{}, nil
	}
	if err != nil {
		return nil, err
	}
	e := &Encryption{}
	if sse := out.ServerSideEncryptionConfiguration; sse != nil && len(sse.Rules) > 0 && sse.Rules[0].ApplyServerSideEncryptionByDefault != nil {
		d := sse.Rules[0].ApplyServerSideEncryptionByDefault
		e.Algorithm, e.KeyID = string(d.SSEAlgorithm), aws.ToString(d.KMSMasterKeyID)
	}
	if e.Algorithm == "AES256" || e.Algorithm == "" || e.KeyID == "" {
		return e, nil
	}
	describeKey(ctx, kms.NewFromConfig(cfg), e)
	return e, nil
}

// readRole reads the role's trust policy and every identity policy, then asks the simulator
// about the probes when the caller may call it.
func (c *Checker) readRole(ctx context.Context, in Input, probes []Request) (*Role, error) {
	ic := iam.NewFromConfig(c.cfg)
	name := arn.RoleName(in.RoleARN)
	got, err := ic.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	if err != nil {
		return nil, err
	}
	r := &Role{ARN: aws.ToString(got.Role.Arn)}
	if r.Trust, err = ParsePolicy(aws.ToString(got.Role.AssumeRolePolicyDocument)); err != nil {
		return nil, fmt.Errorf("trust policy: %w", err)
	}
	if b := got.Role.PermissionsBoundary; b != nil && aws.ToString(b.PermissionsBoundaryArn) != "" {
		arnB := aws.ToString(b.PermissionsBoundaryArn)
		p, err := managedPolicy(ctx, ic, arnB)
		if err != nil {
			return nil, fmt.Errorf("permissions boundary %s: %w", arnB, err)
		}
		r.Boundary = &RolePolicy{Name: arnB[strings.LastIndex(arnB, "/")+1:], ARN: arnB, Document: p}
	}
	inline := iam.NewListRolePoliciesPaginator(ic, &iam.ListRolePoliciesInput{RoleName: &name})
	for inline.HasMorePages() {
		page, err := inline.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, pn := range page.PolicyNames {
			doc, err := ic.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &name, PolicyName: &pn})
			if err != nil {
				return nil, err
			}
			p, err := ParsePolicy(aws.ToString(doc.PolicyDocument))
			if err != nil {
				return nil, fmt.Errorf("inline policy %s: %w", pn, err)
			}
			r.Policies = append(r.Policies, RolePolicy{Name: pn, Document: p})
		}
	}
	attached := iam.NewListAttachedRolePoliciesPaginator(ic, &iam.ListAttachedRolePoliciesInput{RoleName: &name})
	for attached.HasMorePages() {
		page, err := attached.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, ap := range page.AttachedPolicies {
			p, err := managedPolicy(ctx, ic, aws.ToString(ap.PolicyArn))
			if err != nil {
				return nil, err
			}
			r.Policies = append(r.Policies, RolePolicy{Name: aws.ToString(ap.PolicyName), ARN: aws.ToString(ap.PolicyArn), Document: p})
		}
	}
	r.Simulated, r.SimulatorSkipped = simulate(ctx, ic, r.ARN, probes)
	return r, nil
}

func managedPolicy(ctx context.Context, ic *iam.Client, policyARN string) (Policy, error) {
	pol, err := ic.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: &policyARN})
	if err != nil {
		return Policy{}, err
	}
	ver, err := ic.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: &policyARN, VersionId: pol.Policy.DefaultVersionId})
	if err != nil {
		return Policy{}, err
	}
	p, err := ParsePolicy(aws.ToString(ver.PolicyVersion.Document))
	if err != nil {
		return Policy{}, fmt.Errorf("managed policy %s: %w", policyARN, err)
	}
	return p, nil
}

// simulate runs SimulatePrincipalPolicy for each probe. When the caller may not, it returns nil
// and the reason, and the checks fall back to the parsed policies.
func simulate(ctx context.Context, ic *iam.Client, roleARN string, probes []Request) (map[string]Decision, string) {
	out := map[string]Decision{}
	for _, p := range probes {
		var entries []iamtypes.ContextEntry
		for k, v := range p.Context {
			entries = append(entries, iamtypes.ContextEntry{ContextKeyName: aws.String(k), ContextKeyValues: []string{v},
				ContextKeyType: iamtypes.ContextKeyTypeEnumString})
		}
		res, err := ic.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: &roleARN,
			ActionNames: []string{p.Action}, ResourceArns: []string{p.Resource}, ContextEntries: entries})
		if isAccessDenied(err) {
			return nil, "the caller may not call iam:SimulatePrincipalPolicy"
		}
		if err != nil {
			return nil, "the policy simulator failed: " + err.Error()
		}
		for _, r := range res.EvaluationResults {
			out[p.Key()] = Decision(r.EvalDecision)
		}
	}
	return out, ""
}

func (c *Checker) readAccessPoint(ctx context.Context, in Input) (*AccessPoint, error) {
	account := in.account()
	out, err := c.s3control().GetAccessPoint(ctx, &s3control.GetAccessPointInput{AccountId: &account, Name: &in.AccessPointName})
	if err != nil {
		return nil, err
	}
	ap := &AccessPoint{Name: aws.ToString(out.Name), ARN: aws.ToString(out.AccessPointArn), Bucket: aws.ToString(out.Bucket),
		NetworkOrigin: string(out.NetworkOrigin)}
	if b := out.PublicAccessBlockConfiguration; b != nil {
		ap.PublicAccessBlock = [4]bool{aws.ToBool(b.BlockPublicAcls), aws.ToBool(b.IgnorePublicAcls),
			aws.ToBool(b.BlockPublicPolicy), aws.ToBool(b.RestrictPublicBuckets)}
	}
	return ap, nil
}

// readBucketPolicy returns the bucket policy, nil when the bucket has none.
func readBucketPolicy(ctx context.Context, s3c *s3.Client, bucket string) (*Policy, error) {
	out, err := s3c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &bucket})
	if awserr.Code(err) == "NoSuchBucketPolicy" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p, err := ParsePolicy(aws.ToString(out.Policy))
	if err != nil {
		return nil, fmt.Errorf("bucket policy: %w", err)
	}
	return &p, nil
}

// readAccessPointPolicy returns the access point policy, nil when it has none.
func (c *Checker) readAccessPointPolicy(ctx context.Context, in Input) (*Policy, error) {
	account := in.account()
	out, err := c.s3control().GetAccessPointPolicy(ctx, &s3control.GetAccessPointPolicyInput{AccountId: &account, Name: &in.AccessPointName})
	if code := awserr.Code(err); code == "NoSuchAccessPointPolicy" || code == "NoSuchAccessPoint" {
		return nil, nil // a missing access point is access-point's failure
	}
	if err != nil {
		return nil, err
	}
	p, err := ParsePolicy(aws.ToString(out.Policy))
	if err != nil {
		return nil, fmt.Errorf("access point policy: %w", err)
	}
	return &p, nil
}

// httpClient is what the vendor-side preflight sends its OPTIONS request with.
func (c *Checker) httpClient() aws.HTTPClient {
	if c.cfg.HTTPClient != nil {
		return c.cfg.HTTPClient
	}
	return http.DefaultClient
}
