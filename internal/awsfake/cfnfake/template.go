package cfnfake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
)

// template is a CloudFormation template read generically from its JSON body: the fake never
// imports the code that builds templates, so what it models is what CloudFormation would see.
type template struct {
	Description string                    `json:"Description"`
	Parameters  map[string]templateParam  `json:"Parameters"`
	Conditions  map[string]any            `json:"Conditions"`
	Resources   map[string]templateRes    `json:"Resources"`
	Outputs     map[string]templateOutput `json:"Outputs"`
}

type templateParam struct {
	Type           string `json:"Type"`
	Default        any    `json:"Default"`
	AllowedPattern string `json:"AllowedPattern"`
	NoEcho         bool   `json:"NoEcho"`
}

type templateRes struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
	DependsOn  any            `json:"DependsOn"`
	Condition  string         `json:"Condition"`
}

type templateOutput struct {
	Value       any    `json:"Value"`
	Description string `json:"Description"`
	Condition   string `json:"Condition"`
}

func parseTemplate(body string) (*template, error) {
	var t template
	if err := json.Unmarshal([]byte(body), &t); err != nil {
		return nil, fmt.Errorf("Template format error: JSON not well-formed. (%v)", err)
	}
	if len(t.Resources) == 0 {
		return nil, fmt.Errorf("Template format error: At least one Resources member must be defined.")
	}
	for id, r := range t.Resources {
		if r.Type == "" {
			return nil, fmt.Errorf("Template format error: [/Resources/%s] Every Resources object must contain a Type member.", id)
		}
	}
	return &t, nil
}

// defaultString renders a parameter default (a string or a number in JSON) as CloudFormation does.
func defaultString(v any) (string, bool) {
	switch d := v.(type) {
	case nil:
		return "", false
	case string:
		return d, true
	case float64:
		return strconv.FormatFloat(d, 'f', -1, 64), true
	default:
		return fmt.Sprint(d), true
	}
}

// noValue is what {"Ref": "AWS::NoValue"} resolves to: the property is removed.
type noValue struct{}

// env resolves intrinsic functions against one stack's parameters and physical resources.
type env struct {
	t         *template
	params    map[string]string
	stackName string
	stackID   string
	region    string
	account   string
	conds     map[string]bool
}

func (e *env) condition(name string) bool {
	if name == "" {
		return true
	}
	if v, ok := e.conds[name]; ok {
		return v
	}
	b, _ := e.resolve(e.t.Conditions[name]).(bool)
	e.conds[name] = b
	return b
}

// exists reports whether a resource is part of the stack under the current conditions.
func (e *env) exists(id string) bool {
	r, ok := e.t.Resources[id]
	return ok && e.condition(r.Condition)
}

// physicalID is the deterministic physical ID the fake gives a resource: its name property
// when the template sets one, otherwise stack-logical-HASH like CloudFormation's generated names.
func (e *env) physicalID(id string) string {
	r := e.t.Resources[id]
	short := r.Type[strings.LastIndex(r.Type, ":")+1:]
	for _, k := range []string{short + "Name", "Name"} {
		if s, ok := e.resolve(r.Properties[k]).(string); ok && s != "" {
			if r.Type == "AWS::IAM::ManagedPolicy" {
				return arn(r.Type, s, e.region, e.account)
			}
			return s
		}
	}
	sum := sha256.Sum256([]byte(e.stackID + "/" + id))
	name := fmt.Sprintf("%s-%s-%s", e.stackName, id, strings.ToUpper(hex.EncodeToString(sum[:])[:12]))
	if r.Type == "AWS::IAM::ManagedPolicy" {
		return arn(r.Type, name, e.region, e.account)
	}
	return name
}

// arn builds a plausible ARN for a resource type: arn:aws:SERVICE:REGION:ACCOUNT:KIND/NAME.
func arn(typ, name, region, account string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	parts := strings.Split(typ, "::")
	service, kind := "cloudformation", "resource"
	if len(parts) == 3 {
		service, kind = strings.ToLower(parts[1]), strings.ToLower(parts[2])
	}
	if service == "iam" {
		if kind == "managedpolicy" {
			kind = "policy"
		}
		region = ""
	}
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", service, region, account, kind, name)
}

func (e *env) attribute(id, attr string) any {
	r, ok := e.t.Resources[id]
	if !ok {
		return fmt.Sprintf("%s.%s", id, attr)
	}
	phys := e.physicalID(id)
	switch attr {
	case "Arn":
		return arn(r.Type, phys, e.region, e.account)
	case "Alias":
		sum := sha256.Sum256([]byte(phys))
		return fmt.Sprintf("%s-%s-s3alias", phys, hex.EncodeToString(sum[:])[:26])
	default:
		return phys + "." + attr
	}
}

func (e *env) ref(name string) any {
	switch name {
	case "AWS::NoValue":
		return noValue{}
	case "AWS::Region":
		return e.region
	case "AWS::AccountId":
		return e.account
	case "AWS::Partition":
		return "aws"
	case "AWS::URLSuffix":
		return "amazonaws.com"
	case "AWS::StackName":
		return e.stackName
	case "AWS::StackId":
		return e.stackID
	}
	if v, ok := e.params[name]; ok {
		if p := e.t.Parameters[name]; strings.HasPrefix(p.Type, "List<") || p.Type == "CommaDelimitedList" {
			return toAny(strings.Split(v, ","))
		}
		return v
	}
	if _, ok := e.t.Resources[name]; ok {
		return e.physicalID(name)
	}
	return name
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

// resolve evaluates the intrinsic functions in v. Unknown functions are left as they are, so
// the result is still deterministic.
func (e *env) resolve(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for fn, arg := range x {
				if out, ok := e.intrinsic(fn, arg); ok {
					return out
				}
			}
		}
		out := map[string]any{}
		for k, val := range x {
			if r := e.resolve(val); r != (noValue{}) {
				out[k] = r
			}
		}
		return out
	case []any:
		out := []any{}
		for _, val := range x {
			if r := e.resolve(val); r != (noValue{}) {
				out = append(out, r)
			}
		}
		return out
	default:
		return v
	}
}

