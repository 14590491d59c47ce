package jolokia

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// Unit tests of the Handler alone (no JVM): the protocol corners a client
// of the agent runs into. The conformance test checks the same against the
// real agent.

// answer parses a JSON body; the test fails when it is not JSON.
func answer(t *testing.T, r reply) *node {
	t.Helper()
	if r.err != nil {
		t.Fatalf("no answer: %v", r.err)
	}
	n, err := parseJSON(r.body)
	if err != nil {
		t.Fatalf("body is not JSON (%v): %s", err, r.body)
	}
	return n
}

func TestReadAnswersHTTP200WithTheValue(t *testing.T) {
	addr := startSimulator(t, Options{})
	r := do(t, addr, call{method: "GET", uri: "/jolokia/read/" + storageServiceName + "/LiveNodes"})
	n := answer(t, r)
	if r.status != 200 || r.header.Get("Content-Type") != "text/plain; charset=utf-8" || !r.chunked {
		t.Errorf("HTTP %d, Content-Type %q, chunked %v; want 200, text/plain; charset=utf-8, chunked",
			r.status, r.header.Get("Content-Type"), r.chunked)
	}
	if !strings.Contains(r.body, `"value":["10.0.0.1","10.0.0.2","10.0.0.3"]`) {
		t.Errorf("no LiveNodes value in %s", r.body)
	}
	if n.get("status").String() != "200" || n.get("request", "type").String() != `"read"` ||
		n.get("request", "attribute").String() != `"LiveNodes"` || n.get("timestamp").kind != "number" {
		t.Errorf("answer %s", r.body)
	}
}

func TestBulkAnswersInOrderEachWithItsStatus(t *testing.T) {
	addr := startSimulator(t, Options{})
	body := `[{"type":"read","mbean":"` + storageServiceName + `","attribute":"OperationMode"},` +
		`{"type":"read","mbean":"` + storageServiceName + `","attribute":"Nope"},` +
		`{"type":"read","mbean":"org.apache.cassandra.db:type=Nope","attribute":"X"},` +
		`{"type":"exec","mbean":"` + storageServiceName + `","operation":"decommission","arguments":[false]},` +
		`{"type":"version"}]`
	r := do(t, addr, call{method: "POST", uri: "/jolokia/", body: body})
	n := answer(t, r)
	want := []struct{ status, errorType string }{
		{"200", "<absent>"},
		{"404", `"javax.management.AttributeNotFoundException"`},
		{"404", `"javax.management.InstanceNotFoundException"`},
		{"500", `"java.lang.UnsupportedOperationException"`},
		{"200", "<absent>"},
	}
	if r.status != 200 || n.kind != "array" || len(n.arr) != len(want) {
		t.Fatalf("HTTP %d, body %s", r.status, r.body)
	}
	for i, w := range want {
		if got := n.arr[i]; got.get("status").String() != w.status || got.get("error_type").String() != w.errorType {
			t.Errorf("answer %d: status %v error_type %v, want %s %s", i, got.get("status"), got.get("error_type"), w.status, w.errorType)
		}
	}
	if got := n.arr[0].get("value").String(); got != `"NORMAL"` {
		t.Errorf("first value %s", got)
	}
	if got := n.arr[4].get("value", "agent").String(); got != `"1.7.1"` {
		t.Errorf("agent version %s", got)
	}
}

