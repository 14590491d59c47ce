package cassandra

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/ringops/ringops/test/env/cqlprobe"
)

var cqlDebug = flag.Bool("cassandra.cqldebug", false, "log what the Go driver does")

// The tests of the simulated CQL server use the Apache Cassandra Go driver
// as ringops does, on subnets 90 and up.

// dial opens a driver session on the given nodes, as a client of dc.
func dial(t *testing.T, dc string, auth gocql.Authenticator, proto int, hosts ...string) (*gocql.Session, error) {
	t.Helper()
	c := gocql.NewCluster(hosts...)
	c.ProtoVersion = proto
	c.Timeout = 2 * time.Second
	c.ConnectTimeout = 2 * time.Second
	c.Authenticator = auth
	c.MaxWaitSchemaAgreement = 2 * time.Second
	if dc != "" {
		c.PoolConfig.HostSelectionPolicy = gocql.DCAwareRoundRobinPolicy(dc)
	}
	if *cqlDebug {
		c.Logger = gocql.NewLogger(gocql.LogLevelDebug)
	}
	s, err := c.CreateSession()
	if err == nil {
		t.Cleanup(s.Close)
	}
	return s, err
}

func mustDial(t *testing.T, hosts ...string) *gocql.Session {
	t.Helper()
	s, err := dial(t, "", nil, 4, hosts...)
	if err != nil {
		t.Fatalf("session on %v: %v", hosts, err)
	}
	return s
}

// replication reads a keyspace's replication from system_schema on the
// node the query goes to.
func replication(s *gocql.Session, host *gocql.HostInfo, ks string) (map[string]string, error) {
	var r map[string]string
	q := s.Query("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?", ks)
	if host != nil {
		q = q.SetHostID(host.HostID())
	}
	err := q.Scan(&r)
	return r, err
}

// hostAt finds the driver's host of an IP.
func hostAt(t *testing.T, s *gocql.Session, ip string) *gocql.HostInfo {
	t.Helper()
	for _, h := range s.GetHosts() {
		if h.ConnectAddress().String() == ip {
			return h
		}
	}
	t.Fatalf("driver knows no host %s among %v", ip, s.GetHosts())
	return nil
}

func requestCode(err error) int {
	var re gocql.RequestError
	if errors.As(err, &re) {
		return re.Code()
	}
	return -1
}

func TestCQLDriverDiscoversTheRing(t *testing.T) {
	const subnet = 90
	w := newWorld(t, testOptions())
	a, _, c := threeNodes(t, w, subnet)
	s := mustDial(t, a.cfg.IP) // the driver's defaults: full schema metadata
	eventually(t, "the driver sees the three nodes", func() error {
		var got []string
		for _, h := range s.GetHosts() {
			if h.IsUp() {
				got = append(got, h.ConnectAddress().String()+"/"+h.DataCenter()+"/"+h.Rack())
			}
		}
		return sameSet(got, []string{ip(subnet, 1) + "/dc1/r1", ip(subnet, 2) + "/dc1/r2", ip(subnet, 3) + "/dc2/r1"})
	})
	var cluster, release, hostID string
	var tokens []string
	if err := s.Query("SELECT cluster_name, release_version, host_id, tokens FROM system.local WHERE key='local'").
		SetHostID(hostAt(t, s, c.cfg.IP).HostID()).Scan(&cluster, &release, &hostID, &tokens); err != nil {
		t.Fatal(err)
	}
	if cluster != "orders" || release != "4.1.5" || hostID != c.HostID() || len(tokens) != 4 {
		t.Errorf("system.local of c: %s %s %s %v", cluster, release, hostID, tokens)
	}
	ks, err := s.KeyspaceMetadata("system_auth")
	if err != nil {
		t.Fatal(err)
	}
	if ks.StrategyClass != "org.apache.cassandra.locator.SimpleStrategy" || fmt.Sprint(ks.StrategyOptions) != "map[replication_factor:1]" {
		t.Errorf("system_auth: %s %v", ks.StrategyClass, ks.StrategyOptions)
	}
}

func TestCQLNegotiatesProtocolFour(t *testing.T) {
	const subnet = 91
	w := newWorld(t, testOptions())
	a := w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(subnet, 1), "dc1", "r1", "orders-dc1-r1-0"))
	s, err := dial(t, "", nil, 0, a.cfg.IP) // the driver tries 5 first
	if err != nil {
		t.Fatal(err)
	}
	var v string
	if err := s.Query("SELECT native_protocol_version FROM system.local").Scan(&v); err != nil {
		t.Fatal(err)
	}
}

