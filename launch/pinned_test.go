package launch

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
)

func TestPinWarning(t *testing.T) {
	body := []byte(`{"Resources":{"R":{"Type":"AWS::SNS::Topic"}}}`)
	name := fmt.Sprintf("v1/%x.json", sha256.Sum256(body))[:len("v1/")+16] + ".json"
	cases := []struct {
		key, want string // want: a word of the warning, "" for none
	}{
		{"s3grant/" + name, ""},
		{name, ""},
		{"s3grant/latest.json", "changes with every publish"},
		{"s3grant/LATEST.yaml", "changes with every publish"},
		{"s3grant/latest", "changes with every publish"},
		{"s3grant/v1/0000000000000000.json", "not the key"},
		{"s3grant/v2/" + strings.TrimPrefix(name, "v1/"), "not the key"},
		{"s3grant/x" + name, "not the key"},
	}
	for _, c := range cases {
		got := PinWarning(S3Location{Bucket: "b", Key: c.key}, "v1", body)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("key %s: warning %q, want one with %q", c.key, got, c.want)
		}
		if got != "" && !strings.Contains(got, name) {
			t.Errorf("key %s: warning %q does not name the immutable key %s", c.key, got, name)
		}
	}
}
