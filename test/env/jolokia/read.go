package jolokia

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// read answers a read request (ReadHandler).
func (h *Handler) read(r *request) (any, error) {
	if r.mbean.isPattern() {
		return h.readPattern(r)
	}
	mb, err := h.lookup(r.mbean)
	if err != nil {
		return nil, err
	}
	if !r.multi && len(r.attrs) == 1 {
		v, err := getAttribute(mb, r.attrs[0])
		if err != nil {
			return nil, err
		}
		return applyPath(v, r.path), nil
	}
	if r.path != nil {
		return nil, newJavaErr(classNullPointer,
			`Cannot invoke "java.util.Map.entrySet()" because "pAttributesMap" is null`)
	}
	return readAttributes(mb, r.attrs, r.boolParam("ignoreErrors"))
}

// getAttribute reads one attribute, as the MBean server would.
func getAttribute(mb MBean, name string) (any, error) {
	if !slices.Contains(mb.Attributes(), name) {
		return nil, noSuchAttribute(name)
	}
	v, err := mb.Get(name)
	if err != nil {
		return nil, mbeanErr(err)
	}
	return v, nil
}

// readAttributes reads several attributes (all when names is empty) into
// an object; with ignoreErrors a failing one holds its error text.
func readAttributes(mb MBean, names []string, ignoreErrors bool) (*jobject, error) {
	if len(names) == 0 {
		names = mb.Attributes()
	}
	o := newObject()
	for _, n := range names {
		v, err := getAttribute(mb, n)
		if err != nil {
			if !ignoreErrors {
				return nil, err
			}
			v = err.(*javaErr).ignoredText()
		}
		o.put(n, v)
	}
	return o, nil
}

// readPattern reads from every MBean a pattern selects:
// {mbean: {attribute: value}}; MBeans without the attributes are skipped.
func (h *Handler) readPattern(r *request) (any, error) {
	beans := h.query(r.mbean)
	if len(beans) == 0 {
		return nil, newJavaErr(classInstanceNotFound,
			"No MBean with pattern "+r.nameText()+" found for reading attributes")
	}
	out := newObject()
	var names []string
	for _, b := range beans {
		names = append(names, nameOf(r, b.name))
		attrs := r.attrs
		if len(attrs) > 0 {
			attrs = present(b.bean, attrs)
			if len(attrs) == 0 {
				continue
			}
		}
		v, err := readAttributes(b.bean, attrs, r.boolParam("ignoreErrors"))
		if err != nil {
			return nil, err
		}
		out.put(nameOf(r, b.name), v)
	}
	if len(out.keys) == 0 {
		slices.Sort(names)
		return nil, newJavaErr(classIllegalArgument, "No matching attributes ["+strings.Join(r.attrs, ", ")+
			"] found on MBeans ["+strings.Join(names, ", ")+"]")
	}
	return out, nil
}

// present keeps the attributes an MBean has.
func present(mb MBean, names []string) []string {
	have := mb.Attributes()
	var out []string
	for _, n := range names {
		if slices.Contains(have, n) {
			out = append(out, n)
		}
	}
	return out
}

// notFound marks a path that leads nowhere.
type notFoundT struct{}

var notFound = notFoundT{}

// applyPath follows an inner path into a value: map keys, list indexes,
// "*" (nil) for every element; a path that leads nowhere gives null.
func applyPath(v any, path []*string) any {
	out := walk(v, path)
	if out == notFound {
		return nil
	}
	return out
}

func walk(v any, path []*string) any {
	if len(path) == 0 {
		return v
	}
	rv := reflect.ValueOf(v)
	if o, ok := v.(*jobject); ok {
		rv = reflect.ValueOf(o.vals)
	}
	switch rv.Kind() {
	case reflect.Map:
		return walkMap(rv, path)
	case reflect.Slice, reflect.Array:
		return walkList(rv, path)
	}
	return notFound
}

func walkMap(rv reflect.Value, path []*string) any {
	if path[0] == nil {
		o := newObject()
		for _, k := range objectFromMap(rv).keys {
			if w := walk(rv.MapIndex(reflect.ValueOf(k)).Interface(), path[1:]); w != notFound {
				o.put(k, w)
			}
		}
		return o
	}
	if rv.Type().Key().Kind() != reflect.String {
		return notFound
	}
	e := rv.MapIndex(reflect.ValueOf(*path[0]).Convert(rv.Type().Key()))
	if !e.IsValid() {
		return notFound
	}
	return walk(e.Interface(), path[1:])
}

func walkList(rv reflect.Value, path []*string) any {
	if path[0] == nil {
		out := []any{}
		for i := range rv.Len() {
			if w := walk(rv.Index(i).Interface(), path[1:]); w != notFound {
				out = append(out, w)
			}
		}
		return out
	}
	i, err := strconv.Atoi(*path[0])
	if err != nil || i < 0 || i >= rv.Len() {
		return notFound
	}
	return walk(rv.Index(i).Interface(), path[1:])
}
