package cassandra

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"testing"
)

// threeNodes starts a 2-DC ring: a (dc1, seed), b (dc1), c (dc2).
func threeNodes(t *testing.T, w *world, subnet int) (a, b, c *Node) {
	t.Helper()
	a = w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(subnet, 1), "dc1", "r1", "orders-dc1-r1-0"))
	b = w.start(w.cfg("pvc-b", "orders-dc1-r2-0", ip(subnet, 2), "dc1", "r2", "orders-dc1-r1-0"))
	healthIs(t, "b joined", agentOf(a), healthy(ip(subnet, 1), ip(subnet, 2)))
	c = w.start(w.cfg("pvc-c", "orders-dc2-r1-0", ip(subnet, 3), "dc2", "r1", "orders-dc1-r1-0"))
	all := []string{ip(subnet, 1), ip(subnet, 2), ip(subnet, 3)}
	for _, n := range []*Node{a, b, c} {
		healthIs(t, "ring healthy from "+n.cfg.IP, agentOf(n), healthy(all...))
	}
	return a, b, c
}

func TestRingBootstrapsSeedFirst(t *testing.T) {
	w := newWorld(t, testOptions())
	const subnet = 1
	ipA, ipB, ipC := ip(subnet, 1), ip(subnet, 2), ip(subnet, 3)
	cfgA := w.cfg("pvc-a", "orders-dc1-r1-0", ipA, "dc1", "r1", "orders-dc1-r1-0")
	cfgB := w.cfg("pvc-b", "orders-dc1-r2-0", ipB, "dc1", "r2", "orders-dc1-r1-0")
	cfgC := w.cfg("pvc-c", "orders-dc2-r1-0", ipC, "dc2", "r1", "orders-dc1-r1-0")

	// A non-seed cannot start before a seed is up; Jolokia answers while it tries.
	errc := make(chan error, 1)
	go func() { _, err := w.sim.Start(context.Background(), cfgB); errc <- err }()
	eventually(t, "STARTING served by a node looking for seeds", func() error {
		m, err := agentAt(ipB).mode()
		if err == nil && m != "STARTING" {
			return fmt.Errorf("mode %s", m)
		}
		return err
	})
	if err := <-errc; !errors.Is(err, ErrNoSeeds) {
		t.Fatalf("start without seed: got %v, want ErrNoSeeds", err)
	}
	if _, err := agentAt(ipB).mode(); err == nil {
		t.Fatal("jolokia of a crashed node still answers")
	}

	// The seed starts alone and does not bootstrap.
	a := w.start(cfgA)
	if a.Mode() != "NORMAL" {
		t.Fatalf("seed mode after start: %s, want NORMAL", a.Mode())
	}
	healthIs(t, "seed alone", agentOf(a), healthy(ipA))

	// A new node bootstraps: JOINING, seen joining by the seed, then NORMAL.
	// (It is held JOINING until the checks below are done.)
	w.sim.SetPodFaults(cfgB.Namespace, cfgB.Pod, Faults{NeverFinishJoining: true})
	b := w.start(cfgB)
	if m, _ := agentOf(b).mode(); m != "JOINING" {
		t.Fatalf("new node mode: %s, want JOINING", m)
	}
	healthIs(t, "seed sees b joining", agentOf(a), func(h health) error {
		return sameSet(h.Joining, []string{ipB})
	})
	// One bootstrap at a time, as Cassandra enforces by default.
	if _, err := w.sim.Start(context.Background(), cfgC); !errors.Is(err, ErrRangeMovement) {
		t.Fatalf("second bootstrap while b joins: got %v, want ErrRangeMovement", err)
	}
	w.sim.SetPodFaults(cfgB.Namespace, cfgB.Pod, Faults{})
	healthIs(t, "b normal", agentOf(a), healthy(ipA, ipB))
	c := w.start(cfgC)
	for _, n := range []*Node{a, b, c} {
		healthIs(t, "all UN from "+n.cfg.IP, agentOf(n), healthy(ipA, ipB, ipC))
	}

	// Every view agrees on the host IDs; ground truth agrees with them.
	h, _ := agentOf(c).health()
	for _, n := range []*Node{a, b, c} {
		if h.HostIDs[n.cfg.IP] != n.HostID() {
			t.Errorf("host ID of %s seen by c: %q, want %q", n.cfg.IP, h.HostIDs[n.cfg.IP], n.HostID())
		}
	}
	var dcs []string
	for _, st := range w.sim.Ring("orders") {
		if !st.Alive || st.Status != "NORMAL" || st.Mode != "NORMAL" {
			t.Errorf("ground truth: %+v", st)
		}
		dcs = append(dcs, st.DC)
	}
	if !slices.Equal(dcs, []string{"dc1", "dc1", "dc2"}) {
		t.Errorf("ground truth DCs: %v", dcs)
	}
	var dc string
	if err := agentOf(c).read(EndpointSnitchMBean, "Datacenter", &dc); err != nil || dc != "dc2" {
		t.Errorf("snitch datacenter of c: %q, %v", dc, err)
	}
}

