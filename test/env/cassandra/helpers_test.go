package cassandra

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ringops/ringops/internal/testkit/wait"
)

var (
	testNet  = flag.String("cassandra.net", "127.77", "first two octets of the loopback addresses the tests give nodes")
	testPort = flag.Int("cassandra.port", 8778, "Jolokia port of the test nodes")
)

// ip returns a test node address: every test uses its own third octet.
func ip(subnet, host int) string { return fmt.Sprintf("%s.%d.%d", *testNet, subnet, host) }

// testOptions are short durations; tests poll with deadlines, never assert
// speed.
func testOptions() Options {
	return Options{
		BootstrapTime:    300 * time.Millisecond,
		StartupTime:      20 * time.Millisecond,
		DecommissionTime: 300 * time.Millisecond,
		GossipInterval:   20 * time.Millisecond,
		SeedTimeout:      500 * time.Millisecond,
		FatClientTimeout: 300 * time.Millisecond,
		ReleaseVersion:   "4.1.5",
		NumTokens:        4,
	}
}

// dns is the test's stand-in for the kubelet: pod DNS name -> current IP.
type dns struct {
	mu sync.Mutex
	m  map[string]string
}

func (d *dns) set(name, ip string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[string]string{}
	}
	d.m[name] = ip
}

func (d *dns) resolve(_, host string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ip, ok := d.m[host]
	return ip, ok
}

// world is a Sim plus its DNS, closed at test end.
type world struct {
	t   *testing.T
	sim *Sim
	dns *dns
}

func newWorld(t *testing.T, opts Options) *world {
	t.Helper()
	d := &dns{}
	s := New(opts, d.resolve)
	t.Cleanup(s.Close)
	return &world{t: t, sim: s, dns: d}
}

// cfg is a node of cluster "orders" whose seeds are the given pod names.
func (w *world) cfg(key, pod, nodeIP, dc, rack string, seeds ...string) NodeConfig {
	w.dns.set(pod+".orders.cassandra.svc.cluster.local", nodeIP)
	names := make([]string, len(seeds))
	for i, s := range seeds {
		names[i] = s + ".orders.cassandra.svc.cluster.local"
	}
	return NodeConfig{
		Key: key, Pod: pod, Namespace: "cassandra", Region: "eu-west", IP: nodeIP,
		ClusterName: "orders", DC: dc, Rack: rack, Seeds: names, JolokiaPort: *testPort,
	}
}

func (w *world) start(cfg NodeConfig) *Node {
	w.t.Helper()
	n, err := w.sim.Start(context.Background(), cfg)
	if err != nil {
		w.t.Fatalf("start %s: %v", cfg.Pod, err)
	}
	return n
}

// agent is a Jolokia client of one node.
type agent struct {
	url        string
	user, pass string
	client     *http.Client
}

// newClient makes a connection per request, so that a closed agent shows
// as a refused connection rather than a dead pooled one.
func newClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
}

func agentOf(n *Node) agent {
	return agent{url: n.JolokiaURL(), client: newClient(5 * time.Second)}
}

func agentAt(nodeIP string) agent {
	return agent{url: fmt.Sprintf("http://%s:%d/jolokia/", nodeIP, *testPort), client: newClient(5 * time.Second)}
}

type response struct {
	Status    int             `json:"status"`
	Value     json.RawMessage `json:"value"`
	Error     string          `json:"error"`
	ErrorType string          `json:"error_type"`
}

