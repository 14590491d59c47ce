package casskop

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ringops/ringops/internal/jsontree"
)

// Input is one manifest file (one or more YAML documents, or a v1 List).
type Input struct {
	// Name names the input in messages: a file name, "-" for stdin, or
	// "<context>: <kind> <namespace>/<name>" for an object read from a
	// cluster.
	Name string
	Data []byte
	// Context is the kube context a CassandraCluster of this input runs
	// in (read from a cluster); "" for Options.Context.
	Context string
	// Local is the kube context a MultiCasskop of this input was read
	// from: Multi-CassKop's local cluster, which it goes through first, so
	// its override comes first (the seed region). The API server keeps no
	// order of the override keys; a file's order is used without it.
	Local string
}

// MaxInputSize bounds one input, as schemas bounds a cluster.yaml.
const MaxInputSize = 4 << 20

// doc is one decoded object of an input.
type doc struct {
	file    string
	context string
	local   string
	raw     map[string]any
	node    *yaml.Node // the document, for the order of a MultiCasskop's overrides
}

func (d doc) str(keys ...string) string {
	v, _ := dig(d.raw, keys...).(string)
	return v
}

func dig(m map[string]any, keys ...string) any {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

// decodeInputs splits every input into its objects (the items of a List
// too).
func decodeInputs(inputs []Input) ([]doc, []Refusal) {
	var docs []doc
	var refused []Refusal
	for _, in := range inputs {
		if len(in.Data) > MaxInputSize {
			refused = append(refused, Refusal{File: in.Name, Problem: fmt.Sprintf("%d bytes, more than the %d an import reads", len(in.Data), MaxInputSize), Fix: "split it into several files"})
			continue
		}
		dec := yaml.NewDecoder(bytes.NewReader(in.Data))
		for i := 1; ; i++ {
			var n yaml.Node
			var v any
			err := dec.Decode(&n)
			if err == nil {
				err = n.Decode(&v)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				refused = append(refused, Refusal{File: in.Name, Problem: fmt.Sprintf("document %d: not YAML: %v", i, err), Fix: "fix the YAML (kubectl apply --dry-run=client -f reads it the same way)"})
				break
			}
			if v == nil {
				continue
			}
			m, ok := v.(map[string]any)
			if !ok {
				refused = append(refused, Refusal{File: in.Name, Problem: fmt.Sprintf("document %d: a %s, not a Kubernetes object", i, yamlKind(v)), Fix: "give manifests (apiVersion, kind, metadata, spec)"})
				continue
			}
			d := doc{file: in.Name, context: in.Context, local: in.Local, raw: m, node: &n}
			if d.str("kind") == "List" || strings.HasSuffix(d.str("kind"), "List") && d.raw["items"] != nil {
				items, _ := m["items"].([]any)
				for _, it := range items {
					if im, ok := it.(map[string]any); ok {
						docs = append(docs, doc{file: in.Name, context: in.Context, local: in.Local, raw: im, node: listItemNode(&n, im)})
					}
				}
				continue
			}
			docs = append(docs, d)
		}
	}
	return docs, refused
}

func yamlKind(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "string"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// decodeCC turns a (merged) CassandraCluster map into its typed form.
func decodeCC(file, field string, raw map[string]any) (*cassandraCluster, *Refusal) {
	j, err := json.Marshal(raw)
	if err != nil {
		return nil, &Refusal{File: file, Field: field, Problem: fmt.Sprintf("cannot be read: %v", err), Fix: "keys must be strings"}
	}
	var cc cassandraCluster
	if err := json.Unmarshal(j, &cc); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, &Refusal{File: file, Field: joinField(field, te.Field), Problem: fmt.Sprintf("a %s where CassKop's CRD has a %s", te.Value, goTypeName(te.Type.String())),
				Fix: "write it as the CRD says (the API server would refuse it too)"}
		}
		return nil, &Refusal{File: file, Field: field, Problem: fmt.Sprintf("cannot be read: %v", err), Fix: "write it as CassKop's CRD says"}
	}
	return &cc, nil
}

func joinField(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "." + b
}

func goTypeName(t string) string {
	switch {
	case strings.Contains(t, "int"):
		return "integer"
	case strings.HasPrefix(t, "map"):
		return "mapping"
	case strings.HasPrefix(t, "[]"):
		return "list"
	case t == "bool":
		return "boolean"
	}
	return t
}

// unknownFields lists the fields of a CassandraCluster map that version's
// CRD does not declare, as paths: the API server pruned them.
func unknownFields(version string, raw map[string]any, prefix string) []string {
	k := known[version]
	if k == nil {
		k = known[groupV2]
	}
	var out []string
	spec, _ := raw["spec"].(map[string]any)
	out = append(out, unknownKeys(spec, k["spec"], prefix+"spec")...)
	dcs, _ := dig(spec, "topology", "dc").([]any)
	for i, d := range dcs {
		dm, _ := d.(map[string]any)
		p := fmt.Sprintf("%sspec.topology.dc[%d]", prefix, i)
		out = append(out, unknownKeys(dm, k["dc"], p)...)
		racks, _ := dm["rack"].([]any)
		for j, r := range racks {
			rm, _ := r.(map[string]any)
			out = append(out, unknownKeys(rm, k["rack"], fmt.Sprintf("%s.rack[%d]", p, j))...)
		}
	}
	return out
}

