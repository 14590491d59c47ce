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
// (a joining node's, and a replacement's at another address, are pending,
// not yet owned).
func (s status) ownsTokens() bool {
	return s == statusNormal || s == statusLeaving || s == statusRemoving || s == statusHibernate
}

// ring is the token metadata in the node's view, sorted; withSelf adds the
// node's own tokens whatever its status (a bootstrap's ring once joined)
// (mu held).
func (n *Node) ring(withSelf bool) []ringToken {
	return n.ringOf(func(e *endpoint) bool { return e.status.ownsTokens() || (withSelf && e.hostID == n.hostID) })
}

// ringAfter is the token metadata once the range movements under way are
// done: the joining nodes own their tokens, a replacement the tokens of
// the node it replaces, the leaving and removed nodes none (mu held).
func (n *Node) ringAfter() []ringToken {
	return n.ringOf(func(e *endpoint) bool {
		return e.status == statusNormal || e.status == statusBoot || e.status == statusBootReplace || e.status == statusHibernate
	})
}

// ringOf is the sorted tokens of the members of the view that in says;
// of a token twice (a replacement and the node it replaces), the owner
// that is not NORMAL (mu held).
func (n *Node) ringOf(in func(*endpoint) bool) []ringToken {
	var out []ringToken
	for _, e := range n.view.members() {
		if !in(e) {
			continue
		}
		for _, t := range e.tokens {
			out = append(out, ringToken{token: tokenValue(t), text: t, owner: e})
		}
	}
	slices.SortFunc(out, func(a, b ringToken) int {
		return cmp.Or(cmp.Compare(a.token, b.token), cmpBool(a.owner.status == statusNormal, b.owner.status == statusNormal), strings.Compare(a.owner.addr, b.owner.addr))
	})
	return slices.CompactFunc(out, func(a, b ringToken) bool { return a.token == b.token })
}

// replicates reports whether the node replicates the range of ring that
// holds token t in keyspace ks.
func (n *Node) replicates(ks keyspace, ring []ringToken, t int64) bool {
	if len(ring) == 0 {
		return false
	}
	i, _ := slices.BinarySearchFunc(ring, t, func(r ringToken, t int64) int { return cmp.Compare(r.token, t) })
	return slices.ContainsFunc(replicasFrom(ks, ring, i%len(ring)), func(e *endpoint) bool { return e.hostID == n.hostID })
}

// hasPendingRanges is TokenMetadata.getPendingRanges(ks, self) not empty:
// once the movements under way are done, the node replicates some range
// of ks that it does not now (a node that joins; the neighbours of one
// that leaves; never those of one that joins, which only lose ranges)
// (mu held).
func (n *Node) hasPendingRanges(ks keyspace) bool {
	now, after := n.ring(false), n.ringAfter()
	for _, r := range [][]ringToken{now, after} {
		for _, t := range r { // each token ends an interval whose replicas are the same in both rings
			if n.replicates(ks, after, t.token) && !n.replicates(ks, now, t.token) {
				return true
			}
		}
	}
	return false
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
