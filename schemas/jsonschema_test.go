package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/ringops/ringops/internal/testkit/golden"
)

// TestJSONSchemaFile fails when the checked-in schema differs from the
// generated one; go test ./schemas -update (or go generate) rewrites it.
func TestJSONSchemaFile(t *testing.T) {
	got, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	golden.AssertString(t, SchemaFile, string(got))
}

func TestJSONSchemaIsDeterministic(t *testing.T) {
	a, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		b, _ := JSONSchema()
		if !bytes.Equal(a, b) {
			t.Fatal("two JSONSchema calls returned different bytes")
		}
	}
}

func TestJSONSchemaShape(t *testing.T) {
	root := loadSchema(t)
	if root["$schema"] != "http://json-schema.org/draft-07/schema#" {
		t.Errorf("$schema = %v, want draft-07", root["$schema"])
	}
	spec := property(t, root, "spec")
	if got := fmt.Sprint(spec["required"]); got != "[image storage datacenters]" {
		t.Errorf("spec.required = %s", got)
	}
	if spec["additionalProperties"] != false {
		t.Errorf("spec allows unknown fields")
	}
	cy := property(t, property(t, spec, "config"), "cassandra-yaml")
	if _, closed := cy["additionalProperties"]; closed || cy["type"] != "object" {
		t.Errorf("config.cassandra-yaml should be a free-form object, got %v", cy)
	}
	pp := property(t, spec, "imagePullPolicy")
	if fmt.Sprint(pp["enum"]) != "[Always IfNotPresent Never]" {
		t.Errorf("imagePullPolicy enum = %v", pp["enum"])
	}
	if n := property(t, spec, "nodesPerRack"); n["type"] != "integer" {
		t.Errorf("nodesPerRack type = %v, want integer", n["type"])
	}
}

// TestEveryFieldIsDocumented keeps editor hovers useful: a field without a
// doc tag shows nothing.
func TestEveryFieldIsDocumented(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(rt reflect.Type) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice || rt.Kind() == reflect.Map {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || seen[rt] {
			return
		}
		seen[rt] = true
		for _, f := range structInfoOf(rt).fields {
			if strings.TrimSpace(f.doc) == "" {
				t.Errorf("%s.%s has no doc tag", rt.Name(), f.name)
			}
			walk(f.typ)
		}
	}
	walk(reflect.TypeOf(CassandraCluster{}))
}

// TestSchemaAgreesWithParse checks every spec in testdata against the
// schema with a small structural validator (type, enum, properties,
// required, additionalProperties, items): the specs Parse accepts pass,
// and those with unknown fields or wrong types fail, as they do in editors.
func TestSchemaAgreesWithParse(t *testing.T) {
	root := loadSchema(t)
	valid, _ := filepath.Glob("testdata/valid/*.yaml")
	for _, f := range valid {
		if errs := validateFile(t, root, f); len(errs) > 0 {
			t.Errorf("%s: Parse accepts it but the schema does not: %v", f, errs)
		}
	}
	for _, tc := range []struct{ file, want string }{
		{"testdata/invalid/unknown-fields.yaml", "spec.nodesPerRacks: unknown field"},
		{"testdata/invalid/wrong-types.yaml", "spec.nodesPerRack: expected integer"},
		{"testdata/invalid/image.yaml", `spec.imagePullPolicy: "always" not in enum`},
		{"testdata/invalid/required-fields.yaml", "metadata.name: required"},
	} {
		errs := validateFile(t, root, tc.file)
		if !strings.Contains(strings.Join(errs, "\n"), tc.want) {
			t.Errorf("%s: schema errors %q, want one containing %q", tc.file, errs, tc.want)
		}
	}
}

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	b, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	return root
}

func property(t *testing.T, s map[string]any, name string) map[string]any {
	t.Helper()
	p, ok := s["properties"].(map[string]any)[name].(map[string]any)
	if !ok {
		t.Fatalf("schema has no property %s", name)
	}
	return p
}

func validateFile(t *testing.T, root map[string]any, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return checkSchema(root, v, "")
}

// checkSchema is a structural draft-07 validator for the keywords the
// generated schema uses.
func checkSchema(s map[string]any, v any, path string) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	if typ, ok := s["type"].(string); ok && !hasType(v, typ) {
		fail("expected %s", typ)
		return errs
	}
	if enum, ok := s["enum"].([]any); ok && !contains(enum, v) {
		fail("%q not in enum %v", v, enum)
	}
	switch val := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		required, _ := s["required"].([]any)
		for _, r := range required {
			if _, ok := val[r.(string)]; !ok {
				errs = append(errs, join(path, r.(string))+": required")
			}
		}
		keys := make([]string, 0, len(val))
		for k := range val {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k].(map[string]any); ok {
				errs = append(errs, checkSchema(ps, val[k], join(path, k))...)
			} else if ap, ok := s["additionalProperties"].(map[string]any); ok {
				errs = append(errs, checkSchema(ap, val[k], join(path, k))...)
			} else if s["additionalProperties"] == false {
				errs = append(errs, join(path, k)+": unknown field")
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, el := range val {
				errs = append(errs, checkSchema(items, el, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return errs
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func hasType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		_, err := n.Int64()
		return ok && err == nil
	}
	return false
}

func contains(list []any, v any) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