func TestKillShowsNodeDownEverywhere(t *testing.T) {
	w := newWorld(t, testOptions())
	const subnet = 2
	a, b, c := threeNodes(t, w, subnet)
	ipC := c.cfg.IP
	c.Kill()
	if _, err := agentAt(ipC).mode(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("agent of a killed node: %v, want connection refused", err)
	}
	for _, n := range []*Node{a, b} {
		h := healthIs(t, "c down seen from "+n.cfg.IP, agentOf(n), func(h health) error {
			return sameSet(h.Unreachable, []string{ipC})
		})
		if slices.Contains(h.Live, ipC) || h.States["/"+ipC] != "DOWN" || h.HostIDs[ipC] != c.HostID() {
			t.Errorf("view of %s: live %v states %v host IDs %v", n.cfg.IP, h.Live, h.States, h.HostIDs)
		}
		if !slices.Equal(h.Schemas["UNREACHABLE"], []string{ipC}) {
			t.Errorf("schema versions of %s: %v", n.cfg.IP, h.Schemas)
		}
		var down int
		if err := agentOf(n).read(FailureDetectorMBean, "DownEndpointCount", &down); err != nil || down != 1 {
			t.Errorf("DownEndpointCount of %s: %d, %v", n.cfg.IP, down, err)
		}
	}
	for _, st := range w.sim.Ring("orders") {
		if st.Address == ipC && (st.Alive || st.Mode != "") {
			t.Errorf("ground truth of killed node: %+v", st)
		}
	}
}

func TestRestartSameKeyKeepsHostIDAndSkipsBootstrap(t *testing.T) {
	w := newWorld(t, testOptions())
	const subnet = 3
	a, b, c := threeNodes(t, w, subnet)
	oldIP, id := c.cfg.IP, c.HostID()
	c.Stop()
	if _, err := agentAt(oldIP).mode(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("agent of a stopped node: %v, want connection refused", err)
	}
	healthIs(t, "stopped node down", agentOf(a), func(h health) error {
		return sameSet(h.Unreachable, []string{oldIP})
	})

	// Same Key, new pod IP.
	newIP := ip(subnet, 13)
	c2 := w.start(w.cfg("pvc-c", "orders-dc2-r1-0", newIP, "dc2", "r1", "orders-dc1-r1-0"))
	if c2.HostID() != id || c2.Mode() != "NORMAL" {
		t.Fatalf("restarted node: host ID %s mode %s, want %s NORMAL (no bootstrap)", c2.HostID(), c2.Mode(), id)
	}
	for _, n := range []*Node{a, b, c2} {
		h := healthIs(t, "ring healthy after restart from "+n.cfg.IP, agentOf(n), healthy(a.cfg.IP, b.cfg.IP, newIP))
		if h.HostIDs[newIP] != id {
			t.Errorf("host ID map of %s: %v", n.cfg.IP, h.HostIDs)
		}
	}
}

