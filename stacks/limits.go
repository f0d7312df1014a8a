package stacks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/isahit/s3grant/internal/partition"
	"github.com/isahit/s3grant/internal/rules"
)

// AWS limits an integration must stay within (IAM and CloudFormation quotas). Each is written
// here once; the packer and the size checks read them.
const (
	// MaxManagedPolicyChars is IAM's limit for a managed policy document, whitespace not counted.
	MaxManagedPolicyChars = 6144
	// MaxTrustPolicyChars is IAM's default limit for a role's trust policy (4,096 on request).
	MaxTrustPolicyChars = 2048
	// ManagedPoliciesPerRole is IAM's default quota of managed policies attached to one role;
	// RaisedManagedPoliciesPerRole is the most a quota increase gives.
	ManagedPoliciesPerRole       = 10
	RaisedManagedPoliciesPerRole = 20
	// MaxStackResources is CloudFormation's limit of resources in one stack.
	MaxStackResources = 500
	// MaxStackOutputs is CloudFormation's limit of outputs in one template.
	MaxStackOutputs = 200
	// MaxS3TemplateBytes is the largest template CloudFormation reads from S3 (TemplateURL):
	// 1 MB, taken as 1,000,000 bytes so a template near the edge is never sent only to be refused.
	MaxS3TemplateBytes = 1_000_000
)

// Sizing holds the values CloudFormation substitutes for the pseudo parameters before IAM
// measures a policy, so sizes are those of the policy IAM receives.
type Sizing map[string]string

// WorstCase resolves every pseudo parameter to its longest value, so a policy that fits at
// WorstCase fits in every partition, region and account: the longest partition ID and URL
// suffix of internal/partition (aws-us-gov, amazonaws.com.cn today), a 12-digit account and a
// 16-character region, two more than the longest region codes today (ap-southeast-4,
// us-isob-east-1: 14), to leave room for regions to come.
var WorstCase = worstCase()

func worstCase() Sizing {
	var id, suffix string
	for _, p := range partition.All() {
		if len(p.ID) > len(id) {
			id = p.ID
		}
		if len(p.DNSSuffix) > len(suffix) {
			suffix = p.DNSSuffix
		}
	}
	return Sizing{
		"AWS::Partition": id,
		"AWS::Region":    "xx-xxxxxxxxxxx-9",
		"AWS::AccountId": "123456789012",
		"AWS::URLSuffix": suffix,
	}
}

// SizingFor is the exact sizing for one region and account, for a stack whose region is known.
func SizingFor(region, accountID string) Sizing { return Sizing(PseudoValues(region, accountID)) }

// PolicyChars is the size IAM counts for the document: the JSON CloudFormation sends after
// resolving the pseudo parameters with s, whitespace not counted. Spaces inside strings (a
// prefix may hold some) are counted: whether IAM counts them is not documented, and counting
// them can only err on the safe side. vals gives the values of any
// template parameters the document references (nil when it references none).
func PolicyChars(d Document, s Sizing, vals map[string]string) (int, error) {
	all := make(map[string]string, len(s)+len(vals))
	for k, v := range vals {
		all[k] = v
	}
	for k, v := range s {
		all[k] = v
	}
	resolved, err := d.Resolve(all)
	if err != nil {
		return 0, err
	}
	body, err := iamJSON(resolved)
	if err != nil {
		return 0, err
	}
	return utf8.RuneCount(body), nil
}

// iamJSON is v as JSON without insignificant whitespace and without HTML escaping (which
// would turn one character into six).
func iamJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// A LimitError is a request that cannot fit in an AWS limit: it names the limit, the most it
// allows and what the request needs. It wraps a *rules.InvalidError naming Field, so the CLI
// treats it as bad input (one line, exit 2, nothing changed).
type LimitError struct {
	// Limit names the limit, e.g. "IAM managed policies per role".
	Limit string
	Max   int
	Need  int
	// Field is the model's field the request came through (FieldBuckets, a parameter name).
	Field string
	// Hint says what to do about it.
	Hint string
}

