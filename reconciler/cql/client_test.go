package cql_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ringops/ringops/internal/testkit/wait"
	"github.com/ringops/ringops/reconciler/cql"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/test/env/cassandra"
	"github.com/ringops/ringops/test/env/loopback"
)

// simRing is a simulated ring of cluster "orders": dc1 with three nodes
// (racks r1, r2, r3), dc2 with one, on a reserved loopback block.
type simRing struct {
	t     *testing.T
	block int
	sim   *cassandra.Sim
	nodes map[string]*cassandra.Node // by IP
	// authenticator is the nodes' cassandra.yaml authenticator.
	authenticator string
}

func fastOptions() cassandra.Options {
	o := cassandra.DefaultOptions()
	o.BootstrapTime = 100 * time.Millisecond
	o.StartupTime = 10 * time.Millisecond
	o.GossipInterval = 20 * time.Millisecond
	o.SeedTimeout = 2 * time.Second
	o.NumTokens = 4
	return o
}

func startRing(t *testing.T, opts cassandra.Options) *simRing {
	t.Helper()
	return startRingAuth(t, opts, "")
}

// startRingAuth is startRing with nodes whose cassandra.yaml names
// authenticator.
func startRingAuth(t *testing.T, opts cassandra.Options, authenticator string) *simRing {
	t.Helper()
	b, err := loopback.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Release() })
	r := &simRing{t: t, block: b.B, sim: cassandra.New(opts, nil), nodes: map[string]*cassandra.Node{}, authenticator: authenticator}
	t.Cleanup(r.sim.Close)
	for _, n := range []struct{ dc, rack string }{{"dc1", "r1"}, {"dc1", "r2"}, {"dc1", "r3"}, {"dc2", "r1"}} {
		r.start(n.dc, n.rack)
	}
	for ip, n := range r.nodes {
		eventually(t, "node "+ip+" sees the ring", func() error { return seesAll(n, len(r.nodes)) })
	}
	return r
}

// seesAll checks, over Jolokia, that a node sees n live nodes.
func seesAll(node *cassandra.Node, n int) error {
	body := `{"type": "read", "mbean": "org.apache.cassandra.db:type=StorageService", "attribute": "LiveNodes"}`
	resp, err := http.Post(node.JolokiaURL(), "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct{ Value []string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return err
	}
	if len(out.Value) != n {
		return fmt.Errorf("live nodes %v", out.Value)
	}
	return nil
}

func (r *simRing) ip(dc, rack string) string {
	return fmt.Sprintf("127.%d.%s.%s", r.block, dc[2:], rack[1:])
}

func (r *simRing) start(dc, rack string) *cassandra.Node {
	r.t.Helper()
	ip := r.ip(dc, rack)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := r.sim.Start(ctx, cassandra.NodeConfig{
		Key: ip, Pod: "orders-" + dc + "-" + rack + "-0", Namespace: "cassandra", IP: ip,
		ClusterName: "orders", DC: dc, Rack: rack, Seeds: []string{r.ip("dc1", "r1"), ip}, // its own seed: NORMAL at once
		Authenticator: r.authenticator,
	})
	if err != nil {
		r.t.Fatalf("start %s: %v", ip, err)
	}
	r.nodes[ip] = n
	eventually(r.t, "node "+ip+" serves CQL", func() error {
		if m := n.Mode(); m != "NORMAL" || !n.NativeTransportRunning() {
			return fmt.Errorf("mode %s, native transport running: %v", m, n.NativeTransportRunning())
		}
		return nil
	})
	return n
}

// client is a Client of one datacenter's nodes, closed at test end.
func (r *simRing) client(dc string, opts cql.Options, racks ...string) *cql.Client {
	r.t.Helper()
	var ips []string
	for _, rack := range racks {
		ips = append(ips, r.ip(dc, rack))
	}
	c, err := cql.New(dc, ips, opts)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(c.Close)
	return c
}

func testOpts() cql.Options {
	o := cql.DefaultOptions()
	o.Timeout = 2 * time.Second
	return o
}

// eventually waits up to 10 s for cond (wait.For).
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	wait.For(t, 10*time.Second, what, cond)
}

func keyspace(t *testing.T, c *cql.Client, name string) cql.Keyspace {
	t.Helper()
	ks, err := c.Keyspaces(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		if k.Name == name {
			return k
		}
	}
	t.Fatalf("no keyspace %s in %v", name, ks)
	return cql.Keyspace{}
}

