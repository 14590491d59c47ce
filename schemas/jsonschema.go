package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
)

//go:generate go test -run ^TestJSONSchemaFile$ -update .

// SchemaFile is the name of the checked-in JSON Schema, next to this
// package's sources. Editors use it through yaml-language-server:
//
//	# yaml-language-server: $schema=<path or URL>/cassandracluster.schema.json
const SchemaFile = "cassandracluster.schema.json"

// jsonSchema is one (sub)schema of draft-07, with its properties kept in
// field order.
type jsonSchema struct {
	Schema               string      `json:"$schema,omitempty"`
	Title                string      `json:"title,omitempty"`
	Description          string      `json:"description,omitempty"`
	Type                 string      `json:"type,omitempty"`
	Enum                 []string    `json:"enum,omitempty"`
	Maximum              int         `json:"maximum,omitempty"`
	MaxItems             int         `json:"maxItems,omitempty"`
	Properties           *properties `json:"properties,omitempty"`
	Required             []string    `json:"required,omitempty"`
	AdditionalProperties any         `json:"additionalProperties,omitempty"`
	Items                *jsonSchema `json:"items,omitempty"`
}

// properties keeps the order of a struct's fields in the output.
type properties struct {
	names   []string
	schemas map[string]*jsonSchema
}

// MarshalJSON writes the properties in field order.
func (p *properties) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, name := range p.names {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := marshal(name)
		v, err := marshal(p.schemas[name])
		if err != nil {
			return nil, fmt.Errorf("property %s: %w", name, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// JSONSchema returns the draft-07 JSON Schema of a cluster spec file,
// generated from the Go types (json tags for names, doc tags for
// descriptions, enum tags, required = no omitempty), pretty-printed and
// deterministic. The checked-in cassandracluster.schema.json is its output.
func JSONSchema() ([]byte, error) {
	root, err := schemaOf(reflect.TypeOf(CassandraCluster{}))
	if err != nil {
		return nil, fmt.Errorf("json schema: %w", err)
	}
	root.Schema = "http://json-schema.org/draft-07/schema#"
	root.Title = Kind
	root.Description = "A Cassandra cluster managed by ringops: the content of clusters/<name>/cluster.yaml."
	out, err := marshal(root)
	if err != nil {
		return nil, fmt.Errorf("json schema: %w", err)
	}
	var b bytes.Buffer
	if err := json.Indent(&b, out, "", "  "); err != nil {
		return nil, fmt.Errorf("json schema: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping, so that descriptions keep
// their <placeholders> readable in the checked-in file.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// schemaOf returns the schema of a Go type; pointers are their element.
func schemaOf(t reflect.Type) (*jsonSchema, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		return structSchema(t)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map key type %s: only string keys are supported", t.Key())
		}
		if t.Elem().Kind() == reflect.Interface {
			return &jsonSchema{Type: "object"}, nil // free-form
		}
		elem, err := schemaOf(t.Elem())
		if err != nil {
			return nil, err
		}
		return &jsonSchema{Type: "object", AdditionalProperties: elem}, nil
	case reflect.Slice:
		elem, err := schemaOf(t.Elem())
		if err != nil {
			return nil, err
		}
		return &jsonSchema{Type: "array", Items: elem}, nil
	case reflect.String:
		return &jsonSchema{Type: "string"}, nil
	case reflect.Bool:
		return &jsonSchema{Type: "boolean"}, nil
	case reflect.Int, reflect.Int32, reflect.Int64:
		return &jsonSchema{Type: "integer"}, nil
	case reflect.Interface:
		return &jsonSchema{}, nil
	}
	return nil, fmt.Errorf("type %s: not supported", t)
}

func structSchema(t reflect.Type) (*jsonSchema, error) {
	s := &jsonSchema{Type: "object", AdditionalProperties: false,
		Properties: &properties{schemas: map[string]*jsonSchema{}}}
	for _, f := range structInfoOf(t).fields {
		fs, err := schemaOf(f.typ)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), f.name, err)
		}
		fs.Description = f.doc
		fs.Enum = f.enum
		if f.typ.Kind() == reflect.Slice {
			fs.MaxItems = f.max
		} else {
			fs.Maximum = f.max
		}
		s.Properties.names = append(s.Properties.names, f.name)
		s.Properties.schemas[f.name] = fs
		if !f.omitempty {
			s.Required = append(s.Required, f.name)
		}
	}
	return s, nil
}
