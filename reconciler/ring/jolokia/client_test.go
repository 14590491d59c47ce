package jolokia

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/ringops/ringops/reconciler/ring"
)

func TestReadViewIsOneBulkPOST(t *testing.T) {
	var got []Request
	a := &fakeAgent{ring: []string{"127.0.0.1", "10.0.0.2", "/10.0.0.3"}}
	inner := a.respond
	_ = inner
	n := startAgent(t, "orders-dc1-r1-0", a)
	a.answer = func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &got); err != nil {
			t.Errorf("request body is no bulk: %v: %s", err, body)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		var reqs []map[string]any
		_ = json.Unmarshal(body, &reqs)
		resps := make([]map[string]any, len(reqs))
		for i := range reqs {
			resps[i] = a.respond(reqs[i])
		}
		_ = json.NewEncoder(w).Encode(resps)
	}
	opts := DefaultOptions()
	opts.ReadLoad = true
	v, err := NewClient(NewDirect(DirectOptions{}), opts).ReadView(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	if a.requests.Load() != 1 || len(got) != 2 {
		t.Fatalf("%d HTTP requests carrying %d Jolokia requests, want 1 carrying 2", a.requests.Load(), len(got))
	}
	if got[0].MBean != StorageServiceMBean || !reflect.DeepEqual(got[0].Attribute, []any{"LiveNodes", "UnreachableNodes", "JoiningNodes",
		"LeavingNodes", "MovingNodes", "OperationMode", "EndpointToHostId", "SchemaVersion", "NativeTransportRunning", "ReleaseVersion"}) {
		t.Errorf("health read %+v: want StorageService's local attributes of every version", got[0])
	}
	want := &ring.View{
		Live: []string{"10.0.0.2", "10.0.0.3", "127.0.0.1"}, Unreachable: []string{}, Joining: []string{}, Leaving: []string{}, Moving: []string{},
		Mode: ring.ModeNormal, ReleaseVersion: "4.1.5", SchemaVersion: "59adb24e-f3cd-3e02-97f0-5b395827453f", NativeTransportRunning: true,
		HostIDs: map[string]string{"127.0.0.1": hostID(0), "10.0.0.2": hostID(1), "10.0.0.3": hostID(2)},
		Load:    map[string]string{"127.0.0.1": "1.5 MiB", "10.0.0.2": "2.5 MiB", "10.0.0.3": "3.5 MiB"},
	}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("view:\n got %+v\nwant %+v", v, want)
	}
	// Without ReadLoad, the load is not asked for.
	v, err = NewClient(NewDirect(DirectOptions{}), DefaultOptions()).ReadView(context.Background(), n)
	if err != nil || len(got) != 1 || v.Load != nil {
		t.Fatalf("without ReadLoad: %d requests, load %v, %v; want 1, none", len(got), v.Load, err)
	}
	want.Load = nil
	if !reflect.DeepEqual(v, want) {
		t.Errorf("view without load:\n got %+v\nwant %+v", v, want)
	}
}

// TestReadViewOnEveryVersion: the health read asks only what 3.11, 4.x and
// 5.0 all have. Against a 5.0 agent (no HostIdMap: the real agent fails a
// read naming it with 404) the ring is read and healthy.
func TestReadViewOnEveryVersion(t *testing.T) {
	for _, release := range []string{"3.11.17", "4.0.14", "4.1.7", "5.0.9"} {
		t.Run(release, func(t *testing.T) {
			a := &fakeAgent{ring: []string{"127.0.0.1"}, release: release}
			n := startAgent(t, "orders-dc1-r1-0", a)
			for _, load := range []bool{false, true} {
				c := NewClient(NewDirect(DirectOptions{}), Options{ReadLoad: load})
				v, err := c.ReadView(context.Background(), n)
				if err != nil {
					t.Fatalf("ReadLoad=%v: %v", load, err)
				}
				if v.ReleaseVersion != release || v.HostIDs["127.0.0.1"] != hostID(0) || v.SchemaVersion == "" || !v.NativeTransportRunning {
					t.Errorf("ReadLoad=%v: view %+v", load, v)
				}
				res := ring.Assess(ring.Take(context.Background(), c, []ring.Node{n}, ring.DefaultSnapshotOptions()), ring.Expected{Nodes: []ring.Node{n}})
				if !res.Healthy {
					t.Errorf("ReadLoad=%v: %s", load, res)
				}
			}
		})
	}
}