func TestPartitionAndHeal(t *testing.T) {
	w := newWorld(t, testOptions())
	const subnet = 4
	a, b, c := threeNodes(t, w, subnet)
	w.sim.Partition([]string{a.cfg.IP}, []string{b.cfg.IP, c.cfg.IP})
	healthIs(t, "a sees the other side unreachable", agentOf(a), func(h health) error {
		if err := sameSet(h.Unreachable, []string{b.cfg.IP, c.cfg.IP}); err != nil {
			return err
		}
		return sameSet(h.Live, []string{a.cfg.IP})
	})
	for _, n := range []*Node{b, c} {
		healthIs(t, "b, c see a unreachable and each other", agentOf(n), func(h health) error {
			if err := sameSet(h.Unreachable, []string{a.cfg.IP}); err != nil {
				return err
			}
			return sameSet(h.Live, []string{b.cfg.IP, c.cfg.IP})
		})
	}
	w.sim.Heal()
	for _, n := range []*Node{a, b, c} {
		healthIs(t, "healed", agentOf(n), healthy(a.cfg.IP, b.cfg.IP, c.cfg.IP))
	}
}

func TestSeedRules(t *testing.T) {
	w := newWorld(t, testOptions())
	const subnet = 5
	a := w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(subnet, 1), "dc1", "r1", "orders-dc1-r1-0"))

	// A node of another cluster name does not take a node of "orders" as seed.
	other := w.cfg("pvc-x", "billing-dc1-r1-1", ip(subnet, 2), "dc1", "r1", "orders-dc1-r1-0")
	other.ClusterName = "billing"
	if _, err := w.sim.Start(context.Background(), other); !errors.Is(err, ErrNoSeeds) {
		t.Errorf("cluster name mismatch: got %v, want ErrNoSeeds", err)
	}

	// A seed behind a partition is not reachable.
	w.sim.Partition([]string{a.cfg.IP}, []string{ip(subnet, 3)})
	if _, err := w.sim.Start(context.Background(), w.cfg("pvc-b", "orders-dc1-r2-0", ip(subnet, 3), "dc1", "r2", "orders-dc1-r1-0")); !errors.Is(err, ErrNoSeeds) {
		t.Errorf("seed behind partition: got %v, want ErrNoSeeds", err)
	}
	w.sim.Heal()

	// A Key's data refuses another datacenter.
	b := w.start(w.cfg("pvc-b", "orders-dc1-r2-0", ip(subnet, 3), "dc1", "r2", "orders-dc1-r1-0"))
	b.Kill()
	moved := w.cfg("pvc-b", "orders-dc1-r2-0", ip(subnet, 3), "dc9", "r2", "orders-dc1-r1-0")
	if _, err := w.sim.Start(context.Background(), moved); !errors.Is(err, ErrIncompatibleData) {
		t.Errorf("restart in another DC: got %v, want ErrIncompatibleData", err)
	}

	// Cancelling the start ends the process.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.sim.Start(ctx, w.cfg("pvc-d", "orders-dc1-r3-0", ip(subnet, 4), "dc1", "r3", "orders-dc1-r1-0")); !errors.Is(err, ErrStopped) {
		t.Errorf("cancelled start: got %v, want ErrStopped", err)
	}
	if _, ok := w.sim.NodeAt(ip(subnet, 4)); ok {
		t.Error("a cancelled start left a process")
	}
}

func TestSeedRestartsWhileRingIsUp(t *testing.T) {
	w := newWorld(t, testOptions())
	const subnet = 6
	a, b, c := threeNodes(t, w, subnet)
	id := a.HostID()
	a.Kill()
	// The only seed comes back on a new IP; the others find it again.
	newIP := ip(subnet, 11)
	a2 := w.start(w.cfg("pvc-a", "orders-dc1-r1-0", newIP, "dc1", "r1", "orders-dc1-r1-0"))
	if a2.HostID() != id {
		t.Fatalf("seed host ID changed: %s -> %s", id, a2.HostID())
	}
	for _, n := range []*Node{a2, b, c} {
		healthIs(t, "ring whole again from "+n.cfg.IP, agentOf(n), healthy(newIP, b.cfg.IP, c.cfg.IP))
	}
}
