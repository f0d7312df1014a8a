// Package profile describes the vendor an integration grants access to: the vendor part of the
// model (stacks.Integration.Vendor). The embedded default is isahit Lab; another SaaS brings
// its own YAML file with the same keys. Errors name profile keys, never CLI flags.
package profile

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/isahit/s3grant/internal/rules"
)

// Vendor is one SaaS that customers connect their buckets to.
type Vendor struct {
	// ID is a short DNS-style name used in stack names, CORS rule IDs and tags.
	ID string `yaml:"id"`
	// Name is the product name shown to people.
	Name string `yaml:"name"`
	// AccountID is the AWS account the vendor assumes the customer's role from.
	AccountID string `yaml:"account_id"`
	// AccessPointName is the default name of the S3 access point created for the vendor.
	AccessPointName string `yaml:"access_point_name"`
	// CORS is the rule the vendor's web apps need on the customer's bucket.
	CORS CORS `yaml:"cors"`
	// Example holds the values the docs and `make run` use when the customer gave none.
	Example Example `yaml:"example"`
	// Tags are added to every stack deployed for this vendor.
	Tags map[string]string `yaml:"tags"`
}

// CORS is the browser access the vendor's web apps need.
type CORS struct {
	Origins       []string `yaml:"origins"`
	Methods       []string `yaml:"methods"`
	Headers       []string `yaml:"headers"`
	ExposeHeaders []string `yaml:"expose_headers"`
	// MaxAgeSeconds, when set, lets browsers cache a preflight answer.
	MaxAgeSeconds int `yaml:"max_age_seconds"`
}

// Example holds illustrative customer values.
type Example struct {
	Region     string `yaml:"region"`
	ExternalID string `yaml:"external_id"`
	Bucket     string `yaml:"bucket"`
}

//go:embed isahit-lab.yaml
var defaultYAML []byte

// Default returns the embedded isahit Lab profile.
func Default() Vendor {
	v, err := Parse(defaultYAML)
	if err != nil {
		// The embedded file is checked by the tests; reaching this is a build defect.
		panic("embedded vendor profile: " + err.Error())
	}
	return v
}

// Load reads and checks a vendor profile file. Errors are *rules.InvalidError values whose
// field is the file's path, followed by the bad key when there is one ("FILE: cors.origins[0]").
func Load(path string) (Vendor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Vendor{}, rules.Invalid(path, path, fmt.Sprintf("cannot read the vendor file: %v", errors.Unwrap(err)))
	}
	v, err := Parse(data)
	if err != nil {
		var inv *rules.InvalidError
		if errors.As(err, &inv) {
			inv.Field = strings.TrimSuffix(path+": "+inv.Field, ": ")
			return Vendor{}, inv
		}
		return Vendor{}, err
	}
	return v, nil
}

// Limits a vendor profile is held to, so that everything built from it stays within what
// CloudFormation, IAM, Lambda and S3 accept. stacks' tests build templates at these limits.
const (
	// MaxNameLength bounds the name, in characters. The name appears four times in the template
	// Description (1,024 bytes, about 340 of them fixed text), once in the Lambda function's
	// Description (256 characters, 67 fixed) and in IAM descriptions (1,000): 64 characters
	// of up to 2 UTF-8 bytes each leave every one of them within its limit.
	MaxNameLength = 64
	// MaxOriginsLength bounds the origins joined with commas: the AllowedOrigins parameter's
	// default, and any value a customer gives, is at most 4,096 bytes (CloudFormation).
	MaxOriginsLength = 4096
	// MaxHeadersLength bounds the header names of the CORS rule together, so that the vendor's
	// rule stays small beside the customer's own in S3's 64 KB CORS configuration.
	MaxHeadersLength = 1024
	// MaxAgeSeconds is the largest max_age_seconds: S3 keeps it as a 32-bit integer.
	MaxAgeSeconds = math.MaxInt32
	// MaxTags is the number of tags CloudFormation allows on a stack.
	MaxTags = 50
)