// TestReadViewNotServing: a NORMAL node whose native transport does not
// run is read as such and blocks the gate.
func TestReadViewNotServing(t *testing.T) {
	a := &fakeAgent{ring: []string{"127.0.0.1"}, release: "5.0.9", notServing: true}
	n := startAgent(t, "orders-dc1-r1-0", a)
	c := NewClient(NewDirect(DirectOptions{}), DefaultOptions())
	res := ring.Assess(ring.Take(context.Background(), c, []ring.Node{n}, ring.DefaultSnapshotOptions()), ring.Expected{Nodes: []ring.Node{n}})
	if res.Healthy || len(res.Reasons) != 1 || res.Reasons[0].Kind != ring.NotServing || res.Reasons[0].Nodes[0].Pod != n.Pod {
		t.Fatalf("got %s, want NotServing for %s", res, n.Pod)
	}
}

func TestNormalizeEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1": "10.0.0.1", "/10.0.0.1": "10.0.0.1", "host/10.0.0.1": "10.0.0.1",
		"10.0.0.1:7000": "10.0.0.1", "/10.0.0.1:7000": "10.0.0.1", " 10.0.0.1 ": "10.0.0.1",
		"::1": "::1", "[::1]:7000": "::1", "/[2001:db8::1]:7000": "2001:db8::1", "2001:DB8:0::1": "2001:db8::1",
		"::ffff:10.0.0.1": "10.0.0.1", "cassandra-0.example": "cassandra-0.example", "": "",
	} {
		if got := ring.NormalizeEndpoint(in); got != want {
			t.Errorf("NormalizeEndpoint(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBasicAuth(t *testing.T) {
	const secret = "s3cr3t-pa55"
	n := startAgent(t, "orders-dc1-r1-0", &fakeAgent{ring: []string{"127.0.0.1"}, user: "cassandra", pass: secret})
	read := func(creds map[string]Credentials) error {
		_, err := NewClient(NewDirect(DirectOptions{Credentials: creds}), DefaultOptions()).ReadView(context.Background(), n)
		return err
	}
	if err := read(map[string]Credentials{"eu-west": {"cassandra", secret}, "": {"cassandra", "wrong"}}); err != nil {
		t.Errorf("per-context credentials: %v", err)
	}
	if err := read(map[string]Credentials{"": {"cassandra", secret}}); err != nil {
		t.Errorf("default credentials: %v", err)
	}
	for name, creds := range map[string]map[string]Credentials{"none": nil, "wrong": {"": {"cassandra", "wrong"}}} {
		err := read(creds)
		var he *HTTPError
		if !errors.Is(err, ErrUnauthorized) || !errors.As(err, &he) || he.StatusCode != 401 {
			t.Errorf("%s credentials: got %v, want ErrUnauthorized", name, err)
		}
		if strings.Contains(fmt.Sprint(err), "wrong") || strings.Contains(fmt.Sprint(err), "html") {
			t.Errorf("%s credentials: error shows the password or the page: %v", name, err)
		}
	}
}

// routerFunc routes with a function.
type routerFunc func(ring.Node) (Route, error)

func (f routerFunc) Route(_ context.Context, n ring.Node) (Route, error) { return f(n) }

// TestFallbackCredentials: during a rotation, a node not yet restarted
// refuses the new credentials and is read with the previous ones; a
// node that takes the new ones is asked once.
func TestFallbackCredentials(t *testing.T) {
	old := startAgent(t, "orders-dc1-r1-0", &fakeAgent{ring: []string{"127.0.0.1"}, user: "ringops", pass: "old"})
	restarted := &fakeAgent{ring: []string{"127.0.0.1"}, user: "ringops", pass: "new"}
	renewed := startAgent(t, "orders-dc1-r1-1", restarted)
	direct := NewDirect(DirectOptions{})
	n := old
	read := func(creds, fallback *Credentials) error {
		r := routerFunc(func(n ring.Node) (Route, error) {
			rt, err := direct.Route(context.Background(), n)
			rt.Credentials, rt.Fallback = creds, fallback
			return rt, err
		})
		_, err := NewClient(r, DefaultOptions()).ReadView(context.Background(), n)
		return err
	}
	newCreds, oldCreds := &Credentials{"ringops", "new"}, &Credentials{"ringops", "old"}
	if err := read(newCreds, nil); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("new credentials alone: %v, want ErrUnauthorized", err)
	}
	if err := read(newCreds, oldCreds); err != nil {
		t.Errorf("new credentials, old as fallback: %v", err)
	}
	if err := read(&Credentials{"ringops", "other"}, &Credentials{"ringops", "older"}); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("both refused: %v, want ErrUnauthorized", err)
	}
	n = renewed
	if err := read(newCreds, oldCreds); err != nil || restarted.requests.Load() != 1 {
		t.Errorf("a restarted node: %v after %d requests, want one", err, restarted.requests.Load())
	}
}

