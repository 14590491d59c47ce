package cassandra

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The ranges a node streamed in (system.available_ranges_v2, kept with
// its data): a rebuild or a bootstrap records the ranges of its stream
// plan once it completed (5.0.1 StreamStateStore.java:70-88), and a later
// rebuild does not stream them again (3.11.17 RangeStreamer.java:380-385,
// 4.1.7 :668-700). 5.0 refuses such a rebuild instead (CASSANDRA-17679,
// 5.0.1 RangeStreamer.java:696-750) unless the JVM sets
// cassandra.reset_bootstrap_progress: false skips the available ranges as
// the earlier releases do, true forgets them and streams everything again.

// resetBootstrapProgress is the system property of CASSANDRA-17679 (5.0.1
// CassandraRelevantProperties.java:422); render gives every pod
// -Dcassandra.reset_bootstrap_progress=false.
const resetBootstrapProgress = "cassandra.reset_bootstrap_progress"

// streamWork is what a stream plan requests: ranges by keyspace.
type streamWork map[string][]tokenRange

// addAvailable records the ranges of a completed stream plan (mu held).
func (d *disk) addAvailable(w streamWork) {
	if d.available == nil {
		d.available = map[string]map[tokenRange]bool{}
	}
	for ks, rs := range w {
		if d.available[ks] == nil {
			d.available[ks] = map[tokenRange]bool{}
		}
		for _, r := range rs {
			d.available[ks][r] = true
		}
	}
}

// localRanges are the ranges of keyspace ks the node replicates in its
// view (mu held).
func (n *Node) localRanges(ks keyspace, withSelf bool) []rangeReplicas {
	var out []rangeReplicas
	for _, rr := range placement(ks, n.ring(withSelf)) {
		if slices.ContainsFunc(rr.replicas, func(e *endpoint) bool { return e.hostID == n.hostID }) {
			out = append(out, rr)
		}
	}
	return out
}

// recordBootstrap records what a completed bootstrap streamed: the ranges
// the node now replicates that another node holds too (mu held). Cassandra
// streams each range from a replica of the ring before the node joined;
// the simulator approximates them with the replicas after.
func (n *Node) recordBootstrap() {
	w := streamWork{}
	for _, ks := range n.replicatedKeyspaces() {
		for _, rr := range n.localRanges(ks, true) {
			if len(rr.replicas) > 1 {
				w[ks.name] = append(w[ks.name], rr.rng)
			}
		}
	}
	n.disk.addAvailable(w)
}

// fetch is a range a rebuild streams in and its source (a FetchReplica).
type fetch struct {
	rng tokenRange
	src *endpoint
}

// rebuildFetches are, by keyspace, the ranges the node replicates and the
// source a rebuild from srcDC ("" for any) takes each from: the nearest
// live other replica (same datacenter, then same rack, then by address).
// A range without one is skipped (Cassandra warns for a factor of 1 and
// otherwise fails the rebuild; the latter is not simulated) (mu held).
func (n *Node) rebuildFetches(srcDC string) map[string][]fetch {
	out := map[string][]fetch{}
	for _, ks := range n.replicatedKeyspaces() {
		for _, rr := range n.localRanges(ks, false) {
			var srcs []*endpoint
			for _, e := range rr.replicas {
				if e.hostID != n.hostID && n.view.fd[e.hostID] == liveUp && (srcDC == "" || e.dc == srcDC) {
					srcs = append(srcs, e)
				}
			}
			if len(srcs) == 0 {
				continue
			}
			slices.SortFunc(srcs, func(a, b *endpoint) int {
				return cmp.Or(cmpBool(a.dc != n.cfg.DC, b.dc != n.cfg.DC), cmpBool(a.rack != n.cfg.Rack, b.rack != n.cfg.Rack), strings.Compare(a.addr, b.addr))
			})
			out[ks.name] = append(out[ks.name], fetch{rr.rng, srcs[0]})
		}
	}
	return out
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// rebuildWork is what a rebuild from srcDC streams: per keyspace and
// source, the ranges not available yet. On 5.0 without
// cassandra.reset_bootstrap_progress, a source of which fewer ranges are
// missing than the keyspace has available refuses the whole rebuild with
// Cassandra's IllegalStateException (5.0.1 RangeStreamer.java:733-744);
// with it true, the keyspace's available ranges are forgotten first.
// Keyspaces go in name order, sources in address order, ranges in ring
// order (Cassandra's are hash orders) (mu held).
func (n *Node) rebuildWork(srcDC string) (streamWork, error) {
	value, set := n.cfg.systemProperty(resetBootstrapProgress)
	fetches := n.rebuildFetches(srcDC)
	w := streamWork{}
	for _, ks := range slices.Sorted(maps.Keys(fetches)) {
		if n.version.fiveOh() && strings.EqualFold(value, "true") {
			delete(n.disk.available, ks) // SystemKeyspace.resetAvailableStreamedRangesForKeyspace
		}
		available := n.disk.available[ks]
		bySrc := map[string][]fetch{}
		for _, f := range fetches[ks] {
			bySrc[f.src.addr] = append(bySrc[f.src.addr], f)
		}
		for _, src := range slices.Sorted(maps.Keys(bySrc)) {
			var remaining, skipped []fetch
			for _, f := range bySrc[src] {
				if available[f.rng] {
					skipped = append(skipped, f)
				} else {
					remaining = append(remaining, f)
				}
			}
			if n.version.fiveOh() && !set && len(remaining) < len(available) {
				return nil, n.existingBootstrapData(skipped, available)
			}
			for _, f := range remaining {
				w[ks] = append(w[ks], f.rng)
			}
		}
	}
	return w, nil
}

// existingBootstrapData is 5.0's refusal, word for word (5.0.1
// RangeStreamer.java:737-742): the fetches found available, then the
// keyspace's available ranges (token order; none transient).
func (n *Node) existingBootstrapData(skipped []fetch, available map[tokenRange]bool) error {
	found := make([]string, len(skipped))
	for i, f := range skipped {
		found[i] = fmt.Sprintf("FetchReplica{local=Full(%s,%s), remote=Full(%s,%s)}", n.endpointString(n.cfg.IP), f.rng, n.endpointString(f.src.addr), f.rng)
	}
	full := slices.SortedFunc(maps.Keys(available), func(a, b tokenRange) int {
		return cmp.Or(cmp.Compare(tokenValue(a.right), tokenValue(b.right)), cmp.Compare(tokenValue(a.left), tokenValue(b.left)))
	})
	fulls := make([]string, len(full))
	for i, r := range full {
		fulls[i] = r.String()
	}
	return jmxErr(javaIllegalState, "Discovered existing bootstrap data and %s is not configured; aborting bootstrap. "+
		"Please clean up local files manually and try again or set %s=true to ignore. Found: [%s]. Fully available: [%s]. Transiently available: []",
		resetBootstrapProgress, resetBootstrapProgress, strings.Join(found, ", "), strings.Join(fulls, ", "))
}
