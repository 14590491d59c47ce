package jolokia

import (
	"slices"
	"strings"
)

// execute runs one request against the registry and returns its value.
func (h *Handler) execute(r *request) (any, error) {
	switch r.typ {
	case typeRead:
		return h.read(r)
	case typeWrite:
		return h.write(r)
	case typeExec:
		return h.exec(r)
	case typeSearch:
		return h.search(r), nil
	case typeList:
		return h.list(r)
	}
	return h.version(), nil
}

// lookup finds the MBean of a non-pattern name.
func (h *Handler) lookup(on *objectName) (MBean, error) {
	if mb, ok := h.reg.Lookup(on.canonical()); ok {
		return mb, nil
	}
	if mb, ok := h.reg.Lookup(on.given); ok {
		return mb, nil
	}
	return nil, newJavaErr(classInstanceNotFound, on.given)
}

// registered is one MBean of the registry with its parsed name.
type registered struct {
	name *objectName
	bean MBean
}

// query lists the MBeans a pattern selects, in the order the JVM's
// HashSet of ObjectNames would give them.
func (h *Handler) query(pattern *objectName) []registered {
	order := newObject()
	found := map[string]registered{}
	for _, n := range h.reg.Names() {
		on, err := parseObjectName(n)
		if err != nil || !pattern.matches(on) {
			continue
		}
		if mb, ok := h.reg.Lookup(n); ok {
			order.put(on.canonical(), nil)
			found[on.canonical()] = registered{name: on, bean: mb}
		}
	}
	out := make([]registered, 0, len(found))
	for _, k := range order.order() {
		out = append(out, found[k])
	}
	return out
}

// nameOf is how an MBean's name appears in values (search, pattern read).
func nameOf(r *request, on *objectName) string {
	if r.boolParam("canonicalNaming") {
		return on.canonical()
	}
	return on.given
}

func (h *Handler) search(r *request) []any {
	out := []any{}
	for _, m := range h.query(r.mbean) {
		out = append(out, nameOf(r, m.name))
	}
	return out
}

// write answers as for a read-only MBean: every attribute here is read-only.
func (h *Handler) write(r *request) (any, error) {
	mb, err := h.lookup(r.mbean)
	if err != nil {
		return nil, err
	}
	if slices.Contains(mb.Attributes(), r.attrs[0]) {
		return nil, newJavaErr(classAttributeNotFound, "Read-only attribute: "+r.attrs[0])
	}
	return nil, noSuchAttribute(r.attrs[0])
}

func noSuchAttribute(name string) *javaErr {
	return newJavaErr(classAttributeNotFound, "No such attribute: "+name)
}

func (h *Handler) agentVersion() string {
	if h.opts.Version != "" {
		return h.opts.Version
	}
	return AgentVersion
}

// version is the value of a version request, as the 1.7.1 JVM agent gives it.
func (h *Handler) version() *jobject {
	cfg := newObject()
	for _, kv := range h.versionConfig() {
		cfg.put(kv[0], kv[1])
	}
	o := newObject()
	o.put("agent", h.agentVersion())
	o.put("protocol", ProtocolVersion)
	o.put("config", cfg)
	o.put("info", newObject())
	return o
}

// versionConfig is the agent configuration the version request reports:
// the JVM agent's settings and the ConfigKey defaults (never credentials).
func (h *Handler) versionConfig() [][2]string {
	// In ConfigKey order: the order the agent inserts them in.
	return [][2]string{
		{"historyMaxEntries", "10"}, {"debug", "false"}, {"debugMaxEntries", "100"},
		{"maxDepth", "15"}, {"maxCollectionSize", "0"}, {"maxObjects", "0"},
		{"policyLocation", "classpath:/jolokia-access.xml"}, {"allowDnsReverseLookup", "true"},
		{"includeStackTrace", "true"}, {"serializeException", "false"}, {"allowErrorDetails", "true"},
		{"canonicalNaming", "true"}, {"streaming", "true"}, {"mimeType", "text/plain"},
		{"discoveryEnabled", "false"}, {"multicastGroup", "239.192.48.84"}, {"multicastPort", "24884"},
		{"realm", "jolokia"}, {"authMode", "basic"}, {"authMatch", "any"}, {"authIgnoreCerts", "false"},
		{"agentContext", "/jolokia"}, {"useRestrictorService", "false"}, {"listenForHttpService", "true"},
		{"agentId", h.opts.AgentID}, {"agentType", "jvm"},
	}
}

// signatureText is how ExecHandler prints signatures, including its quirk
// of printing a no-argument signature as ")".
func signatureText(ops []Operation) string {
	parts := make([]string, len(ops))
	for i, op := range ops {
		s := "(" + strings.Join(op.Params, ",")
		if len(op.Params) == 0 {
			s = ""
		}
		parts[i] = s + ")"
	}
	return strings.Join(parts, ",")
}