// prune deletes from a CassandraCluster map (a copy) what unknownFields
// lists, as the API server prunes it: encoding/json matches keys without
// regard to case, and imagePullPolicy must not pass for imagepullpolicy.
func prune(version string, raw map[string]any) map[string]any {
	out := jsontree.Copy(raw).(map[string]any)
	k := known[version]
	if k == nil {
		k = known[groupV2]
	}
	spec, _ := out["spec"].(map[string]any)
	pruneKeys(spec, k["spec"])
	dcs, _ := dig(spec, "topology", "dc").([]any)
	for _, d := range dcs {
		dm, _ := d.(map[string]any)
		pruneKeys(dm, k["dc"])
		racks, _ := dm["rack"].([]any)
		for _, r := range racks {
			rm, _ := r.(map[string]any)
			pruneKeys(rm, k["rack"])
		}
	}
	return out
}

func pruneKeys(m map[string]any, known []string) {
	for key := range m {
		if !slices.Contains(known, key) {
			delete(m, key)
		}
	}
}

func unknownKeys(m map[string]any, known []string, path string) []string {
	var out []string
	for _, key := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(known, key) {
			out = append(out, path+"."+key)
		}
	}
	return out
}

// merge merges src into dst as Multi-CassKop does (mergo.Merge with
// WithOverride on the typed object): mappings merge key by key; a list or
// a scalar of src replaces dst's unless it is its type's zero value (an
// empty string, 0, false, an empty list), which leaves dst's, except for
// the fields CassKop declares as pointers. dst is modified.
func merge(dst, src map[string]any) { mergeMaps(dst, src, false) }

// mergeMaps merges src into dst: mappings key by key, other values
// replaced; a zero value (but a pointer field's) only when zeros is set.
func mergeMaps(dst, src map[string]any, zeros bool) {
	for k, sv := range src {
		if sm, ok := sv.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeMaps(dm, sm, zeros)
				continue
			}
			dst[k] = jsontree.Copy(sm)
			continue
		}
		if !zeros && isZero(sv) && !pointerFields[k] {
			continue
		}
		dst[k] = jsontree.Copy(sv)
	}
}

func isZero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case int:
		return x == 0
	case float64:
		return x == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// listItemNode finds the node of a List item by its name (for the order
// of its overrides); nil when not found.
func listItemNode(list *yaml.Node, item map[string]any) *yaml.Node {
	items := mapValue(docRoot(list), "items")
	if items == nil {
		return nil
	}
	name, _ := dig(item, "metadata", "name").(string)
	for _, it := range items.Content {
		if md := mapValue(it, "metadata"); md != nil {
			if n := mapValue(md, "name"); n != nil && n.Value == name {
				return it
			}
		}
	}
	return nil
}

func docRoot(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

// mapValue is the value of key in mapping n, nil if none (aliases resolved).
func mapValue(n *yaml.Node, key string) *yaml.Node {
	n = docRoot(n)
	if n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			if v.Kind == yaml.AliasNode {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}

// keysInOrder are the keys of the mapping at path in the document, in
// the file's order.
func keysInOrder(n *yaml.Node, path ...string) []string {
	cur := docRoot(n)
	for _, k := range path {
		cur = mapValue(cur, k)
	}
	if cur == nil || cur.Kind != yaml.MappingNode {
		return nil
	}
	var out []string
	for i := 0; i+1 < len(cur.Content); i += 2 {
		out = append(out, cur.Content[i].Value)
	}
	return out
}

// strictPrune deletes from raw (a decoded object) every key that no json
// tag of t names exactly, recursively, and returns their paths:
// encoding/json would match "Name" or "speC" without regard to case,
// where the API server prunes or refuses them.
func strictPrune(raw any, t reflect.Type, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	switch t.Kind() {
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			return nil
		}
		fields := jsonFields(t)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			ft, ok := fields[k]
			if !ok {
				delete(m, k)
				out = append(out, joinField(path, k))
				continue
			}
			out = append(out, strictPrune(m[k], ft, joinField(path, k))...)
		}
	case reflect.Map:
		if m, ok := raw.(map[string]any); ok && t.Elem().Kind() != reflect.Interface {
			for _, k := range slices.Sorted(maps.Keys(m)) {
				out = append(out, strictPrune(m[k], t.Elem(), joinField(path, k))...)
			}
		}
	case reflect.Slice:
		if l, ok := raw.([]any); ok {
			for i, e := range l {
				out = append(out, strictPrune(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return out
}

// jsonFields maps the json names of t's fields (embedded structs
// flattened) to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			maps.Copy(out, jsonFields(f.Type))
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out[name] = f.Type
		}
	}
	return out
}