func TestCredentialsNeverPrintThePassword(t *testing.T) {
	c := Credentials{Username: "cassandra", Password: "s3cr3t"}
	r := Route{URL: "http://x/jolokia/", Credentials: &c, Fallback: &c}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		for _, v := range []any{c, &c, r, []Credentials{c}, map[string]Credentials{"": c}} {
			if s := fmt.Sprintf(f, v); strings.Contains(s, "s3cr3t") {
				t.Errorf("Sprintf(%s, %T) = %s shows the password", f, v, s)
			}
		}
	}
}

// TestPerRequestErrors: an HTTP 200 answer whose requests failed.
func TestPerRequestErrors(t *testing.T) {
	fail := func(status int, typ string) map[string]any {
		return map[string]any{"status": status, "error_type": typ, "error": typ + " : refused", "stacktrace": "at ..."}
	}
	a := &fakeAgent{ring: []string{"127.0.0.1"}}
	n := startAgent(t, "orders-dc1-r1-0", a)
	opts := DefaultOptions()
	opts.ReadLoad = true
	c := NewClient(NewDirect(DirectOptions{}), opts)
	for _, tt := range []struct {
		name    string
		index   int
		status  int
		wantErr bool
	}{
		{"StorageService attribute not found", 0, 404, true},
		{"StorageService refused by policy", 0, 403, true},
		{"StorageService threw", 0, 500, true},
		{"LoadMap missing is not fatal", 1, 404, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a.answer = func(w http.ResponseWriter, r *http.Request) {
				var reqs []map[string]any
				_ = json.NewDecoder(r.Body).Decode(&reqs)
				resps := make([]map[string]any, len(reqs))
				for i := range reqs {
					resps[i] = a.respond(reqs[i])
				}
				resps[tt.index] = fail(tt.status, "javax.management.AttributeNotFoundException")
				_ = json.NewEncoder(w).Encode(resps)
			}
			v, err := c.ReadView(context.Background(), n)
			if !tt.wantErr {
				if err != nil || v.Load != nil || len(v.Live) != 1 {
					t.Fatalf("got %+v, %v; want a view without load", v, err)
				}
				return
			}
			var re *RequestError
			if !errors.As(err, &re) || re.Status != tt.status || re.ErrorType == "" {
				t.Fatalf("got %v, want a RequestError with status %d", err, tt.status)
			}
			var ne *ring.NodeError
			if !errors.As(err, &ne) || ne.Node.Pod != n.Pod {
				t.Errorf("error does not name the node: %v", err)
			}
		})
	}
}

