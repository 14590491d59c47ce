package jolokia

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ringops/ringops/reconciler/ring"
)

// fakeAgent is a Jolokia agent of one healthy node of a ring, answering as
// Cassandra of its release does (endpoints in several of Cassandra's forms,
// to exercise the normalisation). A multi-attribute read naming an
// attribute the release lacks fails as a whole with 404, as the real agent
// answers (5.0 has no HostIdMap).
type fakeAgent struct {
	ring       []string // the ring's endpoints, all live
	mode       string
	release    string // ReleaseVersion, default 4.1.5
	notServing bool   // NativeTransportRunning false
	user, pass string // basic auth when set
	requests   atomic.Int64
	// stop is closed when the test ends, before the server closes, so that
	// handlers that wait for the client give up.
	stop chan struct{}
	// answer, when set, replaces the standard answer.
	answer func(w http.ResponseWriter, r *http.Request)
}

func (a *fakeAgent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.requests.Add(1)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-a.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	r = r.WithContext(ctx)
	if a.user != "" {
		if u, p, ok := r.BasicAuth(); !ok || u != a.user || p != a.pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="jolokia"`)
			http.Error(w, "<html><body>401 Unauthorized</body></html>", http.StatusUnauthorized)
			return
		}
	}
	if a.answer != nil {
		a.answer(w, r)
		return
	}
	var reqs []map[string]any
	if r.Method != http.MethodPost || r.URL.Path != "/jolokia/" || json.NewDecoder(r.Body).Decode(&reqs) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	resps := make([]map[string]any, len(reqs))
	for i, req := range reqs {
		resps[i] = a.respond(req)
	}
	_ = json.NewEncoder(w).Encode(resps)
}

func (a *fakeAgent) respond(req map[string]any) map[string]any {
	ok := func(v any) map[string]any {
		return map[string]any{"status": 200, "value": v, "timestamp": 1700000000, "request": req}
	}
	fail := func(status int, typ, msg string) map[string]any {
		return map[string]any{"status": status, "error_type": typ, "error": typ + " : " + msg}
	}
	var bean map[string]any
	switch req["mbean"] {
	case StorageServiceMBean:
		bean = a.storageService()
	case "org.apache.cassandra.db:type=StorageProxy":
		bean = map[string]any{"SchemaVersions": map[string][]string{"59adb24e-f3cd-3e02-97f0-5b395827453f": a.ring}}
	default:
		return fail(404, "javax.management.InstanceNotFoundException", fmt.Sprint(req["mbean"]))
	}
	var names []string
	switch attr := req["attribute"].(type) {
	case string:
		if v, found := bean[attr]; found {
			return ok(v)
		}
		return fail(404, "javax.management.AttributeNotFoundException", "No such attribute: "+attr)
	case []string:
		names = attr
	case []any:
		for _, x := range attr {
			names = append(names, fmt.Sprint(x))
		}
	default:
		return fail(400, "java.lang.IllegalArgumentException", "bad attribute")
	}
	out := map[string]any{}
	for _, name := range names {
		v, found := bean[name]
		if !found {
			return fail(404, "javax.management.AttributeNotFoundException", "No such attribute: "+name)
		}
		out[name] = v
	}
	return ok(out)
}

// storageService is the node's StorageService MBean, by attribute.
func (a *fakeAgent) storageService() map[string]any {
	release := a.release
	if release == "" {
		release = "4.1.5"
	}
	hostIDs, load := map[string]string{}, map[string]string{}
	live := make([]string, len(a.ring))
	for i, ep := range a.ring {
		hostIDs[ep] = hostID(i)
		load["/"+ep] = strconv.Itoa(i+1) + ".5 MiB"
		live[i] = ep + ":7000"
	}
	bean := map[string]any{
		"LiveNodes": live, "UnreachableNodes": []string{}, "JoiningNodes": []string{},
		"LeavingNodes": []string{}, "MovingNodes": []string{}, "OperationMode": a.mode,
		"EndpointToHostId": hostIDs, "ReleaseVersion": release, "LoadMap": load,
		"SchemaVersion": "59adb24e-f3cd-3e02-97f0-5b395827453f", "NativeTransportRunning": !a.notServing,
	}
	if !strings.HasPrefix(release, "5.") {
		bean["HostIdMap"] = hostIDs // removed from the 5.0 MBean (CASSANDRA-18959)
	}
	return bean
}

// waitClient returns when the client went away or the test ended (the
// request's context covers both). The body is drained first: the server
// notices a closed connection only then.
func (a *fakeAgent) waitClient(r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	<-r.Context().Done()
}

// startAgent serves a on a loopback port and returns the node that reaches
// it directly.
func startAgent(t testing.TB, pod string, a *fakeAgent) ring.Node {
	t.Helper()
	if a.mode == "" {
		a.mode = "NORMAL"
	}
	a.stop = make(chan struct{})
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(a.stop) })
	host, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return ring.Node{Cluster: "orders", Context: "eu-west", Namespace: "cassandra", Pod: pod, Datacenter: "dc1", Rack: "r1", IP: host, Port: int32(p)}
}
