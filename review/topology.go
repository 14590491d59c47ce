package review

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ringops/ringops/schemas"
)

// operations lists what the change does, as documented on
// Cluster.Operations: the topology datacenter by datacenter (seed
// first), the rolling restart, then what is applied at once, then the
// gates of the disruptive steps.
func (ch *change) operations() []Operation {
	var ops []Operation
	if ch.base == nil {
		ops = append(ops, ch.newCluster())
	}
	ops = append(ops, ch.topologyOps()...)
	ops = append(ops, ch.removalOps()...) // replace (#16)
	ops = append(ops, ch.restartOps()...)
	ops = append(ops, ch.seedOps(ops)...)
	ops = append(ops, ch.recreateOps()...)
	ops = append(ops, ch.storageOps()...)
	ops = append(ops, ch.applyOps()...)
	return append(ops, ch.gateOps(ops)...)
}

func (ch *change) newCluster() Operation {
	s := ch.head.spec
	var nodes int32
	for i := range s.Spec.Datacenters {
		nodes += s.Spec.Datacenters[i].DatacenterNodes()
	}
	return Operation{Kind: NewCluster, Nodes: int(nodes), Text: fmt.Sprintf("new cluster %s (namespace %s): %s, %s in %s; created empty, then its nodes join one at a time, seed DC first",
		s.Metadata.Name, s.Metadata.Namespace, plural(len(s.Spec.Datacenters), "DC"), plural(int(nodes), "node"), joinAnd(s.Contexts()))}
}

// topologyOps: per datacenter of head, in order, its creation or growth
// then shrinkage; then the datacenters that left.
func (ch *change) topologyOps() []Operation {
	var ops []Operation
	for i, dc := range ch.head.spec.Spec.Datacenters {
		racks := ch.racksOf(dc.Name)
		if len(racks) > 0 && racks[0].newDC {
			ops = append(ops, ch.addDatacenter(i, racks))
			continue
		}
		if op, ok := ch.grow(racks); ok {
			ops = append(ops, op)
			if op, ok := ch.cleanupAfter(racks); ok { // replace (#16)
				ops = append(ops, op)
			}
		}
		if op, ok := ch.shrink(racks); ok {
			ops = append(ops, op)
		}
	}
	if ch.base != nil {
		for _, dc := range ch.base.spec.Spec.Datacenters {
			if findDC(ch.head.spec.Spec.Datacenters, dc.Name) == nil {
				ops = append(ops, ch.removeDatacenter(dc))
			}
		}
	}
	return ops
}

// addDatacenter: a datacenter new at head (index i in its list).
func (ch *change) addDatacenter(i int, racks []*rackChange) Operation {
	dc := ch.head.spec.Spec.Datacenters[i]
	pods := ch.growOrder(racks)
	op := Operation{Kind: AddDatacenter, Context: dc.Context, Datacenter: dc.Name, Nodes: len(pods), Pods: pods}
	where := fmt.Sprintf("+1 DC %s (%s)", dc.Name, dc.Context)
	if len(pods) == 0 {
		op.Text = where + ": created empty (0 nodes)"
		return op
	}
	var prev []string
	allExisting := true
	for _, p := range ch.head.spec.Spec.Datacenters[:i] {
		prev = append(prev, p.Name)
		if ch.base == nil || findDC(ch.base.spec.Spec.Datacenters, p.Name) == nil {
			allExisting = false
		}
	}
	order := "after " + joinAnd(prev)
	switch {
	case i == 0:
		where, order = where+", the seed DC", "first"
	case allExisting && ch.lastExisting() < i:
		order = "after the existing DCs"
	}
	if ch.base == nil || i == 0 {
		op.Text = fmt.Sprintf("%s: %s %s%s", where, plural(len(pods), "bootstrap"), order, podList(pods))
		return op
	}
	op.Text = fmt.Sprintf("%s: +%s joining without bootstrap %s%s; %s", where, plural(len(pods), "node"), order, podList(pods),
		ch.replicationGained(dc.Name, len(pods)))
	return op
}

