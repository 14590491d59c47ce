package schemas

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Limits of the decoder. A real cluster spec has a few hundred nodes and is
// nested less than ten levels deep; the limits only stop hostile input
// (billion laughs, deeply nested lists) before it costs time or memory.
const (
	// MaxNodes is the most YAML nodes a spec may have once its aliases are
	// expanded.
	MaxNodes = 100_000
	// MaxDepth is the deepest a spec may nest mappings and lists.
	MaxDepth = 100
	// maxDecodeErrors stops the walk after this many problems: past them,
	// the file is likely not a cluster spec at all.
	maxDecodeErrors = 100
)

// decoder walks a yaml.Node tree against the Go types (by their json tags),
// sets the values it finds and collects every problem on the way: unknown
// fields, duplicate keys, wrong types. Aliases are expanded as they are
// walked, within the MaxNodes budget.
type decoder struct {
	src      *source
	errs     ErrorList
	typeErrs []string            // field paths whose value had the wrong type
	nodes    int                 // nodes visited so far, aliases expanded
	active   map[*yaml.Node]bool // anchors being expanded, to catch cycles
	aborted  bool                // the budget is exhausted: stop walking
}

func newDecoder(src *source) *decoder {
	return &decoder{src: src, active: map[*yaml.Node]bool{}}
}

// errorf records a problem at node n, and stops the walk once there are
// too many.
func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	if d.aborted {
		return
	}
	e := &FieldError{File: d.src.file, Line: n.Line, Column: n.Column, Field: path, Message: fmt.Sprintf(format, args...)}
	d.errs = append(d.errs, e)
	if len(d.errs) >= maxDecodeErrors {
		d.aborted = true
		d.errs = append(d.errs, &FieldError{File: d.src.file, Line: n.Line, Column: n.Column,
			Message: fmt.Sprintf("stopped after %d errors; fix these first", maxDecodeErrors)})
	}
}

// typeErrorf records a value of the wrong type; validation errors at or
// under path are then left out, as they would only repeat it.
func (d *decoder) typeErrorf(n *yaml.Node, path, format string, args ...any) {
	d.typeErrs = append(d.typeErrs, path)
	d.errorf(n, path, format, args...)
}

// record remembers the position of the field at path.
func (d *decoder) record(path string, n *yaml.Node) {
	if _, ok := d.src.pos[path]; !ok {
		d.src.pos[path] = position{n.Line, n.Column}
	}
}

// count charges one node to the budget; false once it is exhausted.
func (d *decoder) count(n *yaml.Node, path string) bool {
	if d.aborted {
		return false
	}
	d.nodes++
	if d.nodes > MaxNodes {
		d.errorf(n, path, "too many nodes after alias expansion (more than %d); a cluster spec needs far fewer: check the anchors (&) and aliases (*)", MaxNodes)
		d.aborted = true
		return false
	}
	return true
}

// resolve follows aliases to the node they stand for, charging the budget
// and refusing an alias that contains itself. It returns nil to stop.
func (d *decoder) resolve(n *yaml.Node, path string, depth int) *yaml.Node {
	for hops := 0; n != nil && n.Kind == yaml.AliasNode; hops++ {
		if !d.count(n, path) {
			return nil
		}
		if n.Alias == nil || hops > MaxDepth {
			d.errorf(n, path, "alias *%s does not refer to an anchor", n.Value)
			return nil
		}
		if d.active[n.Alias] {
			d.errorf(n, path, "alias *%s refers to a value that contains it; an anchor cannot contain itself", n.Value)
			return nil
		}
		n = n.Alias
	}
	if n == nil || !d.count(n, path) {
		return nil
	}
	if depth > MaxDepth {
		d.errorf(n, path, "nested deeper than %d levels; a cluster spec needs far fewer", MaxDepth)
		d.aborted = true
		return nil
	}
	return n
}

// enter marks the anchor of n (if any) as being expanded; the returned func
// unmarks it.
func (d *decoder) enter(n *yaml.Node) func() {
	if n.Anchor == "" {
		return func() {}
	}
	d.active[n] = true
	return func() { delete(d.active, n) }
}

// decode sets v from n and reports whether it set anything.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, depth int) bool {
	if n = d.resolve(n, path, depth); n == nil || isNull(n) {
		return false
	}
	defer d.enter(n)()
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if !d.decode(n, p.Elem(), path, depth) {
			return false
		}
		v.Set(p)
		return true
	case reflect.Struct:
		return d.decodeStruct(n, v, path, depth)
	case reflect.Map:
		return d.decodeMap(n, v, path, depth)
	case reflect.Slice:
		return d.decodeSlice(n, v, path, depth)
	case reflect.Interface:
		val, ok := d.freeForm(n, path, depth)
		if ok && val != nil {
			v.Set(reflect.ValueOf(val))
		}
		return ok
	default:
		return d.decodeScalar(n, v, path)
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string, depth int) bool {
	if n.Kind != yaml.MappingNode {
		d.typeErrorf(n, path, "expected a mapping, got %s", describe(n))
		return false
	}
	info := structInfoOf(v.Type())
	for _, e := range d.entries(n, path, depth) {
		fp := keyPath(path, e.key.Value)
		f, ok := info.byName[e.key.Value]
		if !ok {
			d.unknownField(e.key, fp, info)
			continue
		}
		d.record(fp, e.key)
		d.decode(e.value, v.Field(info.fields[f].index), fp, depth+1)
	}
	return true
}

