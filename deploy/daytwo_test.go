package deploy_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/isahit/s3grant/deploy"
	"github.com/isahit/s3grant/stacks"
)

// given is a deploy that sets only the named parameters, as the CLI does for the flags the
// user typed: the template is built from the vendor's defaults for everything else.
func given(t *testing.T, values map[string]string) deploy.Request {
	t.Helper()
	req := request(t, nil)
	req.Parameters = values
	return req
}

// Every parameter not given keeps the stack's value: adding a KMS key keeps a custom access
// point name (so the access point is not replaced) and CORS management off.
func TestUpdateKeepsPreviousValues(t *testing.T) {
	e := newEnv(t)
	custom := request(t, func(in *stacks.Integration) {
		in.AccessPointName, in.ManageCORS, in.RoleName = "second-ap", false, "reader"
	})
	ctx := context.Background()
	if _, err := e.engine(nil, answers(new([]deploy.Question), deploy.AskExecute)).Deploy(ctx, custom); err != nil {
		t.Fatal(err)
	}
	before, _ := e.fake.Stack(stackName)
	const key = "arn:aws:kms:eu-west-3:123456789012:key/k-1"
	var asked []deploy.Question
	res, err := e.engine(nil, answers(&asked, deploy.AskExecute)).Deploy(ctx, given(t, map[string]string{"KmsKeyArn": key}))
	if err != nil {
		t.Fatal(err)
	}
	after, _ := e.fake.Stack(stackName)
	want := stacks.Overlay(before.Parameters, map[string]string{"KmsKeyArn": key})
	if !equal(after.Parameters, want) {
		t.Fatalf("parameters after the update:\n got %v\nwant %v", after.Parameters, want)
	}
	p := asked[0].Preview
	if len(asked) != 1 || len(p.VendorChanges) != 0 {
		t.Fatalf("adding a key asked %d questions, vendor changes %+v", len(asked), p.VendorChanges)
	}
	if got := changes(p); !slices.Equal(got, []string{"Modify ReadPolicy replace=False [PolicyDocument]"}) {
		t.Fatalf("changes %v", got)
	}
	if !slices.Equal(p.Parameters, []deploy.ParameterChange{{Name: "KmsKeyArn", Old: "", New: key}}) {
		t.Fatalf("parameter changes %+v", p.Parameters)
	}
	if p.OldVersion != stacks.TemplateVersion || p.NewVersion != stacks.TemplateVersion || p.NewValues["AccessPointName"] != "second-ap" {
		t.Fatalf("versions %q → %q, new values %v", p.OldVersion, p.NewVersion, p.NewValues)
	}
	if res.Outcome != deploy.Updated || outputs(res)["AccessPointArn"] != before.Outputs["AccessPointArn"] {
		t.Fatalf("%v: access point %s, was %s", res.Outcome, outputs(res)["AccessPointArn"], before.Outputs["AccessPointArn"])
	}

	// Nothing given at all: the current template with the stack's values, nothing to do.
	res, err = e.engine(nil, answers(&asked, deploy.AskExecute)).Deploy(ctx, given(t, nil))
	if err != nil || res.Outcome != deploy.NoChanges {
		t.Fatalf("re-apply: %v %+v", err, res)
	}
}

// A stack made by the v1 template upgrades to this one keeping its values; the parameters
// new in this version take their defaults, and the preview names both versions.
func TestUpgradeFromV1(t *testing.T) {
	e := newEnv(t)
	v1, err := os.ReadFile("testdata/v1-example.json")
	if err != nil {
		t.Fatal(err)
	}
	old := deploy.Request{StackName: stackName, TemplateBody: v1,
		Parameters: map[string]string{"BucketName": "my-bucket", "ExternalId": externalID, "AccessPointName": "second-ap"}}
	ctx := context.Background()
	if _, err := e.engine(nil, answers(new([]deploy.Question), deploy.AskExecute)).Deploy(ctx, old); err != nil {
		t.Fatal(err)
	}
	var asked []deploy.Question
	if _, err := e.engine(nil, answers(&asked, deploy.AskExecute)).Deploy(ctx, given(t, nil)); err != nil {
		t.Fatal(err)
	}
	p := asked[0].Preview
	if p.OldVersion != "v1" || p.NewVersion != stacks.TemplateVersion || len(p.Parameters) != 0 || len(p.VendorChanges) != 0 {
		t.Fatalf("upgrade preview: %q → %q, parameters %+v, vendor changes %+v", p.OldVersion, p.NewVersion, p.Parameters, p.VendorChanges)
	}
	st, _ := e.fake.Stack(stackName)
	if st.Parameters["AccessPointName"] != "second-ap" || st.Parameters["NextExternalId"] != "" || st.Outputs["LiveExternalIds"] != externalID {
		t.Fatalf("after the upgrade: %v %v", st.Parameters, st.Outputs)
	}
}