// TestBadAnswers: every kind of garbage is a typed error for that node;
// nothing panics or hangs.
func TestBadAnswers(t *testing.T) {
	healthy := &fakeAgent{ring: []string{"127.0.0.1"}, mode: "NORMAL"}
	withValue := func(attr string, v any) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			var reqs []map[string]any
			_ = json.NewDecoder(r.Body).Decode(&reqs)
			resps := make([]map[string]any, len(reqs))
			for i := range reqs {
				resps[i] = healthy.respond(reqs[i])
			}
			resps[0]["value"].(map[string]any)[attr] = v
			_ = json.NewEncoder(w).Encode(resps)
		}
	}
	body := func(status int, s string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status); _, _ = io.WriteString(w, s) }
	}
	tests := []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		want   error
	}{
		{"HTML", body(200, "<html><body>It works!</body></html>"), ErrMalformed},
		{"truncated JSON", body(200, `[{"status":200,"value":{"LiveNodes":["10.0`), ErrMalformed},
		{"empty body", body(200, ""), ErrMalformed},
		{"object instead of bulk", body(200, `{"status":200,"value":1}`), ErrMalformed},
		{"wrong number of responses", body(200, `[{"status":200,"value":{}}]`), ErrMalformed},
		{"response without status", body(200, `[{},{}]`), ErrMalformed},
		{"LiveNodes is a number", withValue("LiveNodes", 42), ErrMalformed},
		{"EndpointToHostId is a list", withValue("EndpointToHostId", []string{"a"}), ErrMalformed},
		{"OperationMode is null", withValue("OperationMode", nil), ErrMalformed},
		{"SchemaVersion is null", withValue("SchemaVersion", nil), ErrMalformed},
		{"NativeTransportRunning is a string", withValue("NativeTransportRunning", "true"), ErrMalformed},
		{"NativeTransportRunning is null", withValue("NativeTransportRunning", nil), ErrMalformed},
		{"OperationMode missing", withValue("OperationMode", json.RawMessage(`"x"`)), nil},
		{"HTTP 500", body(500, "java.lang.OutOfMemoryError"), &HTTPError{}},
		{"HTTP 503 from a proxy, HTML", body(503, "<html>bad gateway</html>"), &HTTPError{}},
		{"100 MB body", func(w http.ResponseWriter, r *http.Request) {
			chunk := []byte("[" + strings.Repeat(`"10.0.0.1",`, 6000))
			for i := 0; i < 100<<20/len(chunk); i++ {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, ErrTooLarge},
		{"slow loris", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(200)
			for _, b := range []byte(`[{"status":200,"value":{"LiveNodes":[]}}`) {
				if _, err := w.Write([]byte{b}); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
			<-r.Context().Done()
		}, ErrTimeout},
		{"no answer at all", nil, ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &fakeAgent{answer: tt.answer}
			if a.answer == nil {
				a.answer = func(w http.ResponseWriter, r *http.Request) { a.waitClient(r) }
			}
			n := startAgent(t, "orders-dc1-r1-0", a)
			c := NewClient(NewDirect(DirectOptions{}), Options{Timeout: 300 * time.Millisecond, MaxResponseBytes: 1 << 20, ReadLoad: true})
			v, err := c.ReadView(context.Background(), n)
			switch want := tt.want.(type) {
			case nil:
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			case *HTTPError:
				if !errors.As(err, &want) {
					t.Fatalf("got %v, want an HTTPError", err)
				}
			default:
				if !errors.Is(err, want) {
					t.Fatalf("got %v, want %v", err, want)
				}
			}
			if v != nil {
				t.Errorf("got a view with the error: %+v", v)
			}
			if len(err.Error()) > 300 {
				t.Errorf("error carries the whole answer: %v", err)
			}
			res := ring.Assess(ring.Take(context.Background(), c, []ring.Node{n}, ring.DefaultSnapshotOptions()), ring.Expected{Nodes: []ring.Node{n}})
			if res.Healthy || len(res.Reasons) != 1 || res.Reasons[0].Kind != ring.NotQueried || res.Nodes[0].Error == "" {
				t.Errorf("assessment: %v", res)
			}
			if !strings.Contains(err.Error(), n.Pod) {
				t.Errorf("error does not name the node: %v", err)
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	n := startAgent(t, "orders-dc1-r1-0", &fakeAgent{})
	n.Port = 1 // nothing listens on 127.0.0.1:1
	_, err := NewClient(NewDirect(DirectOptions{}), DefaultOptions()).ReadView(context.Background(), n)
	var ne *ring.NodeError
	if err == nil || !errors.As(err, &ne) || errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want a NodeError that is no timeout", err)
	}
}

func TestCallerDeadlineIsATimeout(t *testing.T) {
	a := &fakeAgent{}
	a.answer = func(w http.ResponseWriter, r *http.Request) { a.waitClient(r) }
	n := startAgent(t, "orders-dc1-r1-0", a)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := NewClient(NewDirect(DirectOptions{}), DefaultOptions()).ReadView(ctx, n)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want ErrTimeout wrapping the deadline", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	_, err = NewClient(NewDirect(DirectOptions{}), DefaultOptions()).ReadView(ctx, n)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestExec(t *testing.T) {
	var got []map[string]any
	a := &fakeAgent{}
	a.answer = func(w http.ResponseWriter, r *http.Request) {
		got = nil
		_ = json.NewDecoder(r.Body).Decode(&got)
		if got[0]["operation"] == "decommission(boolean)" {
			_, _ = io.WriteString(w, `[{"status":200,"value":null}]`)
			return
		}
		_, _ = io.WriteString(w, `[{"status":500,"error_type":"java.lang.UnsupportedOperationException","error":"java.lang.UnsupportedOperationException : no"}]`)
	}
	n := startAgent(t, "orders-dc1-r1-0", a)
	c := NewClient(NewDirect(DirectOptions{}), DefaultOptions())
	if _, err := c.Exec(context.Background(), n, Call{MBean: StorageServiceMBean, Operation: "decommission(boolean)", Args: []any{false}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"type": "exec", "mbean": StorageServiceMBean, "operation": "decommission(boolean)", "arguments": []any{false}}
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("request %v, want %v", got[0], want)
	}
	_, err := c.Exec(context.Background(), n, Call{MBean: StorageServiceMBean, Operation: "decommission"})
	var re *RequestError
	if !errors.As(err, &re) || re.Status != 500 || re.ErrorType != "java.lang.UnsupportedOperationException" {
		t.Fatalf("got %v, want the exception", err)
	}
	if args, ok := got[0]["arguments"].([]any); !ok || len(args) != 0 {
		t.Errorf("no-argument exec sends arguments %v, want []", got[0]["arguments"])
	}
}

// TestPodProxyRoute: the request goes to the pod proxy path of the node's
// context with the context's kube credentials, never with basic auth.
func TestPodProxyRoute(t *testing.T) {
	var path, auth string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, auth = r.URL.Path, r.Header.Get("Authorization")
		_, _ = io.WriteString(w, `[{"status":404,"error":"x"}]`)
	}))
	t.Cleanup(api.Close)
	p, err := NewPodProxy(map[string]*rest.Config{"eu-west": {Host: api.URL + "/prefix", BearerToken: "kube-token"}})
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(p, DefaultOptions())
	n := ring.Node{Context: "eu-west", Namespace: "cassandra", Pod: "orders-dc1-r1-0", IP: "10.0.0.1", Port: 8778}
	_, err = c.ReadView(context.Background(), n)
	var re *RequestError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want the agent's 404 through the proxy", err)
	}
	if path != "/prefix/api/v1/namespaces/cassandra/pods/orders-dc1-r1-0:8778/proxy/jolokia/" || auth != "Bearer kube-token" {
		t.Errorf("proxied to %q with %q", path, auth)
	}
	n.Context = "us-east"
	if _, err := c.ReadView(context.Background(), n); !errors.Is(err, ErrUnknownContext) {
		t.Errorf("unknown context: got %v", err)
	}
}

