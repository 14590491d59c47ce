package cassandra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// replaceWorld is three nodes of dc1 (a the seed) with the given options;
// c is killed, as a node whose volume is then lost.
func replaceWorld(t *testing.T, subnet int, opts Options) (w *world, a, b, c *Node) {
	t.Helper()
	w = newWorld(t, opts)
	a = w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(subnet, 1), "dc1", "r1", "orders-dc1-r1-0"))
	b = w.start(w.cfg("pvc-b", "orders-dc1-r2-0", ip(subnet, 2), "dc1", "r2", "orders-dc1-r1-0"))
	healthIs(t, "b joined", agentOf(a), healthy(ip(subnet, 1), ip(subnet, 2)))
	c = w.start(w.cfg("pvc-c", "orders-dc1-r3-0", ip(subnet, 3), "dc1", "r3", "orders-dc1-r1-0"))
	healthIs(t, "c joined", agentOf(a), healthy(ip(subnet, 1), ip(subnet, 2), ip(subnet, 3)))
	c.Kill()
	healthIs(t, "c down", agentOf(a), func(h health) error { return sameSet(h.Unreachable, []string{c.cfg.IP}) })
	return w, a, b, c
}

func startErr(t *testing.T, w *world, cfg NodeConfig, want error, text string) {
	t.Helper()
	_, err := w.sim.Start(context.Background(), cfg)
	if !errors.Is(err, want) || !strings.Contains(err.Error(), text) {
		t.Fatalf("start %s: got %v, want %v with %q", cfg.Pod, err, want, text)
	}
}

// TestLostVolumeWithoutReplace: a non-seed started on an empty volume
// fails as 5.0 does, at the dead node's address and at another one; a
// seed joins at once with new tokens and no data.
func TestLostVolumeWithoutReplace(t *testing.T) {
	w, a, _, c := replaceWorld(t, 140, testOptions())
	same := w.cfg("pvc-c2", "orders-dc1-r3-0", c.cfg.IP, "dc1", "r3", "orders-dc1-r1-0")
	startErr(t, w, same, ErrAddressCollision,
		"A node with address /"+c.cfg.IP+":7000 already exists, cancelling join. Use cassandra.replace_address if you want to replace this node.")
	other := w.cfg("pvc-c3", "orders-dc1-r3-0", ip(140, 13), "dc1", "r3", "orders-dc1-r1-0")
	startErr(t, w, other, ErrStrictSources, "Necessary replicas for strict consistency were removed by source filters")

	a.Kill()
	seed := w.start(w.cfg("pvc-a2", "orders-dc1-r1-0", ip(140, 11), "dc1", "r1", "orders-dc1-r1-0"))
	eventually(t, "the empty seed NORMAL", func() error { return modeIs(seed, "NORMAL") })
	if seed.HostID() == a.HostID() {
		t.Fatalf("the empty seed kept host ID %s", a.HostID())
	}
	for _, st := range w.sim.Ring("orders") {
		if st.Address == seed.cfg.IP && st.JoinedAs != JoinedAsSeed {
			t.Errorf("empty seed joined as %q, want %q", st.JoinedAs, JoinedAsSeed)
		}
	}
	if got := len(w.sim.Ring("orders")); got != 4 {
		t.Errorf("ring holds %d nodes, want 4: the dead seed stays beside its empty successor", got)
	}
}

func modeIs(n *Node, want string) error {
	if m := n.Mode(); m != want {
		return errors.New("mode " + m)
	}
	return nil
}

