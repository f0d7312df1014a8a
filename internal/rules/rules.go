// Package rules holds the input rules s3grant enforces, once, so the CLI, the vendor profile
// and the template's AllowedPattern constraints can never disagree about what is valid.
package rules

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	awsarn "github.com/isahit/s3grant/internal/arn"
	"github.com/isahit/s3grant/internal/partition"
)

// A Rule checks one kind of value. Pattern is both a Go regexp and a CloudFormation
// AllowedPattern (Java syntax): the subset used here means the same in both.
type Rule struct {
	// Pattern matches every valid value; extra checks that a regexp cannot express live in check.
	Pattern string
	// Description states the rule in words, for error messages and ConstraintDescription.
	Description string
	// Optional rules accept the empty string.
	Optional bool
	// MaxLen, when set, bounds the length in characters (CloudFormation MaxLength), for the
	// bounds a Go regexp cannot count (it stops at 1000 repetitions).
	MaxLen int

	// match reports whether a value matches Pattern: the regexp compiled on first use (a
	// command pays only for the rules it checks), or an equivalent hand-written check.
	match func(string) bool
	check func(string) string
}

// InvalidError reports a value that breaks its rule. Field names what the user typed it into:
// a flag such as "--bucket" or a profile key such as "cors.origins[1]".
type InvalidError struct {
	Field  string
	Value  string
	Reason string
}

func (e *InvalidError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Reason)
}

// Invalid returns an *InvalidError for field with the given reason.
func Invalid(field, value, reason string) error {
	return &InvalidError{Field: field, Value: value, Reason: reason}
}

// Validate checks value against the rule and returns an *InvalidError naming field, or nil.
func (r *Rule) Validate(field, value string) error {
	if value == "" && r.Optional {
		return nil
	}
	if value == "" {
		return Invalid(field, value, "is required: "+r.Description)
	}
	if r.MaxLen > 0 && utf8.RuneCountInString(value) > r.MaxLen {
		return Invalid(field, value, fmt.Sprintf("is %d characters long: %s", utf8.RuneCountInString(value), r.Description))
	}
	if !r.match(value) {
		return Invalid(field, value, fmt.Sprintf("%q is not valid: %s", value, r.Description))
	}
	if r.check != nil {
		if why := r.check(value); why != "" {
			return Invalid(field, value, fmt.Sprintf("%q is not valid: %s", value, why))
		}
	}
	return nil
}

func newRule(pattern, description string, optional bool, check func(string) string) *Rule {
	re := sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
	return &Rule{Pattern: pattern, Description: description, Optional: optional,
		match: func(v string) bool { return re().MatchString(v) }, check: check}
}

// withMatch replaces the rule's regexp by match, a hand-written check that accepts exactly the
// values Pattern matches (rules_test holds both to the same cases). It is for patterns whose
// compiled form is costly, such as the Unicode classes of the tag rules (megabytes).
func withMatch(match func(string) bool, r *Rule) *Rule {
	r.match = match
	return r
}

// BucketName follows the S3 general purpose bucket naming rules.
var BucketName = newRule(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`,
	"an S3 bucket name is 3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit",
	false, func(v string) string {
		switch {
		case strings.Contains(v, ".."):
			return "an S3 bucket name cannot contain two adjacent dots"
		case strings.Contains(v, ".-") || strings.Contains(v, "-."):
			return "an S3 bucket name cannot have a dot next to a hyphen"
		case net.ParseIP(v) != nil:
			return "an S3 bucket name cannot be formatted as an IP address"
		}
		for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
			if strings.HasPrefix(v, p) {
				return fmt.Sprintf("an S3 bucket name cannot start with %q", p)
			}
		}
		for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
			if strings.HasSuffix(v, s) {
				return fmt.Sprintf("an S3 bucket name cannot end with %q", s)
			}
		}
		return ""
	})

// AccountID is a 12-digit AWS account ID.
var AccountID = newRule(`^[0-9]{12}$`, "an AWS account ID is exactly 12 digits", false, nil)

// ExternalID is the sts:ExternalId value a vendor generates for one customer.
var ExternalID = withMaxLen(1224, newRule(`^[\w+=,.@:/-]{2,}$`,
	"an external ID is 2-1224 characters of letters, digits and +=,.@:/-_", false, nil))

// Origin is a browser origin allowed by CORS: https, a host name, an optional port, no path.
var Origin = newRule(`^https://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:[0-9]{1,5})?$`,
	"an origin is https:// followed by a lowercase host name and an optional port, with no path, query or trailing slash",
	false, nil)

