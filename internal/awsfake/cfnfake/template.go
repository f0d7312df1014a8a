package cfnfake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
	"github.com/isahit/s3grant/internal/cfneval"
	"github.com/isahit/s3grant/internal/partition"
)

// template is a CloudFormation template read generically from its JSON body: the fake never
// imports the code that builds templates, so what it models is what CloudFormation would see.
type template struct {
	body        string
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
	t := template{body: body}
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

// env evaluates one stack's template for its parameters (internal/cfneval, CloudFormation's
// intrinsic functions) with the physical IDs and attributes the fake gives its resources.
type env struct {
	t         *template
	eval      *cfneval.Template
	stackName string
	stackID   string
	region    string
	account   string
}

// newEnv binds a template to a stack's parameters. It fails as CloudFormation's template
// validation does when a condition, a resource or an output cannot be evaluated, such as a
// Ref to a name the template does not declare.
func newEnv(t *template, params map[string]string, stackName, stackID, region, account string) (*env, error) {
	e := &env{t: t, stackName: stackName, stackID: stackID, region: region, account: account}
	part := partition.Of(region) // CloudFormation's pseudo parameters follow the stack's region
	pseudo := map[string]string{"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": part.ID,
		"AWS::URLSuffix": part.DNSSuffix, "AWS::StackName": stackName, "AWS::StackId": stackID}
	ev, err := cfneval.Parse([]byte(t.body), params, pseudo, cfneval.WithResources(e.physicalID, e.attribute))
	if err != nil {
		return nil, err
	}
	e.eval = ev
	for _, id := range awsquery.SortedKeys(t.Resources) {
		if _, err := ev.Eval(t.Resources[id].Properties); err != nil && e.exists(id) {
			return nil, fmt.Errorf("[/Resources/%s] %w", id, err)
		}
	}
	for _, k := range awsquery.SortedKeys(t.Outputs) {
		if _, err := ev.Eval(t.Outputs[k].Value); err != nil && e.condition(t.Outputs[k].Condition) {
			return nil, fmt.Errorf("[/Outputs/%s] %w", k, err)
		}
	}
	return e, nil
}

// resolve evaluates the intrinsic functions in v. newEnv evaluated every resource and output
// of the template, so an error cannot occur here; a value that cannot be evaluated is nil.
func (e *env) resolve(v any) any {
	r, _ := e.eval.Eval(v)
	return r
}

func (e *env) condition(name string) bool { return e.eval.Condition(name) }

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
	r := e.t.Resources[id]
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
	for _, name := range cfneval.References(r.Properties) {
		add(name)
	}
	return awsquery.SortedKeys(seen)
}

// iamResources is the list of resource types that the CreateStack and CreateChangeSet API
// reference (parameter Capabilities) says need CAPABILITY_IAM or CAPABILITY_NAMED_IAM, each
// with the property that gives it a custom name, for the types that take one: the template
// reference of each type says "If you specify a name, you must specify the
// CAPABILITY_NAMED_IAM value". Other IAM types (AWS::IAM::RolePolicy, AWS::IAM::OIDCProvider,
// ...) are not on the list and need no capability.
var iamResources = map[string]string{
	"AWS::IAM::AccessKey":           "",
	"AWS::IAM::Group":               "GroupName",
	"AWS::IAM::InstanceProfile":     "InstanceProfileName",
	"AWS::IAM::ManagedPolicy":       "ManagedPolicyName",
	"AWS::IAM::Policy":              "",
	"AWS::IAM::Role":                "RoleName",
	"AWS::IAM::User":                "UserName",
	"AWS::IAM::UserToGroupAddition": "",
}

// iamCapability returns the capability the stack needs for its parameters: "" without any
// resource of iamResources, CAPABILITY_NAMED_IAM when one of them gets a custom name (its
// name property evaluates to a non-empty value), CAPABILITY_IAM otherwise. Resources whose
// condition is false are not created and need nothing.
func (e *env) iamCapability() string {
	need := ""
	for _, id := range awsquery.SortedKeys(e.t.Resources) {
		r := e.t.Resources[id]
		nameProp, listed := iamResources[r.Type]
		if !listed || !e.exists(id) {
			continue
		}
		need = "CAPABILITY_IAM"
		if nameProp == "" {
			continue
		}
		if name, ok := r.Properties[nameProp]; ok {
			if v := e.resolve(name); v != nil && fmt.Sprint(v) != "" {
				return "CAPABILITY_NAMED_IAM"
			}
		}
	}
	return need
}
