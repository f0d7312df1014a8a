package launch

import (
	"reflect"
	"strings"
	"testing"

	"github.com/isahit/s3grant/profile"
	"github.com/isahit/s3grant/stacks"
)

// s3grant template -o yaml and -o json are the same template; their parameters read the same.
func TestParseTemplate_YAMLIsJSON(t *testing.T) {
	in := stacks.New(profile.Default())
	in.BucketName = "my-bucket"
	j, err := stacks.JSON(in)
	if err != nil {
		t.Fatal(err)
	}
	y, err := stacks.YAML(in)
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := ParseTemplate(j)
	if err != nil {
		t.Fatal(err)
	}
	fromYAML, err := ParseTemplate(y)
	if err != nil {
		t.Fatal(err)
	}
	if len(fromJSON) < 5 || !reflect.DeepEqual(fromJSON, fromYAML) {
		t.Errorf("YAML parameters %v differ from JSON's %v", fromYAML, fromJSON)
	}
}

// A hand-written YAML template, with short intrinsic tags and quoted scalars.
func TestParseTemplate_HandWrittenYAML(t *testing.T) {
	body := `# comment
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  BucketName:
    Type: String
    MaxLength: "63"
  Secret:
    Type: String
    NoEcho: "true"
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub "${BucketName}-reader"
      Path: !If [HasPath, !Ref Path, !Ref "AWS::NoValue"]
`
	params, err := ParseTemplate([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if p := params["BucketName"]; p.Type != "String" || p.MaxLength == nil || *p.MaxLength != 63 || p.NoEcho {
		t.Errorf("BucketName = %+v", p)
	}
	if !params["Secret"].NoEcho {
		t.Error("Secret is NoEcho in the template")
	}
	for _, bad := range []string{"- a list\n- of things\n", "Parameters: {A: {Type: String}}\n", "a: [unclosed\n"} {
		if _, err := ParseTemplate([]byte(bad)); err == nil || !strings.Contains(err.Error(), "template") {
			t.Errorf("%q: err %v, want a template error", bad, err)
		}
	}
}