func (e *env) intrinsic(fn string, arg any) (any, bool) {
	args, _ := arg.([]any)
	str := func(v any) string { s, _ := e.resolve(v).(string); return s }
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		return e.ref(name), true
	case "Condition":
		name, _ := arg.(string)
		return e.condition(name), true
	case "Fn::GetAtt":
		if s, ok := arg.(string); ok {
			id, attr, _ := strings.Cut(s, ".")
			return e.attribute(id, attr), true
		}
		if len(args) == 2 {
			return e.attribute(str(args[0]), str(args[1])), true
		}
	case "Fn::If":
		if len(args) == 3 {
			name, _ := args[0].(string)
			if e.condition(name) {
				return e.resolve(args[1]), true
			}
			return e.resolve(args[2]), true
		}
	case "Fn::Equals":
		if len(args) == 2 {
			return fmt.Sprint(e.resolve(args[0])) == fmt.Sprint(e.resolve(args[1])), true
		}
	case "Fn::Not":
		if len(args) == 1 {
			b, _ := e.resolve(args[0]).(bool)
			return !b, true
		}
	case "Fn::And", "Fn::Or":
		all := fn == "Fn::And"
		for _, a := range args {
			if b, _ := e.resolve(a).(bool); b != all {
				return !all, true
			}
		}
		return all, true
	case "Fn::Join":
		if len(args) == 2 {
			var parts []string
			list, _ := e.resolve(args[1]).([]any)
			for _, p := range list {
				parts = append(parts, fmt.Sprint(p))
			}
			return strings.Join(parts, str(args[0])), true
		}
	case "Fn::Select":
		if len(args) == 2 {
			i, _ := strconv.Atoi(fmt.Sprint(e.resolve(args[0])))
			if list, ok := e.resolve(args[1]).([]any); ok && i >= 0 && i < len(list) {
				return list[i], true
			}
		}
	case "Fn::Split":
		if len(args) == 2 {
			return toAny(strings.Split(str(args[1]), str(args[0]))), true
		}
	case "Fn::Sub":
		text, vars := "", map[string]any{}
		if s, ok := arg.(string); ok {
			text = s
		} else if len(args) == 2 {
			text, _ = args[0].(string)
			vars, _ = args[1].(map[string]any)
		}
		out := subVar.ReplaceAllStringFunc(text, func(m string) string {
			name := m[2 : len(m)-1]
			if v, ok := vars[name]; ok {
				return fmt.Sprint(e.resolve(v))
			}
			if id, attr, ok := strings.Cut(name, "."); ok {
				return fmt.Sprint(e.attribute(id, attr))
			}
			return fmt.Sprint(e.ref(name))
		})
		return strings.ReplaceAll(out, "${!", "${"), true
	}
	return nil, false
}

// dependencies returns the other resources that resource id refers to (Ref, GetAtt, Sub,
// DependsOn), which CloudFormation must create first.
func (e *env) dependencies(id string) []string {
	r := e.t.Resources[id]
	seen := map[string]bool{}
	add := func(name string) {
		if name != id && e.exists(name) {
			seen[name] = true
		}
	}
	switch d := r.DependsOn.(type) {
	case string:
		add(d)
	case []any:
		for _, x := range d {
			s, _ := x.(string)
			add(s)
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				switch k {
				case "Ref":
					s, _ := val.(string)
					add(s)
				case "Fn::GetAtt":
					if s, ok := val.(string); ok {
						n, _, _ := strings.Cut(s, ".")
						add(n)
					} else if l, ok := val.([]any); ok && len(l) > 0 {
						s, _ := l[0].(string)
						add(s)
					}
				case "Fn::Sub":
					text, _ := val.(string)
					if l, ok := val.([]any); ok && len(l) > 0 {
						text, _ = l[0].(string)
					}
					for _, m := range subVar.FindAllStringSubmatch(text, -1) {
						n, _, _ := strings.Cut(m[1], ".")
						add(n)
					}
				}
				walk(val)
			}
		case []any:
			for _, val := range x {
				walk(val)
			}
		}
	}
	walk(r.Properties)
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// iamNameProperty is, per IAM resource type, the property that gives it a custom name (other
// properties such as AWS::IAM::RolePolicy's RoleName refer to a resource rather than name one).
var iamNameProperty = map[string]string{
	"AWS::IAM::Role":            "RoleName",
	"AWS::IAM::ManagedPolicy":   "ManagedPolicyName",
	"AWS::IAM::User":            "UserName",
	"AWS::IAM::Group":           "GroupName",
	"AWS::IAM::InstanceProfile": "InstanceProfileName",
}

// iamCapability returns the capability a template needs: "" when it has no IAM resources,
// CAPABILITY_NAMED_IAM when one of them has a custom name, CAPABILITY_IAM otherwise.
func (e *env) iamCapability() string {
	need := ""
	for _, id := range awsquery.SortedKeys(e.t.Resources) {
		r := e.t.Resources[id]
		if !strings.HasPrefix(r.Type, "AWS::IAM::") || !e.exists(id) {
			continue
		}
		need = "CAPABILITY_IAM"
		if s, ok := e.resolve(r.Properties[iamNameProperty[r.Type]]).(string); ok && s != "" {
			return "CAPABILITY_NAMED_IAM"
		}
	}
	return need
}
