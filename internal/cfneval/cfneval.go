// Package cfneval evaluates the intrinsic functions of a CloudFormation JSON template for
// given parameter values, as CloudFormation would at deploy time. Tests use it to read the
// template the way AWS does, independently of the code that built it, so the docs and the
// checks can be compared with what the stack really creates; the CloudFormation fake uses it
// to resolve what a stack's resources and outputs become. It is the one evaluator of
// templates in the test support.
//
// It follows the template reference (Intrinsic function reference): Ref, Condition, Fn::If,
// Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::Sub (with or without a variable map, ${!Literal}
// for a literal ${Literal}), Fn::GetAtt (list or "Resource.Attribute" form), Fn::Join,
// Fn::Split and Fn::Select. A Ref to a CommaDelimitedList or List<...> parameter is a list.
// Any other function is an error, so a template the evaluator cannot read never passes as read.
package cfneval

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Template is a parsed CloudFormation template with its parameter values.
type Template struct {
	Raw        map[string]any
	values     map[string]string
	lists      map[string]bool // parameters whose Ref is a list
	conditions map[string]bool
	deciding   map[string]bool // conditions being evaluated, to refuse a cycle
	resourceID func(id string) string
	attribute  func(id, attr string) any
}

// noValue is what AWS::NoValue evaluates to; evaluation drops it from objects and lists.
var noValue = &struct{ noValue bool }{true}

// An Option changes how a template is evaluated.
type Option func(*Template)

// WithResources makes a Ref to a resource evaluate to id(name) and Fn::GetAtt (and a
// ${Resource.Attribute} in Fn::Sub) to attr(name, attribute), instead of the placeholders
// "<Name>" and "<Name.Attribute>": the physical IDs and attributes of a deployed stack, as a
// fake CloudFormation assigns them. Either function may be nil to keep the placeholder.
func WithResources(id func(name string) string, attr func(name, attribute string) any) Option {
	return func(t *Template) { t.resourceID, t.attribute = id, attr }
}

// Parse reads a JSON template and binds parameter values: values override the parameter
// defaults; pseudo holds AWS::Region, AWS::AccountId, AWS::Partition, AWS::URLSuffix,
// AWS::StackName and AWS::StackId as needed. Every condition is decided here, so a template
// whose conditions cannot be evaluated is refused at once.
func Parse(body []byte, values, pseudo map[string]string, opts ...Option) (*Template, error) {
	t := &Template{values: map[string]string{}, lists: map[string]bool{},
		conditions: map[string]bool{}, deciding: map[string]bool{}}
	if err := json.Unmarshal(body, &t.Raw); err != nil {
		return nil, fmt.Errorf("cfneval: %w", err)
	}
	for _, opt := range opts {
		opt(t)
	}
	params, _ := t.Raw["Parameters"].(map[string]any)
	for name, p := range params {
		pm, _ := p.(map[string]any)
		if d, ok := pm["Default"]; ok {
			t.values[name] = scalar(d)
		}
		if typ, _ := pm["Type"].(string); typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<") {
			t.lists[name] = true
		}
	}
	for k, v := range values {
		t.values[k] = v
	}
	for k, v := range pseudo {
		t.values[k] = v
	}
	conds, _ := t.Raw["Conditions"].(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(conds)) {
		if _, err := t.condition(name); err != nil {
			return nil, fmt.Errorf("cfneval: condition %s: %w", name, err)
		}
	}
	return t, nil
}

// scalar renders a JSON scalar (a parameter default, a Select index) as CloudFormation does.
func scalar(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// Condition reports the value of a named condition; the empty name (a resource without a
// Condition) holds.
func (t *Template) Condition(name string) bool {
	if name == "" {
		return true
	}
	return t.conditions[name]
}

// Value returns the value bound to a parameter or pseudo parameter, and whether it has one.
func (t *Template) Value(name string) (string, bool) {
	v, ok := t.values[name]
	return v, ok
}

// condition decides a named condition once; a condition may refer to others (Condition).
func (t *Template) condition(name string) (bool, error) {
	if b, ok := t.conditions[name]; ok {
		return b, nil
	}
	conds, _ := t.Raw["Conditions"].(map[string]any)
	expr, ok := conds[name]
	if !ok {
		return false, fmt.Errorf("unknown condition %q", name)
	}
	if t.deciding[name] {
		return false, fmt.Errorf("condition %q refers to itself", name)
	}
	t.deciding[name] = true
	defer delete(t.deciding, name)
	v, err := t.eval(expr)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("condition %s is not a boolean", name)
	}
	t.conditions[name] = b
	return b, nil
}