// bulk posts requests as one bulk request.
func (a agent) bulk(reqs ...map[string]any) ([]response, error) {
	body, _ := json.Marshal(reqs)
	req, _ := http.NewRequest(http.MethodPost, a.url, bytes.NewReader(body))
	if a.user != "" {
		req.SetBasicAuth(a.user, a.pass)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var out []response
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	if len(out) != len(reqs) {
		return nil, fmt.Errorf("%d responses to %d requests", len(out), len(reqs))
	}
	return out, nil
}

func (a agent) one(req map[string]any) (response, error) {
	out, err := a.bulk(req)
	if err != nil {
		return response{}, err
	}
	return out[0], nil
}

func readReq(mbean, attr string) map[string]any {
	return map[string]any{"type": "read", "mbean": mbean, "attribute": attr}
}

func execReq(op string, args ...any) map[string]any {
	if args == nil {
		args = []any{}
	}
	return map[string]any{"type": "exec", "mbean": StorageServiceMBean, "operation": op, "arguments": args}
}

// read reads one attribute into out.
func (a agent) read(mbean, attr string, out any) error {
	r, err := a.one(readReq(mbean, attr))
	if err != nil {
		return err
	}
	if r.Status != 200 {
		return fmt.Errorf("read %s %s: status %d: %s", mbean, attr, r.Status, r.Error)
	}
	return json.Unmarshal(r.Value, out)
}

func (a agent) mode() (string, error) {
	var m string
	err := a.read(StorageServiceMBean, "OperationMode", &m)
	return m, err
}

// health is what a ring health checker reads from one node, in one bulk
// request.
type health struct {
	Mode                                string
	Live, Unreachable, Joining, Leaving []string
	Moving                              []string
	HostIDs                             map[string]string
	Schemas                             map[string][]string
	States                              map[string]string
}

func (a agent) health() (health, error) {
	attrs := []string{"OperationMode", "LiveNodes", "UnreachableNodes", "JoiningNodes", "LeavingNodes", "MovingNodes", "EndpointToHostId"}
	reqs := []map[string]any{}
	for _, at := range attrs {
		reqs = append(reqs, readReq(StorageServiceMBean, at))
	}
	reqs = append(reqs, readReq(StorageProxyMBean, "SchemaVersions"), readReq(FailureDetectorMBean, "SimpleStates"))
	rs, err := a.bulk(reqs...)
	if err != nil {
		return health{}, err
	}
	var h health
	targets := []any{&h.Mode, &h.Live, &h.Unreachable, &h.Joining, &h.Leaving, &h.Moving, &h.HostIDs, &h.Schemas, &h.States}
	for i, r := range rs {
		if r.Status != 200 {
			return health{}, fmt.Errorf("request %d: status %d: %s", i, r.Status, r.Error)
		}
		if err := json.Unmarshal(r.Value, targets[i]); err != nil {
			return health{}, err
		}
	}
	return h, nil
}

// eventually waits up to 10 s for cond (wait.For).
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	wait.For(t, 10*time.Second, what, cond)
}

// healthIs polls a node until its health satisfies check.
func healthIs(t *testing.T, what string, a agent, check func(h health) error) health {
	t.Helper()
	var last health
	eventually(t, what, func() error {
		h, err := a.health()
		if err != nil {
			return err
		}
		last = h
		return check(h)
	})
	return last
}

func sameSet(got, want []string) error {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		return fmt.Errorf("got %v, want %v", got, want)
	}
	return nil
}

// healthy checks a node sees exactly want, all up and normal, one schema.
func healthy(want ...string) func(h health) error { return healthyLeft("", want...) }

// healthyLeft is healthy, but for left: a node that LEFT the ring and stopped
// gossiping, which the failure detector lists as unreachable (as a real
// Cassandra does for three days) although it is no member any more.
func healthyLeft(left string, want ...string) func(h health) error {
	return func(h health) error {
		unreachable := slices.DeleteFunc(slices.Clone(h.Unreachable), func(a string) bool { return a == left })
		switch {
		case h.Mode != "NORMAL":
			return fmt.Errorf("mode %s", h.Mode)
		case sameSet(h.Live, want) != nil:
			return fmt.Errorf("live: %w", sameSet(h.Live, want))
		case len(unreachable)+len(h.Joining)+len(h.Leaving)+len(h.Moving) > 0:
			return fmt.Errorf("unreachable %v joining %v leaving %v moving %v", h.Unreachable, h.Joining, h.Leaving, h.Moving)
		case len(h.HostIDs) != len(want):
			return fmt.Errorf("host IDs %v", h.HostIDs)
		case len(h.Schemas) != 1:
			return fmt.Errorf("schemas %v", h.Schemas)
		}
		for _, addr := range want {
			if h.States["/"+addr] != "UP" {
				return fmt.Errorf("simple states %v", h.States)
			}
		}
		return nil
	}
}
