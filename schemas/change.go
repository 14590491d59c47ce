package schemas

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// ValidateChange checks that going from prev to next (both defaulted and
// valid on their own) is something Cassandra can do safely, and returns
// what it cannot, pointing at lines of next. Each message says why and
// what to do instead. A nil prev (a new cluster) is always fine.
//
// Refused: changing metadata.name, spec.cassandraClusterName or the
// namespace; renaming, reordering or moving (to another context) a
// datacenter; putting another datacenter first while the seed datacenter
// remains; removing a datacenter that still has nodes in prev; renaming,
// reordering or removing racks; shrinking storage or changing its class;
// changing num_tokens; an image going back to an older Cassandra release
// series or skipping a major version (3.11 to 5.0).
func ValidateChange(prev, next *CassandraCluster) ErrorList {
	if prev == nil || next == nil {
		return nil
	}
	ch := &changeValidator{prev: prev, next: next}
	ch.identity()
	ch.storage()
	ch.tokens()
	ch.releasePath()
	ch.datacenters()
	ch.cqlAuth()
	return ch.errs.sorted()
}

// changeValidator collects the errors of one change.
type changeValidator struct {
	prev, next *CassandraCluster
	errs       ErrorList
}

func (ch *changeValidator) add(field, format string, args ...any) {
	ch.errs = append(ch.errs, ch.next.errorAt(field, format, args...))
}

func (ch *changeValidator) identity() {
	pm, nm := ch.prev.Metadata, ch.next.Metadata
	if pm.Name != nm.Name {
		ch.add("metadata.name", "changed from %q to %q; the name prefixes every object of the cluster, so a new name would start a second, empty cluster: keep %q", pm.Name, nm.Name, pm.Name)
	}
	pc, nc := ch.prev.Spec.CassandraClusterName, ch.next.Spec.CassandraClusterName
	followsName := pc == pm.Name && nc == nm.Name
	if pc != nc && !(pm.Name != nm.Name && followsName) {
		ch.add("spec.cassandraClusterName", "changed from %q to %q; Cassandra refuses to start a node whose cluster_name differs from the one it stored: keep %q", pc, nc, pc)
	}
	if pm.Namespace != nm.Namespace {
		ch.add("metadata.namespace", "changed from %q to %q; the cluster's StatefulSets and volumes live in %q and a new namespace would start a second, empty cluster: keep %q", pm.Namespace, nm.Namespace, pm.Namespace, pm.Namespace)
	}
}

func (ch *changeValidator) storage() {
	ps, ns := ch.prev.Spec.Storage, ch.next.Spec.Storage
	pq, perr := resource.ParseQuantity(ps.Size)
	nq, nerr := resource.ParseQuantity(ns.Size)
	if perr == nil && nerr == nil && nq.Cmp(pq) < 0 {
		ch.add("spec.storage.size", "shrinks from %s to %s; volumes can grow but never shrink: keep %s or more", ps.Size, ns.Size, ps.Size)
	}
	if ps.StorageClassName != ns.StorageClassName {
		change := fmt.Sprintf("changed from %q to %q", ps.StorageClassName, ns.StorageClassName)
		if ns.StorageClassName == "" {
			change = fmt.Sprintf("removed (was %q)", ps.StorageClassName)
		}
		ch.add("spec.storage.storageClassName", "%s; existing volumes keep their StorageClass and a StatefulSet's volume claims cannot change: keep %q (to move to another class, add a datacenter using it, move replication, then empty and remove the old one)",
			change, ps.StorageClassName)
	}
}

// tokens refuses a change of num_tokens from one written value to another:
// a node keeps the tokens it bootstrapped with, and Cassandra refuses to
// start one whose num_tokens no longer matches them. Writing down a value
// that was left to the image's default, or removing one, cannot be judged
// here (the default depends on the image) and is allowed.
func (ch *changeValidator) tokens() {
	pt, nt := numTokens(ch.prev), numTokens(ch.next)
	if pt == nil || nt == nil || fmt.Sprint(pt) == fmt.Sprint(nt) {
		return
	}
	ch.add("spec.config.cassandra-yaml.num_tokens", "changed from %v to %v; a node keeps the tokens it bootstrapped with and Cassandra refuses to start it with another num_tokens: keep %v (to change it, add a datacenter with the new value, move replication, then empty and remove the old one)",
		pt, nt, pt)
}

