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
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

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

// Parse decodes a vendor profile, refusing unknown keys, and checks every value.
func Parse(data []byte) (Vendor, error) {
	var v Vendor
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return Vendor{}, rules.Invalid("", "", "the vendor file is empty")
		}
		return Vendor{}, rules.Invalid("", "", yamlReason(err))
	}
	return v, v.Validate()
}

var unknownField = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`field (\S+) not found in type \S+`) })

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
	if strings.TrimSpace(v.Name) == "" {
		return rules.Invalid("name", v.Name, "is required: the product name shown to customers")
	}
	if err := v.CORS.validate(); err != nil {
		return err
	}
	for k, val := range v.Tags {
		if err := rules.TagKey.Validate("tags", k); err != nil {
			return err
		}
		if err := rules.TagValue.Validate("tags."+k, val); err != nil {
			return err
		}
	}
	return nil
}

func (c CORS) validate() error {
	if len(c.Origins) == 0 {
		return rules.Invalid("cors.origins", "", "is required: at least one https origin of the vendor's web apps")
	}
	for i, o := range c.Origins {
		if err := rules.Origin.Validate(fmt.Sprintf("cors.origins[%d]", i), o); err != nil {
			return err
		}
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
	for i, h := range append(slices.Clone(c.Headers), c.ExposeHeaders...) {
		if h == "" || strings.ContainsAny(h, " ,\t") {
			return rules.Invalid(fmt.Sprintf("cors.headers[%d]", i), h, "a header name is one non-empty token without spaces or commas")
		}
	}
	if c.MaxAgeSeconds < 0 {
		return rules.Invalid("cors.max_age_seconds", fmt.Sprint(c.MaxAgeSeconds), "must be zero or more seconds")
	}
	return nil
}
