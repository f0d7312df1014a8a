package stacks

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/iam"
	"github.com/awslabs/goformation/v7/cloudformation/lambda"
	"github.com/awslabs/goformation/v7/cloudformation/logs"

	"github.com/isahit/s3grant/internal/arn"
)

// Logical IDs of the CORS custom resource and what runs it; all exist only when ManageCors.
const (
	BucketCorsID           = "BucketCors"
	CorsFunctionID         = "CorsFunction"
	CorsFunctionRoleID     = "CorsFunctionRole"
	CorsFunctionBucketID   = "CorsFunctionBucketAccess"
	CorsFunctionLogGroupID = "CorsFunctionLogGroup"
	CorsFunctionNoRetryID  = "CorsFunctionNoRetry"
)

// BucketCorsType is the custom resource type that keeps the vendor's CORS rule in the bucket.
const BucketCorsType = "Custom::BucketCors"

// corsFunctionSource is the Lambda handler, embedded in the template inline (ZipFile), so the
// template needs no code bucket and the code a customer deploys is the code they can read.
//
//go:embed lambda/cors.py
var corsFunctionSource string

// corsLogRetentionDays is how long the function's log group keeps its logs.
const corsLogRetentionDays = 30

// corsTimeoutSeconds bounds one invocation; the handler answers CloudFormation before it.
const corsTimeoutSeconds = 60

// corsWhatItDoes is said in the template wherever the custom resource appears.
const corsWhatItDoes = "Adds %s's CORS rule to bucket ${BucketName}, keeping every rule already there exactly as it was, " +
	"and on stack deletion removes only that rule. It never touches the bucket's objects or any other setting."

// CorsFunctionPolicy is what the CORS function may do to the bucket: read and write its CORS
// configuration, nothing else.
func CorsFunctionPolicy() Document {
	return Document{Version: "2012-10-17", Statement: []Statement{{
		Sid: "ReadAndMergeTheBucketCorsRules", Effect: "Allow",
		// DeleteBucketCors, used only when our rule was the last one, is authorised by s3:PutBucketCORS.
		Action:   []string{"s3:GetBucketCORS", "s3:PutBucketCORS"},
		Resource: []string{bucketARN},
	}}}
}

// addCORS adds the CORS custom resources (one per bucket, so removing a bucket removes only its
// rule), the one function they all call, the function's role, log group and bucket policies.
func addCORS(t *cloudformation.Template, in Integration, plan *shapePlan) error {
	cond := ManagesCors.Name
	bucketPolicy, err := CorsFunctionPolicy().templateValue()
	if err != nil {
		return err
	}

	t.Resources[CorsFunctionLogGroupID] = &logs.LogGroup{
		RetentionInDays:            cloudformation.Int(corsLogRetentionDays),
		AWSCloudFormationCondition: cond,
	}
	t.Resources[CorsFunctionRoleID] = &iam.Role{
		Description: cloudformation.String("Runs the s3grant function that merges the vendor's CORS rule into the bucket."),
		AssumeRolePolicyDocument: map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
			"Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"}, "Action": []string{"sts:AssumeRole"},
		}}},
		Policies: []iam.Role_Policy{{
			PolicyName: "write-own-log-group",
			PolicyDocument: map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
				"Effect": "Allow", "Action": []string{"logs:CreateLogStream", "logs:PutLogEvents"},
				"Resource": []string{cloudformation.GetAtt(CorsFunctionLogGroupID, "Arn")},
			}}},
		}},
		AWSCloudFormationCondition: cond,
	}
	// The bucket permissions are a policy of their own whose name carries the bucket: when the
	// bucket changes, CloudFormation creates the new policy before the update and deletes the old
	// one only after the old rule is removed from the old bucket.
	t.Resources[CorsFunctionBucketID] = &iam.RolePolicy{
		PolicyName:                 cloudformation.Sub("s3grant-cors-${BucketName}"),
		RoleName:                   cloudformation.Ref(CorsFunctionRoleID),
		PolicyDocument:             bucketPolicy,
		AWSCloudFormationCondition: cond,
	}
	t.Resources[CorsFunctionID] = &lambda.Function{
		Description:                cloudformation.String(fmt.Sprintf("s3grant: keeps %s's CORS rule in the bucket; never touches other rules.", in.Vendor.Name)),
		Runtime:                    cloudformation.String("python3.12"),
		Handler:                    cloudformation.String("index.handler"),
		Code:                       &lambda.Function_Code{ZipFile: cloudformation.String(corsFunctionSource)},
		Role:                       cloudformation.GetAtt(CorsFunctionRoleID, "Arn"),
		Timeout:                    cloudformation.Int(corsTimeoutSeconds),
		MemorySize:                 cloudformation.Int(128),
		LoggingConfig:              &lambda.Function_LoggingConfig{LogGroup: cloudformation.RefPtr(CorsFunctionLogGroupID)},
		AWSCloudFormationCondition: cond,
	}
	// CloudFormation invokes the function asynchronously; a Lambda retry after a crash could
	// replay a Create after the rollback's Delete and leave the rule behind. The handler answers
	// every event itself, so retries only do harm.
	t.Resources[CorsFunctionNoRetryID] = &lambda.EventInvokeConfig{
		FunctionName:               cloudformation.Ref(CorsFunctionID),
		Qualifier:                  "$LATEST",
		MaximumRetryAttempts:       cloudformation.Int(0),
		AWSCloudFormationCondition: cond,
	}
	t.Resources[BucketCorsID] = &customResource{
		Type:       BucketCorsType,
		Properties: in.corsProperties(cloudformation.Ref("BucketName")),
		DependsOn:  []string{CorsFunctionBucketID, CorsFunctionNoRetryID},
		Condition:  cond,
		Metadata:   map[string]any{"Description": cloudformation.Sub(fmt.Sprintf(corsWhatItDoes, in.Vendor.Name))},
	}
	// The buckets after the first: their permissions are managed policies (a role's inline
	// policies share 10,240 characters, too few for 200 buckets), named by the buckets they
	// cover (corsPolicyID), and each bucket's rule depends on the policy that covers it.
	for n, pp := range plan.cors {
		doc, err := pp.Document.templateValue()
		if err != nil {
			return err
		}
		t.Resources[plan.corsPolicyIDs[n]] = &iam.ManagedPolicy{
			Description:                cloudformation.String("Lets the s3grant CORS function read and write the CORS configuration of these buckets; nothing else."),
			PolicyDocument:             doc,
			Roles:                      []string{cloudformation.Ref(CorsFunctionRoleID)},
			AWSCloudFormationCondition: cond,
		}
	}
	for i, b := range plan.buckets {
		if i == 0 {
			continue // the first bucket's rule is BucketCorsID, above
		}
		t.Resources[plan.corsIDs[i]] = &customResource{
			Type:       BucketCorsType,
			Properties: in.corsProperties(b.Name),
			DependsOn:  []string{plan.corsPolicyOf[b.Name], CorsFunctionNoRetryID},
			Condition:  cond,
		}
	}
	return nil
}

