package jolokia

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"time"
)

// What the agent reports about itself, and where it answers.
const (
	AgentVersion    = "1.7.1"
	ProtocolVersion = "7.2"
	AgentContext    = "/jolokia/"
)

// agentSeq tells the agents of one process apart in their ids.
var agentSeq atomic.Uint32

// Options configure a Handler.
type Options struct {
	// User and Password turn on HTTP basic auth when User is not empty,
	// as the JVM agent's user= and password= options do.
	User     string
	Password string
	// ClientCertAuth lets in, without a password, a request over an
	// HTTPS connection that presented a client certificate the handshake
	// verified (useSslClientAuthentication; AgentTLS, ConnContext).
	ClientCertAuth bool
	// Realm is the basic-auth realm; "jolokia" as the agent's default.
	Realm string
	// Delay holds every answer back (a slow agent); SetDelay changes it.
	Delay time.Duration
	// AgentID is the agent id the version request reports.
	AgentID string
	// Now is the clock of the response timestamps (time.Now by default).
	Now func() time.Time
	// Version is the agent version it answers as: AgentVersion (1.7.1, the
	// default, proved against Debian's libjolokia-core) or a 2.x version
	// (Agent2Version, the agent ringops injects), whose "error" field is the
	// exception's message alone, as a real 2.6.0 agent in front of
	// Cassandra 5.0 answers (the class is in error_type); see
	// test/env's conformance test.
	Version string
}

// Agent2Version is the Jolokia 2.x agent version a Handler can answer as.
const Agent2Version = "2.6.0"

// DefaultOptions are the JVM agent's defaults: no auth, realm "jolokia",
// no delay, an agent id in the agent's "<ip>-<pid>-<hash>-jvm" form.
func DefaultOptions() Options {
	return Options{
		Realm:   "jolokia",
		AgentID: fmt.Sprintf("127.0.0.1-%d-%08x-jvm", os.Getpid(), agentSeq.Add(0x61c88647)),
		Now:     time.Now,
	}
}

// Handler is a Jolokia 1.7.1 JVM agent over a Registry: it answers at
// AgentContext as the agent's HTTP handler (JDK HttpServer) does.
type Handler struct {
	reg   Registry
	opts  Options
	delay atomic.Int64
}

var _ http.Handler = (*Handler)(nil)

// NewHandler serves reg; zero fields of opts take DefaultOptions' values.
func NewHandler(reg Registry, opts Options) *Handler {
	def := DefaultOptions()
	if opts.Realm == "" {
		opts.Realm = def.Realm
	}
	if opts.AgentID == "" {
		opts.AgentID = def.AgentID
	}
	if opts.Now == nil {
		opts.Now = def.Now
	}
	h := &Handler{reg: reg, opts: opts}
	h.SetDelay(opts.Delay)
	return h
}

// SetDelay holds every later answer back by d (0: none).
func (h *Handler) SetDelay(d time.Duration) { h.delay.Store(int64(d)) }

// ServeHTTP answers as the JVM agent: URI syntax and context checks of the
// JDK server, basic auth, then the Jolokia request (always HTTP 200).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.wait(r) {
		return
	}
	if !validJavaURI(r.RequestURI) {
		jdkReject(w, http.StatusBadRequest, "URISyntaxException thrown")
		return
	}
	if !strings.HasPrefix(r.URL.Path, AgentContext) {
		jdkReject(w, http.StatusNotFound, "No context found for request")
		return
	}
	if h.opts.ClientCertAuth && peerCertified(r.Context()) {
		h.serveAgent(w, r) // ClientCertAuthenticator, any-match with basic auth
		return
	}
	if (h.opts.User != "" || h.opts.ClientCertAuth) && !h.authenticate(w, r) {
		return
	}
	h.serveAgent(w, r)
}

