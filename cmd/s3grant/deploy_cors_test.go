package main

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/profile"
)

// A deploy that leaves CORS to the customer ends with the rule to add, as the vendor profile
// says it, and the caution that put-bucket-cors replaces the whole configuration.
func TestDeployWithoutManagedCORSEndsWithTheRule(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	ctx := context.Background()

	code, out, errOut := runDeployCLI(ctx, t, strings.NewReader(""), nil, deployArgs(w, "--manage-cors=false", "--dry-run")...)
	if code != exitOK || strings.Contains(out, "CORS is yours to manage") {
		t.Fatalf("dry run: exit %d, stderr %q; it should not ask for a rule on a stack it did not create:\n%s", code, errOut, out)
	}

	code, out, errOut = runDeployCLI(ctx, t, strings.NewReader(""), nil, deployArgs(w, "--manage-cors=false", "--yes")...)
	if code != exitOK {
		t.Fatalf("deploy: exit %d, stderr %q\n%s", code, errOut, out)
	}
	_, after, ok := strings.Cut(out, "CORS configuration holds this rule:\n")
	if !ok {
		t.Fatalf("the deploy does not end with the CORS rule:\n%s", out)
	}
	if i := strings.Index(out, "Paste these into"); i < 0 || i > strings.Index(out, "CORS is yours to manage") {
		t.Errorf("the CORS rule should come last, after the outputs:\n%s", out)
	}
	var rule struct{ AllowedOrigins, AllowedMethods, AllowedHeaders []string }
	if err := json.NewDecoder(strings.NewReader(after)).Decode(&rule); err != nil {
		t.Fatalf("the rule is not JSON: %v\n%s", err, after)
	}
	cors := profile.Default().CORS
	if !reflect.DeepEqual(rule.AllowedOrigins, cors.Origins) || !reflect.DeepEqual(rule.AllowedMethods, cors.Methods) ||
		!reflect.DeepEqual(rule.AllowedHeaders, cors.Headers) {
		t.Errorf("rule %+v, want the profile's %+v", rule, cors)
	}
	for _, want := range []string{"--manage-cors=false", "put-bucket-cors", "replaces the whole configuration", "get-bucket-cors --bucket " + aw.Bucket} {
		if !strings.Contains(out, want) {
			t.Errorf("the ending lacks %q:\n%s", want, out)
		}
	}
	for _, c := range w.S3.Calls() {
		if c.Method != "GET" && c.Method != "HEAD" {
			t.Errorf("deploy changed the bucket: %+v", c)
		}
	}

	// A managed-CORS deploy has nothing to add.
	code, out, _ = runDeployCLI(ctx, t, strings.NewReader(""), nil, deployArgs(w, "--yes")...)
	if code != exitOK || strings.Contains(out, "CORS is yours to manage") {
		t.Errorf("managed CORS: exit %d\n%s", code, out)
	}
}

// With several buckets and CORS left to the customer, the ending names every bucket.
func TestDeployWithoutManagedCORSNamesEveryBucket(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	names := addBuckets(w, 2)
	code, out, errOut := runDeployCLI(context.Background(), t, strings.NewReader(""), nil, append(append([]string{"deploy"},
		bucketArgs(names)...), "--external-id", aw.ExternalID, "--endpoint-url", w.URL, "--manage-cors=false", "--yes")...)
	if code != exitOK {
		t.Fatalf("deploy: exit %d, stderr %q\n%s", code, errOut, out)
	}
	if !strings.Contains(out, "each of the 3 buckets holds this rule") {
		t.Errorf("the ending does not speak of every bucket:\n%s", out)
	}
	for _, b := range append(names, aw.Bucket) {
		if !strings.Contains(out, "get-bucket-cors --bucket "+b+"\n") {
			t.Errorf("the ending lacks bucket %s:\n%s", b, out)
		}
	}
}