// TestReplaceAtAnotherAddress: replace_address_first_boot of the dead
// node: the new node streams with its own host ID while the dead one
// stays down; then the dead node leaves every view.
func TestReplaceAtAnotherAddress(t *testing.T) {
	opts := testOptions()
	opts.BootstrapTime = time.Second
	w, a, b, c := replaceWorld(t, 141, opts)
	cfg := w.cfg("pvc-c2", "orders-dc1-r3-0", ip(141, 13), "dc1", "r3", "orders-dc1-r1-0")
	cfg.ReplaceAddress = c.cfg.IP
	r := w.start(cfg)
	if r.HostID() == c.HostID() {
		t.Fatalf("a replacement at another address takes a new host ID, got the old one")
	}
	h := healthIs(t, "replacing", agentOf(a), func(h health) error {
		switch {
		case sameSet(h.Live, []string{a.cfg.IP, b.cfg.IP, r.cfg.IP}) != nil:
			return errors.New("live " + strings.Join(h.Live, ","))
		case sameSet(h.Unreachable, []string{c.cfg.IP}) != nil:
			return errors.New("unreachable " + strings.Join(h.Unreachable, ","))
		}
		return nil
	})
	if len(h.Joining) != 0 || h.HostIDs[r.cfg.IP] != r.HostID() || h.HostIDs[c.cfg.IP] != c.HostID() {
		t.Errorf("while replacing: joining %v host IDs %v", h.Joining, h.HostIDs)
	}
	if m := r.Mode(); m != "JOINING" {
		t.Errorf("the replacement's mode: %s, want JOINING", m)
	}
	for _, n := range []*Node{a, b, r} {
		healthIs(t, "replaced, seen by "+n.cfg.IP, agentOf(n), healthy(a.cfg.IP, b.cfg.IP, r.cfg.IP))
	}
	ring := w.sim.Ring("orders")
	if len(ring) != 3 {
		t.Fatalf("ring after the replacement: %+v", ring)
	}
	for _, st := range ring {
		if st.Address == r.cfg.IP && st.JoinedAs != JoinedByReplace {
			t.Errorf("joined as %q, want %q", st.JoinedAs, JoinedByReplace)
		}
	}
	if !equalTokens(r.disk.tokens, c.disk.tokens) {
		t.Errorf("tokens %v, want the dead node's %v", r.disk.tokens, c.disk.tokens)
	}
}