// Resources returns the resources that exist for these values (their Condition holds),
// with every intrinsic evaluated. GetAtt evaluates to "<Resource.Attribute>" unless
// WithResources says otherwise.
func (t *Template) Resources() (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	res, _ := t.Raw["Resources"].(map[string]any)
	for name, r := range res {
		rm := r.(map[string]any)
		if c, ok := rm["Condition"].(string); ok && !t.conditions[c] {
			continue
		}
		v, err := t.eval(rm)
		if err != nil {
			return nil, fmt.Errorf("cfneval: resource %s: %w", name, err)
		}
		out[name] = v.(map[string]any)
	}
	return out, nil
}

// Eval evaluates one template value. AWS::NoValue on its own evaluates to nil.
func (t *Template) Eval(v any) (any, error) {
	r, err := t.eval(v)
	if r == noValue {
		return nil, err
	}
	return r, err
}

// subVar matches the ${Name} and ${!Literal} references of an Fn::Sub string.
var subVar = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\$\{([^}]*)\}`) })

// References returns the logical names a template value refers to, sorted and without
// repeats: the targets of Ref, of Fn::GetAtt and of the ${Name} and ${Name.Attribute}
// variables of Fn::Sub (not those defined in its variable map). Pseudo parameters
// (AWS::...) are left out. CloudFormation creates a resource after those it refers to.
func References(v any) []string {
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, arg := range x {
				switch k {
				case "Ref":
					if s, ok := arg.(string); ok {
						seen[s] = true
					}
				case "Fn::GetAtt":
					if s, ok := arg.(string); ok {
						name, _, _ := strings.Cut(s, ".")
						seen[name] = true
					} else if l, ok := arg.([]any); ok && len(l) > 0 {
						if s, ok := l[0].(string); ok {
							seen[s] = true
						}
					}
				case "Fn::Sub":
					text, _ := arg.(string)
					var vars map[string]any
					if l, ok := arg.([]any); ok && len(l) == 2 {
						text, _ = l[0].(string)
						vars, _ = l[1].(map[string]any)
						walk(l[1])
					}
					for _, m := range subVar().FindAllStringSubmatch(text, -1) {
						if strings.HasPrefix(m[1], "!") {
							continue
						}
						if _, ok := vars[m[1]]; ok {
							continue
						}
						name, _, _ := strings.Cut(m[1], ".")
						seen[name] = true
					}
					continue
				}
				walk(arg)
			}
		}
	}
	walk(v)
	var out []string
	for _, name := range slices.Sorted(maps.Keys(seen)) {
		if name != "" && !strings.HasPrefix(name, "AWS::") {
			out = append(out, name)
		}
	}
	return out
}

func (t *Template) eval(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		out := []any{}
		for _, e := range x {
			r, err := t.eval(e)
			if err != nil {
				return nil, err
			}
			if r != noValue {
				out = append(out, r)
			}
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
					return t.intrinsic(k, arg)
				}
			}
		}
		out := map[string]any{}
		for k, e := range x {
			r, err := t.eval(e)
			if err != nil {
				return nil, err
			}
			if r != noValue {
				out[k] = r
			}
		}
		return out, nil
	}
	return v, nil
}

func (t *Template) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue, nil
	}
	if v, ok := t.values[name]; ok {
		if t.lists[name] {
			return toList(strings.Split(v, ",")), nil
		}
		return v, nil
	}
	if res, _ := t.Raw["Resources"].(map[string]any); res[name] != nil {
		if t.resourceID != nil {
			return t.resourceID(name), nil
		}
		return "<" + name + ">", nil
	}
	return nil, fmt.Errorf("Ref to unknown name %q", name)
}

func (t *Template) getAtt(name, attr string) (any, error) {
	if res, _ := t.Raw["Resources"].(map[string]any); res[name] == nil {
		return nil, fmt.Errorf("Fn::GetAtt of unknown resource %q", name)
	}
	if t.attribute != nil {
		return t.attribute(name, attr), nil
	}
	return fmt.Sprintf("<%s.%s>", name, attr), nil
}

func toList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// evalString evaluates v and requires a string, as the string arguments of functions are.
func (t *Template) evalString(fn string, v any) (string, error) {
	r, err := t.eval(v)
	if err != nil {
		return "", err
	}
	s, ok := r.(string)
	if !ok {
		return "", fmt.Errorf("%s: %v is not a string", fn, r)
	}
	return s, nil
}

func (t *Template) evalList(fn string, v any) ([]any, error) {
	r, err := t.eval(v)
	if err != nil {
		return nil, err
	}
	l, ok := r.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: %v is not a list", fn, r)
	}
	return l, nil
}

func (t *Template) intrinsic(fn string, arg any) (any, error) {
	args, _ := arg.([]any)
	need := func(n int) error {
		if len(args) != n {
			return fmt.Errorf("%s takes %d arguments, not %v", fn, n, arg)
		}
		return nil
	}
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Ref to %v, not a name", arg)
		}
		return t.ref(name)
	case "Condition":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Condition %v, not a name", arg)
		}
		return t.condition(name)
	case "Fn::GetAtt":
		if s, ok := arg.(string); ok {
			name, attr, _ := strings.Cut(s, ".")
			return t.getAtt(name, attr)
		}
		if err := need(2); err != nil {
			return nil, err
		}
		name, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::GetAtt of %v, not a resource name", args[0])
		}
		attr, err := t.evalString(fn, args[1])
		if err != nil {
			return nil, err
		}
		return t.getAtt(name, attr)
	case "Fn::If":
		if err := need(3); err != nil {
			return nil, err
		}
		name, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::If on %v, not a condition name", args[0])
		}
		b, err := t.condition(name)
		if err != nil {
			return nil, err
		}
		if b {
			return t.eval(args[1])
		}
		return t.eval(args[2])
	case "Fn::Equals":
		if err := need(2); err != nil {
			return nil, err
		}
		a, err := t.eval(args[0])
		if err != nil {
			return nil, err
		}
		b, err := t.eval(args[1])
		if err != nil {
			return nil, err
		}
		return fmt.Sprint(a) == fmt.Sprint(b), nil
	case "Fn::Not", "Fn::And", "Fn::Or":
		var vals []bool
		for _, a := range args {
			r, err := t.eval(a)
			if err != nil {
				return nil, err
			}
			b, ok := r.(bool)
			if !ok {
				return nil, fmt.Errorf("%s of %v, not a boolean", fn, r)
			}
			vals = append(vals, b)
		}
		switch fn {
		case "Fn::Not":
			if err := need(1); err != nil {
				return nil, err
			}
			return !vals[0], nil
		case "Fn::And":
			for _, b := range vals {
				if !b {
					return false, nil
				}
			}
			return true, nil
		}
		for _, b := range vals {
			if b {
				return true, nil
			}
		}
		return false, nil
	case "Fn::Sub":
		text, ok := arg.(string)
		vars := map[string]any{}
		if !ok {
			if err := need(2); err != nil {
				return nil, err
			}
			text, _ = args[0].(string)
			vars, _ = args[1].(map[string]any)
		}
		var err error
		out := subVar().ReplaceAllStringFunc(text, func(m string) string {
			name := m[2 : len(m)-1]
			if strings.HasPrefix(name, "!") {
				return "${" + name[1:] + "}"
			}
			var v any
			var e error
			if def, ok := vars[name]; ok {
				v, e = t.eval(def)
			} else if res, attr, ok := strings.Cut(name, "."); ok {
				v, e = t.getAtt(res, attr)
			} else {
				v, e = t.ref(name)
			}
			if e != nil && err == nil {
				err = e
			}
			return fmt.Sprint(v)
		})
		return out, err
	case "Fn::Join", "Fn::Split":
		if err := need(2); err != nil {
			return nil, err
		}
		sep, err := t.evalString(fn, args[0])
		if err != nil {
			return nil, err
		}
		if fn == "Fn::Split" {
			s, err := t.evalString(fn, args[1])
			if err != nil {
				return nil, err
			}
			return toList(strings.Split(s, sep)), nil
		}
		list, err := t.evalList(fn, args[1])
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(list))
		for i, p := range list {
			parts[i] = fmt.Sprint(p)
		}
		return strings.Join(parts, sep), nil
	case "Fn::Select":
		if err := need(2); err != nil {
			return nil, err
		}
		idx, err := t.eval(args[0])
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(scalar(idx))
		if err != nil {
			return nil, fmt.Errorf("Fn::Select index %v is not a number", idx)
		}
		list, err := t.evalList(fn, args[1])
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= len(list) {
			return nil, fmt.Errorf("Fn::Select index %d is outside a list of %d", i, len(list))
		}
		return list[i], nil
	}
	return nil, fmt.Errorf("intrinsic %s is not supported", fn)
}
