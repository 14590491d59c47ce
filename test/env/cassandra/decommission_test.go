package cassandra

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// execAsync runs a (blocking) exec and delivers its response.
func execAsync(a agent, req map[string]any) <-chan response {
	out := make(chan response, 1)
	go func() {
		r, err := a.one(req)
		if err != nil {
			r = response{Status: -1, Error: err.Error()}
		}
		out <- r
	}()
	return out
}

func wantJMXError(t *testing.T, what string, r response, typ, text string) {
	t.Helper()
	if r.Status == 200 || r.ErrorType != typ || !strings.Contains(r.Error, text) {
		t.Errorf("%s: status %d %s %q, want %s containing %q", what, r.Status, r.ErrorType, r.Error, typ, text)
	}
}

func TestDecommission(t *testing.T) {
	w := newWorld(t, testOptions())
	const subnet = 10
	a, b, c := threeNodes(t, w, subnet)
	ipC := c.cfg.IP

	// The 3.x signature does not exist on 4.x.
	r, err := agentOf(c).one(execReq("decommission()"))
	if err != nil || r.Status == 200 {
		t.Errorf("decommission() on 4.1: status %d, %v; want an error", r.Status, err)
	}
	// Without force, 4.x refuses to go below a replication factor.
	r, _ = agentOf(c).one(execReq("decommission(boolean)", false))
	wantJMXError(t, "decommission(false) with 3 nodes", r, javaUnsupported,
		"Not enough live nodes to maintain replication factor in keyspace system_distributed (RF = 3, N = 3)")

	done := execAsync(agentOf(c), execReq("decommission(boolean)", true))
	for _, n := range []*Node{a, b} {
		healthIs(t, "c leaving seen from "+n.cfg.IP, agentOf(n), func(h health) error {
			return sameSet(h.Leaving, []string{ipC})
		})
	}
	if m, _ := agentOf(c).mode(); m != "LEAVING" && m != "DECOMMISSIONED" {
		t.Errorf("mode while leaving: %s", m)
	}
	// A second decommission while the first runs.
	r, _ = agentOf(c).one(execReq("decommission", true))
	if c.Mode() == "LEAVING" {
		wantJMXError(t, "decommission in flight", r, javaIllegalState, "Node is still decommissioning")
	}
	if r := <-done; r.Status != 200 {
		t.Fatalf("decommission: status %d %s", r.Status, r.Error)
	}

	// The process still answers, DECOMMISSIONED; the others forgot it.
	if m, err := agentOf(c).mode(); m != "DECOMMISSIONED" {
		t.Fatalf("mode after decommission: %s, %v", m, err)
	}
	for _, n := range []*Node{a, b} {
		healthIs(t, "c gone from "+n.cfg.IP, agentOf(n), healthyLeft(ipC, a.cfg.IP, b.cfg.IP))
	}
	for _, st := range w.sim.Ring("orders") {
		if st.Address == ipC {
			t.Errorf("ground truth still holds c: %+v", st)
		}
	}
	r, _ = agentOf(c).one(execReq("decommission", true))
	wantJMXError(t, "decommission a decommissioned node", r, javaUnsupported, "local node is not a member of the token ring yet")

	// The pod is deleted and comes back with its volume: Cassandra refuses.
	c.Stop()
	_, err = w.sim.Start(context.Background(), w.cfg("pvc-c", "orders-dc2-r1-0", ipC, "dc2", "r1", "orders-dc1-r1-0"))
	if !errors.Is(err, ErrDecommissioned) || !strings.Contains(err.Error(), "will not rejoin the ring") {
		t.Errorf("restart of a decommissioned node: %v", err)
	}
}