// wait applies the delay; false when the client went away meanwhile.
func (h *Handler) wait(r *http.Request) bool {
	d := time.Duration(h.delay.Load())
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// jdkReject is the JDK HttpServer's own error page; it closes the connection.
func jdkReject(w http.ResponseWriter, code int, msg string) {
	body := fmt.Sprintf("<h1>%d %s</h1>%s", code, http.StatusText(code), msg)
	hd := w.Header()
	hd["Date"] = nil
	hd.Set("Content-Type", "text/html")
	hd.Set("Connection", "close")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// serveAgent is JolokiaHttpHandler.doHandle.
func (h *Handler) serveAgent(w http.ResponseWriter, r *http.Request) {
	params, callback := queryParams(r.URL.RawQuery)
	var out any
	switch {
	case callback != nil && !validCallback(*callback):
		out = h.topError(newJavaErr(classIllegalArgument, "Invalid callback name given, which must be a valid javascript function name"))
	case r.Method == http.MethodGet:
		noCacheHeaders(w, r)
		out = h.handleGet(r, params)
	case r.Method == http.MethodPost:
		noCacheHeaders(w, r)
		out = h.handlePost(r, params)
	case r.Method == http.MethodOptions:
		preflightHeaders(w, r)
	default:
		out = h.topError(newJavaErr(classIllegalArgument, "HTTP Method "+r.Method+" is not supported."))
	}
	h.send(w, r, params, callback, out)
}

func (h *Handler) handleGet(r *http.Request, params map[string]string) any {
	req, err := parseGet(getPathInfo(r), params)
	if err != nil {
		return h.topError(err)
	}
	return h.answer(req)
}

func (h *Handler) handlePost(r *http.Request, params map[string]string) any {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return h.topError(newJavaErr("java.io.IOException", err.Error()))
	}
	v, err := decodeBody(body)
	if err != nil {
		return h.topError(err)
	}
	switch x := v.(type) {
	case *jobject:
		req, err := parsePost(x, params)
		if err != nil {
			return h.topError(err)
		}
		return h.answer(req)
	case []any:
		return h.bulk(x, params)
	}
	return h.topError(newJavaErr(classIllegalArgument, "Invalid JSON Request "+javaToString(v)))
}

// bulk answers a list of requests in order; one request that cannot be
// parsed fails the whole list.
func (h *Handler) bulk(list []any, params map[string]string) any {
	reqs := make([]*request, len(list))
	for i, x := range list {
		m, ok := x.(*jobject)
		if !ok {
			return h.topError(newJavaErr(classIllegalArgument, "Not a request within the list of requests "+
				encodeJSON(list)+". Expected map, but found: "+javaToString(x)))
		}
		req, err := parsePost(m, params)
		if err != nil {
			return h.topError(err)
		}
		reqs[i] = req
	}
	out := make([]any, len(reqs))
	for i, req := range reqs {
		resp, escaped := h.respond(req)
		if escaped != nil {
			return h.topError(escaped)
		}
		out[i] = resp
	}
	return out
}

// answer is the answer to a single request.
func (h *Handler) answer(req *request) *jobject {
	resp, escaped := h.respond(req)
	if escaped != nil {
		return h.topError(escaped)
	}
	return resp
}

// respond runs one request and builds its answer; an exception the agent
// does not catch per request is returned instead.
func (h *Handler) respond(req *request) (*jobject, *javaErr) {
	v, err := h.execute(req)
	if err != nil {
		je := asJavaErr(err)
		if je.escapes() {
			return nil, je
		}
		return h.errorJSON(je, req), nil
	}
	o := newObject()
	o.put("value", v)
	o.put("request", req.echo())
	o.put("timestamp", h.opts.Now().Unix())
	o.put("status", 200)
	return o, nil
}

func asJavaErr(err error) *javaErr {
	if je, ok := err.(*javaErr); ok {
		return je
	}
	return newJavaErr("java.lang.RuntimeException", err.Error())
}

// errorJSON is HttpRequestHandler.getErrorJSON; req is nil for errors
// outside any request (they follow the agent-wide settings).
func (h *Handler) errorJSON(e *javaErr, req *request) *jobject {
	o := newObject()
	o.put("status", e.status)
	if strings.HasPrefix(h.opts.Version, "2.") && e.hasMsg {
		o.put("error", e.msg)
	} else {
		o.put("error", e.errorText())
	}
	o.put("error_type", e.class)
	if req == nil {
		req = &request{}
	}
	switch inc := req.param("includeStackTrace"); {
	case strings.EqualFold(inc, "true"), strings.EqualFold(inc, "runtime") && !e.checked:
		o.put("stacktrace", e.stacktrace())
	}
	if req.boolParam("serializeException") {
		o.put("error_value", e.errorValue())
	}
	if req.typ != "" {
		o.put("request", req.echo())
	}
	return o
}

func (h *Handler) topError(err error) *jobject { return h.errorJSON(asJavaErr(err), nil) }

// send writes the answer: HTTP 200, streamed (chunked), the JSON (wrapped
// in the callback when one is given) as "<mime>; charset=utf-8".
func (h *Handler) send(w http.ResponseWriter, r *http.Request, params map[string]string, callback *string, out any) {
	if out == nil {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	}
	mime := "text/plain"
	if callback != nil && validCallback(*callback) {
		mime = "text/javascript"
	} else if m, ok := params["mimeType"]; ok && strings.EqualFold(m, "application/json") {
		mime = "application/json"
	}
	w.Header().Set("Content-Type", mime+"; charset=utf-8")
	body := encodeJSON(out)
	if mime == "text/javascript" {
		body = *callback + "(" + body + ");"
	}
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok && r.Method != http.MethodHead {
		f.Flush() // headers go out first: the agent streams its answer
	}
	_, _ = io.WriteString(w, body)
}

// noCacheHeaders are the headers every GET and POST answer carries.
func noCacheHeaders(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	if origin := corsOrigin(r.Header.Get("Origin")); origin != "" {
		hd.Set("Access-Control-Allow-Origin", origin)
		hd.Set("Access-Control-Allow-Credentials", "true")
	}
	hd.Set("Cache-Control", "no-cache")
	hd.Set("Pragma", "no-cache")
	now := time.Now().UTC()
	hd.Set("Date", now.Format(http.TimeFormat))
	hd.Set("Expires", now.Add(-time.Hour).Format(http.TimeFormat))
}

// preflightHeaders answer a CORS preflight (OPTIONS).
func preflightHeaders(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	origin := corsOrigin(originOrReferer(r))
	if origin == "" {
		origin = "*"
	}
	hd.Set("Access-Control-Allow-Origin", origin)
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		hd.Set("Access-Control-Allow-Headers", req)
	}
	hd.Set("Access-Control-Allow-Credentials", "true")
	hd.Set("Access-Control-Max-Age", "31536000")
}

