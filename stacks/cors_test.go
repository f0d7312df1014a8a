package stacks

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

var corsResources = map[string]string{
	BucketCorsID:           BucketCorsType,
	CorsFunctionID:         "AWS::Lambda::Function",
	CorsFunctionRoleID:     "AWS::IAM::Role",
	CorsFunctionBucketID:   "AWS::IAM::RolePolicy",
	CorsFunctionLogGroupID: "AWS::Logs::LogGroup",
	CorsFunctionNoRetryID:  "AWS::Lambda::EventInvokeConfig",
}

func TestCorsResourcesExistOnlyWhenManaged(t *testing.T) {
	rt := parse(t, mustJSON(t, example()))
	for id, typ := range corsResources {
		r, ok := rt.Resources[id]
		if !ok || r.Type != typ {
			t.Errorf("resource %s: got %q, want %s", id, r.Type, typ)
		}
		if r.Condition != ManagesCors.Name {
			t.Errorf("resource %s has condition %q, want %s so that ManageCors=false removes it", id, r.Condition, ManagesCors.Name)
		}
	}
	// ManageCors=false, as CloudFormation evaluates it: none of them exists.
	off := example()
	off.ManageCORS = false
	res := evaluate(t, off, "eu-west-3", "111122223333")
	var ids []string
	for id := range res {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if want := []string{AccessPointID, ReadPolicyID, VendorRoleID}; !slices.Equal(ids, want) {
		t.Errorf("with ManageCors=false the stack creates %v, want %v", ids, want)
	}
	on := evaluate(t, example(), "eu-west-3", "111122223333")
	if len(on) != 3+len(corsResources) {
		t.Errorf("with ManageCors=true the stack creates %d resources, want %d", len(on), 3+len(corsResources))
	}
}

func TestCorsFunction(t *testing.T) {
	res := evaluate(t, example(), "eu-west-3", "111122223333")
	fn := res[CorsFunctionID]["Properties"].(map[string]any)
	if fn["Runtime"] != "python3.12" || fn["Handler"] != "index.handler" {
		t.Errorf("runtime %v handler %v", fn["Runtime"], fn["Handler"])
	}
	code := fn["Code"].(map[string]any)["ZipFile"].(string)
	if code != corsFunctionSource || !strings.Contains(code, "def handler(event, context)") {
		t.Error("the function's inline code is not stacks/lambda/cors.py")
	}
	if fn["Role"] != "<"+CorsFunctionRoleID+".Arn>" {
		t.Errorf("function role = %v", fn["Role"])
	}
	if fn["LoggingConfig"].(map[string]any)["LogGroup"] != "<"+CorsFunctionLogGroupID+">" {
		t.Error("the function must log to its own log group")
	}
	if timeout, _ := fn["Timeout"].(float64); timeout < 30 || timeout > 300 {
		t.Errorf("timeout %v s: the handler needs time to retry yet must answer CloudFormation quickly", fn["Timeout"])
	}
}

// The function's role may read and write the CORS configuration of this one bucket and write
// its own logs: exactly that.
func TestCorsFunctionPermissions(t *testing.T) {
	res := evaluate(t, example(), "eu-west-3", "111122223333")
	role := res[CorsFunctionRoleID]["Properties"].(map[string]any)
	trust := compactJSON(t, role["AssumeRolePolicyDocument"])
	if want := `{"Statement":[{"Action":["sts:AssumeRole"],"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"}}],"Version":"2012-10-17"}`; trust != want {
		t.Errorf("function role trust = %s", trust)
	}
	inline := compactJSON(t, role["Policies"])
	if want := `[{"PolicyDocument":{"Statement":[{"Action":["logs:CreateLogStream","logs:PutLogEvents"],"Effect":"Allow","Resource":["<CorsFunctionLogGroup.Arn>"]}],"Version":"2012-10-17"},"PolicyName":"write-own-log-group"}]`; inline != want {
		t.Errorf("function role inline policies = %s", inline)
	}
	bucket := res[CorsFunctionBucketID]["Properties"].(map[string]any)
	if bucket["RoleName"] != "<"+CorsFunctionRoleID+">" || bucket["PolicyName"] != "s3grant-cors-my-bucket" {
		t.Errorf("bucket policy attached to %v named %v", bucket["RoleName"], bucket["PolicyName"])
	}
	got := compactJSON(t, bucket["PolicyDocument"])
	want := `{"Statement":[{"Action":["s3:GetBucketCORS","s3:PutBucketCORS"],"Effect":"Allow","Resource":["arn:aws:s3:::my-bucket"],"Sid":"ReadAndMergeTheBucketCorsRules"}],"Version":"2012-10-17"}`
	if got != want {
		t.Errorf("function bucket policy = %s", got)
	}
}

func TestBucketCorsProperties(t *testing.T) {
	res := evaluate(t, example(), "eu-west-3", "111122223333")
	cr := res[BucketCorsID]
	props := cr["Properties"].(map[string]any)
	want := map[string]any{
		"ServiceToken":   "<CorsFunction.Arn>",
		"BucketName":     "my-bucket",
		"VendorId":       "isahit-lab",
		"AllowedOrigins": []any{"https://lab.isahit.com", "https://work.isahit.com"},
		"AllowedMethods": []any{"GET"},
		"AllowedHeaders": []any{"*"},
		// Empty until the first --repair-cors; its change alone makes CloudFormation call the
		// function again.
		"RepairToken": "",
	}
	if !reflect.DeepEqual(props, want) {
		t.Errorf("custom resource properties:\n got %v\nwant %v", props, want)
	}
	// Its bucket permissions exist before it is created and until after it is deleted, and so
	// does the no-retry setting of its function.
	if deps, _ := cr["DependsOn"].([]any); len(deps) != 2 || deps[0] != CorsFunctionBucketID || deps[1] != CorsFunctionNoRetryID {
		t.Errorf("the custom resource depends on %v", cr["DependsOn"])
	}
	retry := res[CorsFunctionNoRetryID]["Properties"].(map[string]any)
	if retry["FunctionName"] != "<"+CorsFunctionID+">" || retry["MaximumRetryAttempts"] != float64(0) {
		t.Errorf("the function must never be retried by Lambda: %v", retry)
	}
	if _, ok := cr["Version"]; ok {
		t.Error("the custom resource carries goformation's empty Version attribute")
	}
	desc, _ := cr["Metadata"].(map[string]any)["Description"].(string)
	if !strings.Contains(desc, "my-bucket") || !strings.Contains(desc, "never touches") {
		t.Errorf("the custom resource does not say what it does and never does: %q", desc)
	}
}

// compactJSON is v as sorted, compact JSON without HTML escaping, for exact comparisons.
func compactJSON(t *testing.T, v any) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(b.String())
}