// The model guards what the change set may not show as a replacement: a new bucket moves the
// integration (and replaces the access point), and both are said before asking twice.
func TestMovingToAnotherBucketAsksTwice(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.engine(nil, answers(new([]deploy.Question), deploy.AskExecute)).Deploy(ctx, request(t, nil)); err != nil {
		t.Fatal(err)
	}
	var asked []deploy.Question
	_, err := e.engine(nil, answers(&asked, deploy.AskExecute)).Deploy(ctx, given(t, map[string]string{"BucketName": "other-bucket"}))
	if !errors.Is(err, deploy.ErrDeclined) || len(asked) != 2 || asked[1].Kind != deploy.AskReplace {
		t.Fatalf("%v, %d questions", err, len(asked))
	}
	vc := asked[1].Preview.VendorChanges
	if len(vc) != 1 || vc[0].Param != "BucketName" || !strings.Contains(vc[0].Tell, "moves from bucket my-bucket to other-bucket") {
		t.Fatalf("vendor changes %+v", vc)
	}
	if st, _ := e.fake.Stack(stackName); st.Parameters["BucketName"] != "my-bucket" || len(st.ChangeSets) != 0 {
		t.Fatalf("declined, yet %v, change sets %v", st.Parameters, st.ChangeSets)
	}
}

// NoExecute keeps the change set for someone else to review and changes nothing; RoleARN
// runs the operations as a service role; Delete reports what the vendor held.
func TestNoExecuteRoleARNAndDelete(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const role = "arn:aws:iam::123456789012:role/cfn-deployer"
	req := request(t, nil)
	req.RoleARN = role
	if _, err := e.engine(nil, answers(new([]deploy.Question), deploy.AskExecute)).Deploy(ctx, req); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.fake.Stack(stackName); st.RoleARN != role {
		t.Fatalf("service role %q", st.RoleARN)
	}
	executes := e.fake.Count("ExecuteChangeSet")
	keep := given(t, map[string]string{"ObjectPrefix": "images/"})
	keep.NoExecute = true
	var asked []deploy.Question
	res, err := e.engine(nil, answers(&asked, deploy.AskExecute)).Deploy(ctx, keep)
	if err != nil || res.Outcome != deploy.Kept || len(asked) != 0 {
		t.Fatalf("no-execute: %v %+v, %d questions", err, res, len(asked))
	}
	st, _ := e.fake.Stack(stackName)
	if !slices.Equal(st.ChangeSets, []string{res.Preview.ChangeSetName}) || e.fake.Count("ExecuteChangeSet") != executes ||
		st.Parameters["ObjectPrefix"] != "" {
		t.Fatalf("change sets %v, parameters %v", st.ChangeSets, st.Parameters)
	}

	outs := st.Outputs
	del, err := e.engine(nil, answers(new([]deploy.Question), deploy.AskDelete)).Delete(ctx, deploy.DeleteRequest{StackName: stackName, RoleARN: role})
	if err != nil {
		t.Fatal(err)
	}
	removed := map[string]string{}
	for _, o := range del.Removed {
		removed[o.Key] = o.Value
	}
	if removed["RoleArn"] != outs["RoleArn"] || removed["AccessPointArn"] != outs["AccessPointArn"] || len(del.Outputs) != 0 {
		t.Fatalf("removed %v outputs %v", removed, del.Outputs)
	}
}
