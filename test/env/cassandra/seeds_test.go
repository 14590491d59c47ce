package cassandra

import (
	"maps"
	"slices"
	"testing"
)

func TestCleanSeedsSplitsTheEnvValue(t *testing.T) {
	got := cleanSeeds([]string{" a.orders , b.orders,", "", "c.orders"})
	if want := []string{"a.orders", "b.orders", "c.orders"}; !slices.Equal(got, want) {
		t.Errorf("cleanSeeds: %v, want %v", got, want)
	}
}

func TestResolveSeedsTakesNamesAndLiteralIPs(t *testing.T) {
	d := &dns{}
	d.set("a.orders", "127.77.50.1")
	s := New(testOptions(), d.resolve)
	t.Cleanup(s.Close)
	got := s.resolveSeeds("", []string{"a.orders", "127.77.50.9", "unknown.orders", "a.orders"})
	if want := []string{"127.77.50.1", "127.77.50.9"}; !slices.Equal(got, want) {
		t.Errorf("resolveSeeds: %v, want %v", got, want)
	}
}

// TestJoinedAsRecordsSeedStarts: a node in its own seed list joins as a
// seed (no bootstrap), the others by bootstrap; a restart changes neither.
func TestJoinedAsRecordsSeedStarts(t *testing.T) {
	w := newWorld(t, testOptions())
	const subnet = 41
	a := w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(subnet, 1), "dc1", "r1", "orders-dc1-r1-0"))
	b := w.start(w.cfg("pvc-b", "orders-dc1-r2-0", ip(subnet, 2), "dc1", "r2", "orders-dc1-r1-0"))
	healthIs(t, "b joined", agentOf(a), healthy(a.cfg.IP, b.cfg.IP))
	// c is a seed of itself too: it joins NORMAL at once, with no data.
	c := w.start(w.cfg("pvc-c", "orders-dc1-r3-0", ip(subnet, 3), "dc1", "r3", "orders-dc1-r1-0", "orders-dc1-r3-0"))
	if c.Mode() != "NORMAL" {
		t.Fatalf("a node in its own seed list: mode %s after start, want NORMAL", c.Mode())
	}
	b.Kill()
	w.start(w.cfg("pvc-b", "orders-dc1-r2-0", ip(subnet, 2), "dc1", "r2", "orders-dc1-r1-0", "orders-dc1-r2-0"))
	want := map[string]string{"orders-dc1-r1-0": JoinedAsSeed, "orders-dc1-r2-0": JoinedByBootstrap, "orders-dc1-r3-0": JoinedAsSeed}
	got := map[string]string{}
	for _, st := range w.sim.Ring("orders") {
		got[st.Pod] = st.JoinedAs
	}
	if !maps.Equal(got, want) {
		t.Errorf("JoinedAs: %v, want %v", got, want)
	}
}
