package stacks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"

	"github.com/isahit/s3grant/internal/awsfake/iamfake"
	"github.com/isahit/s3grant/internal/rules"
)

const (
	testRegion  = "eu-west-3"
	testAccount = "111122223333"
	testKey     = "arn:aws:kms:eu-west-3:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)

// worstBuckets returns n distinct buckets with 63-character names, all with prefix, their
// access points named from a 50-character base: the longest names AWS allows.
func worstBuckets(t testing.TB, n int, prefix func(i int) string) []Bucket {
	t.Helper()
	bs := make([]Bucket, n)
	for i := range bs {
		bs[i] = Bucket{Name: fmt.Sprintf("%04d", i) + strings.Repeat("b", 59), Prefix: prefix(i)}
	}
	named, err := NameAccessPoints(strings.Repeat("a", 50), bs)
	if err != nil {
		t.Fatal(err)
	}
	return named
}

func noPrefix(int) string { return "" }

// resolvedJSON is the policy as IAM receives it in testRegion and testAccount.
func resolvedJSON(t *testing.T, d Document, s Sizing) string {
	t.Helper()
	r, err := d.Resolve(s)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The packed policies grant what the one-bucket policy grants, bucket by bucket, as an
// independent IAM evaluator reads them: each bucket's own prefix, no other's.
func TestPackedPoliciesGrantEachBucketItsPrefixOnly(t *testing.T) {
	buckets, err := ParseBuckets([]string{"whole-bucket", "img-one/img/", "img-two/img/", "s3://raw-bucket/raw/"})
	if err != nil {
		t.Fatal(err)
	}
	buckets, err = NameAccessPoints("isahit-lab-access-point", buckets)
	if err != nil {
		t.Fatal(err)
	}
	packed, err := PackReadPolicies(buckets, WithKMSKeys(testKey, testKey))
	if err != nil {
		t.Fatal(err)
	}
	if len(packed) != 1 {
		t.Fatalf("four buckets take %d policies, want 1", len(packed))
	}
	real := SizingFor(testRegion, testAccount)
	docs := []string{resolvedJSON(t, packed[0].Document, real)}
	ap := func(b Bucket) string {
		return "arn:aws:s3:" + testRegion + ":" + testAccount + ":accesspoint/" + b.AccessPoint
	}
	whole, img1, img2, raw := buckets[0], buckets[1], buckets[2], buckets[3]
	type req struct {
		action, resource, prefix string
		allowed                  bool
	}
	cases := []req{
		{"s3:GetObject", "arn:aws:s3:::whole-bucket/any/key.jpg", "", true},
		{"s3:GetObject", ap(whole) + "/object/any/key.jpg", "", true},
		{"s3:ListBucket", "arn:aws:s3:::whole-bucket", "", true},
		{"s3:ListBucket", ap(whole), "", true},
		{"s3:GetObject", "arn:aws:s3:::img-one/img/a.jpg", "", true},
		{"s3:GetObject", ap(img2) + "/object/img/a.jpg", "", true},
		{"s3:GetObject", "arn:aws:s3:::img-one/raw/a.jpg", "", false},
		{"s3:GetObject", "arn:aws:s3:::raw-bucket/img/a.jpg", "", false},
		{"s3:GetObject", ap(raw) + "/object/img/a.jpg", "", false},
		{"s3:ListBucket", "arn:aws:s3:::img-one", "img/", true},
		{"s3:ListBucket", ap(img1), "img/2026/", true},
		{"s3:ListBucket", "arn:aws:s3:::img-one", "raw/", false},
		// The prefixes of two buckets never mix: raw-bucket is not listable under img/.
		{"s3:ListBucket", "arn:aws:s3:::raw-bucket", "img/", false},
		{"s3:ListBucket", "arn:aws:s3:::raw-bucket", "raw/", true},
		{"s3:ListBucket", "arn:aws:s3:::img-one", "", false},
		{"s3:GetObject", "arn:aws:s3:::other-bucket/img/a.jpg", "", false},
		{"s3:PutObject", "arn:aws:s3:::whole-bucket/a.jpg", "", false},
		{"s3:DeleteObject", "arn:aws:s3:::whole-bucket/a.jpg", "", false},
	}
	for _, c := range cases {
		ctx := map[string][]string{}
		if c.prefix != "" {
			ctx["s3:prefix"] = []string{c.prefix}
		}
		got, _ := iamfake.Evaluate(docs, c.action, c.resource, ctx)
		if (got == "allowed") != c.allowed {
			t.Errorf("%s on %s (prefix %q): %s, want allowed=%v", c.action, c.resource, c.prefix, got, c.allowed)
		}
	}
	via := map[string][]string{"kms:viaservice": {"s3." + testRegion + ".amazonaws.com"}}
	if got, _ := iamfake.Evaluate(docs, "kms:Decrypt", testKey, via); got != "allowed" {
		t.Errorf("kms:Decrypt through S3: %s", got)
	}
	if got, _ := iamfake.Evaluate(docs, "kms:Decrypt", testKey, map[string][]string{"kms:viaservice": {"ec2." + testRegion + ".amazonaws.com"}}); got == "allowed" {
		t.Error("kms:Decrypt outside S3 is allowed")
	}
	if n := strings.Count(docs[0], testKey); n != 1 {
		t.Errorf("the key appears %d times, want once (given twice, granted once)", n)
	}
	// Same prefix, one statement: img-one and img-two share their condition.
	if n := strings.Count(docs[0], `"s3:prefix"`); n != 2 {
		t.Errorf("%d s3:prefix conditions for two distinct prefixes, want 2:\n%s", n, docs[0])
	}
}

// iamChars measures a policy independently of PolicyChars: the JSON IAM receives, whitespace
// outside and inside strings dropped, as IAM counts.
func iamChars(t *testing.T, d Document, s Sizing) int {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(resolvedJSON(t, d, s))); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range buf.String() {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

func TestPackAtTheLimits(t *testing.T) {
	longShared := strings.Repeat("p", 23) + "/"
	cases := []struct {
		name        string
		buckets     int
		prefix      func(int) string
		kms         int
		maxPolicies int
		// limit is the limit the request breaks, or "" when it fits.
		limit string
	}{
		{"200 buckets, longest names, whole buckets, raised quota", 200, noPrefix, 0, 20, ""},
		{"200 buckets, longest names, one shared long prefix, raised quota", 200, func(int) string { return longShared }, 3, 20, ""},
		{"140 buckets, longest names, default quota", 140, noPrefix, 0, 10, ""},
		{"one bucket, a 1024-character prefix", 1, func(int) string { return strings.Repeat("x", 1023) + "/" }, 1, 10, ""},
		{"200 buckets, longest names, default quota", 200, noPrefix, 0, 10, "the managed policies a role may have attached"},
		{"200 buckets, longest names, distinct 64-character prefixes", 200, func(i int) string { return fmt.Sprintf("%04d", i) + strings.Repeat("q", 59) + "/" }, 0, 20, "the managed policies a role may have attached"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			buckets := worstBuckets(t, c.buckets, c.prefix)
			var keys []string
			for i := range c.kms {
				keys = append(keys, fmt.Sprintf("arn:aws-us-gov:kms:us-gov-west-1:%012d:key/mrk-%032d", i, i))
			}
			packed, err := PackReadPolicies(buckets, WithMaxPolicies(c.maxPolicies), WithKMSKeys(keys...))
			if c.limit != "" {
				var lim *LimitError
				var inv *rules.InvalidError
				if !errors.As(err, &lim) || lim.Limit != c.limit || lim.Need <= lim.Max || lim.Max != c.maxPolicies {
					t.Fatalf("want a LimitError for %q, got %v", c.limit, err)
				}
				if !errors.As(err, &inv) || inv.Field != FieldBuckets || !strings.Contains(err.Error(), fmt.Sprint(lim.Need)) {
					t.Errorf("the limit error is not bad input naming --bucket and the numbers: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(packed) > c.maxPolicies {
				t.Errorf("%d policies, more than %d", len(packed), c.maxPolicies)
			}
			marginal := marginalChars(t, buckets[0], buckets[1%len(buckets)])
			granted := map[string]int{}
			for i, p := range packed {
				n := iamChars(t, p.Document, WorstCase)
				if n > MaxManagedPolicyChars || n != p.Chars {
					t.Errorf("policy %d: %d characters at the worst case (reported %d), limit %d", i, n, p.Chars, MaxManagedPolicyChars)
				}
				sids := map[string]bool{}
				for _, s := range p.Document.Statement {
					if sids[s.Sid] {
						t.Errorf("policy %d: Sid %s twice", i, s.Sid)
					}
					sids[s.Sid] = true
				}
				for _, b := range p.Buckets {
					granted[b]++
				}
				// As few policies as possible: every policy but the last is too full for one more bucket.
				if i+1 < len(packed) && MaxManagedPolicyChars-n >= marginal {
					t.Errorf("policy %d has room for another bucket (%d characters, a bucket takes %d) yet another policy was opened", i, n, marginal)
				}
			}
			for _, b := range buckets {
				if granted[b.Name] != 1 {
					t.Errorf("bucket %s is in %d policies, want 1", b.Name, granted[b.Name])
				}
			}
			cors, err := PackCorsPolicies(buckets, WithMaxPolicies(c.maxPolicies))
			if err != nil {
				t.Fatal(err)
			}
			shape := StackShape{Buckets: c.buckets, ReadPolicies: len(packed), CorsPolicies: len(cors), ManageCORS: true}
			if err := shape.Check(); err != nil {
				t.Error(err)
			}
		})
	}
}

// marginalChars is what a bucket like b costs in a policy that already grants one like a (the
// same shapes): the size of both in one policy less the size of a alone.
func marginalChars(t *testing.T, a, b Bucket) int {
	t.Helper()
	if a.Name == b.Name {
		return 0
	}
	b.Prefix = a.Prefix
	one, err := PackReadPolicies([]Bucket{a}, WithMaxPolicies(1))
	if err != nil {
		t.Fatal(err)
	}
	two, err := PackReadPolicies([]Bucket{a, b}, WithMaxPolicies(1))
	if err != nil {
		t.Fatal(err)
	}
	return two[0].Chars - one[0].Chars
}

// Every CORS bucket permission is packed too, in one statement per policy naming the buckets.
func TestPackCorsPolicies(t *testing.T) {
	buckets := worstBuckets(t, 200, noPrefix)
	packed, err := PackCorsPolicies(buckets)
	if err != nil {
		t.Fatal(err)
	}
	real := SizingFor(testRegion, testAccount)
	var docs []string
	for _, p := range packed {
		if n := iamChars(t, p.Document, WorstCase); n > MaxManagedPolicyChars {
			t.Errorf("a CORS policy has %d characters", n)
		}
		docs = append(docs, resolvedJSON(t, p.Document, real))
	}
	for _, b := range []Bucket{buckets[0], buckets[199]} {
		for _, action := range []string{"s3:GetBucketCORS", "s3:PutBucketCORS"} {
			if got, _ := iamfake.Evaluate(docs, action, "arn:aws:s3:::"+b.Name, nil); got != "allowed" {
				t.Errorf("%s on %s: %s", action, b.Name, got)
			}
		}
		if got, _ := iamfake.Evaluate(docs, "s3:PutBucketPolicy", "arn:aws:s3:::"+b.Name, nil); got == "allowed" {
			t.Errorf("the CORS function may change %s's bucket policy", b.Name)
		}
	}
}

func TestPackRefusesBadBuckets(t *testing.T) {
	named := worstBuckets(t, 2, noPrefix)
	cases := map[string][]Bucket{
		"no access point":     {{Name: "a-bucket"}},
		"shared access point": {{Name: "a-bucket", AccessPoint: "ap-one"}, {Name: "b-bucket", AccessPoint: "ap-one"}},
		"duplicate bucket":    {named[0], named[0]},
		"bad name":            {{Name: "Bad", AccessPoint: "ap-one"}},
	}
	for name, bs := range cases {
		var inv *rules.InvalidError
		if _, err := PackReadPolicies(bs); !errors.As(err, &inv) {
			t.Errorf("%s: %v, want an InvalidError", name, err)
		}
	}
	if _, err := PackReadPolicies(named, WithKMSKeys("arn:aws:kms:eu-west-3:111122223333:alias/mine")); err == nil || !strings.Contains(err.Error(), "KmsKeyArn") {
		t.Errorf("a KMS alias: %v", err)
	}
}

func TestTrustPolicySize(t *testing.T) {
	vals := map[string]string{"TrustedAccountId": "999888496268", "ExternalId": strings.Repeat("x", 1224), "NextExternalId": ""}
	if err := CheckTrustPolicy(TrustPolicy(), WorstCase, vals); err != nil {
		t.Errorf("the longest external ID: %v", err)
	}
	// Two of the longest external IDs (a rotation overlap: NextExternalId set) do not fit.
	vals["NextExternalId"] = strings.Repeat("y", 1224)
	err := CheckTrustPolicy(TrustPolicy(), WorstCase, vals)
	var lim *LimitError
	if !errors.As(err, &lim) || lim.Max != MaxTrustPolicyChars || lim.Need <= MaxTrustPolicyChars || lim.Field != "ExternalId" {
		t.Errorf("two 1224-character external IDs: %v", err)
	}
}

func TestTemplateDelivery(t *testing.T) {
	cases := []struct {
		size int
		want Delivery
		err  bool
	}{
		{41234, Inline, false},
		{51200, Inline, false},
		{51201, ThroughS3, false},
		{1_000_000, ThroughS3, false},
		{1_000_001, 0, true},
	}
	for _, c := range cases {
		got, err := TemplateDelivery(c.size)
		var lim *LimitError
		if got != c.want || (err != nil) != c.err || (c.err && !errors.As(err, &lim)) {
			t.Errorf("TemplateDelivery(%d) = %v, %v", c.size, got, err)
		}
	}
}

func TestStackShapeCountsTodaysTemplate(t *testing.T) {
	tpl, err := Template(example())
	if err != nil {
		t.Fatal(err)
	}
	// Today's template: one bucket, one read policy, the CORS bucket access as one policy.
	if got, want := (StackShape{Buckets: 1, ReadPolicies: 1, CorsPolicies: 1, ManageCORS: true}).Resources(), len(tpl.Resources); got != want {
		t.Errorf("StackShape counts %d resources, today's template has %d", got, want)
	}
	over := StackShape{Buckets: 240, ReadPolicies: 20, CorsPolicies: 4, ManageCORS: true}
	var lim *LimitError
	if err := over.Check(); !errors.As(err, &lim) || lim.Max != MaxStackResources {
		t.Errorf("%d resources: %v", over.Resources(), err)
	}
}