func TestCQLPasswordAuthenticator(t *testing.T) {
	const subnet = 92
	opts := testOptions()
	opts.CQLRoles = map[string]CQLRole{"admin": {Password: "s3cret", Superuser: true}, "reader": {Password: "r"}}
	w := newWorld(t, opts)
	a := w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(subnet, 1), "dc1", "r1", "orders-dc1-r1-0"))
	_, err := dial(t, "", gocql.PasswordAuthenticator{Username: "admin", Password: "wrong"}, 4, a.cfg.IP)
	if err == nil || !strings.Contains(err.Error(), "Provided username admin and/or password are incorrect") {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := dial(t, "", nil, 4, a.cfg.IP); err == nil {
		t.Error("no credentials: connected")
	}
	reader, err := dial(t, "", gocql.PasswordAuthenticator{Username: "reader", Password: "r"}, 4, a.cfg.IP)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := replication(reader, nil, "system_auth"); err != nil {
		t.Errorf("a role reads system_schema: %v", err)
	}
	err = reader.Query("ALTER KEYSPACE system_auth WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1}").Exec()
	if requestCode(err) != errUnauthorized || !strings.Contains(err.Error(), "User reader has no ALTER permission on <keyspace system_auth> or any of its parents") {
		t.Errorf("reader alters: %v", err)
	}
	admin, err := dial(t, "", gocql.PasswordAuthenticator{Username: "admin", Password: "s3cret"}, 4, a.cfg.IP)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Query("ALTER KEYSPACE system_auth WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1}").Exec(); err != nil {
		t.Errorf("admin alters: %v", err)
	}
}

func TestCQLSchemaChangeReachesEveryNode(t *testing.T) {
	const subnet = 93
	w := newWorld(t, testOptions())
	a, b, c := threeNodes(t, w, subnet)
	s := mustDial(t, a.cfg.IP, b.cfg.IP, c.cfg.IP)
	ha := hostAt(t, s, a.cfg.IP)
	create := "CREATE KEYSPACE orders WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1}"
	if err := s.Query(create).SetHostID(ha.HostID()).Exec(); err != nil {
		t.Fatal(err)
	}
	if err := s.Query(create).Exec(); requestCode(err) != errAlreadyExists {
		t.Errorf("create twice: %v", err)
	}
	if err := s.Query("CREATE KEYSPACE IF NOT EXISTS orders WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").Exec(); err != nil {
		t.Errorf("create if not exists: %v", err)
	}
	alter := s.Query("ALTER KEYSPACE orders WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': '1'}").SetHostID(ha.HostID())
	iter := alter.Iter()
	warnings := iter.Warnings() // Close forgets them
	if err := iter.Close(); err != nil {
		t.Fatal(err)
	}
	if want := "When increasing replication factor you need to run a full (-full) repair to distribute the data."; !slices.Contains(warnings, want) {
		t.Errorf("warnings %v, want %q", warnings, want)
	}
	want := "map[class:org.apache.cassandra.locator.NetworkTopologyStrategy dc1:2 dc2:1]"
	for _, n := range []*Node{a, b, c} {
		eventually(t, "replication on "+n.cfg.IP, func() error {
			r, err := replication(s, hostAt(t, s, n.cfg.IP), "orders")
			if err != nil || fmt.Sprint(r) != want {
				return fmt.Errorf("%v %v", r, err)
			}
			return nil
		})
	}
	if err := s.AwaitSchemaAgreement(context.Background()); err != nil {
		t.Error(err)
	}
	// Each node's own version (system.local) is its StorageService.SchemaVersion.
	versions := map[string]bool{}
	for _, n := range []*Node{a, b, c} {
		var v gocql.UUID
		if err := s.Query("SELECT schema_version FROM system.local").SetHostID(hostAt(t, s, n.cfg.IP).HostID()).Scan(&v); err != nil {
			t.Fatal(err)
		}
		var jv string
		if err := agentOf(n).read(StorageServiceMBean, "SchemaVersion", &jv); err != nil {
			t.Fatal(err)
		}
		if jv != v.String() {
			t.Errorf("%s: system.local %s, StorageService.SchemaVersion %s", n.cfg.IP, v, jv)
		}
		versions[jv] = true
	}
	if len(versions) != 1 {
		t.Errorf("schema versions after agreement: %v", versions)
	}
	healthIs(t, "one schema version in the Jolokia view", agentOf(a), healthy(a.cfg.IP, b.cfg.IP, c.cfg.IP))
}