func (e *LimitError) Error() string { return e.invalid().Error() }

// Unwrap lets errors.As find the *rules.InvalidError the CLI maps to exit code 2.
func (e *LimitError) Unwrap() error { return e.invalid() }

func (e *LimitError) invalid() *rules.InvalidError {
	reason := fmt.Sprintf("the request needs %d but %s allows %d", e.Need, e.Limit, e.Max)
	if e.Hint != "" {
		reason += ": " + e.Hint
	}
	return &rules.InvalidError{Field: e.Field, Reason: reason}
}

// CheckTrustPolicy checks the role's trust policy against IAM's 2,048 characters, with the
// template parameters it references (the external IDs) at their given values.
func CheckTrustPolicy(d Document, s Sizing, vals map[string]string) error {
	n, err := PolicyChars(d, s, vals)
	if err != nil {
		return err
	}
	if n > MaxTrustPolicyChars {
		return &LimitError{Limit: "IAM's role trust policy size (characters)", Max: MaxTrustPolicyChars, Need: n,
			Field: "ExternalId", Hint: "use shorter external IDs (a UUID is 36 characters), or ask AWS to raise the trust policy quota to 4,096"}
	}
	return nil
}

// Delivery is how deploy sends a template to CloudFormation.
type Delivery int

const (
	// Inline sends the template in the request (TemplateBody).
	Inline Delivery = iota
	// ThroughS3 uploads it to a bucket first (TemplateURL): it is over the inline limit.
	ThroughS3
)

// TemplateDelivery says how a template of size bytes reaches CloudFormation: inline up to
// 51,200 bytes, through S3 up to 1 MB, and beyond that not at all (a *LimitError).
func TemplateDelivery(size int) (Delivery, error) {
	switch {
	case size <= MaxInlineTemplateBytes:
		return Inline, nil
	case size <= MaxS3TemplateBytes:
		return ThroughS3, nil
	}
	return 0, &LimitError{Limit: "CloudFormation's template size through S3 (bytes)", Max: MaxS3TemplateBytes, Need: size,
		Field: bucketFlag, Hint: "split the buckets across integrations"}
}

// Resource and output counts of one integration's stack; the logical IDs are those of the
// one-bucket template (template.go, cors.go).
const (
	// fixedResources: VendorRole.
	fixedResources = 1
	// corsFixedResources: CorsFunction, CorsFunctionRole, CorsFunctionLogGroup, CorsFunctionNoRetry.
	corsFixedResources = 4
	// perBucketResources: the bucket's AccessPoint; perBucketCorsResources: its BucketCors rule.
	// One CORS function serves every bucket; each bucket's rule is its own custom resource, so
	// removing a bucket removes only its rule.
	perBucketResources     = 1
	perBucketCorsResources = 1
)

// StackShape is what one stack holds, to count its resources before building it.
type StackShape struct {
	Buckets int
	// ReadPolicies is the number of the vendor role's managed policies in the stack;
	// CorsPolicies the number of the CORS function's bucket policies.
	ReadPolicies, CorsPolicies int
	ManageCORS                 bool
}

// Resources counts the stack's resources.
func (s StackShape) Resources() int {
	n := fixedResources + s.ReadPolicies + s.Buckets*perBucketResources
	if s.ManageCORS {
		n += corsFixedResources + s.CorsPolicies + s.Buckets*perBucketCorsResources
	}
	return n
}

// Check refuses a stack over CloudFormation's 500 resources.
func (s StackShape) Check() error {
	if n := s.Resources(); n > MaxStackResources {
		return &LimitError{Limit: "CloudFormation's resources per stack", Max: MaxStackResources, Need: n,
			Field: bucketFlag, Hint: fmt.Sprintf("%d buckets need %d resources; split the buckets across integrations", s.Buckets, n)}
	}
	return nil
}