func (d *decoder) unknownField(key *yaml.Node, path string, info *structInfo) {
	names := info.names()
	if s := suggest(key.Value, names); s != "" {
		d.errorf(key, path, "unknown field; did you mean %q?", s)
		return
	}
	d.errorf(key, path, "unknown field; expected one of: %s", strings.Join(names, ", "))
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string, depth int) bool {
	if n.Kind != yaml.MappingNode {
		d.typeErrorf(n, path, "expected a mapping, got %s", describe(n))
		return false
	}
	m := reflect.MakeMap(v.Type())
	for _, e := range d.entries(n, path, depth) {
		kp := keyPath(path, e.key.Value)
		d.record(kp, e.key)
		val := reflect.New(v.Type().Elem()).Elem()
		d.decode(e.value, val, kp, depth+1)
		m.SetMapIndex(reflect.ValueOf(e.key.Value), val)
	}
	v.Set(m)
	return true
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string, depth int) bool {
	if n.Kind != yaml.SequenceNode {
		d.typeErrorf(n, path, "expected a list, got %s", describe(n))
		return false
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, el := range n.Content {
		ip := fmt.Sprintf("%s[%d]", path, i)
		d.record(ip, el)
		d.decode(el, s.Index(i), ip, depth+1)
	}
	v.Set(s)
	return true
}

// decodeScalar sets a string, integer or boolean.
func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) bool {
	switch v.Kind() {
	case reflect.String:
		if n.Kind != yaml.ScalarNode || !isText(n) {
			hint := ""
			if n.Kind == yaml.ScalarNode && isPlain(n) {
				hint = fmt.Sprintf("; quote it: %q", n.Value)
			}
			d.typeErrorf(n, path, "expected a string, got %s%s", describe(n), hint)
			return false
		}
		v.SetString(n.Value)
	case reflect.Int32, reflect.Int64:
		return d.decodeInt(n, v, path)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.typeErrorf(n, path, "expected true or false, got %s", describe(n))
			return false
		}
		v.SetBool(b)
	default:
		d.typeErrorf(n, path, "values of Go type %s are not supported", v.Type())
		return false
	}
	return true
}

func (d *decoder) decodeInt(n *yaml.Node, v reflect.Value, path string) bool {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		hint := ""
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
			if _, err := strconv.ParseInt(strings.TrimSpace(n.Value), 10, 64); err == nil {
				hint = "; remove the quotes"
			}
		}
		d.typeErrorf(n, path, "expected an integer, got %s%s", describe(n), hint)
		return false
	}
	var i int64
	if err := n.Decode(&i); err != nil || v.OverflowInt(i) {
		limit := int64(math.MaxInt32)
		if v.Kind() == reflect.Int64 {
			limit = math.MaxInt64
		}
		d.typeErrorf(n, path, "%s is out of range; at most %d", n.Value, limit)
		return false
	}
	v.SetInt(i)
	return true
}

// freeForm converts a free-form value (config.cassandra-yaml) to plain Go
// values: map[string]any, []any, string, int, float64, bool, nil.
func (d *decoder) freeForm(n *yaml.Node, path string, depth int) (any, bool) {
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for _, e := range d.entries(n, path, depth) {
			kp := keyPath(path, e.key.Value)
			d.record(kp, e.key)
			if val, ok := d.freeFormAt(e.value, kp, depth+1); ok {
				m[e.key.Value] = val
			}
		}
		return m, true
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for i, el := range n.Content {
			ip := fmt.Sprintf("%s[%d]", path, i)
			if val, ok := d.freeFormAt(el, ip, depth+1); ok {
				s = append(s, val)
			}
		}
		return s, true
	default:
		return d.freeScalar(n, path)
	}
}

// freeFormAt resolves n and converts it.
func (d *decoder) freeFormAt(n *yaml.Node, path string, depth int) (any, bool) {
	if n = d.resolve(n, path, depth); n == nil {
		return nil, false
	}
	defer d.enter(n)()
	return d.freeForm(n, path, depth)
}

func (d *decoder) freeScalar(n *yaml.Node, path string) (any, bool) {
	switch n.ShortTag() {
	case "!!null":
		return nil, true
	case "!!str", "!!timestamp", "!!binary":
		return n.Value, true
	case "!!bool", "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err != nil {
			d.typeErrorf(n, path, "%s cannot be read: %v", n.Value, err)
			return nil, false
		}
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			d.typeErrorf(n, path, "%s is not a finite number; write it as a string if it must stay", n.Value)
			return nil, false
		}
		return v, true
	default:
		d.typeErrorf(n, path, "unsupported YAML tag %s; remove the tag", n.Tag)
		return nil, false
	}
}