func TestReadAndAlterReplication(t *testing.T) {
	r := startRing(t, fastOptions())
	ctx := context.Background()
	dc1 := r.client("dc1", testOpts(), "r1", "r2", "r3")
	ks, err := dc1.Keyspaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range ks {
		got = append(got, k.Name+" "+k.Replication.String())
	}
	want := "system LocalStrategy, system_auth SimpleStrategy 1, system_distributed SimpleStrategy 3, system_schema LocalStrategy, system_traces SimpleStrategy 2"
	if strings.Join(got, ", ") != want {
		t.Errorf("keyspaces:\n got %s\nwant %s", strings.Join(got, ", "), want)
	}
	warnings, err := dc1.AlterReplication(ctx, "system_auth", map[string]int{"dc1": 3, "dc2": 1, "dc3": 0})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "run a full (-full) repair") {
		t.Errorf("warnings %q", warnings)
	}
	dc2 := r.client("dc2", testOpts(), "r1")
	eventually(t, "dc2 reads the new replication", func() error {
		if k := keyspace(t, dc2, "system_auth"); !k.Replication.Equal(map[string]int{"dc1": 3, "dc2": 1}) {
			return fmt.Errorf("system_auth %s", k.Replication)
		}
		return nil
	})
	eventually(t, "dc1's nodes agree", func() error {
		v, err := dc1.SchemaVersions(ctx)
		if err != nil || len(v) != 3 || !v.Agree() {
			return fmt.Errorf("%v %v", v, err)
		}
		return nil
	})
	rep, err := dc2.ReplicatingTo(ctx, "dc2")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range rep {
		names = append(names, k.Name)
	}
	if got := strings.Join(names, " "); got != "system_auth system_distributed system_traces" {
		t.Errorf("replicating to dc2: %s (SimpleStrategy replicates everywhere)", got)
	}
}

func TestAlterRefusals(t *testing.T) {
	r := startRing(t, fastOptions())
	ctx := context.Background()
	dc1 := r.client("dc1", testOpts(), "r1")
	for _, tc := range []struct {
		ks      string
		factors map[string]int
		want    error
		msg     string
	}{
		{"orders", map[string]int{"dc1": 1}, cql.ErrNoKeyspace, "datacenter dc1: alter keyspace orders: no such keyspace: Keyspace 'orders' doesn't exist"},
		{"system_traces", map[string]int{"dc1": 1, "dc9": 1}, cql.ErrRefused, "Unrecognized strategy option {dc9} passed to NetworkTopologyStrategy for keyspace system_traces"},
		{"system_auth", map[string]int{"dc1": 1}, cql.ErrRefused, "Following datacenters have active nodes and must be present in replication options for keyspace system_auth: [dc2]"},
		{"system_traces", map[string]int{"dc1": 0}, cql.ErrRefused, "a keyspace needs replicas in at least one datacenter"},
	} {
		_, err := dc1.AlterReplication(ctx, tc.ks, tc.factors)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s %v: got %v\nwant %v with %q", tc.ks, tc.factors, err, tc.want, tc.msg)
		}
	}
}

func TestAlterDuringRangeMovement(t *testing.T) {
	opts := fastOptions()
	opts.BootstrapTime = 3 * time.Second
	r := startRing(t, opts)
	// A new node of dc2 bootstraps.
	joining := make(chan error, 1)
	go func() {
		_, err := r.sim.Start(context.Background(), cassandra.NodeConfig{
			Key: "new", Pod: "orders-dc2-r2-0", IP: r.ip("dc2", "r2"), ClusterName: "orders", DC: "dc2", Rack: "r2",
			Seeds: []string{r.ip("dc1", "r1")},
		})
		joining <- err
	}()
	if err := <-joining; err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * opts.GossipInterval) // every node of dc1 heard of it
	seed := r.client("dc1", testOpts(), "r1")
	_, err := seed.AlterReplication(context.Background(), "system_traces", map[string]int{"dc1": 2, "dc2": 1})
	want := fmt.Sprintf("datacenter dc1: alter keyspace system_traces: a node is not in normal state (range movement): Cannot alter RF while some endpoints are not in normal state (no range movements): [/%s:7000]", r.ip("dc2", "r2"))
	if !errors.Is(err, cql.ErrRangeMovement) || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func TestCredentials(t *testing.T) {
	opts := fastOptions()
	opts.CQLRoles = map[string]cassandra.CQLRole{"ringops": {Password: "hunter2", Superuser: true}, "reader": {Password: "r"}}
	r := startRing(t, opts)
	ctx := context.Background()
	for name, creds := range map[string]*jolokia.Credentials{
		"wrong password": {Username: "ringops", Password: "hunter3"},
		"none":           nil,
	} {
		o := testOpts()
		o.Credentials = creds
		_, err := r.client("dc1", o, "r1").Keyspaces(ctx)
		if !errors.Is(err, cql.ErrUnauthorized) {
			t.Errorf("%s: %v, want ErrUnauthorized", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter") {
			t.Errorf("%s: the error shows the password: %v", name, err)
		}
	}
	o := testOpts()
	o.Credentials = &jolokia.Credentials{Username: "reader", Password: "r"}
	reader := r.client("dc1", o, "r1")
	if _, err := reader.Keyspaces(ctx); err != nil {
		t.Fatalf("a reader reads: %v", err)
	}
	if _, err := reader.AlterReplication(ctx, "system_traces", map[string]int{"dc1": 1, "dc2": 1}); !errors.Is(err, cql.ErrUnauthorized) {
		t.Errorf("a reader alters: %v, want ErrUnauthorized", err)
	}
	o.Credentials = &jolokia.Credentials{Username: "ringops", Password: "hunter2"}
	admin := r.client("dc1", o, "r1")
	if _, err := admin.AlterReplication(ctx, "system_traces", map[string]int{"dc1": 1, "dc2": 1}); err != nil {
		t.Errorf("ringops alters: %v", err)
	}
	for _, s := range []string{fmt.Sprint(admin), fmt.Sprintf("%+v", admin), fmt.Sprintf("%#v", o), fmt.Sprintf("%+v", o)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("the password prints: %s", s)
		}
	}
}

