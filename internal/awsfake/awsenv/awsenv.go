// Package awsenv gives a test the AWS environment a user would set up to aim s3grant at a
// local endpoint (LocalStack, moto, or the fakes), isolated from the machine's own AWS
// configuration. Test support only.
package awsenv

import (
	"path/filepath"
	"testing"
)

// Isolate sets the environment the AWS SDK's default configuration reads: static credentials,
// a region, and endpoint as AWS_ENDPOINT_URL (empty leaves it unset), with no shared config or
// credentials file, no profile and no instance metadata.
func Isolate(t testing.TB, endpoint, accessKey, secret, region string) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            endpoint,
		"AWS_ACCESS_KEY_ID":           accessKey,
		"AWS_SECRET_ACCESS_KEY":       secret,
		"AWS_REGION":                  region,
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_PROFILE":                 "",
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
}
