package stackset

import (
	"fmt"
	"reflect"
	"testing"
)

func TestPlanGroupsByOverridesAndRegions(t *testing.T) {
	a := map[string]string{"BucketName": "a"}
	b := map[string]string{"BucketName": "b"}
	cases := []struct {
		name    string
		targets []Target
		want    []call
	}{
		{"same overrides, same regions: one call", []Target{
			{Account: "111111111111", Region: "eu-west-3", Overrides: a},
			{Account: "222222222222", Region: "eu-west-3", Overrides: map[string]string{"BucketName": "a"}},
			{Account: "111111111111", Region: "us-east-1", Overrides: a},
			{Account: "222222222222", Region: "us-east-1", Overrides: a},
		}, []call{{accounts: []string{"111111111111", "222222222222"}, regions: []string{"eu-west-3", "us-east-1"}, overrides: a}}},
		{"different overrides: one call each", []Target{
			{Account: "111111111111", Region: "eu-west-3", Overrides: a},
			{Account: "222222222222", Region: "eu-west-3", Overrides: b},
		}, []call{
			{accounts: []string{"111111111111"}, regions: []string{"eu-west-3"}, overrides: a},
			{accounts: []string{"222222222222"}, regions: []string{"eu-west-3"}, overrides: b},
		}},
		{"same overrides, different regions: no cross product", []Target{
			{Account: "111111111111", Region: "eu-west-3", Overrides: a},
			{Account: "222222222222", Region: "us-east-1", Overrides: a},
			{Account: "333333333333", Region: "eu-west-3", Overrides: a},
		}, []call{
			{accounts: []string{"111111111111", "333333333333"}, regions: []string{"eu-west-3"}, overrides: a},
			{accounts: []string{"222222222222"}, regions: []string{"us-east-1"}, overrides: a},
		}},
		{"no overrides", []Target{{Account: "111111111111", Region: "eu-west-3"}},
			[]call{{accounts: []string{"111111111111"}, regions: []string{"eu-west-3"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := plan(tc.targets); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("plan =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestPlanBatchesOrgUnitsBy50(t *testing.T) {
	var targets []Target
	for i := range 101 {
		targets = append(targets, Target{OrgUnit: fmt.Sprintf("ou-ab12-%08d", i), Region: "eu-west-3"})
	}
	got := plan(targets)
	if len(got) != 3 || len(got[0].orgUnits) != 50 || len(got[1].orgUnits) != 50 || len(got[2].orgUnits) != 1 {
		t.Fatalf("batches: %d", len(got))
	}
	if got[2].orgUnits[0] != "ou-ab12-00000100" || len(got[0].accounts) != 0 {
		t.Errorf("last batch %v", got[2])
	}
}

func TestRegionOrder(t *testing.T) {
	got := regionOrder([]string{"us-east-1", "ap-south-1", "eu-west-3"}, []string{"eu-west-3", "eu-central-1", "us-east-1"})
	if want := []string{"us-east-1", "eu-west-3", "eu-central-1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("regionOrder = %v, want %v", got, want)
	}
}

func TestParseReason(t *testing.T) {
	got := parseReason("ResourceLogicalId:Role, ResourceType:AWS::IAM::Role, ResourceStatusReason:Role r already exists (Service: Iam, Status Code: 409).")
	if want := (Cause{LogicalID: "Role", ResourceType: "AWS::IAM::Role", Reason: "Role r already exists (Service: Iam, Status Code: 409)"}); *got != want {
		t.Errorf("parseReason = %+v", *got)
	}
	if got := parseReason("Account 111111111111 should have 'AWSCloudFormationStackSetExecutionRole' role with trust relationship to Role 'AWSCloudFormationStackSetAdministrationRole'."); got.LogicalID != "" || got.Reason == "" {
		t.Errorf("plain reason: %+v", *got)
	}
}