// Origins is a comma-separated list of origins, the form of the AllowedOrigins parameter.
var Origins = newRule(`^`+trimAnchors(Origin.Pattern)+`(,`+trimAnchors(Origin.Pattern)+`)*$`,
	"origins are a comma-separated list of https://host[:port] values with no path and no spaces",
	false, nil)

// AccessPointName follows the S3 access point naming rules.
var AccessPointName = newRule(`^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$`,
	"an access point name is 3-50 lowercase letters, digits and hyphens, not starting or ending with a hyphen",
	false, func(v string) string {
		if strings.HasPrefix(v, "xn--") {
			return `an access point name cannot start with "xn--"`
		}
		if strings.HasSuffix(v, "-s3alias") {
			return `an access point name cannot end with "-s3alias"`
		}
		return ""
	})

// RoleName is an optional IAM role name; empty lets CloudFormation name the role uniquely.
var RoleName = newRule(`^[\w+=,.@-]{1,64}$`,
	"an IAM role name is at most 64 characters of letters, digits and +=,.@-_", true, nil)

// ObjectPrefix optionally limits the integration to keys under a prefix. S3 keys are UTF-8 of
// at most 1,024 bytes, so any character is taken but those that cannot stand for themselves:
// control and format characters (invisible, and refused by IAM's policy grammar as text), the
// private-use ones, and the characters IAM treats specially in ARNs and conditions (* ? $), so
// the prefix means itself. A leading / is refused: S3 keys do not start with one.
var ObjectPrefix = withMaxLen(1024, newRule(`^[^/*?$\x00-\x1f\x7f][^*?$\x00-\x1f\x7f]*$`,
	"an object prefix is at most 1024 bytes of UTF-8 (S3 keys), must not start with / and cannot contain * ? $ or control characters",
	true, func(v string) string {
		if !utf8.ValidString(v) {
			return "an object prefix must be UTF-8"
		}
		if len(v) > 1024 {
			return fmt.Sprintf("an object prefix is at most 1024 bytes of UTF-8, the limit of an S3 key (this one is %d)", len(v))
		}
		for _, r := range v {
			if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) || r == utf8.RuneError {
				return fmt.Sprintf("an object prefix cannot contain %U, a control, format or private-use character", r)
			}
		}
		return ""
	}))

// KMSKeyARN is an optional KMS key ARN (a key, not an alias: kms:Decrypt is granted on keys).
// Its partition must be one AWS has and the one its region is in: arn:aws:kms:cn-north-1:…
// names no key (China's keys are arn:aws-cn:…).
var KMSKeyARN = newRule(`^arn:aws(-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f|-eusc)?:kms:([a-z]{2}|eusc)(-[a-z]+)+-[0-9]:[0-9]{12}:key/[a-zA-Z0-9-]{1,64}$`,
	"a KMS key ARN looks like arn:aws:kms:REGION:ACCOUNT:key/KEY-ID (a key, not an alias)", true, func(v string) string {
		a, err := awsarn.Parse(v)
		if err != nil {
			return err.Error()
		}
		if want := partition.Of(a.Region).ID; a.Partition != want {
			return fmt.Sprintf("region %s is in partition %s, so its keys are arn:%s:kms:…, not arn:%s:kms:…", a.Region, want, want, a.Partition)
		}
		return ""
	})

// TemplatePrefix is the key prefix publish puts templates under: it becomes part of a public
// URL and of a bucket policy's resource, so it is segments of URL-safe characters that mean the
// same key however a client normalises the URL (no empty, "." or ".." segment, no %).
var TemplatePrefix = withMaxLen(512, newRule(`^[A-Za-z0-9!_.'()=+,@-]+(/[A-Za-z0-9!_.'()=+,@-]+)*$`,
	"a template prefix is /-separated segments of letters, digits and !_.'()=+,@- (no empty, . or .. segment)",
	false, func(v string) string {
		for _, seg := range strings.Split(v, "/") {
			if seg == "." || seg == ".." {
				return fmt.Sprintf("the segment %q would make the URL name another key than the one written", seg)
			}
		}
		return ""
	}))