// replicationGained is what follows the join of the nodes of datacenter
// dc, new in a running cluster (#15): the managed keyspaces gain it (each
// ALTER KEYSPACE once no node joins or leaves, then schema agreement),
// then its nodes are rebuilt, one at a time, from the source datacenter.
func (ch *change) replicationGained(dc string, nodes int) string {
	byFactor := map[int32][]string{}
	for _, k := range ch.head.spec.ManagedKeyspaces() {
		if f := k.Replication[dc]; f > 0 {
			byFactor[f] = append(byFactor[f], k.Name)
		}
	}
	var parts []string
	for _, f := range slices.Sorted(maps.Keys(byFactor)) {
		names := byFactor[f]
		verb := "gains"
		if len(names) > 1 {
			verb = "gain"
		}
		parts = append(parts, fmt.Sprintf("replication of %s %s %s: %d", joinAnd(names), verb, dc, f))
	}
	if len(parts) == 0 {
		return "no managed keyspace replicates to " + dc + ": nothing to rebuild"
	}
	return strings.Join(parts, "; ") + fmt.Sprintf("; then rebuild of %s from %s, one at a time",
		plural(nodes, "node"), ch.head.spec.RebuildSource(dc))
}

// lastExisting is the index in head of the last datacenter base has too.
func (ch *change) lastExisting() int {
	last := -1
	for i, dc := range ch.head.spec.Spec.Datacenters {
		if ch.base != nil && findDC(ch.base.spec.Spec.Datacenters, dc.Name) != nil {
			last = i
		}
	}
	return last
}

// grow: nodes joining racks of an existing datacenter.
func (ch *change) grow(racks []*rackChange) (Operation, bool) {
	var growing []*rackChange
	added := 0
	for _, r := range racks {
		if r.head > r.base {
			growing = append(growing, r)
			added += int(r.head - r.base)
		}
	}
	if len(growing) == 0 {
		return Operation{}, false
	}
	pods := ch.growOrder(racks)
	r0 := racks[0]
	text := fmt.Sprintf("%s (%s): +%s in %s: %s%s", r0.dc, r0.ctx, plural(added, "node"), rackPhrase(growing),
		plural(len(pods), "bootstrap"), podList(pods))
	return Operation{Kind: Bootstrap, Context: r0.ctx, Datacenter: r0.dc, Nodes: len(pods), Pods: pods,
		Racks: labels(growing), Text: text}, true
}

// shrink: nodes leaving racks of an existing datacenter, by decommission.
func (ch *change) shrink(racks []*rackChange) (Operation, bool) {
	var shrinking []*rackChange
	removed := 0
	for _, r := range racks {
		if r.inBase && r.head < r.base {
			shrinking = append(shrinking, r)
			removed += int(r.base - r.head)
		}
	}
	if len(shrinking) == 0 {
		return Operation{}, false
	}
	pods := ch.shrinkOrder(racks)
	r0 := racks[0]
	text := fmt.Sprintf("%s (%s): -%s in %s: %s%s, %s", r0.dc, r0.ctx, plural(removed, "node"), rackPhrase(shrinking),
		plural(len(pods), "decommission"), podList(pods), ch.pvcFate(pods))
	op := Operation{Kind: Decommission, Context: r0.ctx, Datacenter: r0.dc, Nodes: len(pods), Pods: pods,
		Racks: labels(shrinking), Text: text}
	if ch.head.spec.Spec.Storage.DeleteOnDecommission {
		op.Objects = prefixed("PersistentVolumeClaim ", pvcNames(pods))
	}
	if dc := findDC(ch.head.spec.Spec.Datacenters, r0.dc); dc.DatacenterNodes() == 0 {
		op.Text += fmt.Sprintf("; %s is then empty: remove it from the spec in a later change", r0.dc)
	}
	return op, true
}

