package jolokia

import (
	"fmt"
	"strings"
)

// list answers a list request: {domain: {properties: MBeanInfo}}, narrowed
// by the path (domain / properties / "attr"|"op" / name).
func (h *Handler) list(r *request) (any, error) {
	tree := newObject()
	for _, n := range h.reg.Names() {
		on, err := parseObjectName(n)
		if err != nil {
			continue
		}
		mb, ok := h.reg.Lookup(n)
		if !ok {
			continue
		}
		dom, _ := tree.get(on.domain)
		if dom == nil {
			dom = newObject()
			tree.put(on.domain, dom)
		}
		props := strings.TrimPrefix(nameOf(r, on), on.domain+":")
		dom.(*jobject).put(props, mbeanInfo(mb))
	}
	return narrow(tree, r.path)
}

// narrow follows a list path; what lies below four levels cannot be listed.
func narrow(tree *jobject, path []*string) (any, error) {
	var v any = tree
	for i, p := range path {
		if i == 4 {
			rest := make([]string, 0, len(path)-i)
			for _, q := range path[i:] {
				rest = append(rest, deref(q))
			}
			return nil, newJavaErr(classIllegalArgument,
				"Path contains extra elements not usable for a list request: ["+strings.Join(rest, ", ")+"]")
		}
		o, ok := v.(*jobject)
		if !ok || p == nil {
			break
		}
		next, found := o.get(*p)
		if !found {
			if i == 0 {
				return newObject(), nil
			}
			return nil, newJavaErr(classIllegalArgument, "Path given but extracted value is empty")
		}
		v = next
	}
	return v, nil
}

// mbeanInfo is the list entry of an MBean, as the JVM writes a Standard
// MBean's MBeanInfo.
func mbeanInfo(mb MBean) *jobject {
	info := newObject()
	class := ""
	if d, ok := mb.(Described); ok {
		class = d.ClassName()
	}
	info.put("class", class)
	info.put("desc", "Information on the management interface of the MBean")
	if attrs := mb.Attributes(); len(attrs) > 0 {
		a := newObject()
		for _, n := range attrs {
			e := newObject()
			e.put("rw", false)
			e.put("type", attributeType(mb, n))
			e.put("desc", "Attribute exposed for management")
			a.put(n, e)
		}
		info.put("attr", a)
	}
	if ops := operationInfos(mb.Operations()); len(ops.keys) > 0 {
		info.put("op", ops)
	}
	return info
}

// operationInfos groups operations by name; an overloaded name lists all.
func operationInfos(ops []Operation) *jobject {
	o := newObject()
	for _, op := range ops {
		e := newObject()
		args := make([]any, len(op.Params))
		for i, t := range op.Params {
			a := newObject()
			a.put("name", fmt.Sprintf("p%d", i+1))
			a.put("type", t)
			a.put("desc", "")
			args[i] = a
		}
		e.put("args", args)
		e.put("ret", op.Return)
		e.put("desc", "Operation exposed for management")
		switch prev, ok := o.get(op.Name); {
		case !ok:
			o.put(op.Name, e)
		case isList(prev):
			o.put(op.Name, append(prev.([]any), e))
		default:
			o.put(op.Name, []any{prev, e})
		}
	}
	return o
}

func isList(v any) bool {
	_, ok := v.([]any)
	return ok
}

// attributeType is the Java type of an attribute: as the MBean describes
// it, or inferred from its current value.
func attributeType(mb MBean, name string) string {
	if d, ok := mb.(Described); ok {
		if t := d.AttributeType(name); t != "" {
			return t
		}
	}
	v, err := mb.Get(name)
	if err != nil {
		return "java.lang.Object"
	}
	switch v.(type) {
	case string:
		return "java.lang.String"
	case bool:
		return "boolean"
	case int32, int:
		return "int"
	case int64:
		return "long"
	case float64:
		return "double"
	case []string, []any:
		return "java.util.List"
	case map[string]string, map[string][]string, map[string]any:
		return "java.util.Map"
	}
	return "java.lang.Object"
}
