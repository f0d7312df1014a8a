package launch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/isahit/s3grant/internal/rules"
)

// MaxTemplateSize is the largest template CloudFormation reads from S3 (1 MB).
const MaxTemplateSize = 1 << 20

// Parameter is what a quick-create link needs to know about one template parameter.
type Parameter struct {
	Type           string
	NoEcho         bool
	AllowedPattern string
	AllowedValues  []string
	MinLength      *int
	MaxLength      *int
}

// TemplateJSON returns a JSON or YAML CloudFormation template as JSON (YAML's short intrinsic
// tags read as their long forms), for readers of other sections than Parameters.
func TemplateJSON(body []byte) ([]byte, error) {
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] != '{' {
		out, err := yamlToJSON(body)
		if err != nil {
			return nil, fmt.Errorf("template is neither JSON nor a YAML CloudFormation template: %w", err)
		}
		return out, nil
	}
	return body, nil
}

// Parameters are a template's parameters by name.
type Parameters map[string]Parameter

// ParseTemplate reads the Parameters section of a JSON or YAML CloudFormation template, whoever
// wrote it: NoEcho and the length constraints may be booleans/numbers or strings, and YAML's
// short intrinsic tags (!Ref, !Sub, ...) are allowed.
func ParseTemplate(body []byte) (Parameters, error) {
	if len(body) > MaxTemplateSize {
		return nil, fmt.Errorf("template is %d bytes; CloudFormation reads at most %d from S3", len(body), MaxTemplateSize)
	}
	body, err := TemplateJSON(body)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Resources  map[string]json.RawMessage
		Parameters map[string]struct {
			Type           string
			NoEcho         scalar
			AllowedPattern string
			AllowedValues  []scalar
			MinLength      scalar
			MaxLength      scalar
		}
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("template is not a JSON CloudFormation template: %w", err)
	}
	if len(doc.Resources) == 0 {
		return nil, errors.New("template is not a CloudFormation template: it has no Resources")
	}
	params := make(Parameters, len(doc.Parameters))
	for name, p := range doc.Parameters {
		param := Parameter{Type: p.Type, NoEcho: strings.EqualFold(string(p.NoEcho), "true"), AllowedPattern: p.AllowedPattern}
		for _, v := range p.AllowedValues {
			param.AllowedValues = append(param.AllowedValues, string(v))
		}
		var err error
		if param.MinLength, err = p.MinLength.int(); err != nil {
			return nil, fmt.Errorf("template parameter %s: MinLength: %w", name, err)
		}
		if param.MaxLength, err = p.MaxLength.int(); err != nil {
			return nil, fmt.Errorf("template parameter %s: MaxLength: %w", name, err)
		}
		params[name] = param
	}
	return params, nil
}

// scalar is a JSON string, number or boolean, kept as its text.
type scalar string

func (s *scalar) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = scalar(str)
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v.(type) {
	case bool, float64:
		*s = scalar(b)
		return nil
	}
	return fmt.Errorf("%s is not a string, number or boolean", b)
}

func (s scalar) int() (*int, error) {
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(string(s))
	if err != nil {
		return nil, fmt.Errorf("%q is not an integer", string(s))
	}
	return &n, nil
}

// Names returns the parameter names in order.
func (p Parameters) Names() []string {
	names := make([]string, 0, len(p))
	for n := range p {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// check tells whether value may be prefilled for parameter name in a quick-create link.
func (p Parameters) check(name, value string) error {
	field := ParamPrefix + name
	param, ok := p[name]
	if !ok {
		return rules.Invalid(field, value, fmt.Sprintf("%s is not a parameter of the template (it has: %s); the console would silently ignore it", name, strings.Join(p.Names(), ", ")))
	}
	if param.NoEcho {
		return rules.Invalid(field, value, fmt.Sprintf("%s is a NoEcho parameter; the console cannot prefill it from a link", name))
	}
	n := utf8.RuneCountInString(value)
	if param.MinLength != nil && n < *param.MinLength {
		return rules.Invalid(field, value, fmt.Sprintf("%q is shorter than the template's MinLength %d", value, *param.MinLength))
	}
	if param.MaxLength != nil && n > *param.MaxLength {
		return rules.Invalid(field, value, fmt.Sprintf("%q is longer than the template's MaxLength %d", value, *param.MaxLength))
	}
	if len(param.AllowedValues) > 0 && !slices.Contains(param.AllowedValues, value) {
		return rules.Invalid(field, value, fmt.Sprintf("%q is not one of the template's AllowedValues: %s", value, strings.Join(param.AllowedValues, ", ")))
	}
	if param.AllowedPattern != "" {
		// CloudFormation matches AllowedPattern against the whole value (Java's matches()). A
		// pattern Go cannot compile (Java-only syntax, counts over 1000) is left to the console.
		re, err := regexp.Compile(`^(?:` + param.AllowedPattern + `)$`)
		if err == nil && !re.MatchString(value) {
			return rules.Invalid(field, value, fmt.Sprintf("%q does not match the template's AllowedPattern %s", value, param.AllowedPattern))
		}
	}
	return nil
}

// yamlToJSON turns a YAML template into the JSON form ParseTemplate reads. Tags such as !Ref
// are dropped with their value kept: only the Parameters and the presence of Resources matter.
func yamlToJSON(body []byte) ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, errors.New("its top level is not a mapping of sections")
	}
	return json.Marshal(doc)
}