func TestCorsManagedOutput(t *testing.T) {
	rt := parse(t, mustJSON(t, example()))
	if v, _ := json.Marshal(rt.Outputs["CorsManaged"]["Value"]); string(v) != `{"Ref":"ManageCors"}` {
		t.Errorf("CorsManaged output = %s", v)
	}
}

// The vendor's rule has exactly the IDs the CORS function writes (s3grant:VENDOR:NAME:UUID) or
// older templates wrote (VENDOR-NAME-UUID), read from the stack's ID.
func TestCORSRuleIDs(t *testing.T) {
	const uuid = "6f0e2a40-0f4b-11ef-9a6f-0a1b2c3d4e5f"
	cases := map[string][]string{
		"arn:aws:cloudformation:eu-west-3:111122223333:stack/lab/" + uuid:     {"s3grant:isahit-lab:lab:" + uuid, "isahit-lab-lab-" + uuid},
		"arn:aws-cn:cloudformation:cn-north-1:111122223333:stack/a-b/" + uuid: {"s3grant:isahit-lab:a-b:" + uuid, "isahit-lab-a-b-" + uuid},
		"lab": nil,
		"arn:aws:cloudformation:eu-west-3:111122223333:stackset/lab:" + uuid: nil,
		"arn:aws:cloudformation:eu-west-3:111122223333:stack/lab":            nil,
		"arn:aws:iam::111122223333:stack/lab/" + uuid:                        nil,
	}
	for stackID, want := range cases {
		if got := CORSRuleIDs("isahit-lab", stackID); !slices.Equal(got, want) {
			t.Errorf("CORSRuleIDs(%q) = %q, want %q", stackID, got, want)
		}
	}
}
