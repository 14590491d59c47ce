package cassandra

import (
	"fmt"
	"testing"
)

// benchRing starts n nodes that are all seeds (no bootstrap wait) on
// ephemeral Jolokia ports and waits until the first sees them all.
func benchRing(b *testing.B, subnet, size int) (*world, []*Node) {
	b.Helper()
	w := &world{dns: &dns{}} // no *testing.T: only cfg is used here
	w.sim = New(testOptions(), w.dns.resolve)
	b.Cleanup(w.sim.Close)
	var nodes []*Node
	for i := 1; i <= size; i++ {
		cfg := w.cfg(fmt.Sprintf("pvc-%d", i), fmt.Sprintf("orders-dc1-r1-%d", i), ip(subnet, i), "dc1", "r1", "orders-dc1-r1-1")
		cfg.Seeds = append(cfg.Seeds, fmt.Sprintf("orders-dc1-r1-%d.orders.cassandra.svc.cluster.local", i))
		cfg.JolokiaPort = 0
		n, err := w.sim.Start(b.Context(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	all := make([]string, size)
	for i, n := range nodes {
		all[i] = n.cfg.IP
	}
	for {
		h, err := agentOf(nodes[0]).health()
		if err == nil && healthy(all...)(h) == nil {
			return w, nodes
		}
	}
}

// BenchmarkGossipRound measures one gossip round of a converged ring (the
// Sim runs one every GossipInterval).
func BenchmarkGossipRound(b *testing.B) {
	for i, size := range []int{6, 24} {
		b.Run(fmt.Sprintf("nodes=%d", size), func(b *testing.B) {
			w, _ := benchRing(b, 40+i, size)
			for b.Loop() {
				w.sim.mu.Lock()
				w.sim.gossipRound()
				w.sim.mu.Unlock()
			}
		})
	}
}

// BenchmarkHealthRead measures the bulk read a health checker sends to one
// node (9 attributes over loopback HTTP).
func BenchmarkHealthRead(b *testing.B) {
	_, nodes := benchRing(b, 45, 6)
	a := agentOf(nodes[0])
	for b.Loop() {
		if _, err := a.health(); err != nil {
			b.Fatal(err)
		}
	}
}
