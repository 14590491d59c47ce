package ring

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
)

// fakeAgent is a Jolokia agent of one healthy node of a ring, answering the
// health bulk as Cassandra 4.1 does (endpoints in several of Cassandra's
// forms, to exercise the normalisation).
type fakeAgent struct {
	ring       []string // the ring's endpoints, all live
	mode       string
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
	hostIDs, load := map[string]string{}, map[string]string{}
	for i, ep := range a.ring {
		hostIDs[ep] = hostID(i)
		load["/"+ep] = strconv.Itoa(i+1) + ".5 MiB"
	}
	switch fmt.Sprint(req["mbean"], " ", req["attribute"]) {
	case StorageServiceMBean + " [LiveNodes UnreachableNodes JoiningNodes LeavingNodes MovingNodes OperationMode HostIdMap ReleaseVersion]":
		live := make([]string, len(a.ring))
		for i, ep := range a.ring {
			live[i] = ep + ":7000"
		}
		return ok(map[string]any{
			"LiveNodes": live, "UnreachableNodes": []string{}, "JoiningNodes": []string{},
			"LeavingNodes": []string{}, "MovingNodes": []string{}, "OperationMode": a.mode,
			"HostIdMap": hostIDs, "ReleaseVersion": "4.1.5",
		})
	case StorageProxyMBean + " SchemaVersions":
		return ok(map[string][]string{"59adb24e-f3cd-3e02-97f0-5b395827453f": a.ring})
	case StorageServiceMBean + " LoadMap":
		return ok(load)
	}
	return map[string]any{"status": 404, "error_type": "javax.management.InstanceNotFoundException",
		"error": "javax.management.InstanceNotFoundException : " + fmt.Sprint(req["mbean"])}
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
func startAgent(t testing.TB, pod string, a *fakeAgent) Node {
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
	return Node{Cluster: "orders", Context: "eu-west", Namespace: "cassandra", Pod: pod, Datacenter: "dc1", Rack: "r1", IP: host, Port: int32(p)}
}