func equalTokens(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

// TestReplaceAtTheSameAddress: the replacement keeps the dead node's host
// ID, and the others keep it down until it is NORMAL.
func TestReplaceAtTheSameAddress(t *testing.T) {
	opts := testOptions()
	opts.BootstrapTime = time.Second
	w, a, b, c := replaceWorld(t, 142, opts)
	cfg := w.cfg("pvc-c2", "orders-dc1-r3-0", c.cfg.IP, "dc1", "r3", "orders-dc1-r1-0")
	cfg.ReplaceAddress = c.cfg.IP
	r := w.start(cfg)
	if r.HostID() != c.HostID() {
		t.Fatalf("host ID %s, want the dead node's %s", r.HostID(), c.HostID())
	}
	h, err := agentOf(a).health()
	if err != nil || sameSet(h.Unreachable, []string{c.cfg.IP}) != nil || len(h.Joining) != 0 {
		t.Errorf("while hibernating: %+v %v", h, err)
	}
	healthIs(t, "replaced", agentOf(b), healthy(a.cfg.IP, b.cfg.IP, c.cfg.IP))
	if got := len(w.sim.Ring("orders")); got != 3 {
		t.Errorf("ring holds %d nodes, want 3", got)
	}
}

// TestReplaceRefused: a seed cannot replace without bootstrapping, nor can
// a live node or an unknown address be replaced; on bootstrapped data the
// option is ignored.
func TestReplaceRefused(t *testing.T) {
	w, a, b, c := replaceWorld(t, 143, testOptions())
	seed := w.cfg("pvc-x", "orders-dc1-r3-0", ip(143, 20), "dc1", "r3", "orders-dc1-r3-0", "orders-dc1-r1-0")
	seed.ReplaceAddress = c.cfg.IP
	startErr(t, w, seed, ErrReplace, "Replacing a node without bootstrapping risks invalidating consistency guarantees")
	live := w.cfg("pvc-y", "orders-dc1-r3-0", ip(143, 21), "dc1", "r3", "orders-dc1-r1-0")
	live.ReplaceAddress = b.cfg.IP
	startErr(t, w, live, ErrReplace, "Cannot replace a live node... ")
	unknown := w.cfg("pvc-z", "orders-dc1-r3-0", ip(143, 22), "dc1", "r3", "orders-dc1-r1-0")
	unknown.ReplaceAddress = ip(143, 99)
	startErr(t, w, unknown, ErrReplace, "Cannot replace_address /"+ip(143, 99)+":7000 because it doesn't exist in gossip")

	again := c.Config()
	again.ReplaceAddress = ip(143, 1)
	n := w.start(again)
	if n.HostID() != c.HostID() {
		t.Errorf("restart on bootstrapped data with the option: host ID %s, want %s", n.HostID(), c.HostID())
	}
	healthIs(t, "c back", agentOf(a), healthy(a.cfg.IP, b.cfg.IP, c.cfg.IP))
}

// TestRemoveNodeProgress: removeNode answers once the dead node's data is
// re-replicated; meanwhile every view has it leaving and the coordinator
// says what it waits for.
func TestRemoveNodeProgress(t *testing.T) {
	opts := testOptions()
	opts.RemoveTime = time.Second
	_, a, b, c := replaceWorld(t, 144, opts)
	done := make(chan response, 1)
	go func() { r, _ := agentOf(a).one(execReq("removeNode", c.HostID())); done <- r }()
	for _, n := range []*Node{a, b} {
		healthIs(t, "c removing, seen by "+n.cfg.IP, agentOf(n), func(h health) error { return sameSet(h.Leaving, []string{c.cfg.IP}) })
	}
	var status string
	if err := agentOf(a).read(StorageServiceMBean, "RemovalStatusWithPort", &status); err != nil ||
		status != "Removing token ("+c.disk.tokens[0]+"). Waiting for replication confirmation from [/"+b.cfg.IP+":7000]." {
		t.Errorf("RemovalStatusWithPort: %q %v", status, err)
	}
	r, _ := agentOf(a).one(execReq("removeNode", c.HostID()))
	wantJMXError(t, "a second removal on the coordinator", r, javaUnsupported, "This node is already processing a removal.")
	if r := <-done; r.Status != 200 {
		t.Fatalf("removeNode: %+v", r)
	}
	for _, n := range []*Node{a, b} {
		healthIs(t, "c removed, seen by "+n.cfg.IP, agentOf(n), healthy(a.cfg.IP, b.cfg.IP))
	}
	if err := agentOf(a).read(StorageServiceMBean, "RemovalStatus", &status); err != nil || status != "No token removals in process." {
		t.Errorf("RemovalStatus after: %q %v", status, err)
	}
}

// TestCleanup: forceKeyspaceCleanup shows as a Cleanup compaction until it
// answers 0; a local system keyspace and a node with pending ranges are
// refused: one that joins, not its neighbour, which only loses ranges (as
// on a real 5.0 node: TestSimulatorConformsOnCleanup).
func TestCleanup(t *testing.T) {
	opts := testOptions()
	opts.CleanupTime = 500 * time.Millisecond
	w := newWorld(t, opts)
	a := w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(145, 1), "dc1", "r1", "orders-dc1-r1-0"))
	cleanup := func(n *Node, ks string) response {
		r, _ := agentOf(n).one(map[string]any{"type": "exec", "mbean": StorageServiceMBean,
			"operation": "forceKeyspaceCleanup(int,java.lang.String,[Ljava.lang.String;)", "arguments": []any{1, ks, []string{}}})
		return r
	}
	wantJMXError(t, "system", cleanup(a, "system"), javaRuntime, "Cleanup of the system keyspace is neither necessary nor wise")
	done := make(chan response, 1)
	go func() { done <- cleanup(a, "system_distributed") }()
	eventually(t, "a Cleanup compaction", func() error {
		var cs []map[string]string
		if err := agentOf(a).read(CompactionManagerMBean, "Compactions", &cs); err != nil {
			return err
		}
		if len(cs) != 1 || cs[0]["taskType"] != "Cleanup" || cs[0]["keyspace"] != "system_distributed" {
			return errors.New("compactions " + mustJSON(cs))
		}
		return nil
	})
	if r := <-done; r.Status != 200 || string(r.Value) != "0" {
		t.Fatalf("forceKeyspaceCleanup: %+v", r)
	}
	cfg := w.cfg("pvc-b", "orders-dc1-r2-0", ip(145, 2), "dc1", "r2", "orders-dc1-r1-0")
	w.sim.SetPodFaults(cfg.Namespace, cfg.Pod, Faults{NeverFinishJoining: true})
	b := w.start(cfg)
	wantJMXError(t, "joining", cleanup(b, "system_distributed"), javaRuntime, "Node is involved in cluster membership changes. Not safe to run cleanup.")
	if r := cleanup(a, "system_distributed"); r.Status != 200 || string(r.Value) != "0" {
		t.Errorf("the neighbour of a joining node: %+v", r)
	}
}