func TestErrorsCarryTheAgentsTexts(t *testing.T) {
	addr := startSimulator(t, Options{})
	tests := []struct {
		name, uri, body string
		status, error   string
	}{
		{"unknown attribute", "/jolokia/read/" + storageServiceName + "/Nope", "",
			"404", "javax.management.AttributeNotFoundException : No such attribute: Nope"},
		{"unknown MBean", "/jolokia/read/org.apache.cassandra.db:type=Nope/X", "",
			"404", "javax.management.InstanceNotFoundException : org.apache.cassandra.db:type=Nope"},
		{"overloaded without signature", "/jolokia/exec/" + storageServiceName + "/forceKeyspaceCleanup/orders", "",
			"400", "java.lang.IllegalArgumentException : Operation forceKeyspaceCleanup on MBean " + storageServiceName +
				" is overloaded. Signatures found: (int,java.lang.String,[Ljava.lang.String;),(java.lang.String,[Ljava.lang.String;)." +
				" Use a signature when specifying the operation."},
		{"argument count", "/jolokia/exec/" + storageServiceName + "/decommission", "",
			"400", "java.lang.IllegalArgumentException : Invalid number of operation arguments. Operation decommission on " +
				storageServiceName + " requires 1 parameters, not 0 as given"},
		{"unknown operation", "/jolokia/exec/" + storageServiceName + "/nope", "",
			"400", "java.lang.IllegalArgumentException : No operation nope found on MBean " + storageServiceName},
		{"bad number", "/jolokia/exec/" + faultyName + "/add/1.5/2", "",
			"400", `java.lang.NumberFormatException : For input string: "1.5"`},
		{"unknown type", "/jolokia/bogus", "",
			"400", "java.lang.IllegalArgumentException : No type with name 'bogus' exists"},
		{"MBean exception", "/jolokia/read/" + faultyName + "/Broken", "",
			"500", "java.lang.IllegalStateException : gossip not settled"},
		{"bad JSON", "/jolokia/", "{bad",
			"400", "java.lang.IllegalArgumentException : Invalid JSON request java.io.InputStreamReader@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := call{method: "GET", uri: tt.uri}
			if tt.body != "" {
				c = call{method: "POST", uri: tt.uri, body: tt.body}
			}
			r := do(t, addr, c)
			n := answer(t, r)
			if r.status != 200 {
				t.Errorf("HTTP %d: errors travel in the body, with HTTP 200", r.status)
			}
			if n.get("status").String() != tt.status || !strings.HasPrefix(n.get("error").text, tt.error) {
				t.Errorf("status %v error %v\nwant %s %q", n.get("status"), n.get("error"), tt.status, tt.error)
			}
			if st := n.get("stacktrace"); st == nil || !strings.HasPrefix(st.text, strings.Replace(tt.error, " : ", ": ", 1)) {
				t.Errorf("stacktrace %v: the agent includes it by default, starting with the exception", st)
			}
		})
	}
}

func TestExecPassesConvertedArguments(t *testing.T) {
	var got []any
	reg := NewMapRegistry()
	bean := &testBean{ops: []testOp{{Operation{"op", []string{"boolean", "int", "long", javaString, stringArr}, "void"},
		func(a []any) (any, error) { got = a; return nil, nil }}}}
	if err := reg.Register("t:type=T", bean); err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, reg, Options{})
	r := do(t, addr, call{method: "GET", uri: "/jolokia/exec/t:type=T/op/TRUE/-7/12345678901/x!/y/a,b"})
	if n := answer(t, r); n.get("status").String() != "200" {
		t.Fatalf("answer %s", r.body)
	}
	want := []any{true, int32(-7), int64(12345678901), "x/y", []string{"a", "b"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("arguments %#v, want %#v", got, want)
	}
}

func TestMBeanErrorsMapToTheAgentsStatuses(t *testing.T) {
	reg := NewMapRegistry()
	bean := &testBean{attrs: []testAttr{
		{"Arg", javaString, failing("java.lang.IllegalArgumentException", "bad")},
		{"Sec", javaString, failing("java.lang.SecurityException", "no")},
		{"Go", javaString, func() (any, error) { return nil, errors.New("plain Go error") }},
	}}
	if err := reg.Register("t:type=T", bean); err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, reg, Options{})
	for attr, want := range map[string]string{
		// Thrown by the MBean: 500 (Jolokia 2.6.0 unwraps the
		// RuntimeMBeanException and catches the cause as any Throwable; a
		// real 5.0 node's rebuild from an unknown datacenter answers so).
		"Arg": "500 java.lang.IllegalArgumentException : bad",
		"Sec": "403 java.lang.SecurityException : no",
		"Go":  "500 java.lang.RuntimeException : plain Go error",
	} {
		n := answer(t, do(t, addr, call{method: "GET", uri: "/jolokia/read/t:type=T/" + attr}))
		if got := n.get("status").text + " " + n.get("error").text; got != want {
			t.Errorf("%s: %s, want %s", attr, got, want)
		}
	}
}

