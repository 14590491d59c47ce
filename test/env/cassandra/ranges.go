package cassandra

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Token ranges and replica placement, as far as streaming needs them: which
// ranges of a keyspace a node replicates, and which other nodes hold them
// (a rebuild's sources), in the node's own view of the ring.

// tokenRange is a Range<Token>, (left, right]; its String is Cassandra's
// (5.0.1 Range.java:477).
type tokenRange struct{ left, right string }

func (r tokenRange) String() string { return "(" + r.left + "," + r.right + "]" }

// ringToken is one token of the token metadata and its owner.
type ringToken struct {
	token int64
	text  string
	owner *endpoint
}

// ownsTokens: the status of a node whose tokens are in the token metadata
// (a joining node's are pending, not yet owned).
func (s status) ownsTokens() bool {
	return s == statusNormal || s == statusLeaving || s == statusRemoving
}

// ring is the token metadata in the node's view, sorted; withSelf adds the
// node's own tokens whatever its status (a bootstrap's ring once joined)
// (mu held).
func (n *Node) ring(withSelf bool) []ringToken {
	var out []ringToken
	for _, e := range n.view.members() {
		if !e.status.ownsTokens() && !(withSelf && e.hostID == n.hostID) {
			continue
		}
		for _, t := range e.tokens {
			out = append(out, ringToken{token: tokenValue(t), text: t, owner: e})
		}
	}
	slices.SortFunc(out, func(a, b ringToken) int {
		return cmp.Or(cmp.Compare(a.token, b.token), strings.Compare(a.owner.addr, b.owner.addr))
	})
	// A token twice (a replacement and the node it replaces): the first.
	return slices.CompactFunc(out, func(a, b ringToken) bool { return a.token == b.token })
}

// tokenValue is a Murmur3 token's value.
func tokenValue(t string) int64 {
	v, _ := strconv.ParseInt(t, 10, 64)
	return v
}

// rangeReplicas is one range of the ring and the nodes that replicate it.
type rangeReplicas struct {
	rng      tokenRange
	replicas []*endpoint
}

// placement lists every range of ring, in ring order, with the replicas
// of keyspace ks: SimpleStrategy takes the first factor distinct owners
// clockwise from the range's end; NetworkTopologyStrategy does so per
// datacenter, each rack first once, a rack again only when the factor
// exceeds the datacenter's racks (5.0.1
// NetworkTopologyStrategy.calculateNaturalReplicas).
func placement(ks keyspace, ring []ringToken) []rangeReplicas {
	out := make([]rangeReplicas, len(ring))
	for i := range ring {
		prev := ring[(i+len(ring)-1)%len(ring)]
		out[i] = rangeReplicas{rng: tokenRange{prev.text, ring[i].text}, replicas: replicasFrom(ks, ring, i)}
	}
	return out
}

// replicasFrom walks ring clockwise from index i, collecting replicas.
func replicasFrom(ks keyspace, ring []ringToken, i int) []*endpoint {
	dcs := map[string]*dcReplicas{}
	for _, t := range ring {
		d := dcs[t.owner.dc]
		if d == nil {
			d = &dcReplicas{racks: map[string]bool{}, nodes: map[string]bool{}, seen: map[string]bool{}}
			dcs[t.owner.dc] = d
		}
		d.racks[t.owner.rack], d.nodes[t.owner.hostID] = true, true
	}
	for dc, d := range dcs {
		rf := ks.replication[dc]
		if ks.replication == nil {
			rf = ks.simpleRF
		}
		d.left = min(rf, len(d.nodes))
		d.repeats = rf - len(d.racks)
	}
	var out []*endpoint
	taken := map[string]bool{}
	for j := range ring {
		e := ring[(i+j)%len(ring)].owner
		if taken[e.hostID] {
			continue
		}
		if ks.replication == nil { // SimpleStrategy: datacenters do not matter
			if len(out) < ks.simpleRF {
				out, taken[e.hostID] = append(out, e), true
			}
			continue
		}
		if dcs[e.dc].accept(e) {
			out, taken[e.hostID] = append(out, e), true
		}
	}
	return out
}

// dcReplicas tracks NetworkTopologyStrategy's choice in one datacenter.
type dcReplicas struct {
	racks, nodes, seen map[string]bool // seen: racks holding a replica
	left, repeats      int
}

func (d *dcReplicas) accept(e *endpoint) bool {
	switch {
	case d.left <= 0:
		return false
	case !d.seen[e.rack]:
		d.seen[e.rack] = true
	case d.repeats <= 0:
		return false
	default:
		d.repeats--
	}
	d.left--
	return true
}
