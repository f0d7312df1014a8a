package stacks

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/isahit/s3grant/internal/rules"
)

func TestParseBucket(t *testing.T) {
	cases := []struct {
		in           string
		name, prefix string
	}{
		{"my-bucket", "my-bucket", ""},
		{"my-bucket/", "my-bucket", ""},
		{"my-bucket/images/2026/", "my-bucket", "images/2026/"},
		{"s3://my-bucket", "my-bucket", ""},
		{"s3://my-bucket/", "my-bucket", ""},
		{"s3://logs.example.com/a b/c", "logs.example.com", "a b/c"},
	}
	for _, c := range cases {
		b, err := ParseBucket(c.in)
		if err != nil || b.Name != c.name || b.Prefix != c.prefix {
			t.Errorf("ParseBucket(%q) = %+v, %v; want name %q prefix %q", c.in, b, err, c.name, c.prefix)
		}
	}
}

func TestParseBucketRefuses(t *testing.T) {
	cases := []struct{ in, says string }{
		{"", "no bucket name"},
		{"/images/", "no bucket name"},
		{"s3://", "no bucket name"},
		{"My_Bucket", "not valid"},
		{"my-bucket//images", "prefix"},
		{"my-bucket/images/*", "prefix"},
		{"s3://my-bucket/a$b", "prefix"},
		{"s3:/my-bucket", "not valid"},
	}
	for _, c := range cases {
		_, err := ParseBucket(c.in)
		var inv *rules.InvalidError
		if !errors.As(err, &inv) || inv.Field != FieldBuckets || !strings.Contains(err.Error(), c.says) {
			t.Errorf("ParseBucket(%q): %v; want an InvalidError for --bucket saying %q", c.in, err, c.says)
		}
	}
}

func TestParseBucketsRefusesTheSameBucketTwice(t *testing.T) {
	cases := []struct {
		in   []string
		says string
	}{
		{nil, "at least one bucket"},
		{[]string{"a-bucket", "b-bucket", "a-bucket"}, "a-bucket is given twice"},
		{[]string{"a-bucket/x/", "s3://a-bucket/x/"}, "a-bucket is given twice"},
		{[]string{"a-bucket/x/", "a-bucket/y/"}, `conflicting prefixes ("x/" and "y/")`},
		{[]string{"a-bucket/x/", "a-bucket/x/y/"}, "conflicting prefixes"},
		{[]string{"a-bucket", "a-bucket/x/"}, `conflicting prefixes (the whole bucket and "x/")`},
	}
	for _, c := range cases {
		got, err := ParseBuckets(c.in)
		var inv *rules.InvalidError
		if !errors.As(err, &inv) || inv.Field != FieldBuckets || !strings.Contains(err.Error(), c.says) || got != nil {
			t.Errorf("ParseBuckets(%q) = %v, %v; want an InvalidError for --bucket saying %q", c.in, got, err, c.says)
		}
	}
	got, err := ParseBuckets([]string{"b-bucket/x/", "a-bucket", "s3://c-bucket/y"})
	if err != nil || len(got) != 3 || got[0].Name != "b-bucket" || got[2].Prefix != "y" {
		t.Errorf("three buckets, in order: %+v, %v", got, err)
	}
}

func TestNameAccessPoints(t *testing.T) {
	base := "isahit-lab-access-point"
	buckets := []Bucket{{Name: "first-bucket"}, {Name: "second-bucket"}, {Name: "third.bucket"}}
	named, err := NameAccessPoints(base, buckets)
	if err != nil {
		t.Fatal(err)
	}
	if named[0].AccessPoint != base {
		t.Errorf("the first bucket's access point is %q, want today's %q", named[0].AccessPoint, base)
	}
	seen := map[string]bool{}
	for _, b := range named {
		if err := rules.AccessPointName.Validate("x", b.AccessPoint); err != nil || seen[b.AccessPoint] {
			t.Errorf("access point %q of %s: %v (seen before: %v)", b.AccessPoint, b.Name, err, seen[b.AccessPoint])
		}
		seen[b.AccessPoint] = true
	}
	// Removing a bucket or reordering the others never renames an access point.
	again, err := NameAccessPoints(base, []Bucket{buckets[0], buckets[2]})
	if err != nil || again[1].AccessPoint != named[2].AccessPoint {
		t.Errorf("third.bucket's access point changed when second-bucket left: %q then %q", named[2].AccessPoint, again[1].AccessPoint)
	}
	// A base of the full 50 characters still leaves derived names within the limit.
	long, err := NameAccessPoints(strings.Repeat("a", 40)+"-bbbbbbbbb", buckets)
	if err != nil || len(long[1].AccessPoint) > 50 || strings.Contains(long[1].AccessPoint, "--") {
		t.Errorf("derived from a 50-character base: %+v, %v", long, err)
	}
	if _, err := NameAccessPoints("Bad_Name", buckets); err == nil || !strings.Contains(err.Error(), "AccessPointName") {
		t.Errorf("a bad base: %v", err)
	}
}

func TestBucketLogicalID(t *testing.T) {
	if got := BucketLogicalID(AccessPointID, 0, Bucket{Name: "any-bucket"}); got != AccessPointID {
		t.Errorf("the first bucket's access point is %s, want today's %s", got, AccessPointID)
	}
	alnum := regexp.MustCompile(`^[A-Za-z0-9]{1,255}$`)
	seen := map[string]string{}
	for _, name := range []string{"my-bucket", "my.bucket", "mybucket", "my-bucket-2", strings.Repeat("z", 63)} {
		id := BucketLogicalID(BucketCorsID, 1, Bucket{Name: name})
		if !alnum.MatchString(id) || !strings.HasPrefix(id, BucketCorsID) {
			t.Errorf("%s: logical ID %q is not alphanumeric or lost its kind", name, id)
		}
		if other, dup := seen[id]; dup {
			t.Errorf("%s and %s share logical ID %s", name, other, id)
		}
		seen[id] = name
		if again := BucketLogicalID(BucketCorsID, 7, Bucket{Name: name, Prefix: "p/"}); again != id {
			t.Errorf("%s: logical ID depends on its place or prefix: %s then %s", name, id, again)
		}
	}
}

// Value spells a bucket so ParseBucket reads it back unchanged, the prefix's slash included.
func TestBucketValueRoundTrip(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"my-bucket", "my-bucket"}, {"my-bucket/", "my-bucket"}, {"s3://my-bucket/raw/", "my-bucket/raw/"},
		{"my-bucket/raw", "my-bucket/raw"}, {"my.bucket/a/b/", "my.bucket/a/b/"},
	} {
		b, err := ParseBucket(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseBucket(b.Value())
		if b.Value() != tc.want || err != nil || back != b {
			t.Errorf("%s: Value %q, read back %+v (%v)", tc.in, b.Value(), back, err)
		}
	}
}