func TestBasicAuthAnswersAsTheJVMAgent(t *testing.T) {
	addr := startSimulator(t, Options{User: testUser, Password: testPassword})
	tests := []struct {
		name      string
		header    map[string]string
		status    int
		challenge string
	}{
		{"no credentials", nil, 401, `Basic realm="jolokia"`},
		{"wrong password", map[string]string{"Authorization": basicAuth(testUser, "x")}, 401, `Basic realm="jolokia"`},
		{"other scheme", map[string]string{"Authorization": "Bearer t"}, 401, ""},
		{"right", map[string]string{"Authorization": basicAuth(testUser, testPassword)}, 200, ""},
		{"Jolokia's alternate header", map[string]string{"X-jolokia-authorization": basicAuth(testUser, testPassword)}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, addr, call{method: "GET", uri: "/jolokia/version", header: tt.header})
			if r.err != nil || r.status != tt.status || r.header.Get("WWW-Authenticate") != tt.challenge {
				t.Errorf("HTTP %d WWW-Authenticate %q (%v), want %d %q", r.status, r.header.Get("WWW-Authenticate"), r.err, tt.status, tt.challenge)
			}
			if tt.status == 401 && (r.body != "" || r.header.Get("Content-Type") != "") {
				t.Errorf("401 with body %q type %q: the JDK server sends neither", r.body, r.header.Get("Content-Type"))
			}
		})
	}
	r := do(t, addr, call{method: "GET", uri: "/jolokia/version", header: map[string]string{"Authorization": "Basic !!!"}})
	if r.err == nil {
		t.Errorf("credentials that are not base64: HTTP %d, want the connection dropped", r.status)
	}
}

func TestJDKServerPages(t *testing.T) {
	addr := startSimulator(t, Options{User: testUser, Password: testPassword})
	for uri, want := range map[string]string{
		"/other":            "404 <h1>404 Not Found</h1>No context found for request",
		"/jolokia":          "404 <h1>404 Not Found</h1>No context found for request",
		"/jolokia/read/a[b": "400 <h1>400 Bad Request</h1>URISyntaxException thrown",
	} {
		r := do(t, addr, call{method: "GET", uri: uri})
		got := strconv.Itoa(r.status) + " " + r.body
		if r.err != nil || got != want || r.header.Get("Content-Type") != "text/html" {
			t.Errorf("%s: %q as %q (%v), want %q as text/html", uri, got, r.header.Get("Content-Type"), r.err, want)
		}
	}
}

func TestJSONPAndMimeType(t *testing.T) {
	addr := startSimulator(t, Options{})
	uri := "/jolokia/read/" + storageServiceName + "/OperationMode"
	r := do(t, addr, call{method: "GET", uri: uri + "?callback=onHealth"})
	if r.header.Get("Content-Type") != "text/javascript; charset=utf-8" || !strings.HasPrefix(r.body, "onHealth({") || !strings.HasSuffix(r.body, "});") {
		t.Errorf("JSONP: %q %s", r.header.Get("Content-Type"), r.body)
	}
	r = do(t, addr, call{method: "GET", uri: uri + "?mimeType=application/json"})
	if r.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("mimeType=application/json: Content-Type %q", r.header.Get("Content-Type"))
	}
}

func TestMapRegistryFindsNamesInAnyKeyOrder(t *testing.T) {
	reg := testRegistry(t)
	if _, ok := reg.Lookup("ringops.test:name=one,type=Faulty"); !ok {
		t.Error("lookup by canonical name failed")
	}
	if _, ok := reg.Lookup(faultyName); !ok {
		t.Error("lookup by registered name failed")
	}
	if got := reg.Names(); !strings.Contains(strings.Join(got, " "), faultyName) {
		t.Errorf("Names() = %v: names are listed as registered", got)
	}
	if err := reg.Register("d:type=*", faulty()); err == nil {
		t.Error("registering a pattern succeeded")
	}
	reg.Unregister("ringops.test:name=one,type=Faulty")
	if _, ok := reg.Lookup(faultyName); ok {
		t.Error("unregistered MBean still found")
	}
}

// startServer serves reg on a loopback port until the test ends.
func startServer(t *testing.T, reg Registry, opts Options) string {
	t.Helper()
	s := NewServer(reg, opts)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s.Addr()
}