// TestCleanupWhileLeaving: while a node leaves, the nodes that gain its
// ranges have pending ranges, so their cleanup of a keyspace they do not
// wholly replicate yet is refused; of one they do, it is not.
func TestCleanupWhileLeaving(t *testing.T) {
	opts := testOptions()
	opts.DecommissionTime, opts.CleanupTime = 3*time.Second, 0
	opts.Keyspaces = []Keyspace{{Name: "two", Replication: map[string]int{"dc1": 2}}}
	w := newWorld(t, opts)
	var nodes []*Node
	for i, rack := range []string{"r1", "r2", "r3"} {
		nodes = append(nodes, w.start(w.cfg("pvc-"+rack, "orders-dc1-"+rack+"-0", ip(147, i+1), "dc1", rack, "orders-dc1-r1-0")))
		waitSettled(t, nodes...)
	}
	a, c := nodes[0], nodes[2]
	cleanup := func(ks string) response {
		r, _ := agentOf(a).one(execReq("forceKeyspaceCleanup(int,java.lang.String,[Ljava.lang.String;)", 1, ks, []string{}))
		return r
	}
	done := execAsync(agentOf(c), execReq("decommission(boolean)", true))
	healthIs(t, "c leaving", agentOf(a), func(h health) error {
		if len(h.Leaving) != 1 {
			return fmt.Errorf("leaving %v", h.Leaving)
		}
		return nil
	})
	wantJMXError(t, "two, factor 2 of 3 nodes", cleanup("two"), javaRuntime, "Node is involved in cluster membership changes. Not safe to run cleanup.")
	if r := cleanup("system_distributed"); r.Status != 200 || string(r.Value) != "0" {
		t.Errorf("system_distributed, factor 3 of 3 nodes: %+v", r)
	}
	if r := <-done; r.Status != 200 {
		t.Fatalf("decommission: %+v", r)
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestEndpointDowntime: Gossiper.getEndpointDowntime counts from when the
// failure detector marked the node down; 0 for a live one.
func TestEndpointDowntime(t *testing.T) {
	_, a, b, c := replaceWorld(t, 146, testOptions())
	time.Sleep(100 * time.Millisecond)
	down := func(addr string) int64 {
		r, _ := agentOf(a).one(map[string]any{"type": "exec", "mbean": GossiperMBean, "operation": "getEndpointDowntime", "arguments": []any{addr}})
		var ms int64
		_ = json.Unmarshal(r.Value, &ms)
		return ms
	}
	if ms := down(c.cfg.IP); ms < 100 {
		t.Errorf("downtime of the dead node: %d ms", ms)
	}
	if ms := down(b.cfg.IP); ms != 0 {
		t.Errorf("downtime of a live node: %d ms", ms)
	}
}
