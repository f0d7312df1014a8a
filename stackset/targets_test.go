package stackset_test

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/stackset"
)

func TestParseTargets(t *testing.T) {
	data, err := os.ReadFile("testdata/targets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := stackset.ParseTargets("targets.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	want := []stackset.TargetsEntry{
		{Account: "111122223333", Region: "eu-west-3", Line: 2,
			Buckets: []stackset.Bucket{{Name: "acme-images"}, {Name: "acme-video", Prefix: "clips/"}}},
		{Account: "444455556666", Region: "us-east-1", Line: 5, Buckets: []stackset.Bucket{{Name: "acme-us-images"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestParseTargetsRefusals(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"unknown top key", "targets: []\nextra: 1\n", "t.yaml:2: extra: is not a known key"},
		{"empty list", "targets: []\n", "t.yaml:1: targets: must be a non-empty list"},
		{"empty file", "", "t.yaml: is empty"},
		{"not yaml", "targets: [\n", "t.yaml: is not valid YAML"},
		{"unknown key", "targets:\n  - account: \"111122223333\"\n    region: eu-west-3\n    buckets: [a-b-c]\n    role: x\n",
			"t.yaml:5: targets[0].role: is not a known key"},
		{"unquoted account", "targets:\n  - account: 111122223333\n    region: eu-west-3\n    buckets: [abc]\n",
			"t.yaml:2: targets[0].account: 111122223333 must be a quoted string"},
		{"short account", "targets:\n  - account: \"11112222333\"\n    region: eu-west-3\n    buckets: [abc]\n",
			"t.yaml:2: targets[0].account: \"11112222333\" is not valid: an AWS account ID is exactly 12 digits"},
		{"bad region", "targets:\n  - account: \"111122223333\"\n    region: Paris\n    buckets: [abc]\n",
			"t.yaml:3: targets[0].region: \"Paris\" is not valid: a region is an AWS region code"},
		{"bad bucket", "targets:\n  - account: \"111122223333\"\n    region: eu-west-3\n    buckets:\n      - good-one\n      - Bad_Bucket\n",
			"t.yaml:6: targets[0].buckets[1]: \"Bad_Bucket\" is not valid: an S3 bucket name"},
		{"bad prefix", "targets:\n  - account: \"111122223333\"\n    region: eu-west-3\n    buckets: [abc/*]\n",
			"t.yaml:4: targets[0].buckets[0] (prefix): \"*\" is not valid"},
		{"repeated bucket", "targets:\n  - account: \"111122223333\"\n    region: eu-west-3\n    buckets: [abc, abc]\n",
			"t.yaml:4: targets[0].buckets[1]: abc is listed twice"},
		{"no buckets", "targets:\n  - account: \"111122223333\"\n    region: eu-west-3\n",
			"t.yaml:2: targets[0]: has no buckets"},
		{"bad external id", "targets:\n  - account: \"111122223333\"\n    region: eu-west-3\n    buckets: [abc]\n    external-id: \"a b\"\n",
			"t.yaml:5: targets[0].external-id: \"a b\" is not valid"},
		{"bad kms key", "targets:\n  - account: \"111122223333\"\n    region: eu-west-3\n    buckets: [abc]\n    kms-key-arn: arn:aws:kms:eu-west-3:111122223333:alias/x\n",
			"t.yaml:5: targets[0].kms-key-arn: \"arn:aws:kms:eu-west-3:111122223333:alias/x\" is not valid"},
		{"kms key of another region", "targets:\n  - account: \"111122223333\"\n    kms-key-arn: arn:aws:kms:us-east-1:111122223333:key/k1\n    region: eu-west-3\n    buckets: [abc]\n",
			"t.yaml:3: targets[0].kms-key-arn: the key is in us-east-1 but the target is in eu-west-3"},
		{"kms key of another partition", "targets:\n  - account: \"111122223333\"\n    region: cn-north-1\n    buckets: [abc]\n    kms-key-arn: arn:aws:kms:cn-north-1:111122223333:key/k1\n",
			"t.yaml:5: targets[0].kms-key-arn: \"arn:aws:kms:cn-north-1:111122223333:key/k1\" is not valid: region cn-north-1 is in partition aws-cn"},
		{"two external ids for one account", "targets:\n  - account: \"111122223333\"\n    region: eu-west-3\n    buckets: [abc]\n    external-id: id-one\n" +
			"  - account: \"111122223333\"\n    region: us-east-1\n    buckets: [def]\n    external-id: id-two\n",
			"t.yaml:9: targets[1].external-id: account 111122223333 already has the external ID id-one at line 5"},
		{"duplicate target", "targets:\n  - account: \"111122223333\"\n    region: eu-west-3\n    buckets: [abc]\n  - account: \"111122223333\"\n    region: eu-west-3\n    buckets: [def]\n",
			"t.yaml:5: targets[1]: account 111122223333 in eu-west-3 is already a target at line 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := stackset.ParseTargets("t.yaml", []byte(tc.yaml))
			var ie *rules.InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want a *rules.InvalidError", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %q\nwant prefix %q", err, tc.want)
			}
		})
	}
}

func TestValidateOrgUnits(t *testing.T) {
	if err := stackset.ValidateOrgUnits("--org-unit", []string{"ou-ab12-cd34ef56", "r-ab12"}); err != nil {
		t.Errorf("valid OUs: %v", err)
	}
	for _, bad := range [][]string{{"ou-AB12-cd34ef56"}, {"ou-ab12"}, {"r-ab1"}, {"ou-ab12-cd34ef56", "ou-ab12-cd34ef56"}} {
		err := stackset.ValidateOrgUnits("--org-unit", bad)
		if !errors.As(err, new(*rules.InvalidError)) || !strings.HasPrefix(err.Error(), "--org-unit: ") {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

func TestParseTargetsKMSAndExternalID(t *testing.T) {
	body := "targets:\n  - account: \"111122223333\"\n    region: eu-west-3\n    buckets: [abc]\n" +
		"    kms-key-arn: arn:aws:kms:eu-west-3:111122223333:key/k1\n    external-id: acme-eu-7\n" +
		"  - account: \"111122223333\"\n    region: us-east-1\n    buckets: [def]\n"
	got, err := stackset.ParseTargets("t.yaml", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if got[0].KMSKeyARN != "arn:aws:kms:eu-west-3:111122223333:key/k1" || got[0].ExternalID != "acme-eu-7" || got[1].KMSKeyARN != "" || got[1].ExternalID != "" {
		t.Errorf("got %+v", got)
	}
}
