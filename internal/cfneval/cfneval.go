// Package cfneval evaluates the intrinsic functions of a CloudFormation JSON template for
// given parameter values, as CloudFormation would at deploy time. Tests use it to read the
// template the way AWS does, independently of the code that built it, so the docs and the
// checks can be compared with what the stack really creates.
package cfneval

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Template is a parsed CloudFormation template with its parameter values.
type Template struct {
	Raw        map[string]any
	values     map[string]string
	conditions map[string]bool
}

// NoValue is what AWS::NoValue evaluates to; Evaluate drops it from objects and lists.
var noValue = &struct{ noValue bool }{true}

// Parse reads a JSON template and binds parameter values: values override the parameter
// defaults; pseudo holds AWS::Region, AWS::AccountId, AWS::Partition, AWS::URLSuffix and
// AWS::StackName as needed.
func Parse(body []byte, values, pseudo map[string]string) (*Template, error) {
	t := &Template{values: map[string]string{}, conditions: map[string]bool{}}
	if err := json.Unmarshal(body, &t.Raw); err != nil {
		return nil, fmt.Errorf("cfneval: %w", err)
	}
	params, _ := t.Raw["Parameters"].(map[string]any)
	for name, p := range params {
		if d, ok := p.(map[string]any)["Default"]; ok {
			t.values[name] = fmt.Sprint(d)
		}
	}
	for k, v := range values {
		t.values[k] = v
	}
	for k, v := range pseudo {
		t.values[k] = v
	}
	conds, _ := t.Raw["Conditions"].(map[string]any)
	for name, expr := range conds {
		v, err := t.eval(expr)
		if err != nil {
			return nil, fmt.Errorf("cfneval: condition %s: %w", name, err)
		}
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("cfneval: condition %s is not a boolean", name)
		}
		t.conditions[name] = b
	}
	return t, nil
}

// Condition reports the value of a named condition.
func (t *Template) Condition(name string) bool { return t.conditions[name] }

// Resources returns the resources that exist for these values (their Condition holds),
// with every intrinsic evaluated. GetAtt evaluates to "<Resource.Attribute>".
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

// Eval evaluates one template value.
func (t *Template) Eval(v any) (any, error) { return t.eval(v) }

var subRef = regexp.MustCompile(`\$\{([^}!]+)\}`)

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
		return v, nil
	}
	if res, _ := t.Raw["Resources"].(map[string]any); res[name] != nil {
		return "<" + name + ">", nil
	}
	return nil, fmt.Errorf("Ref to unknown name %q", name)
}

func (t *Template) intrinsic(fn string, arg any) (any, error) {
	args, _ := arg.([]any)
	switch fn {
	case "Ref":
		return t.ref(arg.(string))
	case "Condition":
		return t.conditions[arg.(string)], nil
	case "Fn::GetAtt":
		return fmt.Sprintf("<%s.%s>", args[0], args[1]), nil
	case "Fn::If":
		if t.conditions[args[0].(string)] {
			return t.eval(args[1])
		}
		return t.eval(args[2])
	case "Fn::Equals":
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
			vals = append(vals, r.(bool))
		}
		switch fn {
		case "Fn::Not":
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
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Fn::Sub with variables is not supported")
		}
		var err error
		out := subRef.ReplaceAllStringFunc(s, func(m string) string {
			name := subRef.FindStringSubmatch(m)[1]
			if strings.Contains(name, ".") {
				parts := strings.SplitN(name, ".", 2)
				return fmt.Sprintf("<%s.%s>", parts[0], parts[1])
			}
			v, e := t.ref(name)
			if e != nil {
				err = e
				return m
			}
			return fmt.Sprint(v)
		})
		return out, err
	case "Fn::Join":
		list, err := t.eval(args[1])
		if err != nil {
			return nil, err
		}
		var parts []string
		for _, p := range list.([]any) {
			parts = append(parts, fmt.Sprint(p))
		}
		return strings.Join(parts, args[0].(string)), nil
	case "Fn::Split":
		s, err := t.eval(args[1])
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(fmt.Sprint(s), args[0].(string)) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Select":
		list, err := t.eval(args[1])
		if err != nil {
			return nil, err
		}
		var i int
		fmt.Sscan(fmt.Sprint(args[0]), &i)
		return list.([]any)[i], nil
	}
	return nil, fmt.Errorf("intrinsic %s is not supported", fn)
}