// entry is one key/value pair of a mapping.
type entry struct{ key, value *yaml.Node }

// entries returns the pairs of mapping n, with merge keys (<<) resolved:
// keys written in the mapping win over merged ones, and earlier merged
// mappings over later ones. Duplicate keys and non-scalar keys are
// reported and skipped.
func (d *decoder) entries(n *yaml.Node, path string, depth int) []entry {
	out := make([]entry, 0, len(n.Content)/2)
	seen := map[string]*yaml.Node{}
	var merges []entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !d.count(k, path) {
			return nil
		}
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, entry{k, v})
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "mapping keys must be strings, got %s", describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			where := fmt.Sprintf("line %d", first.Line)
			if first.Line == k.Line {
				where += fmt.Sprintf(", column %d", first.Column)
			}
			d.errorf(k, keyPath(path, k.Value), "key %q is defined twice (first on %s); remove one", k.Value, where)
			continue
		}
		seen[k.Value] = k
		out = append(out, entry{k, v})
	}
	for _, m := range merges {
		for _, e := range d.merged(m, path, depth) {
			if _, dup := seen[e.key.Value]; !dup {
				seen[e.key.Value] = e.key
				out = append(out, e)
			}
		}
	}
	return out
}

// merged returns the pairs a merge key (<<: *a or <<: [*a, *b]) brings in.
func (d *decoder) merged(m entry, path string, depth int) []entry {
	v := d.resolve(m.value, path, depth+1)
	if v == nil {
		return nil
	}
	defer d.enter(v)()
	sources := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		sources = v.Content
	}
	var out []entry
	for _, s := range sources {
		r := d.resolve(s, path, depth+1)
		if r == nil {
			return out
		}
		if r.Kind != yaml.MappingNode {
			d.errorf(m.key, path, "a merge key (<<) takes a mapping or a list of mappings, got %s", describe(r))
			continue
		}
		leave := d.enter(r)
		out = append(out, d.entries(r, path, depth+1)...)
		leave()
	}
	return out
}

// isNull reports whether n is an empty or null value (left unset).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// isText reports whether a scalar is read as a string: a string, or a
// timestamp-like plain scalar (2024-01-01), which YAML 1.1 tools read as text.
func isText(n *yaml.Node) bool {
	t := n.ShortTag()
	return t == "!!str" || t == "!!timestamp"
}

// isPlain reports whether a scalar is a number or boolean a user may have
// meant as a string.
func isPlain(n *yaml.Node) bool {
	t := n.ShortTag()
	return t == "!!int" || t == "!!float" || t == "!!bool"
}

// describe says what a node is, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch t := n.ShortTag(); t {
	case "!!str", "!!timestamp", "!!binary":
		return strconv.Quote(truncate(n.Value, 40))
	case "!!null":
		return "null"
	case "!!int", "!!float", "!!bool":
		return truncate(n.Value, 40)
	default:
		return "a value tagged " + truncate(t, 40)
	}
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "..."
}

// keyPath appends a mapping key to a field path: "spec" + "image" ->
// "spec.image"; keys with other characters are quoted:
// metadata.labels["app.kubernetes.io/name"].
func keyPath(parent, key string) string {
	key = truncate(key, 64)
	if !isPlainKey(key) {
		return parent + "[" + strconv.Quote(key) + "]"
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// isPlainKey reports keys made of [A-Za-z0-9_-] only, written unquoted in
// field paths.
func isPlainKey(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// fieldInfo describes one exported, json-tagged field of a struct.
type fieldInfo struct {
	name      string // json name
	index     int
	omitempty bool
	doc       string
	enum      []string
	max       int // the max tag, 0 when none
	typ       reflect.Type
}

// structInfo is the json view of a struct type.
type structInfo struct {
	fields []fieldInfo
	byName map[string]int
}

func (s *structInfo) names() []string {
	out := make([]string, len(s.fields))
	for i, f := range s.fields {
		out[i] = f.name
	}
	sort.Strings(out)
	return out
}

var structInfos sync.Map // reflect.Type -> *structInfo

// structInfoOf returns the json fields of struct type t, in declaration
// order; unexported and json:"-" fields are left out.
func structInfoOf(t reflect.Type) *structInfo {
	if v, ok := structInfos.Load(t); ok {
		return v.(*structInfo)
	}
	info := &structInfo{byName: map[string]int{}}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if !sf.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		f := fieldInfo{name: name, index: i, omitempty: strings.Contains(","+opts+",", ",omitempty,"),
			doc: sf.Tag.Get("doc"), typ: sf.Type}
		if e := sf.Tag.Get("enum"); e != "" {
			f.enum = strings.Split(e, ",")
		}
		if m := sf.Tag.Get("max"); m != "" {
			f.max, _ = strconv.Atoi(m)
		}
		info.byName[name] = len(info.fields)
		info.fields = append(info.fields, f)
	}
	v, _ := structInfos.LoadOrStore(t, info)
	return v.(*structInfo)
}
