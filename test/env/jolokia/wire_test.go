package jolokia

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// call is one HTTP exchange, written byte for byte so that both agents get
// exactly the same request (raw URIs included).
type call struct {
	method string
	uri    string // request target, e.g. "/jolokia/version"
	header map[string]string
	body   string
}

// reply is what came back; err is set when the connection gave no answer.
type reply struct {
	status  int
	header  http.Header
	chunked bool
	body    string
	err     error
}

// ioGuard bounds a hung exchange so that a broken agent fails the test
// instead of blocking it; it is not a performance assertion.
const ioGuard = 60 * time.Second

func do(t testing.TB, addr string, c call) reply {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(ioGuard))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", c.method, c.uri, addr)
	for _, k := range slices.Sorted(maps.Keys(c.header)) {
		fmt.Fprintf(&b, "%s: %s\r\n", k, c.header[k])
	}
	if c.method == http.MethodPost || c.body != "" {
		fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(c.body))
	}
	b.WriteString("\r\n" + c.body)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return reply{err: err}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: c.method})
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{err: err}
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(body),
		chunked: slices.Contains(resp.TransferEncoding, "chunked")}
}

// node is a parsed JSON value that keeps the order of object keys.
type node struct {
	kind string // object, array, string, number, bool, null
	keys []string
	obj  map[string]*node
	arr  []*node
	text string // string value, number text, "true"/"false"
}

func parseJSON(s string) (*node, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	n, err := parseNode(dec)
	if err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after JSON")
	}
	return n, nil
}

func parseNode(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			n := &node{kind: "object", obj: map[string]*node{}}
			for dec.More() {
				k, _ := dec.Token()
				v, err := parseNode(dec)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k.(string))
				n.obj[k.(string)] = v
			}
			_, err = dec.Token()
			return n, err
		}
		n := &node{kind: "array"}
		for dec.More() {
			v, err := parseNode(dec)
			if err != nil {
				return nil, err
			}
			n.arr = append(n.arr, v)
		}
		_, err = dec.Token()
		return n, err
	case string:
		return &node{kind: "string", text: t}, nil
	case json.Number:
		return &node{kind: "number", text: string(t)}, nil
	case bool:
		return &node{kind: "bool", text: fmt.Sprint(t)}, nil
	}
	return &node{kind: "null"}, nil
}

// get follows object keys; nil when absent.
func (n *node) get(keys ...string) *node {
	for _, k := range keys {
		if n == nil || n.kind != "object" {
			return nil
		}
		n = n.obj[k]
	}
	return n
}

func (n *node) String() string {
	if n == nil {
		return "<absent>"
	}
	switch n.kind {
	case "string":
		return fmt.Sprintf("%q", n.text)
	case "null":
		return "null"
	case "object":
		return "{" + strings.Join(n.keys, ",") + "}"
	case "array":
		return fmt.Sprintf("[%d elements]", len(n.arr))
	}
	return n.text
}

var readerHash = regexp.MustCompile(`java\.io\.InputStreamReader@[0-9a-f]+`)

// diffJSON lists the differences between the real agent's answer (want)
// and the simulator's (got), path by path. What must differ is compared by
// kind only: timestamps, stack frames (the first line, the exception, must
// match), the agent id, the identity hash in a parse error.
func diffJSON(path string, want, got *node) []string {
	if want == nil || got == nil || want.kind != got.kind {
		return []string{fmt.Sprintf("%s: real %v, simulator %v", path, want, got)}
	}
	switch {
	case strings.HasSuffix(path, ".timestamp") || strings.HasSuffix(path, ".config.agentId"):
		return nil
	case strings.HasSuffix(path, ".stacktrace"):
		w, _, _ := strings.Cut(want.text, "\n")
		g, _, _ := strings.Cut(got.text, "\n")
		return diffScalar(path+"(first line)", w, g)
	}
	switch want.kind {
	case "object":
		return diffObject(path, want, got)
	case "array":
		if len(want.arr) != len(got.arr) {
			return []string{fmt.Sprintf("%s: real has %d elements, simulator %d", path, len(want.arr), len(got.arr))}
		}
		var out []string
		for i := range want.arr {
			out = append(out, diffJSON(fmt.Sprintf("%s[%d]", path, i), want.arr[i], got.arr[i])...)
		}
		return out
	}
	return diffScalar(path, want.text, got.text)
}