func TestDecommissionRefusals(t *testing.T) {
	w := newWorld(t, testOptions())
	const subnet = 11
	a := w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(subnet, 1), "dc1", "r1", "orders-dc1-r1-0"))
	r, _ := agentOf(a).one(execReq("decommission", true))
	wantJMXError(t, "last node", r, javaUnsupported, "no other normal nodes in the ring; decommission would be pointless")

	cfgB := w.cfg("pvc-b", "orders-dc1-r2-0", ip(subnet, 2), "dc1", "r2", "orders-dc1-r1-0")
	w.sim.SetPodFaults(cfgB.Namespace, cfgB.Pod, Faults{NeverFinishJoining: true})
	b := w.start(cfgB)
	r, _ = agentOf(b).one(execReq("decommission", true))
	wantJMXError(t, "joining node", r, javaUnsupported, "local node is not a member of the token ring yet")
	b.NeverFinishJoining(false)
	healthIs(t, "b normal", agentOf(a), healthy(a.cfg.IP, b.cfg.IP))

	// removeNode: a live node cannot be removed, nor self.
	r, _ = agentOf(a).one(execReq("removeNode", b.HostID()))
	wantJMXError(t, "remove a live node", r, javaUnsupported, "is alive and owns this ID")
	r, _ = agentOf(a).one(execReq("removeNode", a.HostID()))
	wantJMXError(t, "remove self", r, javaUnsupported, "Cannot remove self")
	r, _ = agentOf(a).one(execReq("removeNode", newUUID()))
	wantJMXError(t, "remove unknown", r, javaUnsupported, "Host ID not found.")
}

func TestRemoveDeadNode(t *testing.T) {
	w := newWorld(t, testOptions())
	const subnet = 12
	a, b, c := threeNodes(t, w, subnet)
	c.Kill()
	healthIs(t, "c down", agentOf(a), func(h health) error { return sameSet(h.Unreachable, []string{c.cfg.IP}) })
	if r, err := agentOf(a).one(execReq("removeNode", c.HostID())); err != nil || r.Status != 200 {
		t.Fatalf("removeNode: %v %+v", err, r)
	}
	for _, n := range []*Node{a, b} {
		healthIs(t, "c removed from "+n.cfg.IP, agentOf(n), healthy(a.cfg.IP, b.cfg.IP))
	}
	if got := len(w.sim.Ring("orders")); got != 2 {
		t.Errorf("ground truth after removal: %d nodes", got)
	}
}

func TestFailedDecommissionStaysLeavingAndRetries(t *testing.T) {
	w := newWorld(t, testOptions())
	const subnet = 13
	a, b, c := threeNodes(t, w, subnet)
	c.FailDecommission(true)
	r := <-execAsync(agentOf(c), execReq("decommission(boolean)", true))
	wantJMXError(t, "failing decommission", r, javaRuntime, "Error while decommissioning node")
	if m, _ := agentOf(c).mode(); m != "LEAVING" {
		t.Errorf("mode after failed decommission: %s, want LEAVING", m)
	}
	healthIs(t, "still leaving for the others", agentOf(a), func(h health) error {
		return sameSet(h.Leaving, []string{c.cfg.IP})
	})
	// 4.x retries a failed decommission from LEAVING.
	c.FailDecommission(false)
	if r := <-execAsync(agentOf(c), execReq("decommission(boolean)", true)); r.Status != 200 {
		t.Fatalf("retried decommission: %d %s", r.Status, r.Error)
	}
	healthIs(t, "c gone", agentOf(b), healthyLeft(c.cfg.IP, a.cfg.IP, b.cfg.IP))
}

