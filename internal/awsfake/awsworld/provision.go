package awsworld

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/isahit/s3grant/internal/awsfake/s3fake"
	"github.com/isahit/s3grant/internal/cfneval"
)

// templateObject reads the object a TemplateURL names, virtual-hosted
// (https://BUCKET.s3.REGION.amazonaws.com/KEY) or path style (https://s3.REGION.amazonaws.com/BUCKET/KEY).
func (w *World) templateObject(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" {
		return "", fmt.Errorf("TemplateURL must be an Amazon S3 URL: %s", raw)
	}
	bucket, key := "", strings.TrimPrefix(u.Path, "/")
	if host := u.Hostname(); strings.HasPrefix(host, "s3.") || strings.HasPrefix(host, "s3-") {
		bucket, key, _ = strings.Cut(key, "/")
	} else if b, _, ok := strings.Cut(host, ".s3."); ok {
		bucket = b
	}
	key, _ = url.PathUnescape(key)
	data, _, ok := w.S3.Object(bucket, key)
	if !ok {
		return "", fmt.Errorf("Access Denied or no such object: s3://%s/%s", bucket, key)
	}
	return string(data), nil
}

// Provision makes in the IAM and S3 fakes what CloudFormation's resource handlers make for the
// stack's resources, as its template and parameters say: the vendor role with its trust policy
// and its managed policies, every access point, and each Custom::BucketCors rule merged into its
// bucket's CORS configuration (the CORS function's documented effect). The CloudFormation fake
// only tracks resource states; this lets verify check a deployed stack end to end.
//
// region is the stack's region, where its access points are made (AWS::Region of its template);
// a stack made in another region is a test's mistake. A stack that attaches to another stack's
// role (no VendorRole of its own) attaches its policies to the role its RoleArn output names,
// which must exist, as IAM requires.
func (w *World) Provision(tb testing.TB, stackName, region string) {
	tb.Helper()
	st, ok := w.CFN.Stack(stackName)
	if !ok {
		tb.Fatalf("no stack %s", stackName)
	}
	if got := strings.Split(st.ID, ":"); len(got) < 4 || got[3] != region {
		tb.Fatalf("stack %s was made in another region than %s: %s", stackName, region, st.ID)
	}
	stackUUID := st.ID[strings.LastIndex(st.ID, "/")+1:]
	ev, err := cfneval.Parse([]byte(st.Body), st.Parameters, map[string]string{"AWS::Region": region, "AWS::AccountId": CustomerAccount,
		"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": st.Name, "AWS::StackId": st.ID})
	if err != nil {
		tb.Fatal(err)
	}
	var t struct {
		Resources map[string]struct {
			Type       string
			Condition  string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal([]byte(st.Body), &t); err != nil {
		tb.Fatal(err)
	}
	props := func(id string) map[string]any {
		v, err := ev.Eval(t.Resources[id].Properties)
		if err != nil {
			tb.Fatalf("%s: %v", id, err)
		}
		m, _ := v.(map[string]any)
		return m
	}
	roleARN := st.Outputs["RoleArn"]
	role := roleARN[strings.LastIndex(roleARN, "/")+1:]
	for id, r := range t.Resources {
		if r.Type == "AWS::IAM::Role" && strings.HasPrefix(id, "VendorRole") {
			w.PutTemplateRole(role, props(id))
		}
	}
	for id, r := range t.Resources {
		if !ev.Condition(r.Condition) {
			continue
		}
		switch r.Type {
		case "AWS::IAM::ManagedPolicy":
			if !strings.HasPrefix(id, "ReadPolicy") {
				continue // the CORS function's own
			}
			if err := w.IAM.AttachRolePolicy(role, w.IAM.CreatePolicy(st.Name+"-"+id, Doc(props(id)["PolicyDocument"]))); err != nil {
				tb.Fatalf("%s: %v", id, err)
			}
		case "AWS::S3::AccessPoint":
			p := props(id)
			w.S3.PutAccessPoint(s3fake.AccessPoint{Name: p["Name"].(string), Account: CustomerAccount, Region: region,
				Bucket: p["Bucket"].(string), PublicAccessBlock: [4]bool{true, true, true, true}})
		case "Custom::BucketCors":
			p := props(id)
			b := w.S3.Bucket(p["BucketName"].(string)) // a copy
			if b == nil {
				tb.Fatalf("%s: no bucket %v", id, p["BucketName"])
			}
			rule := s3fake.CORSRule{ID: "s3grant:" + p["VendorId"].(string) + ":" + st.Name + ":" + stackUUID,
				AllowedOrigins: strs(p["AllowedOrigins"]), AllowedMethods: strs(p["AllowedMethods"]), AllowedHeaders: strs(p["AllowedHeaders"])}
			b.CORS = append(b.CORS, rule)
			w.S3.PutBucket(*b)
		}
	}
}

// PutTemplateRole makes the role an AWS::IAM::Role resource's resolved properties describe: its
// trust policy and exactly the Tags the template gives it. CloudFormation adds none of its
// aws:cloudformation:* tags to IAM roles (unlike most resources that take tags), so a role
// made by a stack carries nothing else naming the stack.
func (w *World) PutTemplateRole(name string, props map[string]any) {
	w.IAM.PutRole(name, Doc(props["AssumeRolePolicyDocument"]))
	tags, _ := props["Tags"].([]any)
	for _, t := range tags {
		kv, _ := t.(map[string]any)
		w.IAM.TagRole(name, fmt.Sprint(kv["Key"]), fmt.Sprint(kv["Value"]))
	}
}

func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	return out
}
