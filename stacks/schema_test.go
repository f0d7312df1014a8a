package stacks

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/awslabs/goformation/v7/schema"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	schemaOnce        sync.Once
	schemaDefinitions map[string]any
	schemaErr         error
)

// definitions returns goformation's bundled CloudFormation resource schemas, relaxed so that an
// intrinsic function may stand wherever the schema expects a scalar or a list. Nothing else is
// relaxed: a wrong literal type, an unknown property or a missing required one still fails.
func definitions(t *testing.T) map[string]any {
	t.Helper()
	schemaOnce.Do(func() {
		var doc struct{ Definitions map[string]any }
		if schemaErr = json.Unmarshal([]byte(schema.CloudformationSchema), &doc); schemaErr != nil {
			return
		}
		for name, d := range doc.Definitions {
			doc.Definitions[name] = relax(d)
		}
		// A custom resource takes any properties besides the required ServiceToken.
		custom := doc.Definitions[customResourceType].(map[string]any)["properties"].(map[string]any)["Properties"].(map[string]any)
		custom["additionalProperties"] = true
		schemaDefinitions = doc.Definitions
	})
	if schemaErr != nil {
		t.Fatal(schemaErr)
	}
	return schemaDefinitions
}

const customResourceType = "AWS::CloudFormation::CustomResource"

var intrinsicSchema = map[string]any{
	"type": "object", "minProperties": 1, "maxProperties": 1,
	"patternProperties":    map[string]any{`^(Ref|Fn::[A-Za-z]+)$`: map[string]any{}},
	"additionalProperties": false,
}

func relax(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = relax(e)
		}
		switch x["type"] {
		case "string", "number", "integer", "boolean", "array":
			return map[string]any{"anyOf": []any{x, intrinsicSchema}}
		}
		return x
	case []any:
		for i := range x {
			x[i] = relax(x[i])
		}
	}
	return v
}

// validateResource checks one resource of a JSON template against the schema of its type.
func validateResource(t *testing.T, resource map[string]any) error {
	t.Helper()
	typ, _ := resource["Type"].(string)
	defs := definitions(t)
	if _, ok := defs[typ]; !ok {
		if strings.HasPrefix(typ, "Custom::") {
			typ = customResourceType
			resource = withType(resource, typ)
		} else {
			t.Fatalf("no schema for resource type %s", typ)
		}
	}
	doc := map[string]any{"definitions": reachable(defs, typ), "$ref": "#/definitions/" + typ}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	if err := c.AddResource("resource.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("resource.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch.Validate(resource)
}

// reachable returns the definitions that typ refers to, directly or not: compiling only those
// keeps the test fast (the whole schema is several megabytes).
func reachable(defs map[string]any, typ string) map[string]any {
	out := map[string]any{}
	var visit func(name string)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				visit(strings.TrimPrefix(ref, "#/definitions/"))
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	visit = func(name string) {
		if _, done := out[name]; done {
			return
		}
		out[name] = defs[name]
		walk(defs[name])
	}
	visit(typ)
	return out
}

func withType(r map[string]any, typ string) map[string]any {
	out := map[string]any{}
	for k, v := range r {
		out[k] = v
	}
	out["Type"] = typ
	return out
}

func resourcesOf(t *testing.T, body []byte) map[string]map[string]any {
	t.Helper()
	var doc struct{ Resources map[string]map[string]any }
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Resources
}

func TestResourcesMatchTheCloudFormationSchema(t *testing.T) {
	for name, in := range map[string]Integration{"example": example(), "every option": everyOption()} {
		for id, r := range resourcesOf(t, mustJSON(t, in)) {
			if err := validateResource(t, r); err != nil {
				t.Errorf("%s: resource %s does not match its schema: %v", name, id, err)
			}
		}
	}
}

// The relaxed schema still catches real mistakes.
func TestSchemaCatchesMistakes(t *testing.T) {
	base := resourcesOf(t, mustJSON(t, example()))[AccessPointID]
	props := base["Properties"].(map[string]any)
	cases := map[string]func(p map[string]any){
		"wrong literal type": func(p map[string]any) {
			p["PublicAccessBlockConfiguration"].(map[string]any)["BlockPublicAcls"] = "yes"
		},
		"unknown property":       func(p map[string]any) { p["NetworkOrigin"] = "Internet" },
		"missing required":       func(p map[string]any) { delete(p, "Bucket") },
		"object where string is": func(p map[string]any) { p["Name"] = map[string]any{"Name": "x"} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			b, _ := json.Marshal(props)
			var p map[string]any
			_ = json.Unmarshal(b, &p)
			mutate(p)
			r := map[string]any{"Type": base["Type"], "Properties": p}
			if err := validateResource(t, r); err == nil {
				t.Error("the schema accepted a broken resource")
			}
		})
	}
}