// Parse decodes a vendor profile, refusing unknown keys, control characters and any second
// YAML document, and checks every value.
func Parse(data []byte) (Vendor, error) {
	if err := checkText(data); err != nil {
		return Vendor{}, err
	}
	var v Vendor
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return Vendor{}, rules.Invalid("", "", "the vendor file is empty")
		}
		return Vendor{}, rules.Invalid("", "", yamlReason(err))
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return Vendor{}, rules.Invalid("", "", fmt.Sprintf("line %d: a vendor file holds exactly one YAML document; "+
			"a second one (after ---) would be ignored", secondDocumentLine(data)))
	}
	return v, v.Validate()
}

var unknownField = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`field (\S+) not found in type \S+`) })

// checkText refuses what is not text: invalid UTF-8 and control characters other than tab,
// line feed and carriage return, naming the line.
func checkText(data []byte) error {
	for line, text := range bytes.Split(data, []byte("\n")) {
		if !utf8.Valid(text) {
			return rules.Invalid("", "", fmt.Sprintf("line %d: the vendor file must be UTF-8 text", line+1))
		}
		for _, r := range string(text) {
			if r != '\t' && r != '\r' && unicode.IsControl(r) {
				return rules.Invalid("", "", fmt.Sprintf("line %d: control character %U is not allowed in a vendor file", line+1, r))
			}
		}
	}
	return nil
}

// secondDocumentLine is the line where the second YAML document starts: the second "---" when
// the file opens with one, else the first.
func secondDocumentLine(data []byte) int {
	var seps []int
	opensWithSeparator := false
	content := false
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "---") {
			if !content {
				opensWithSeparator = true
			}
			seps = append(seps, i+1)
		}
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
			content = true
		}
	}
	if opensWithSeparator && len(seps) > 1 {
		return seps[1]
	}
	if len(seps) > 0 && !opensWithSeparator {
		return seps[0]
	}
	return 1
}

// yamlReason turns a YAML decoding error into one line, naming unknown keys plainly.
func yamlReason(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := unknownField().ReplaceAllString(te.Errors[0], "unknown key \"$1\"")
		return msg
	}
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// readOnlyMethods are the CORS methods a read-only integration may allow.
var readOnlyMethods = []string{"GET", "HEAD"}

// Validate checks every value of the profile and names the first bad key.
func (v Vendor) Validate() error {
	checks := []struct {
		rule         *rules.Rule
		field, value string
	}{
		{rules.VendorID, "id", v.ID},
		{rules.AccountID, "account_id", v.AccountID},
		{rules.AccessPointName, "access_point_name", v.AccessPointName},
		{rules.Region, "example.region", v.Example.Region},
		{rules.ExternalID, "example.external_id", v.Example.ExternalID},
		{rules.BucketName, "example.bucket", v.Example.Bucket},
	}
	for _, c := range checks {
		if err := c.rule.Validate(c.field, c.value); err != nil {
			return err
		}
	}
	if err := validateName(v.Name); err != nil {
		return err
	}
	if err := v.CORS.validate(); err != nil {
		return err
	}
	if len(v.Tags) > MaxTags {
		return rules.Invalid("tags", "", fmt.Sprintf("has %d tags: a CloudFormation stack takes at most %d", len(v.Tags), MaxTags))
	}
	for _, k := range slices.Sorted(maps.Keys(v.Tags)) {
		if err := rules.TagKey.Validate("tags", k); err != nil {
			return err
		}
		if err := rules.TagValue.Validate("tags."+k, v.Tags[k]); err != nil {
			return err
		}
	}
	return nil
}

// validateName checks the product name against every place it lands: CloudFormation and
// Lambda descriptions (lengths), Fn::Sub strings (no ${), IAM role descriptions (printable
// Latin-1 only) and one-line texts (no control characters).
func validateName(name string) error {
	switch n := utf8.RuneCountInString(name); {
	case strings.TrimSpace(name) == "":
		return rules.Invalid("name", name, "is required: the product name shown to customers")
	case n > MaxNameLength:
		return rules.Invalid("name", name, fmt.Sprintf("is %d characters long: at most %d, so that the template's "+
			"descriptions stay within CloudFormation's and Lambda's limits", n, MaxNameLength))
	case strings.Contains(name, "${"):
		return rules.Invalid("name", name, "cannot contain \"${\": the name goes into Fn::Sub texts, where it would "+
			"be read as a template variable")
	case strings.TrimSpace(name) != name:
		return rules.Invalid("name", name, "cannot start or end with spaces")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa1) || r > 0xff {
			return rules.Invalid("name", name, fmt.Sprintf("cannot contain %U: IAM descriptions, where the name "+
				"appears, take printable Latin-1 characters only (no control characters or line breaks)", r))
		}
	}
	return nil
}

