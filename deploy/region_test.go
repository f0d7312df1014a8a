package deploy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/isahit/s3grant/deploy"
)

func TestCheckRegion(t *testing.T) {
	if got, err := deploy.CheckRegion("photos", "eu-west-3", ""); got != "eu-west-3" || err != nil {
		t.Fatalf("no --region: %q %v", got, err)
	}
	if got, err := deploy.CheckRegion("photos", "eu-west-3", "eu-west-3"); got != "eu-west-3" || err != nil {
		t.Fatalf("same --region: %q %v", got, err)
	}
	_, err := deploy.CheckRegion("photos", "eu-west-3", "us-east-1")
	var rm *deploy.RegionMismatchError
	if !errors.As(err, &rm) || !strings.Contains(err.Error(), "us-east-1") || !strings.Contains(err.Error(), "eu-west-3") {
		t.Fatalf("mismatch: %v", err)
	}
}
