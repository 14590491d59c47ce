package schemas

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseErrorsAreTyped(t *testing.T) {
	spec := strings.Replace(exampleSpec, "nodesPerRack: 3", "nodesPerRacks: 3", 1)
	spec = strings.Replace(spec, "name: dc2", "name: dc1", 1)
	_, err := Parse("clusters/orders/cluster.yaml", []byte(spec))
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("errors.As(ErrorList) failed on %T", err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("errors.As(*FieldError) failed")
	}
	want := "clusters/orders/cluster.yaml:6: spec.nodesPerRacks: unknown field; did you mean \"nodesPerRack\"?\n" +
		"clusters/orders/cluster.yaml:15: spec.datacenters[1].name: \"dc1\" is used twice; datacenter names must be unique"
	if err.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", err, want)
	}
	if fe.Line != 6 || fe.Column != 3 || fe.Field != "spec.nodesPerRacks" {
		t.Errorf("first error at %d:%d %s; want 6:3 spec.nodesPerRacks", fe.Line, fe.Column, fe.Field)
	}
}

func TestFieldErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    FieldError
		want string
	}{
		{FieldError{File: "c.yaml", Line: 3, Field: "spec.image", Message: "required"}, "c.yaml:3: spec.image: required"},
		{FieldError{File: "c.yaml", Field: "spec.image", Message: "required"}, "c.yaml: spec.image: required"},
		{FieldError{File: "c.yaml", Message: "file is empty"}, "c.yaml: file is empty"},
		{FieldError{Field: "spec.image", Message: "required"}, "spec.image: required"},
		{FieldError{Line: 2, Message: "bad"}, "line 2: bad"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestErrorListSortsAndDedupes(t *testing.T) {
	l := ErrorList{
		{Line: 9, Field: "b", Message: "x"},
		{Line: 2, Field: "z", Message: "x"},
		{Line: 9, Field: "a", Message: "x"},
		{Line: 2, Field: "z", Message: "x"},
		{Line: 0, Field: "", Message: "file"},
		{Line: 5, Field: "d[10].name", Message: "x"},
		{Line: 5, Field: "d[2].name", Message: "x"},
		{Line: 5, Field: "d[2]", Message: "x"},
	}.sorted()
	var got []string
	for _, e := range l {
		got = append(got, fmt.Sprintf("%d/%s", e.Line, e.Field))
	}
	if s := strings.Join(got, " "); s != "0/ 2/z 5/d[2] 5/d[2].name 5/d[10].name 9/a 9/b" {
		t.Errorf("order = %s", s)
	}
	if ErrorList(nil).Err() != nil {
		t.Error("an empty ErrorList must be a nil error")
	}
}

func TestParseFreeFormValues(t *testing.T) {
	spec := strings.Replace(exampleSpec, "{num_tokens: 16}",
		"{num_tokens: 16, ratio: 0.5, on: true, off: null, list: [a, 1], nested: {x: {y: z}}, when: 2024-01-02, big: 18446744073709551615}", 1)
	c, err := Parse("c.yaml", []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%#v", c.Spec.Config.CassandraYAML)
	for _, want := range []string{`"num_tokens":16`, `"ratio":0.5`, `"on":true`, `"off":interface {}(nil)`,
		`"list":[]interface {}{"a", 1}`, `"nested":map[string]interface {}{"x":map[string]interface {}{"y":"z"}}`,
		`"when":"2024-01-02"`, `"big":0xffffffffffffffff`} {
		if !strings.Contains(got, want) {
			t.Errorf("cassandra-yaml %s\nlacks %s", got, want)
		}
	}
}

func TestParseTrailingEmptyDocumentIsFine(t *testing.T) {
	if _, err := Parse("c.yaml", []byte("---\n"+exampleSpec+"---\n")); err != nil {
		t.Fatal(err)
	}
}

func TestParseDoesNotShareAliasedValues(t *testing.T) {
	spec := `apiVersion: ringops.dev/v1alpha1
kind: CassandraCluster
metadata: {name: x}
spec:
  image: cassandra
  storage: {size: 1Gi}
  datacenters:
    - {name: a, context: c, racks: &racks [{name: r1}]}
    - {name: b, context: c, nodesPerRack: 5, racks: *racks}
`
	c, err := Parse("c.yaml", []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	a, b := c.Spec.Datacenters[0].DatacenterNodes(), c.Spec.Datacenters[1].DatacenterNodes()
	if a != 1 || b != 5 {
		t.Errorf("nodes a=%d b=%d, want 1 and 5: defaulting one datacenter's aliased racks changed the other", a, b)
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"context", "name", "nodesPerRack", "racks", "replicationFactor"}
	for in, want := range map[string]string{
		"nodesPerRacks":          "nodesPerRack",
		"NodesPerRack":           "nodesPerRack",
		"rack":                   "racks",
		"nmae":                   "name",
		"contxt":                 "context",
		"replicationfactor":      "replicationFactor",
		"dc":                     "",
		"zone":                   "",
		strings.Repeat("x", 200): "",
	} {
		if got := suggest(in, names); got != want {
			t.Errorf("suggest(%q) = %q, want %q", truncate(in, 20), got, want)
		}
	}
}

func TestPaths(t *testing.T) {
	for _, tc := range []struct{ parent, key, want string }{
		{"", "spec", "spec"},
		{"spec", "nodesPerRack", "spec.nodesPerRack"},
		{"spec.config", "cassandra-yaml", "spec.config.cassandra-yaml"},
		{"metadata.labels", "app.kubernetes.io/name", `metadata.labels["app.kubernetes.io/name"]`},
	} {
		if got := keyPath(tc.parent, tc.key); got != tc.want {
			t.Errorf("keyPath(%q, %q) = %q, want %q", tc.parent, tc.key, got, tc.want)
		}
	}
	got := strings.Join(splitPath(`spec.datacenters[1].racks[0].name`), "|")
	if got != "spec|.datacenters|[1]|.racks|[0]|.name" {
		t.Errorf("splitPath = %s", got)
	}
	got = strings.Join(splitPath(`metadata.labels["a.b/c[d]"].x`), "|")
	if got != `metadata|.labels|["a.b/c[d]"]|.x` {
		t.Errorf("splitPath with a quoted key = %s", got)
	}
}

// An absent field is reported at its nearest present parent.
func TestErrorAtAbsentFieldPointsAtParent(t *testing.T) {
	c, err := Parse("c.yaml", []byte(exampleSpec))
	if err != nil {
		t.Fatal(err)
	}
	for field, line := range map[string]int{
		"spec.datacenters[1].racks[1].name":     15,
		"spec.datacenters[1].replicationFactor": 15,
		"spec.pod.labels":                       4,
		"metadata.labels[\"a.b\"]":              3,
		"nonsense":                              1,
	} {
		if e := c.errorAt(field, "x"); e.Line != line {
			t.Errorf("%s: line %d, want %d", field, e.Line, line)
		}
	}
}
