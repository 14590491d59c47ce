package jolokia

import (
	"slices"
	"strings"
)

// Request types of the Jolokia 1.x protocol.
const (
	typeRead     = "read"
	typeWrite    = "write"
	typeExec     = "exec"
	typeList     = "list"
	typeSearch   = "search"
	typeVersion  = "version"
	typeRegNotif = "regnotif"
	typeRemNotif = "remnotif"
)

// request is one parsed Jolokia request (a JmxRequest).
type request struct {
	typ    string
	mbean  *objectName
	attrs  []string // read, write; nil: all attributes
	multi  bool     // read: the value is keyed by attribute
	path   []*string
	op     *string // exec
	args   []any   // exec; nil when absent
	value  any     // write
	target *jobject
	params map[string]string
}

// param returns a processing parameter, or its agent-wide default.
func (r *request) param(key string) string {
	if v, ok := r.params[key]; ok {
		return v
	}
	return defaultParams[key]
}

func (r *request) boolParam(key string) bool { return strings.EqualFold(r.param(key), "true") }

// defaultParams are the 1.7.1 agent defaults of the processing parameters.
var defaultParams = map[string]string{
	"includeStackTrace":  "true",
	"serializeException": "false",
	"canonicalNaming":    "true",
	"ignoreErrors":       "",
	"mimeType":           "text/plain",
}

// nameText is the MBean name as the agent prints it in echoes and most
// messages: canonical unless canonicalNaming=false.
func (r *request) nameText() string {
	if r.mbean == nil {
		return ""
	}
	if r.boolParam("canonicalNaming") {
		return r.mbean.canonical()
	}
	return r.mbean.given
}

// echo is the "request" field of the answer, as JmxRequest.toJSON writes it.
func (r *request) echo() *jobject {
	o := newObject()
	o.put("type", r.typ)
	if r.target != nil {
		o.put("target", r.target)
	}
	if r.path != nil {
		o.put("path", combinePath(r.path))
	}
	if r.mbean != nil {
		o.put("mbean", r.nameText())
	}
	switch r.typ {
	case typeRead, typeWrite:
		r.echoAttributes(o)
	case typeExec:
		var op any
		if r.op != nil {
			op = *r.op
		}
		o.put("operation", op)
		if len(r.args) > 0 {
			o.put("arguments", r.args)
		}
	}
	return o
}

func (r *request) echoAttributes(o *jobject) {
	switch {
	case len(r.attrs) == 1:
		o.put("attribute", r.attrs[0])
	case len(r.attrs) > 1:
		o.put("attribute", slices.Clone(r.attrs))
	}
	if r.typ == typeWrite {
		o.put("value", r.value)
	}
}

// typeByName is RequestType.getTypeByName: case-insensitive.
func typeByName(name string) (string, error) {
	t := strings.ToLower(name)
	switch t {
	case typeRead, typeWrite, typeExec, typeList, typeSearch, typeVersion, typeRegNotif, typeRemNotif:
		return t, nil
	}
	return "", newJavaErr(classIllegalArgument, "No type with name '"+name+"' exists")
}

// newNameRequest sets the MBean of a request, as JmxObjectNameRequest does.
func (r *request) setName(name *string) error {
	if name == nil {
		return newJavaErr(classIllegalArgument, "Objectname can not be null")
	}
	on, err := parseObjectName(*name)
	if err != nil {
		return err
	}
	r.mbean = on
	return nil
}

// setAttributes interprets a read's attribute: a string (split on unescaped
// commas), a list (multi-attribute mode), or null (all attributes).
func (r *request) setAttributes(v any) error {
	switch a := v.(type) {
	case nil:
		r.attrs, r.multi = nil, false
	case string:
		r.attrs = splitEscaped(a, '\\', ',')
		r.multi = len(r.attrs) > 1
	case []any:
		if len(a) == 1 && a[0] == nil {
			r.attrs, r.multi = nil, false
			return nil
		}
		r.attrs, r.multi = make([]string, len(a)), true
		for i, x := range a {
			r.attrs[i] = javaToString(x)
		}
	default:
		return newJavaErr(classIllegalArgument,
			"Attribute names must be either a String, Collection or null (and not class "+javaClassOf(v)+")")
	}
	return nil
}

// splitEscaped is EscapeUtil.split: cut s at every sep not escaped by esc;
// esc+c stands for c; a trailing empty part is dropped.
func splitEscaped(s string, esc, sep rune) []string {
	var parts []string
	var cur strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		switch {
		case rs[i] == esc && i+1 < len(rs):
			i++
			cur.WriteRune(rs[i])
		case rs[i] == sep:
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(rs[i])
		}
	}
	if cur.Len() > 0 {
		parts = append(parts, cur.String())
	}
	return parts
}

// parsePath is EscapeUtil.parsePath: "!"-escaped, "/"-separated, "*" for
// a wildcard (nil); nil for no path.
func parsePath(p string) []*string {
	if p == "" || p == "/" {
		return nil
	}
	parts := splitEscaped(p, '!', '/')
	out := make([]*string, len(parts))
	for i := range parts {
		if parts[i] != "*" {
			out[i] = &parts[i]
		}
	}
	return out
}

// combinePath is EscapeUtil.combineToPath, the inverse of parsePath.
func combinePath(parts []*string) any {
	if len(parts) == 0 {
		return nil
	}
	s := make([]string, len(parts))
	for i, p := range parts {
		if p == nil {
			s[i] = "*"
			continue
		}
		s[i] = strings.ReplaceAll(strings.ReplaceAll(*p, "!", "!!"), "/", "!/")
	}
	return strings.Join(s, "/")
}
