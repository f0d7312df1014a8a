package cfneval

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// A small template in the shape the intrinsic function reference describes.
const body = `{
  "Parameters": {
    "Name": {"Type": "String", "Default": "img"},
    "Origins": {"Type": "CommaDelimitedList", "Default": "https://a.example,https://b.example"},
    "Count": {"Type": "Number", "Default": 2},
    "Prefix": {"Type": "String", "Default": ""}
  },
  "Conditions": {
    "HasPrefix": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Prefix"}, ""]}]},
    "HasPrefixAndName": {"Fn::And": [{"Condition": "HasPrefix"}, {"Fn::Equals": [{"Ref": "Name"}, "img"]}]},
    "Either": {"Fn::Or": [{"Condition": "HasPrefixAndName"}, {"Fn::Equals": ["a", "b"]}]}
  },
  "Resources": {
    "Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": {"Fn::If": ["HasPrefix", {"Fn::Sub": "${Prefix}-role"}, {"Ref": "AWS::NoValue"}]}}},
    "Only": {"Type": "AWS::SNS::Topic", "Condition": "Either"}
  }
}`

func mustParse(t *testing.T, values map[string]string, opts ...Option) *Template {
	t.Helper()
	tmpl, err := Parse([]byte(body), values, map[string]string{"AWS::Region": "eu-west-3", "AWS::StackName": "s"}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func value(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestEval(t *testing.T) {
	tmpl := mustParse(t, nil)
	cases := []struct{ in, want string }{
		{`{"Ref": "Name"}`, `"img"`},
		{`{"Ref": "Count"}`, `"2"`},
		{`{"Ref": "Origins"}`, `["https://a.example", "https://b.example"]`},
		{`{"Fn::Join": ["|", {"Ref": "Origins"}]}`, `"https://a.example|https://b.example"`},
		{`{"Fn::Select": ["1", {"Fn::Split": ["/", "a/b/c"]}]}`, `"b"`},
		{`{"Fn::Select": [0, ["x", "y"]]}`, `"x"`},
		{`{"Fn::Sub": "${AWS::StackName}-${Name}"}`, `"s-img"`},
		{`{"Fn::Sub": ["${Greeting}, ${Name}", {"Greeting": {"Fn::Join": ["", ["hel", "lo"]]}}]}`, `"hello, img"`},
		{`{"Fn::Sub": "${!Literal} ${Name}"}`, `"${Literal} img"`},
		{`{"Fn::Sub": "${Role.Arn}"}`, `"<Role.Arn>"`},
		{`{"Fn::GetAtt": "Role.Arn"}`, `"<Role.Arn>"`},
		{`{"Fn::GetAtt": ["Role", "Arn"]}`, `"<Role.Arn>"`},
		{`{"Ref": "Role"}`, `"<Role>"`},
		{`{"Fn::If": ["HasPrefix", "yes", "no"]}`, `"no"`},
		{`{"Condition": "Either"}`, `false`},
		{`{"a": {"Ref": "AWS::NoValue"}, "b": [1, {"Ref": "AWS::NoValue"}]}`, `{"b": [1]}`},
		{`{"Ref": "AWS::NoValue"}`, `null`},
	}
	for _, c := range cases {
		got, err := tmpl.Eval(value(t, c.in))
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if want := value(t, c.want); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", c.in, got, want)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	tmpl := mustParse(t, nil)
	cases := []struct{ in, want string }{
		{`{"Ref": "Nope"}`, `unknown name "Nope"`},
		{`{"Fn::Sub": "${Nope}"}`, `unknown name "Nope"`},
		{`{"Fn::GetAtt": ["Nope", "Arn"]}`, `unknown resource "Nope"`},
		{`{"Fn::FindInMap": ["M", "a", "b"]}`, `Fn::FindInMap is not supported`},
		{`{"Fn::Select": ["5", ["x"]]}`, `outside a list of 1`},
		{`{"Fn::If": ["Nope", 1, 2]}`, `unknown condition "Nope"`},
		{`{"Fn::Join": [",", "not a list"]}`, `is not a list`},
	}
	for _, c := range cases {
		_, err := tmpl.Eval(value(t, c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.in, err, c.want)
		}
	}
	if _, err := Parse([]byte(`{"Conditions": {"A": {"Condition": "B"}, "B": {"Condition": "A"}}}`), nil, nil); err == nil {
		t.Error("conditions that refer to each other were accepted")
	}
}

// Conditions referring to conditions are decided whatever the order of the map.
func TestConditionsAndResources(t *testing.T) {
	tmpl := mustParse(t, map[string]string{"Prefix": "team"})
	if !tmpl.Condition("HasPrefix") || !tmpl.Condition("HasPrefixAndName") || !tmpl.Condition("Either") || !tmpl.Condition("") {
		t.Fatalf("conditions %v", tmpl.conditions)
	}
	res, err := tmpl.Resources()
	if err != nil {
		t.Fatal(err)
	}
	if got := res["Role"]["Properties"].(map[string]any)["RoleName"]; got != "team-role" {
		t.Errorf("RoleName = %v", got)
	}
	if _, ok := res["Only"]; !ok {
		t.Error("the resource under a true condition is missing")
	}
	res, err = mustParse(t, nil).Resources()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res["Only"]; ok {
		t.Error("a resource whose condition is false exists")
	}
	if _, ok := res["Role"]["Properties"].(map[string]any)["RoleName"]; ok {
		t.Error("AWS::NoValue left the RoleName property in place")
	}
}

func TestWithResources(t *testing.T) {
	tmpl := mustParse(t, nil, WithResources(
		func(name string) string { return "phys-" + name },
		func(name, attr string) any { return "arn:" + name + ":" + attr }))
	for in, want := range map[string]any{
		`{"Ref": "Role"}`:                    "phys-Role",
		`{"Fn::GetAtt": ["Role", "Arn"]}`:    "arn:Role:Arn",
		`{"Fn::Sub": "${Role} ${Role.Arn}"}`: "phys-Role arn:Role:Arn",
	} {
		if got, err := tmpl.Eval(value(t, in)); err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestReferences(t *testing.T) {
	v := value(t, `{"A": {"Ref": "Role"}, "B": [{"Fn::GetAtt": "Fn.Arn"}, {"Fn::GetAtt": ["Key", "Arn"]}],
		"C": {"Fn::Sub": ["${Local} ${Bucket} ${Topic.Name} ${!Skip} ${AWS::Region}", {"Local": {"Ref": "Queue"}}]},
		"D": {"Ref": "AWS::NoValue"}}`)
	want := []string{"Bucket", "Fn", "Key", "Queue", "Role", "Topic"}
	if got := References(v); !reflect.DeepEqual(got, want) {
		t.Errorf("References = %v, want %v", got, want)
	}
}