func TestLegacyReleaseSurface(t *testing.T) {
	opts := testOptions()
	opts.ReleaseVersion = "3.11.17"
	w := newWorld(t, opts)
	const subnet = 14
	a, b, c := threeNodes(t, w, subnet)

	var rel string
	if err := agentOf(a).read(StorageServiceMBean, "ReleaseVersion", &rel); err != nil || rel != "3.11.17" {
		t.Errorf("ReleaseVersion: %q %v", rel, err)
	}
	if r, _ := agentOf(a).one(readReq(StorageServiceMBean, "LiveNodesWithPort")); r.Status != 404 {
		t.Errorf("LiveNodesWithPort on 3.11: status %d, want 404", r.Status)
	}
	if r, err := agentOf(c).one(execReq("decommission(boolean)", true)); err != nil || r.Status == 200 {
		t.Errorf("decommission(boolean) on 3.11: status %d %v, want an error", r.Status, err)
	}
	c.FailDecommission(true)
	r := <-execAsync(agentOf(c), execReq("decommission"))
	wantJMXError(t, "failing decommission", r, javaRuntime, "Error while decommissioning node")
	// 3.10+ accepts decommission again on a LEAVING node (CASSANDRA-12008):
	// the retry streams again, and fails again while the fault holds.
	r = <-execAsync(agentOf(c), execReq("decommission"))
	wantJMXError(t, "retry on 3.11", r, javaRuntime, "Error while decommissioning node")
	if m, _ := agentOf(c).mode(); m != "LEAVING" {
		t.Errorf("mode after the failed retry: %s, want LEAVING", m)
	}

	// After a restart the node is NORMAL again and decommission() works.
	c.Kill()
	c = w.start(w.cfg("pvc-c", "orders-dc2-r1-0", c.cfg.IP, "dc2", "r1", "orders-dc1-r1-0"))
	healthIs(t, "c back", agentOf(a), healthy(a.cfg.IP, b.cfg.IP, c.cfg.IP))
	if r := <-execAsync(agentOf(c), execReq("decommission")); r.Status != 200 {
		t.Fatalf("decommission() on 3.11: %d %s", r.Status, r.Error)
	}
	healthIs(t, "c gone", agentOf(a), healthyLeft(c.cfg.IP, a.cfg.IP, b.cfg.IP))
}

func TestWithPortAttributes(t *testing.T) {
	w := newWorld(t, testOptions())
	const subnet = 15
	a, b, c := threeNodes(t, w, subnet)
	var live []string
	if err := agentOf(a).read(StorageServiceMBean, "LiveNodesWithPort", &live); err != nil {
		t.Fatal(err)
	}
	want := []string{a.cfg.IP + ":7000", b.cfg.IP + ":7000", c.cfg.IP + ":7000"}
	if !slices.Equal(live, want) {
		t.Errorf("LiveNodesWithPort %v, want %v", live, want)
	}
	var states map[string]string
	if err := agentOf(a).read(FailureDetectorMBean, "SimpleStatesWithPort", &states); err != nil || states[b.cfg.IP+":7000"] != "UP" {
		t.Errorf("SimpleStatesWithPort %v %v", states, err)
	}
	var ids map[string]string
	if err := agentOf(a).read(StorageServiceMBean, "HostIdToEndpoint", &ids); err != nil || ids[c.HostID()] != c.cfg.IP {
		t.Errorf("HostIdToEndpoint %v %v", ids, err)
	}
	var ks []string
	if err := agentOf(a).read(StorageServiceMBean, "Keyspaces", &ks); err != nil || !slices.Contains(ks, "system_auth") {
		t.Errorf("Keyspaces %v %v", ks, err)
	}
}

