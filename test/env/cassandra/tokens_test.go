package cassandra

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestTokenAllocationRefusesSecondNodeOfTwoRacks: in a datacenter of two
// racks, a new node joining a rack that has a node fails to start with
// Cassandra's message (allocation factor 3, the 4.0+ image default); a
// third rack makes the same join fine, and 3.11 has no such default.
func TestTokenAllocationRefusesSecondNodeOfTwoRacks(t *testing.T) {
	w := newWorld(t, testOptions())
	const subnet = 77
	w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(subnet, 1), "dc1", "r1", "orders-dc1-r1-0"))
	w.start(w.cfg("pvc-b", "orders-dc1-r2-0", ip(subnet, 2), "dc1", "r2", "orders-dc1-r1-0"))
	healthIs(t, "two racks", agentAt(ip(subnet, 1)), healthy(ip(subnet, 1), ip(subnet, 2)))

	_, err := w.sim.Start(context.Background(), w.cfg("pvc-c", "orders-dc1-r1-1", ip(subnet, 3), "dc1", "r1", "orders-dc1-r1-0"))
	if !errors.Is(err, ErrTokenAllocation) {
		t.Fatalf("second node of r1: got %v, want ErrTokenAllocation", err)
	}
	const msg = "Token allocation failed: the number of racks 2 in datacenter dc1 is lower than its replication factor 3."
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not carry Cassandra's message %q", err, msg)
	}

	// With the factor at 2 (the racks' number), the same join is fine.
	cfg := w.cfg("pvc-d", "orders-dc1-r1-1", ip(subnet, 4), "dc1", "r1", "orders-dc1-r1-0")
	cfg.TokenAllocationRF = 2
	w.start(cfg)
	healthIs(t, "factor 2", agentAt(ip(subnet, 1)), healthy(ip(subnet, 1), ip(subnet, 2), ip(subnet, 4)))

	// A third rack, then a second node in r2: three racks, fine.
	w.start(w.cfg("pvc-e", "orders-dc1-r3-0", ip(subnet, 5), "dc1", "r3", "orders-dc1-r1-0"))
	healthIs(t, "three racks", agentAt(ip(subnet, 1)), healthy(ip(subnet, 1), ip(subnet, 2), ip(subnet, 4), ip(subnet, 5)))
	w.start(w.cfg("pvc-f", "orders-dc1-r2-1", ip(subnet, 6), "dc1", "r2", "orders-dc1-r1-0"))
	healthIs(t, "second node of r2", agentAt(ip(subnet, 1)), healthy(ip(subnet, 1), ip(subnet, 2), ip(subnet, 4), ip(subnet, 5), ip(subnet, 6)))
}

func TestTokenAllocation311HasNoDefaultFactor(t *testing.T) {
	opts := testOptions()
	opts.ReleaseVersion = "3.11.17"
	w := newWorld(t, opts)
	const subnet = 78
	w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(subnet, 1), "dc1", "r1", "orders-dc1-r1-0"))
	w.start(w.cfg("pvc-b", "orders-dc1-r2-0", ip(subnet, 2), "dc1", "r2", "orders-dc1-r1-0"))
	healthIs(t, "two racks", agentAt(ip(subnet, 1)), healthy(ip(subnet, 1), ip(subnet, 2)))
	w.start(w.cfg("pvc-c", "orders-dc1-r1-1", ip(subnet, 3), "dc1", "r1", "orders-dc1-r1-0"))
	healthIs(t, "second node of r1", agentAt(ip(subnet, 1)), healthy(ip(subnet, 1), ip(subnet, 2), ip(subnet, 3)))
}
