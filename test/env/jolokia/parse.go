package jolokia

import (
	"fmt"
	"strings"
)

// parseGet builds the request of a GET: pathInfo is the path after the
// agent context ("read/<mbean>/<attr>..."), params the query parameters.
func parseGet(pathInfo string, params map[string]string) (*request, error) {
	p := pathInfo
	if strings.Trim(p, "/") == "" {
		if q, ok := params["p"]; ok {
			p = strings.TrimLeft(q, "/")
		}
	}
	elems := parsePath(p)
	r := &request{typ: typeVersion, params: params}
	if len(elems) == 0 {
		return r, nil
	}
	t, err := typeByName(deref(elems[0]))
	if err != nil {
		return nil, err
	}
	r.typ = t
	st := &stack{elems: elems[1:]}
	if err := r.fromElements(st); err != nil {
		return nil, err
	}
	if st.underflow {
		return nil, newJavaErr(classIllegalArgument,
			"Invalid arguments in pathinfo "+pathInfo+" for command "+strings.ToUpper(t))
	}
	if err := r.checkPath(); err != nil {
		return nil, err
	}
	return r, nil
}

// checkPath refuses a read path that ends with a wildcard.
func (r *request) checkPath() error {
	if r.typ == typeRead && len(r.path) > 0 && r.path[len(r.path)-1] == nil {
		return newJavaErr(classIllegalArgument, "Path '"+combinePath(r.path).(string)+"' must not end with a wildcard")
	}
	return nil
}

// stack pops path elements; popping an empty stack is remembered (the
// agent's EmptyStackException).
type stack struct {
	elems     []*string
	underflow bool
}

func (s *stack) pop() *string {
	if len(s.elems) == 0 {
		s.underflow = true
		return nil
	}
	e := s.elems[0]
	s.elems = s.elems[1:]
	return e
}

func (s *stack) rest() []*string {
	if len(s.elems) == 0 {
		return nil
	}
	r := s.elems
	s.elems = nil
	return r
}

// fromElements reads the type-specific GET elements; a missing one shows
// as st.underflow.
func (r *request) fromElements(st *stack) error {
	switch r.typ {
	case typeRead:
		return r.readElements(st)
	case typeWrite:
		name, attr, value := st.pop(), st.pop(), st.pop()
		if st.underflow {
			return nil
		}
		r.attrs, r.value, r.path = []string{deref(attr)}, specialTags(value), st.rest()
		return r.setName(name)
	case typeExec:
		return r.execElements(st)
	case typeSearch:
		if name := st.pop(); !st.underflow {
			return r.setName(name)
		}
	case typeList:
		r.path = st.rest()
	case typeRegNotif, typeRemNotif:
		return newJavaErr("java.lang.UnsupportedOperationException", "Type "+strings.ToUpper(r.typ)+" is not supported (yet)")
	}
	return nil
}

// readElements: <mbean>[/<attribute>[,<attribute>...][/<path>...]].
func (r *request) readElements(st *stack) error {
	name := st.pop()
	if st.underflow {
		return nil
	}
	var attr any
	if len(st.elems) > 0 {
		if a := st.pop(); a != nil {
			attr = *a
		}
	}
	r.path = st.rest()
	return firstErr(r.setName(name), r.setAttributes(attr))
}

// execElements: <mbean>/<operation>[/<argument>...].
func (r *request) execElements(st *stack) error {
	name, op := st.pop(), st.pop()
	if st.underflow {
		return nil
	}
	r.op = op
	for _, a := range st.rest() {
		r.args = append(r.args, specialTags(a))
	}
	return r.setName(name)
}

// specialTags is StringToObjectConverter.convertSpecialStringTags: "[null]"
// is null, `""` the empty string; a "*" element is null as well.
func specialTags(s *string) any {
	switch {
	case s == nil, *s == "[null]":
		return nil
	case *s == `""`:
		return ""
	}
	return *s
}

// parsePost builds the request of one JSON object of a POST body.
func parsePost(m *jobject, query map[string]string) (*request, error) {
	r := &request{params: mergeParams(m, query)}
	t, err := stringField(m, "type")
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, newJavaErr(classIllegalArgument, "No type given")
	}
	if r.typ, err = typeByName(*t); err != nil {
		return nil, err
	}
	if err := r.fromMap(m); err != nil {
		return nil, err
	}
	if err := r.checkPath(); err != nil {
		return nil, err
	}
	return r, nil
}

