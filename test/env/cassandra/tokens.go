package cassandra

import "fmt"

// defaultTokenAllocationRF is allocate_tokens_for_local_replication_factor
// in the cassandra.yaml of the official image from Cassandra 4.0 on; 3.x
// has no such default (its allocation needs allocate_tokens_for_keyspace).
const defaultTokenAllocationRF = 3

// tokenAllocationRF is the factor a new node of this version allocates its
// tokens for: NodeConfig.TokenAllocationRF, else the image's default.
func (n *Node) tokenAllocationRF() int {
	switch {
	case n.cfg.TokenAllocationRF != 0:
		return n.cfg.TokenAllocationRF
	case n.version.legacy():
		return 0
	}
	return defaultTokenAllocationRF
}

// checkTokenAllocation refuses what TokenAllocation.createStrategy refuses
// (5.0.1 TokenAllocation.java:242-273) when a node takes tokens for the
// first time: the racks counted are those of the node's datacenter that
// hold a ring member (the shadow round's view), or 1 when the node's own
// rack holds none; more than one but fewer than the factor fails the start
// with Cassandra's ConfigurationException. So in a datacenter of two racks
// (factor 3), the second node of either rack never starts. A node that
// joined before keeps its saved tokens; a replacement takes the dead
// node's (mu held).
func (n *Node) checkTokenAllocation(shadow *view) error {
	rf := n.tokenAllocationRF()
	if n.disk.joined || rf <= 1 {
		return nil
	}
	racks, mine := map[string]bool{}, false
	for _, e := range shadow.members() {
		if e.hostID == n.hostID || e.dc != n.cfg.DC {
			continue
		}
		racks[e.rack] = true
		mine = mine || e.rack == n.cfg.Rack
	}
	count := 1
	if mine {
		count = len(racks)
	}
	if count > 1 && count < rf {
		//lint:ignore ST1005 Cassandra's own message, word for word (TokenAllocation.java)
		return fmt.Errorf("%s: %w: Token allocation failed: the number of racks %d in datacenter %s is lower than its replication factor %d.",
			n.cfg.name(), ErrTokenAllocation, count, n.cfg.DC, rf)
	}
	return nil
}