// FuzzHealthAnswer: no answer makes the decoding panic, and an answer that
// decodes is a consistent view.
func FuzzHealthAnswer(f *testing.F) {
	a := &fakeAgent{ring: []string{"10.0.0.1", "/10.0.0.2:7000"}, mode: "NORMAL"}
	good, _ := json.Marshal([]map[string]any{a.respond(map[string]any{"mbean": StorageServiceMBean, "attribute": healthAttributes})})
	for _, seed := range []string{string(good), "", "[]", "[{}]", `[{"status":200,"value":{"LiveNodes":null}}]`,
		`{"status":400,"error":"x"}`, "<html>", `[{"status":200,"value":{"LiveNodes":[1]}}]`,
		`[{"status":200,"value":{"NativeTransportRunning":"yes"}}]`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, ok := decodeHealthFast(b, 1)
		if !ok {
			resps, err := parseBulk(b, healthRequests[:1])
			if err != nil {
				return
			}
			if v, err = decodeView(resps); err != nil {
				return
			}
		}
		if v == nil || !sort.StringsAreSorted(v.Live) {
			t.Fatalf("view %+v from %q", v, b)
		}
	})
}

// A redirect from an agent is never followed: the request, and its
// credentials, stay with the node ringops meant to ask.
func TestRedirectsAreNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer other.Close()
	a := &fakeAgent{}
	a.answer = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/jolokia/", http.StatusTemporaryRedirect)
	}
	n := startAgent(t, "orders-dc1-r1-0", a)
	creds := map[string]Credentials{"": {"cassandra", "s3cr3t"}}
	_, err := NewClient(NewDirect(DirectOptions{Credentials: creds}), DefaultOptions()).ReadView(context.Background(), n)
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("got %v, want the redirect as an HTTP error", err)
	}
	if elsewhere.Load() != 0 {
		t.Errorf("the client followed the redirect to another server (%d requests there)", elsewhere.Load())
	}
}

func hostID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1) }