// TestHangingDecommission50: a 5.0 decommission whose stream hangs stays
// LEAVING with a stream plan that moves no byte; another decommission
// returns at once doing nothing (5.0.1 StorageService.java:5256-5260);
// a restart ends it, NORMAL again, and a decommission then leaves (#14
// item 7).
func TestHangingDecommission50(t *testing.T) {
	opts := testOptions()
	opts.ReleaseVersion = "5.0.9"
	w := newWorld(t, opts)
	const subnet = 16
	a, b, c := threeNodes(t, w, subnet)
	c.applyFaults(Faults{HangDecommission: true})
	first := execAsync(agentOf(c), execReq("decommission(boolean)", true))
	healthIs(t, "c leaving", agentOf(a), func(h health) error { return sameSet(h.Leaving, []string{c.cfg.IP}) })
	var streams []map[string]any
	if err := agentOf(c).read("org.apache.cassandra.net:type=StreamManager", "CurrentStreams", &streams); err != nil || len(streams) != 1 {
		t.Fatalf("CurrentStreams: %v %v", streams, err)
	}
	time.Sleep(10 * opts.DecommissionTime)
	if m, _ := agentOf(c).mode(); m != "LEAVING" {
		t.Errorf("mode of a hung decommission: %s, want LEAVING", m)
	}
	var again []map[string]any
	_ = agentOf(c).read("org.apache.cassandra.net:type=StreamManager", "CurrentStreams", &again)
	if len(again) != 1 || again[0]["currentTxBytes"] != streams[0]["currentTxBytes"] || again[0]["currentTxBytes"] != float64(0) {
		t.Errorf("a hung stream moved: %v then %v", streams, again)
	}
	if r := <-execAsync(agentOf(c), execReq("decommission(boolean)", true)); r.Status != 200 {
		t.Errorf("second decommission on 5.0: %d %s, want a silent return", r.Status, r.Error)
	}
	select {
	case r := <-first:
		t.Fatalf("the hung decommission answered: %+v", r)
	default:
	}
	c.Kill()
	c = w.start(w.cfg("pvc-c", "orders-dc2-r1-0", c.cfg.IP, "dc2", "r1", "orders-dc1-r1-0"))
	healthIs(t, "c back", agentOf(a), healthy(a.cfg.IP, b.cfg.IP, c.cfg.IP))
	if m, _ := agentOf(c).mode(); m != "NORMAL" {
		t.Errorf("mode after the restart: %s, want NORMAL", m)
	}
	if r := <-execAsync(agentOf(c), execReq("decommission(boolean)", true)); r.Status != 200 {
		t.Fatalf("decommission after the restart: %d %s", r.Status, r.Error)
	}
	healthIs(t, "c gone", agentOf(b), healthyLeft(c.cfg.IP, a.cfg.IP, b.cfg.IP))
}

// TestRetryFromDecommissionFailed50: 5.0 judges a decommission against the
// ring after every leaving node left (cloneAfterAllLeft), where a node
// that failed to leave is no more: its retry from DECOMMISSION_FAILED is
// refused neither as pointless (one other node) nor for replication
// (without force), and leaves (#14 item 7; 5.0.1 StorageService.java
// :5262-5310).
func TestRetryFromDecommissionFailed50(t *testing.T) {
	opts := testOptions()
	opts.ReleaseVersion = "5.0.9"
	w := newWorld(t, opts)
	const subnet = 17
	a := w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(subnet, 1), "dc1", "r1", "orders-dc1-r1-0"))
	b := w.start(w.cfg("pvc-b", "orders-dc1-r2-0", ip(subnet, 2), "dc1", "r2", "orders-dc1-r1-0"))
	healthIs(t, "two nodes", agentOf(a), healthy(a.cfg.IP, b.cfg.IP))
	b.FailDecommission(true)
	r := <-execAsync(agentOf(b), execReq("decommission(boolean)", true))
	wantJMXError(t, "failing decommission", r, javaRuntime, "Error while decommissioning node")
	if m, _ := agentOf(b).mode(); m != "DECOMMISSION_FAILED" {
		t.Fatalf("mode after the failure: %s, want DECOMMISSION_FAILED", m)
	}
	b.FailDecommission(false)
	if r := <-execAsync(agentOf(b), execReq("decommission(boolean)", false)); r.Status != 200 {
		t.Fatalf("retry from DECOMMISSION_FAILED: %d %s: %s, want accepted", r.Status, r.ErrorType, r.Error)
	}
	healthIs(t, "b gone", agentOf(a), healthyLeft(b.cfg.IP, a.cfg.IP))
}