func originOrReferer(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" {
		return o
	}
	return r.Header.Get("Referer")
}

// corsOrigin is extractCorsOrigin without an access policy: any origin is
// allowed, "null" becomes "*".
func corsOrigin(origin string) string {
	origin = strings.NewReplacer("\n", "", "\r", "").Replace(origin)
	if origin == "null" {
		return "*"
	}
	return origin
}

var callbackRE = regexp.MustCompile(`(?i)^[$A-Z_][0-9A-Z_$]*$`)

func validCallback(s string) bool { return callbackRE.MatchString(s) }

var pathPrefixRE = regexp.MustCompile(`^/?[^/]+/`)

// getPathInfo is the request path after the context, as the agent reads it
// (including its re-reading of the raw URI when it holds "!//").
func getPathInfo(r *http.Request) string {
	p := strings.TrimPrefix(r.URL.Path, AgentContext)
	for len(p) > 1 && strings.HasPrefix(p, "/") {
		p = p[1:]
	}
	if !strings.Contains(r.RequestURI, "!//") {
		return p
	}
	prefix := pathPrefixRE.FindString(p)
	i := strings.Index(r.RequestURI, prefix)
	if prefix == "" || i < 0 {
		return p
	}
	if dec, err := url.QueryUnescape(r.RequestURI[i:]); err == nil {
		return dec
	}
	return p
}

// queryParams parses the query as the agent's ParsedUri: the query as
// java.net.URI decodes it, each name and value URL-decoded once more; the
// first value of a name counts, a name without "=" has none. The callback
// parameter is returned apart.
func queryParams(raw string) (map[string]string, *string) {
	params := map[string]string{}
	if raw == "" {
		return params, nil
	}
	q, err := url.PathUnescape(raw)
	if err != nil {
		q = raw
	}
	for _, pair := range strings.Split(q, "&") {
		name, value, ok := strings.Cut(pair, "=")
		if !ok {
			continue
		}
		name, value = formDecode(name), formDecode(value)
		if _, seen := params[name]; !seen {
			params[name] = value
		}
	}
	var callback *string
	if c, ok := params["callback"]; ok {
		callback = &c
	}
	return params, callback
}

func formDecode(s string) string {
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}