// numTokens is config.cassandra-yaml.num_tokens, nil when unset.
func numTokens(c *CassandraCluster) any {
	if c.Spec.Config == nil {
		return nil
	}
	return c.Spec.Config.CassandraYAML["num_tokens"]
}

// dcIndex maps datacenter names to their position.
func dcIndex(dcs []Datacenter) map[string]int {
	m := make(map[string]int, len(dcs))
	for i, dc := range dcs {
		if _, dup := m[dc.Name]; !dup {
			m[dc.Name] = i
		}
	}
	return m
}

func (ch *changeValidator) datacenters() {
	prev, next := ch.prev.Spec.Datacenters, ch.next.Spec.Datacenters
	prevIdx, nextIdx := dcIndex(prev), dcIndex(next)
	renamed := ch.removedDatacenters(prevIdx, nextIdx)
	for j := range next {
		if i, ok := prevIdx[next[j].Name]; ok && nextIdx[next[j].Name] == j {
			ch.datacenter(j, &prev[i], &next[j])
		}
	}
	ch.order(prevIdx)
	if len(prev) == 0 || len(next) == 0 || renamed[next[0].Name] {
		return
	}
	seed := prev[0].Name
	if _, kept := nextIdx[seed]; !kept || next[0].Name == seed {
		return
	}
	if _, existed := prevIdx[next[0].Name]; existed {
		ch.add("spec.datacenters[0].name", "%s is now first, but the first datacenter is the seed datacenter and may only change once the seed datacenter %s is removed: put %s back first", next[0].Name, seed, seed)
	} else {
		ch.add("spec.datacenters[0].name", "new datacenter %s is placed before the seed datacenter %s; the first datacenter is the seed datacenter and may only change once %s is removed: add %s after it", next[0].Name, seed, seed, next[0].Name)
	}
}

// removedDatacenters reports datacenters of prev missing from next: a
// rename when a new datacenter took the same position, else a removal,
// refused unless the datacenter had 0 nodes. It returns the new names that
// were reported as renames.
func (ch *changeValidator) removedDatacenters(prevIdx, nextIdx map[string]int) map[string]bool {
	prev, next := ch.prev.Spec.Datacenters, ch.next.Spec.Datacenters
	renamed := map[string]bool{}
	for i := range prev {
		od := &prev[i]
		nodes := od.DatacenterNodes()
		if _, kept := nextIdx[od.Name]; kept || nodes == 0 {
			continue
		}
		if i < len(next) {
			if _, existed := prevIdx[next[i].Name]; !existed {
				renamed[next[i].Name] = true
				ch.add(fmt.Sprintf("spec.datacenters[%d].name", i), "looks like datacenter %s was renamed to %s; Cassandra cannot rename a datacenter: add %s, move replication, scale %s to 0 (nodesPerRack: 0), then remove it",
					od.Name, next[i].Name, next[i].Name, od.Name)
				continue
			}
		}
		ch.removedWithNodes(od, nodes)
	}
	return renamed
}

// removedWithNodes refuses the removal of a datacenter that still has
// nodes in prev, with the order to follow; with spec.keyspaces, naming the
// keyspaces that still replicate to it.
func (ch *changeValidator) removedWithNodes(od *Datacenter, nodes int32) {
	if len(ch.prev.Spec.Keyspaces) == 0 {
		ch.add("spec.datacenters", "datacenter %s was removed while it still has %s; scale it to 0 first (nodesPerRack: 0; ALTER KEYSPACE its replication away before), let that roll out, then remove it", od.Name, plural(nodes, "node"))
		return
	}
	var replicated []string
	for _, k := range ch.prev.ManagedKeyspaces() {
		if !k.Default && k.Replication[od.Name] > 0 {
			replicated = append(replicated, k.Name)
		}
	}
	if len(replicated) == 0 {
		ch.add("spec.datacenters", "datacenter %s was removed while it still has %s; scale it to 0 first (nodesPerRack: 0), let that roll out, then remove it", od.Name, plural(nodes, "node"))
		return
	}
	ch.add("spec.datacenters", "datacenter %s was removed while it still has %s and %s %s to it; in this order: take %s out of the replication in spec.keyspaces and scale it to 0 (nodesPerRack: 0), one push (ringops alters the keyspaces before it decommissions a node), let that roll out, then remove it",
		od.Name, plural(nodes, "node"), keyspaceList(replicated), verb(len(replicated), "replicates", "replicate"), od.Name)
}

