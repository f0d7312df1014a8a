package stacks

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/isahit/s3grant/internal/rules"
)

// A Bucket is one bucket of an integration: the vendor may list and read its objects under
// Prefix (the whole bucket when Prefix is empty), directly and through the bucket's own access
// point, named AccessPoint.
type Bucket struct {
	Name   string
	Prefix string
	// AccessPoint is the name of the bucket's access point; NameAccessPoints fills it in.
	AccessPoint string
}

// FieldBuckets names the integration's bucket list (BucketName, ObjectPrefix and MoreBuckets,
// given as NAME, NAME/PREFIX or s3://NAME/PREFIX) in errors about it; the CLI maps it to its flag.
const FieldBuckets = "Buckets"

// bucketFlag is the field errors about the bucket list name.
const bucketFlag = FieldBuckets

// ParseBucket reads one --bucket value: NAME, NAME/PREFIX or s3://NAME[/PREFIX]. The first
// slash ends the name, since a bucket name cannot hold one; "NAME/" means the whole bucket.
// The name and the prefix are checked with the rules the template's parameters use.
func ParseBucket(value string) (Bucket, error) {
	rest := strings.TrimPrefix(value, "s3://")
	name, prefix, _ := strings.Cut(rest, "/")
	if name == "" {
		return Bucket{}, rules.Invalid(bucketFlag, value, fmt.Sprintf(
			"%q has no bucket name: give NAME, NAME/PREFIX or s3://NAME/PREFIX", value))
	}
	if err := rules.BucketName.Validate(bucketFlag, name); err != nil {
		return Bucket{}, err
	}
	if err := rules.ObjectPrefix.Validate(bucketFlag, prefix); err != nil {
		var inv *rules.InvalidError
		if errors.As(err, &inv) {
			inv.Reason = fmt.Sprintf("the prefix of %q: %s", value, inv.Reason)
		}
		return Bucket{}, err
	}
	return Bucket{Name: name, Prefix: prefix}, nil
}

// Value is the bucket as ParseBucket reads it: NAME for the whole bucket, NAME/PREFIX otherwise
// (the prefix as it is, so "raw/" and "raw", which grant different keys, stay apart).
func (b Bucket) Value() string {
	if b.Prefix == "" {
		return b.Name
	}
	return b.Name + "/" + b.Prefix
}

// ParseBuckets reads every --bucket value, in order, and checks the list with CheckBuckets.
func ParseBuckets(values []string) ([]Bucket, error) {
	buckets := make([]Bucket, 0, len(values))
	for _, v := range values {
		b, err := ParseBucket(v)
		if err != nil {
			return nil, err
		}
		buckets = append(buckets, b)
	}
	if err := CheckBuckets(buckets); err != nil {
		return nil, err
	}
	return buckets, nil
}

// CheckBuckets refuses a list that names one bucket twice. With the same prefix it is a
// duplicate; with different prefixes it is a conflict, refused too rather than read as a union:
// one bucket has one access point and one grant, and a union of prefixes (or a prefix inside
// another) is what the customer should state as the common prefix, not what a typo should get.
func CheckBuckets(buckets []Bucket) error {
	if len(buckets) == 0 {
		return rules.Invalid(bucketFlag, "", "is required: at least one bucket")
	}
	seen := make(map[string]string, len(buckets))
	for _, b := range buckets {
		prev, dup := seen[b.Name]
		switch {
		case dup && prev == b.Prefix:
			return rules.Invalid(bucketFlag, b.Name, fmt.Sprintf("bucket %s is given twice", b.Name))
		case dup:
			return rules.Invalid(bucketFlag, b.Name, fmt.Sprintf(
				"bucket %s is given twice with conflicting prefixes (%s and %s): one bucket takes one prefix",
				b.Name, prefixWords(prev), prefixWords(b.Prefix)))
		}
		seen[b.Name] = b.Prefix
	}
	return nil
}

func prefixWords(p string) string {
	if p == "" {
		return "the whole bucket"
	}
	return fmt.Sprintf("%q", p)
}

// NameAccessPoints returns the buckets with their access point names: the first bucket keeps
// base (today's AccessPointName, so a one-bucket stack keeps its access point when it grows),
// every other bucket gets base shortened to fit, a hyphen and 8 hex digits of the SHA-256 of its
// bucket name. The name depends on the bucket alone, not on its place in the list, so adding or
// removing a bucket never renames (and so replaces) another bucket's access point.
func NameAccessPoints(base string, buckets []Bucket) ([]Bucket, error) {
	if err := rules.AccessPointName.Validate("AccessPointName", base); err != nil {
		return nil, err
	}
	out := make([]Bucket, len(buckets))
	for i, b := range buckets {
		b.AccessPoint = base
		if i > 0 {
			b.AccessPoint = derivedAccessPointName(base, b.Name)
		}
		out[i] = b
	}
	return out, checkAccessPoints(out)
}

// derivedAccessPointName is base cut to leave room for "-" and 8 hex digits within the
// 50-character limit, without a trailing hyphen.
func derivedAccessPointName(base, bucket string) string {
	const hashLen, maxLen = 8, 50
	stem := base
	if len(stem) > maxLen-hashLen-1 {
		stem = stem[:maxLen-hashLen-1]
	}
	return strings.TrimRight(stem, "-") + "-" + shortHash(bucket, hashLen)
}

func shortHash(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:n]
}

// checkAccessPoints checks every access point name with rules.AccessPointName and refuses two
// buckets with one name: names are unique per account and region.
func checkAccessPoints(buckets []Bucket) error {
	owner := make(map[string]string, len(buckets))
	for _, b := range buckets {
		if err := rules.AccessPointName.Validate("AccessPointName", b.AccessPoint); err != nil {
			return err
		}
		if other, taken := owner[b.AccessPoint]; taken {
			return rules.Invalid("AccessPointName", b.AccessPoint, fmt.Sprintf(
				"buckets %s and %s would share access point %s: names are unique per account and region", other, b.Name, b.AccessPoint))
		}
		owner[b.AccessPoint] = b.Name
	}
	return nil
}

// BucketLogicalID is the logical ID of a per-bucket resource whose one-bucket logical ID is
// base (AccessPointID, BucketCorsID). The first bucket (i == 0) keeps base, so a stack made
// from the one-bucket template upgrades without replacing its access point; the others get
// base, the bucket name's letters and digits, and 8 hex digits of its SHA-256, because a
// logical ID is alphanumeric and "my-bucket", "my.bucket" and "mybucket" are three buckets.
func BucketLogicalID(base string, i int, b Bucket) string {
	if i == 0 {
		return base
	}
	var sb strings.Builder
	sb.WriteString(base)
	upper := true
	for _, r := range b.Name {
		switch {
		case r >= 'a' && r <= 'z' && upper:
			sb.WriteRune(r - 'a' + 'A')
			upper = false
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			sb.WriteRune(r)
			upper = false
		default:
			upper = true
		}
	}
	sb.WriteString(shortHash(b.Name, 8))
	return sb.String()
}