// pvcFate says what becomes of the PVCs of decommissioned pods.
func (ch *change) pvcFate(pods []string) string {
	if !ch.head.spec.Spec.Storage.DeleteOnDecommission {
		return pluralWord(len(pods), "PVC", "PVCs") + " kept (storage.deleteOnDecommission: false)"
	}
	if len(pods) == 1 {
		return "PVC " + pvcNames(pods)[0] + " deleted after it (storage.deleteOnDecommission: true)"
	}
	return "PVCs " + joinAnd(pvcNames(pods)) + " deleted, each after its decommission (storage.deleteOnDecommission: true)"
}

// removeDatacenter: a datacenter of base gone at head; ValidateChange
// refuses it unless it had no node left.
func (ch *change) removeDatacenter(dc schemas.Datacenter) Operation {
	var sets []string
	for _, r := range ch.racksOf(dc.Name) {
		sets = append(sets, ch.base.spec.StatefulSetName(dc.Name, r.rack))
	}
	pvcs := "PVCs of its former nodes kept (storage.deleteOnDecommission: false)"
	if ch.head.spec.Spec.Storage.DeleteOnDecommission {
		pvcs = "PVCs of its decommissioned nodes deleted (storage.deleteOnDecommission: true)"
	}
	text := fmt.Sprintf("-1 DC %s (%s): it has no node left: its empty %s %s %s deleted once no pod of it is left; %s",
		dc.Name, dc.Context, pluralWord(len(sets), "StatefulSet", "StatefulSets"), joinAnd(sets), pluralVerb(len(sets)), pvcs)
	return Operation{Kind: RemoveDatacenter, Context: dc.Context, Datacenter: dc.Name,
		Objects: prefixed("StatefulSet ", sets), Text: text}
}

// growOrder is the order in which the planner bootstraps the nodes the
// racks lack: the rack with the fewest nodes, the first on a tie.
func (ch *change) growOrder(racks []*rackChange) []string {
	cur := make([]int32, len(racks))
	for i, r := range racks {
		cur[i] = r.base
	}
	var pods []string
	for {
		pick := -1
		for i, r := range racks {
			if cur[i] < r.head && (pick < 0 || cur[i] < cur[pick]) {
				pick = i
			}
		}
		if pick < 0 {
			return pods
		}
		pods = append(pods, ch.podName(racks[pick], cur[pick]))
		cur[pick]++
	}
}

// shrinkOrder is the order in which the planner decommissions: the
// highest pod of the rack with the most nodes, the last on a tie.
func (ch *change) shrinkOrder(racks []*rackChange) []string {
	cur := make([]int32, len(racks))
	for i, r := range racks {
		cur[i] = r.base
	}
	var pods []string
	for {
		pick := -1
		for i, r := range racks {
			if r.inBase && cur[i] > r.head && (pick < 0 || cur[i] >= cur[pick]) {
				pick = i
			}
		}
		if pick < 0 {
			return pods
		}
		cur[pick]--
		pods = append(pods, ch.podName(racks[pick], cur[pick]))
	}
}

func (ch *change) podName(r *rackChange, ordinal int32) string {
	return ch.head.spec.StatefulSetName(r.dc, r.rack) + "-" + strconv.Itoa(int(ordinal))
}

// rackPhrase is "rack r2", "racks r1, r2 and r4 (new)".
func rackPhrase(racks []*rackChange) string {
	names := make([]string, len(racks))
	for i, r := range racks {
		names[i] = r.rack
		if !r.inBase {
			names[i] += " (new)"
		}
	}
	return pluralWord(len(names), "rack", "racks") + " " + joinAnd(names)
}

// podList is " (pod)" for one pod, ", one at a time: a, b, c" for more.
func podList(pods []string) string {
	switch len(pods) {
	case 0:
		return ""
	case 1:
		return " (" + pods[0] + ")"
	}
	return ", one at a time: " + join(pods, ", ")
}

func pvcNames(pods []string) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = "data-" + p
	}
	return out
}

func labels(racks []*rackChange) []string {
	out := make([]string, len(racks))
	for i, r := range racks {
		out[i] = r.label()
	}
	return out
}