func diffScalar(path, want, got string) []string {
	want = readerHash.ReplaceAllString(want, "java.io.InputStreamReader@ID")
	got = readerHash.ReplaceAllString(got, "java.io.InputStreamReader@ID")
	if want != got {
		return []string{fmt.Sprintf("%s: real %q, simulator %q", path, want, got)}
	}
	return nil
}

func diffObject(path string, want, got *node) []string {
	var out []string
	for _, k := range want.keys {
		if _, ok := got.obj[k]; !ok {
			out = append(out, fmt.Sprintf("%s.%s: real %v, simulator has no such key", path, k, want.obj[k]))
		}
	}
	for _, k := range got.keys {
		w, ok := want.obj[k]
		if !ok {
			out = append(out, fmt.Sprintf("%s.%s: simulator %v, real has no such key", path, k, got.obj[k]))
			continue
		}
		out = append(out, diffJSON(path+"."+k, w, got.obj[k])...)
	}
	if len(out) == 0 && !slices.Equal(want.keys, got.keys) {
		out = append(out, fmt.Sprintf("%s: key order: real %v, simulator %v", path, want.keys, got.keys))
	}
	return out
}

// callbackRE splits a JSONP answer into its function and its JSON.
var callbackBody = regexp.MustCompile(`(?s)^([A-Za-z_$][0-9A-Za-z_$]*)\((.*)\);$`)

// diffReplies compares two HTTP answers: transport outcome, status, the
// headers a client sees, and the body (as JSON when it is JSON).
func diffReplies(want, got reply) []string {
	if (want.err != nil) != (got.err != nil) {
		return []string{fmt.Sprintf("transport: real %v, simulator %v", want.err, got.err)}
	}
	if want.err != nil {
		return nil
	}
	var out []string
	if want.status != got.status {
		out = append(out, fmt.Sprintf("HTTP status: real %d, simulator %d", want.status, got.status))
	}
	if want.chunked != got.chunked {
		out = append(out, fmt.Sprintf("chunked transfer: real %v, simulator %v", want.chunked, got.chunked))
	}
	out = append(out, diffHeaders(want.header, got.header)...)
	return append(out, diffBodies(want.body, got.body)...)
}

// comparedHeaders are compared by value; presenceHeaders by presence only.
var (
	comparedHeaders = []string{"Content-Type", "Www-Authenticate", "Access-Control-Allow-Origin",
		"Access-Control-Allow-Credentials", "Access-Control-Allow-Headers", "Access-Control-Max-Age",
		"Cache-Control", "Pragma", "Connection"}
	presenceHeaders = []string{"Expires"}
)

func diffHeaders(want, got http.Header) []string {
	var out []string
	for _, h := range comparedHeaders {
		if w, g := want.Values(h), got.Values(h); !slices.Equal(w, g) {
			out = append(out, fmt.Sprintf("header %s: real %q, simulator %q", h, w, g))
		}
	}
	for _, h := range presenceHeaders {
		if w, g := want.Get(h) != "", got.Get(h) != ""; w != g {
			out = append(out, fmt.Sprintf("header %s present: real %v, simulator %v", h, w, g))
		}
	}
	return out
}

func diffBodies(want, got string) []string {
	wantFn, wantJSON := splitCallback(want)
	gotFn, gotJSON := splitCallback(got)
	if wantFn != gotFn {
		return []string{fmt.Sprintf("JSONP callback: real %q, simulator %q", wantFn, gotFn)}
	}
	w, werr := parseJSON(wantJSON)
	g, gerr := parseJSON(gotJSON)
	if werr != nil || gerr != nil {
		if !bytes.Equal([]byte(want), []byte(got)) {
			return []string{fmt.Sprintf("body: real %q, simulator %q", want, got)}
		}
		return nil
	}
	return diffJSON("$", w, g)
}

func splitCallback(body string) (string, string) {
	if m := callbackBody.FindStringSubmatch(body); m != nil {
		return m[1], m[2]
	}
	return "", body
}