// order reports datacenters of prev that changed their relative order.
func (ch *changeValidator) order(prevIdx map[string]int) {
	last, lastName := -1, ""
	for j, dc := range ch.next.Spec.Datacenters {
		i, existed := prevIdx[dc.Name]
		if !existed {
			continue
		}
		if i < last {
			ch.add(fmt.Sprintf("spec.datacenters[%d].name", j), "datacenter %s moved after %s; existing datacenters keep their order (they bootstrap and roll out in list order, the first is the seed datacenter): put %s back before %s",
				dc.Name, lastName, dc.Name, lastName)
			continue
		}
		last, lastName = i, dc.Name
	}
}

// datacenter checks a datacenter present in both specs; j is its position
// in next.
func (ch *changeValidator) datacenter(j int, od, nd *Datacenter) {
	p := fmt.Sprintf("spec.datacenters[%d]", j)
	if od.Context != nd.Context {
		ch.add(p+".context", "datacenter %s moved from context %s to %s; a datacenter cannot move between regions: keep %s (to move, add a new datacenter in %s, move replication, then scale %s to 0 and remove it)",
			nd.Name, od.Context, nd.Context, od.Context, nd.Context, nd.Name)
	}
	if ch.removedRacks(p, od, nd) {
		return
	}
	ch.rackOrder(p, od, nd)
}

// removedRacks reports racks of od missing from nd, as renames when a new
// rack took the same position; it returns whether it reported any.
func (ch *changeValidator) removedRacks(p string, od, nd *Datacenter) bool {
	prevIdx, nextIdx := rackIndex(od.Racks), rackIndex(nd.Racks)
	reported := false
	for k, r := range od.Racks {
		if _, kept := nextIdx[r.Name]; kept {
			continue
		}
		reported = true
		if k < len(nd.Racks) {
			if _, existed := prevIdx[nd.Racks[k].Name]; !existed {
				ch.add(fmt.Sprintf("%s.racks[%d].name", p, k), "looks like rack %s of datacenter %s was renamed to %s; Cassandra cannot rename a rack: keep %s and add new racks at the end of the list",
					r.Name, nd.Name, nd.Racks[k].Name, r.Name)
				continue
			}
		}
		ch.add(p+".racks", "rack %s of datacenter %s was removed; racks can only be added at the end of the list, never removed: put it back (nodes: 0 empties it)", r.Name, nd.Name)
	}
	return reported
}

// rackOrder reports the first rack out of place when all racks of od are
// kept: they must stay first, in their order.
func (ch *changeValidator) rackOrder(p string, od, nd *Datacenter) {
	prevIdx := rackIndex(od.Racks)
	for k := range od.Racks {
		if k >= len(nd.Racks) || nd.Racks[k].Name == od.Racks[k].Name {
			continue
		}
		field := fmt.Sprintf("%s.racks[%d].name", p, k)
		if _, existed := prevIdx[nd.Racks[k].Name]; existed {
			ch.add(field, "racks of datacenter %s were reordered; their order cannot change: keep %s and add new racks at the end", nd.Name, rackNames(od.Racks))
		} else {
			ch.add(field, "new rack %s is placed before existing rack %s of datacenter %s; add new racks at the end of the list", nd.Racks[k].Name, od.Racks[k].Name, nd.Name)
		}
		return
	}
}

func rackIndex(racks []Rack) map[string]int {
	m := make(map[string]int, len(racks))
	for i, r := range racks {
		if _, dup := m[r.Name]; !dup {
			m[r.Name] = i
		}
	}
	return m
}

func rackNames(racks []Rack) string {
	names := make([]string, len(racks))
	for i, r := range racks {
		names[i] = r.Name
	}
	return strings.Join(names, ", ")
}