func TestCQLPartitionedNodeCatchesUpAfterHeal(t *testing.T) {
	const subnet = 94
	w := newWorld(t, testOptions())
	a, b, c := threeNodes(t, w, subnet)
	s := mustDial(t, a.cfg.IP)
	version := func(n *Node) string {
		var v string
		if err := agentOf(n).read(StorageServiceMBean, "SchemaVersion", &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := version(a)
	w.sim.Partition([]string{c.cfg.IP}, []string{a.cfg.IP, b.cfg.IP})
	if err := s.Query(alterTraces).SetHostID(hostAt(t, s, a.cfg.IP).HostID()).Exec(); err != nil {
		t.Fatal(err)
	}
	after := version(a)
	if after == before {
		t.Fatalf("the coordinator's version did not change: %s", after)
	}
	eventually(t, "b takes the change", func() error {
		if v := version(b); v != after {
			return fmt.Errorf("b %s, a %s", v, after)
		}
		return nil
	})
	time.Sleep(5 * w.sim.opts.GossipInterval)
	if v := version(c); v != before {
		t.Fatalf("a partitioned node has version %s; want %s still", v, before)
	}
	w.sim.Heal()
	eventually(t, "c catches up", func() error {
		if v := version(c); v != after {
			return fmt.Errorf("c %s, a %s", v, after)
		}
		return nil
	})
}

// alterTraces gives a keyspace a datacenter, as ringops does.
const alterTraces = "ALTER KEYSPACE system_traces WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}"

func TestCQLAlterRefusedDuringRangeMovement(t *testing.T) {
	const subnet = 95
	opts := testOptions()
	opts.BootstrapTime = time.Second
	w := newWorld(t, opts)
	a, b, c := threeNodes(t, w, subnet)
	s := mustDial(t, a.cfg.IP)
	onA := func(stmt string) error { return s.Query(stmt).SetHostID(hostAt(t, s, a.cfg.IP).HostID()).Exec() }
	d := w.start(w.cfg("pvc-d", "orders-dc2-r1-1", ip(subnet, 4), "dc2", "r1", "orders-dc1-r1-0"))
	err := onA(alterTraces) // a was d's seed: it knows d
	want := fmt.Sprintf("Cannot alter RF while some endpoints are not in normal state (no range movements): [/%s:7000]", d.cfg.IP)
	if requestCode(err) != errConfig || err.Error() != want {
		t.Fatalf("ALTER while d joins: %v\nwant %s", err, want)
	}
	healthIs(t, "d joined", agentOf(a), healthy(a.cfg.IP, b.cfg.IP, c.cfg.IP, d.cfg.IP))
	if err := onA(alterTraces); err != nil {
		t.Fatalf("ALTER once d is NORMAL: %v", err)
	}
	c.Kill() // a dead node stays NORMAL in gossip: no range movement
	healthIs(t, "c down", agentOf(a), func(h health) error {
		if len(h.Unreachable) != 1 {
			return fmt.Errorf("unreachable %v", h.Unreachable)
		}
		return nil
	})
	if err := onA("ALTER KEYSPACE system_traces WITH durable_writes = false"); err != nil {
		t.Errorf("ALTER with a killed node: %v", err)
	}
	d.Stop() // a drained node announced STATUS shutdown: not NORMAL
	err = onA("ALTER KEYSPACE system_traces WITH durable_writes = true")
	if want := fmt.Sprintf("[/%s:7000]", d.cfg.IP); err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("ALTER with a drained node: %v, want the refusal naming %s", err, want)
	}
}

func TestCQLAlterKeyspaceRules(t *testing.T) {
	const subnet = 96
	w := newWorld(t, testOptions())
	a, _, _ := threeNodes(t, w, subnet)
	s := mustDial(t, a.cfg.IP)
	for _, tc := range []struct{ stmt, want string }{
		{"ALTER KEYSPACE orders WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1}", "Keyspace 'orders' doesn't exist"},
		{"ALTER KEYSPACE system_traces WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1, 'dc3': 1}", "Unrecognized strategy option {dc3} passed to NetworkTopologyStrategy for keyspace system_traces"},
		{"ALTER KEYSPACE system_auth WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1}", "Following datacenters have active nodes and must be present in replication options for keyspace system_auth: [dc2]"},
		{"ALTER KEYSPACE system_traces WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 0}", "Configuration for at least one datacenter must be present"},
		{"ALTER KEYSPACE system_traces WITH replication = {'dc1': 1}", "Missing replication strategy class"},
		{"ALTER KEYSPACE system_traces WITH replication = {'class': 'LocalStrategy'}", "Unable to use given strategy class: LocalStrategy is reserved for internal use."},
		{"ALTER KEYSPACE system WITH durable_writes = false", "system keyspace is not user-modifiable."},
		{"DROP KEYSPACE system_traces", "the simulated node runs only SELECT, ALTER KEYSPACE, CREATE KEYSPACE, USE and CREATE, ALTER and DROP ROLE; not: DROP KEYSPACE system_traces"},
		{"SELECT * FROM system.nothing", "table nothing does not exist"},
		{"SELECT nothing FROM system.local", "Undefined column name nothing in table system.local"},
	} {
		if err := s.Query(tc.stmt).Exec(); err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.stmt, err, tc.want)
		}
	}
	// A factor of 0 takes a datacenter out; replication_factor expands to the ring's.
	if err := s.Query("ALTER KEYSPACE system_traces WITH replication = {'class': 'NetworkTopologyStrategy', 'replication_factor': 1, 'dc2': 0}").Exec(); err != nil {
		t.Fatal(err)
	}
	if r, err := replication(s, nil, "system_traces"); err != nil || fmt.Sprint(r) != "map[class:org.apache.cassandra.locator.NetworkTopologyStrategy dc1:1]" {
		t.Errorf("replication after dc2: 0: %v %v", r, err)
	}
}