func TestUnavailable(t *testing.T) {
	r := startRing(t, fastOptions())
	o := testOpts()
	o.Timeout = 300 * time.Millisecond
	nobody, err := cql.New("dc3", []string{r.ip("dc3", "r1")}, o) // no node listens there
	if err != nil {
		t.Fatal(err)
	}
	defer nobody.Close()
	start := time.Now()
	if _, err := nobody.Keyspaces(context.Background()); !errors.Is(err, cql.ErrUnavailable) || !strings.HasPrefix(err.Error(), "datacenter dc3: ") {
		t.Errorf("no node: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("an unreachable datacenter took %s", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.client("dc1", testOpts(), "r1").Keyspaces(ctx); !errors.Is(err, cql.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled call: %v", err)
	}
	// The only contact goes down, then comes back: the client dials again.
	c := r.client("dc2", testOpts(), "r1")
	if _, err := c.Keyspaces(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.nodes[r.ip("dc2", "r1")].Kill()
	if _, err := c.Keyspaces(context.Background()); !errors.Is(err, cql.ErrUnavailable) {
		t.Errorf("its node killed: %v, want ErrUnavailable", err)
	}
	r.start("dc2", "r1")
	eventually(t, "the client reaches the restarted node", func() error {
		_, err := c.Keyspaces(context.Background())
		return err
	})
	c.Close()
	if _, err := c.Keyspaces(context.Background()); !errors.Is(err, cql.ErrClosed) {
		t.Errorf("closed: %v", err)
	}
}

// TestIdleTimeout: a client holds its connections while it is used, and
// none once unused for IdleTimeout; the next call opens them again.
func TestIdleTimeout(t *testing.T) {
	r := startRing(t, fastOptions())
	o := testOpts()
	o.IdleTimeout = 500 * time.Millisecond
	c := r.client("dc2", o, "r1")
	node := r.ip("dc2", "r1")
	for i := range 4 { // used every 200 ms: kept
		if _, err := c.Keyspaces(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := connectionsTo(t, node); n == 0 {
			t.Fatalf("call %d: no connection to %s while the client is used", i, node)
		}
		time.Sleep(200 * time.Millisecond)
	}
	eventually(t, "the idle client closes its connections", func() error {
		if n := connectionsTo(t, node); n > 0 {
			return fmt.Errorf("%d connections to %s", n, node)
		}
		return nil
	})
	if _, err := c.Keyspaces(context.Background()); err != nil {
		t.Fatalf("after the idle close: %v", err)
	}
	if n := connectionsTo(t, node); n == 0 {
		t.Errorf("no connection to %s after a call", node)
	}
	never := testOpts()
	never.IdleTimeout = -1
	kept := r.client("dc1", never, "r1")
	if _, err := kept.Keyspaces(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if n := connectionsTo(t, r.ip("dc1", "r1")); n == 0 {
		t.Errorf("IdleTimeout -1: the connections were closed")
	}
}

// connectionsTo counts this machine's established TCP connections to
// ip:9042 (/proc/net/tcp: the client's ends name the node as remote).
func connectionsTo(t *testing.T, ip string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		t.Fatal(err)
	}
	v4 := a.As4()
	want := fmt.Sprintf("%02X%02X%02X%02X:%04X", v4[3], v4[2], v4[1], v4[0], cql.DefaultPort)
	n := 0
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 3 && f[2] == want && f[3] == "01" {
			n++
		}
	}
	return n
}