// corsProperties are the properties of one bucket's Custom::BucketCors: the bucket, and the
// vendor's rule, the same for every bucket.
func (in Integration) corsProperties(bucket string) map[string]any {
	rule := in.CORSRule()
	props := map[string]any{
		"ServiceToken": cloudformation.GetAtt(CorsFunctionID, "Arn"),
		"BucketName":   bucket,
		// The function makes the rule's ID from this and the stack's ID (the one place its form,
		// s3grant:VENDOR:STACK-NAME:STACK-UUID, is written: stacks/lambda/cors.py). One stack's
		// rules on several buckets share the ID: a bucket holds one rule of the stack.
		"VendorId":       in.Vendor.ID,
		"AllowedOrigins": cloudformation.Split(",", cloudformation.Ref("AllowedOrigins")),
		"AllowedMethods": rule.AllowedMethods,
		"AllowedHeaders": rule.AllowedHeaders,
		// The function ignores it; changing it is what makes CloudFormation call the function
		// again with the same rule (s3grant deploy --repair-cors), which puts the rule back.
		"RepairToken": cloudformation.Ref("CorsRepairToken"),
	}
	if len(rule.ExposeHeaders) > 0 {
		props["ExposeHeaders"] = rule.ExposeHeaders
	}
	if rule.MaxAgeSeconds > 0 {
		props["MaxAgeSeconds"] = strconv.Itoa(rule.MaxAgeSeconds)
	}
	return props
}

// customResource is a custom resource as CloudFormation expects it. goformation's own type
// always writes "Version": "", which is not a custom resource attribute; this one writes only
// what is set.
type customResource struct {
	Type       string
	Properties map[string]any
	DependsOn  []string
	Condition  string
	Metadata   map[string]any
}

func (r *customResource) AWSCloudFormationType() string { return r.Type }

func (r *customResource) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type       string
		Properties map[string]any
		DependsOn  []string       `json:"DependsOn,omitempty"`
		Condition  string         `json:"Condition,omitempty"`
		Metadata   map[string]any `json:"Metadata,omitempty"`
	}{r.Type, r.Properties, r.DependsOn, r.Condition, r.Metadata})
}

// CORSRuleIDs are the IDs the vendor's CORS rule may have on the bucket of the stack with this
// ID (arn:...:stack/NAME/UUID): s3grant:VENDOR:NAME:UUID, which the CORS function writes, and
// VENDOR-NAME-UUID, which templates before the reserved s3grant: prefix wrote (the function
// replaces it on the stack's next update). Only these exact IDs are the stack's rule: another
// stack's rule (NAME-2, another UUID) is not. nil when stackID is not a stack ARN.
// stacks/lambda/cors.py (managed_rule_id, is_ours) is where the function makes and matches them.
func CORSRuleIDs(vendorID, stackID string) []string {
	a, err := arn.Parse(stackID)
	kind, rest, _ := strings.Cut(a.Resource, "/")
	name, uuid, ok := strings.Cut(rest, "/")
	if err != nil || a.Service != "cloudformation" || kind != "stack" || !ok || name == "" || uuid == "" {
		return nil
	}
	return []string{"s3grant:" + vendorID + ":" + name + ":" + uuid, vendorID + "-" + name + "-" + uuid}
}