func TestCQLDecommissionChecksTheAlteredReplication(t *testing.T) {
	const subnet = 97
	w := newWorld(t, testOptions())
	a, _, c := threeNodes(t, w, subnet)
	s := mustDial(t, a.cfg.IP)
	if err := s.Query("CREATE KEYSPACE orders WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1, 'dc2': 1}").Exec(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "c holds the new schema", func() error {
		w.sim.mu.Lock()
		defer w.sim.mu.Unlock()
		if c.schemaKeyspaces()["orders"] == nil {
			return errors.New("no keyspace orders on c")
		}
		return nil
	})
	r, err := agentOf(c).one(execReq("decommission", false))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Not enough live nodes to maintain replication factor in keyspace orders (RF = 1, N = 1). Perform a forceful decommission to ignore."; !strings.Contains(r.Error, want) {
		t.Errorf("decommission of dc2's only node: %d %s, want %q", r.Status, r.Error, want)
	}
}

func TestCQLNoServiceBeforeNormal(t *testing.T) {
	const subnet = 98
	opts := testOptions()
	opts.BootstrapTime = 2 * time.Second
	w := newWorld(t, opts)
	a := w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(subnet, 1), "dc1", "r1", "orders-dc1-r1-0"))
	b := w.start(w.cfg("pvc-b", "orders-dc1-r1-1", ip(subnet, 2), "dc1", "r1", "orders-dc1-r1-0"))
	if _, err := dial(t, "", nil, 4, b.cfg.IP); err == nil {
		t.Error("a joining node served CQL")
	}
	healthIs(t, "b joined", agentOf(a), healthy(a.cfg.IP, b.cfg.IP))
	if _, err := dial(t, "", nil, 4, b.cfg.IP); err != nil {
		t.Errorf("a NORMAL node: %v", err)
	}
}

var update = flag.Bool("cassandra.update", false, "rewrite testdata/cqlprobe.txt")

// TestCQLProbe writes what the simulator answers the conformance probe
// (test/env/cqlprobe) on the coordinator of a ring of Cassandra 5.0.9, dc1
// with two nodes and dc2 with one, to testdata/cqlprobe.txt: the same probe
// on real 5.0.9 nodes of that shape must print the same, but for the
// differences cqlserver.go lists.
func TestCQLProbe(t *testing.T) {
	const subnet = 99
	opts := testOptions()
	opts.ReleaseVersion = "5.0.9"
	w := newWorld(t, opts)
	a, b, c := threeNodes(t, w, subnet)
	s := mustDial(t, a.cfg.IP)
	eventually(t, "the driver knows the ring", func() error {
		if len(s.GetHosts()) != 3 {
			return fmt.Errorf("hosts %v", s.GetHosts())
		}
		return nil
	})
	names := map[string]string{a.cfg.IP: "dc1-r1", b.cfg.IP: "dc1-r2", c.cfg.IP: "dc2-r1"}
	got, err := cqlprobe.Probe(context.Background(), s, a.cfg.IP, cqlprobe.Ring{Names: names})
	if err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/cqlprobe.txt"
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -run TestCQLProbe -cassandra.update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("the probe's answers changed (go test -run TestCQLProbe -cassandra.update to accept):\n--- want\n%s--- got\n%s", want, got)
	}
}