// RoleARN is an IAM role ARN: a 12-digit account, an optional path and a role name of at most
// 64 characters.
var RoleARN = newRule(`^arn:aws(-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f|-eusc)?:iam::[0-9]{12}:role/([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`,
	"a role ARN looks like arn:aws:iam::ACCOUNT:role/NAME, ACCOUNT 12 digits and NAME at most 64 letters, digits and +=,.@-_",
	true, nil)

// Region is an AWS region code such as eu-west-3 or us-gov-west-1; the European Sovereign
// Cloud's start with eusc- (eusc-de-east-1).
var Region = newRule(`^([a-z]{2}|eusc)(-[a-z]+)+-[0-9]$`,
	"a region is an AWS region code such as eu-west-3", false, nil)

// StackName follows CloudFormation's stack name rules.
var StackName = newRule(`^[a-zA-Z][-a-zA-Z0-9]{0,127}$`,
	"a stack name is 1-128 letters, digits and hyphens, starting with a letter", false, nil)

// TagKey and TagValue follow CloudFormation's stack tag rules.
var (
	TagKey = withMatch(tagChars(1, 128), newRule(`^[\p{L}\p{Z}\p{N}_.:/=+@-]{1,128}$`,
		"a tag key is 1-128 letters, digits, spaces and _.:/=+-@, and cannot start with aws:", false,
		func(v string) string {
			if strings.HasPrefix(strings.ToLower(v), "aws:") {
				return "the aws: prefix is reserved for AWS tags"
			}
			return ""
		}))
	TagValue = withMatch(tagChars(0, 256), newRule(`^[\p{L}\p{Z}\p{N}_.:/=+@-]{0,256}$`,
		"a tag value is at most 256 letters, digits, spaces and _.:/=+-@", true, nil))
)

// tagChars is the tag rules' pattern ^[\p{L}\p{Z}\p{N}_.:/=+@-]{min,max}$ as code: min to max
// characters, each a Unicode letter, separator or number or one of _.:/=+@-. Like the regexp,
// it counts characters, and a byte that is not UTF-8 (read as U+FFFD, a symbol) fails.
func tagChars(min, max int) func(string) bool {
	return func(v string) bool {
		n := 0
		for _, c := range v {
			n++
			if n > max {
				return false
			}
			if !unicode.IsLetter(c) && !unicode.Is(unicode.Z, c) && !unicode.IsNumber(c) &&
				!strings.ContainsRune("_.:/=+@-", c) {
				return false
			}
		}
		return n >= min
	}
}

// EndpointURL is an AWS endpoint override such as http://localhost:4566 (LocalStack).
var EndpointURL = newRule(`^https?://[^\s/?#]+(/[^\s?#]*)?$`,
	"an endpoint URL is http:// or https:// followed by a host, an optional port and path, e.g. http://localhost:4566",
	false, nil)

// VendorID is the short, DNS-style identifier of a vendor profile, used in stack names and tags.
var VendorID = newRule(`^[a-z][a-z0-9-]{0,30}[a-z0-9]$`,
	"a vendor id is 2-32 lowercase letters, digits and hyphens, starting with a letter", false, nil)

func withMaxLen(n int, r *Rule) *Rule {
	r.MaxLen = n
	return r
}

func trimAnchors(p string) string {
	return strings.TrimSuffix(strings.TrimPrefix(p, "^"), "$")
}

// RegionOfKMSKey returns the region field of a KMS key ARN, or "" if arn is not one.
func RegionOfKMSKey(arn string) string {
	a, err := awsarn.Parse(arn)
	if err != nil || a.Service != "kms" {
		return ""
	}
	return a.Region
}

// AllowedPattern is the rule as a CloudFormation AllowedPattern: an optional rule's pattern
// also accepts the empty string, since an empty parameter means "not used".
func (r *Rule) AllowedPattern() string {
	if !r.Optional {
		return r.Pattern
	}
	return "^(" + trimAnchors(r.Pattern) + ")?$"
}