// mergeParams merges the query parameters with the request's "config"
// object, which wins.
func mergeParams(m *jobject, query map[string]string) map[string]string {
	out := make(map[string]string, len(query))
	for k, v := range query {
		out[k] = v
	}
	if cfg, ok := m.vals["config"].(*jobject); ok {
		for _, k := range cfg.keys {
			out[k] = javaToString(cfg.vals[k])
		}
	}
	return out
}

// fromMap reads the type-specific fields, in the agent's order.
func (r *request) fromMap(m *jobject) error {
	if err := r.commonFields(m); err != nil {
		return err
	}
	switch r.typ {
	case typeVersion, typeList:
		return nil
	case typeRegNotif, typeRemNotif:
		return newJavaErr("java.lang.UnsupportedOperationException", "Type "+strings.ToUpper(r.typ)+" is not supported (yet)")
	}
	name, err := stringField(m, "mbean")
	if err != nil {
		return err
	}
	if err := r.setName(name); err != nil {
		return err
	}
	switch r.typ {
	case typeRead:
		return r.setAttributes(m.vals["attribute"])
	case typeWrite:
		a, err := stringField(m, "attribute")
		r.attrs, r.value = []string{deref(a)}, m.vals["value"]
		return err
	case typeExec:
		return r.execFields(m)
	}
	return nil
}

// commonFields reads path and target (JmxRequest's own fields).
func (r *request) commonFields(m *jobject) error {
	p, err := stringField(m, "path")
	if err != nil {
		return err
	}
	if p != nil {
		r.path = parsePath(*p)
	}
	t, ok := m.vals["target"]
	if !ok || t == nil {
		return nil
	}
	tm, ok := t.(*jobject)
	if !ok {
		return classCast(t, "java.util.Map")
	}
	r.target, err = targetEcho(tm)
	return err
}

// targetEcho is the ProxyTargetConfig of a request, as echoed. The JVM agent
// has no JSR-160 dispatcher, so a target only shows in the echo.
func targetEcho(tm *jobject) (*jobject, error) {
	url, err := stringField(tm, "url")
	if err != nil {
		return nil, err
	}
	if url == nil {
		return nil, newJavaErr(classIllegalArgument, "No service url given for JSR-160 target")
	}
	o := newObject()
	o.put("url", *url)
	env := newObject()
	for _, k := range []string{"user", "password"} {
		if v, ok := tm.vals[k]; ok && v != nil {
			env.put(k, v)
		}
	}
	if len(env.keys) > 0 {
		o.put("env", env)
	}
	return o, nil
}

func (r *request) execFields(m *jobject) error {
	op, err := stringField(m, "operation")
	if err != nil {
		return err
	}
	r.op = op
	a, ok := m.vals["arguments"]
	if !ok || a == nil {
		return nil
	}
	list, ok := a.([]any)
	if !ok {
		return classCast(a, "java.util.List")
	}
	r.args = list
	return nil
}

// stringField is `(String) map.get(key)`.
func stringField(m *jobject, key string) (*string, error) {
	v, ok := m.vals[key]
	if !ok || v == nil {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, classCast(v, "java.lang.String")
	}
	return &s, nil
}

// classCast is the JDK 17 ClassCastException of casting v to class to.
func classCast(v any, to string) error {
	from := javaClassOf(v)
	where := func(c string) string {
		if strings.HasPrefix(c, "java.") {
			return "module java.base of loader 'bootstrap'"
		}
		return "unnamed module of loader 'app'"
	}
	var detail string
	if where(from) == where(to) {
		detail = fmt.Sprintf("%s and %s are in %s", from, to, where(from))
	} else {
		detail = fmt.Sprintf("%s is in %s; %s is in %s", from, where(from), to, where(to))
	}
	return newJavaErr(classClassCast, fmt.Sprintf("class %s cannot be cast to class %s (%s)", from, to, detail))
}

// javaClassOf is the Java class json-simple gives a parsed JSON value.
func javaClassOf(v any) string {
	switch v.(type) {
	case string:
		return "java.lang.String"
	case bool:
		return "java.lang.Boolean"
	case int64:
		return "java.lang.Long"
	case float64:
		return "java.lang.Double"
	case *jobject:
		return "org.json.simple.JSONObject"
	case []any:
		return "org.json.simple.JSONArray"
	}
	return fmt.Sprintf("%T", v)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