func (c CORS) validate() error {
	if len(c.Origins) == 0 {
		return rules.Invalid("cors.origins", "", "is required: at least one https origin of the vendor's web apps")
	}
	for i, o := range c.Origins {
		field := fmt.Sprintf("cors.origins[%d]", i)
		if err := rules.Origin.Validate(field, o); err != nil {
			return err
		}
		if why := originLimits(o); why != "" {
			return rules.Invalid(field, o, fmt.Sprintf("%q is not valid: %s", o, why))
		}
		if j := slices.Index(c.Origins, o); j < i {
			return rules.Invalid(field, o, fmt.Sprintf("%q is listed twice (also cors.origins[%d])", o, j))
		}
	}
	if n := len(strings.Join(c.Origins, ",")); n > MaxOriginsLength {
		return rules.Invalid("cors.origins", "", fmt.Sprintf("%d origins make %d characters joined with commas: the "+
			"AllowedOrigins parameter holds at most %d (CloudFormation's limit on a parameter value)",
			len(c.Origins), n, MaxOriginsLength))
	}
	if len(c.Methods) == 0 {
		return rules.Invalid("cors.methods", "", "is required: GET and/or HEAD")
	}
	for i, m := range c.Methods {
		if !slices.Contains(readOnlyMethods, m) {
			return rules.Invalid(fmt.Sprintf("cors.methods[%d]", i), m,
				fmt.Sprintf("%q is not allowed: the integration is read-only, so only GET and HEAD", m))
		}
	}
	total := 0
	for _, list := range []struct {
		key    string
		values []string
	}{{"cors.headers", c.Headers}, {"cors.expose_headers", c.ExposeHeaders}} {
		for i, h := range list.values {
			if !headerName.MatchString(h) {
				return rules.Invalid(fmt.Sprintf("%s[%d]", list.key, i), h,
					fmt.Sprintf("%q is not valid: a header name is one token of letters, digits and !#$%%&'*+-.^_`|~, "+
						"without spaces or commas (list several headers as several items)", h))
			}
			if strings.Count(h, "*") > 1 {
				return rules.Invalid(fmt.Sprintf("%s[%d]", list.key, i), h, fmt.Sprintf("%q has more than one *: S3 "+
					"allows one wildcard per header", h))
			}
			total += len(h)
		}
	}
	if total > MaxHeadersLength {
		return rules.Invalid("cors.headers", "", fmt.Sprintf("headers and expose_headers hold %d characters: at most "+
			"%d, so that the rule stays small in the bucket's 64 KB CORS configuration", total, MaxHeadersLength))
	}
	if c.MaxAgeSeconds < 0 || c.MaxAgeSeconds > MaxAgeSeconds {
		return rules.Invalid("cors.max_age_seconds", strconv.Itoa(c.MaxAgeSeconds), fmt.Sprintf(
			"%d is out of range: 0 to %d seconds (S3 keeps it as a 32-bit integer)", c.MaxAgeSeconds, MaxAgeSeconds))
	}
	return nil
}

// headerName is an HTTP header name (an RFC 9110 token), the form S3 takes in AllowedHeader
// and ExposeHeader.
var headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$")

// originLimits checks what the origin pattern cannot count: a port from 1 to 65535, a host
// of at most 253 characters in labels of at most 63 (DNS).
func originLimits(origin string) string {
	host := strings.TrimPrefix(origin, "https://")
	if h, port, ok := strings.Cut(host, ":"); ok {
		host = h
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("port %s is out of range: a port is 1 to 65535", port)
		}
	}
	if len(host) > 253 {
		return fmt.Sprintf("the host name is %d characters long: DNS allows 253", len(host))
	}
	for _, label := range strings.Split(host, ".") {
		if len(label) > 63 {
			return fmt.Sprintf("the host name label %q is %d characters long: DNS allows 63", label, len(label))
		}
	}
	return ""
}
