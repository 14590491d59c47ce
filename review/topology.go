package review

import (
	"fmt"
	"slices"

	"github.com/ringops/ringops/schemas"
)

// operations lists what the change does, as documented on
// Cluster.Operations: the steps of the planner's replay, in its order
// (joins, decommissions, restarts, replication changes, rebuilds,
// cleanups, re-creations, expansions), then what follows from the spec
// alone (datacenters removed, removals asked, the seed list), what is
// applied at once, then the gates of the disruptive steps.
func (ch *change) operations() []Operation {
	var ops []Operation
	if ch.base == nil {
		ops = append(ops, ch.newCluster())
	}
	if ch.base == nil && ch.head.spec.Spec.Adopt {
		ops = append(ops, ch.adoptCluster()) // #20: nothing joins
	} else {
		steps, err := ch.replaySteps()
		ch.steps = steps
		ops = append(ops, ch.replayOps(steps)...)
		if err != nil {
			ops = append(ops, replayStopped(err))
		}
	}
	ops = append(ops, ch.removedDatacenters()...)
	ops = append(ops, ch.removalsNotTaken()...) // replace (#16)
	ops = append(ops, ch.seedOps(ops)...)
	ops = append(ops, ch.deletePVCsOp()...)
	ops = append(ops, ch.applyOps()...)
	return append(ops, ch.gateOps(ops)...)
}

func (ch *change) newCluster() Operation {
	s := ch.head.spec
	var nodes int32
	for i := range s.Spec.Datacenters {
		nodes += s.Spec.Datacenters[i].DatacenterNodes()
	}
	how := "created empty, then its nodes join one at a time, seed DC first"
	if s.Spec.Adopt {
		how = "spec.adopt: taken over where it runs"
	}
	return Operation{Kind: NewCluster, Nodes: int(nodes), Text: fmt.Sprintf("new cluster %s (namespace %s): %s, %s in %s; %s",
		s.Metadata.Name, s.Metadata.Namespace, plural(len(s.Spec.Datacenters), "DC"), plural(int(nodes), "node"), joinAnd(s.Contexts()), how)}
}

// adoptCluster: a new cluster with spec.adopt, written by ringops import
// for a ring CassKop runs: its StatefulSets are taken over in place.
func (ch *change) adoptCluster() Operation {
	s := ch.head.spec
	op := Operation{Kind: Adopt}
	for _, dc := range s.Spec.Datacenters {
		for _, rk := range dc.Racks {
			op.Objects = append(op.Objects, "StatefulSet "+s.StatefulSetName(dc.Name, rk.Name))
			op.Racks = append(op.Racks, dc.Context+" "+dc.Name+" "+rk.Name)
		}
	}
	op.Text = fmt.Sprintf("adopts %s in place where CassKop runs them, 0 restarts: their pods keep running and get ringops' labels; "+
		"CassKop's pod template stays until a change needs a restart, then the racks roll one pod at a time, gated; "+
		"its PodDisruptionBudget %s gives way to ringops' own. Nothing is adopted while CassKop's operator runs. "+
		"A StatefulSet that does not run is created and its nodes join as in a new cluster (ringops diff, with the regions' credentials, shows which run)",
		plural(len(op.Objects), "StatefulSet"), s.Metadata.Name)
	return op
}

// addDatacenter: the nodes of a datacenter new at head join (rn), or
// none does (rn nil: created empty).
func (ch *change) addDatacenter(dcName string, rn *run) Operation {
	i := slices.IndexFunc(ch.head.spec.Spec.Datacenters, func(d schemas.Datacenter) bool { return d.Name == dcName })
	dc := ch.head.spec.Spec.Datacenters[i]
	var pods []string
	if rn != nil {
		pods = rn.pods()
	}
	op := Operation{Kind: AddDatacenter, Context: dc.Context, Datacenter: dc.Name, Nodes: len(pods), Pods: pods}
	where := fmt.Sprintf("+1 DC %s (%s)", dc.Name, dc.Context)
	if len(pods) == 0 {
		op.Text = where + ": created empty (0 nodes)"
		return op
	}
	var prev []string
	for _, p := range ch.head.spec.Spec.Datacenters[:i] {
		prev = append(prev, p.Name)
	}
	order := "after " + joinAnd(prev)
	if i == 0 {
		where, order = where+", the seed DC", "first"
	}
	if !joinsWithoutBootstrap(rn.steps[0]) {
		op.Text = fmt.Sprintf("%s: %s %s%s", where, plural(len(pods), "bootstrap"), order, podList(pods))
		return op
	}
	op.Text = fmt.Sprintf("%s: +%s joining without bootstrap%s; the managed keyspaces then gain it and its nodes are rebuilt (below)",
		where, plural(len(pods), "node"), podList(pods))
	return op
}

// grow: nodes joining racks of an existing datacenter, in the planner's
// order (rn).
func (ch *change) grow(rn *run) Operation {
	growing := ch.racksOfRun(rn)
	pods := rn.pods()
	r0 := rn.r
	text := fmt.Sprintf("%s (%s): +%s in %s: %s%s", r0.dc, r0.ctx, plural(len(pods), "node"), rackPhrase(growing),
		plural(len(pods), "bootstrap"), podList(pods))
	return Operation{Kind: Bootstrap, Context: r0.ctx, Datacenter: r0.dc, Nodes: len(pods), Pods: pods,
		Racks: labels(growing), Text: text}
}

// shrink: nodes leaving racks of an existing datacenter, by decommission,
// in the planner's order (rn).
func (ch *change) shrink(rn *run) Operation {
	shrinking := ch.racksOfRun(rn)
	pods := rn.pods()
	r0 := rn.r
	text := fmt.Sprintf("%s (%s): -%s in %s: %s%s, %s", r0.dc, r0.ctx, plural(len(pods), "node"), rackPhrase(shrinking),
		plural(len(pods), "decommission"), podList(pods), ch.pvcFate(pods))
	op := Operation{Kind: Decommission, Context: r0.ctx, Datacenter: r0.dc, Nodes: len(pods), Pods: pods,
		Racks: labels(shrinking), Text: text}
	if ch.head.spec.Spec.Storage.DeleteOnDecommission {
		op.Objects = prefixed("PersistentVolumeClaim ", pvcNames(pods))
	}
	if dc := findDC(ch.head.spec.Spec.Datacenters, r0.dc); dc != nil && dc.DatacenterNodes() == 0 {
		op.Text += fmt.Sprintf("; %s is then empty: remove it from the spec in a later change", r0.dc)
	}
	return op
}

// removedDatacenters: the datacenters of base gone at head.
func (ch *change) removedDatacenters() []Operation {
	var ops []Operation
	if ch.base != nil {
		for _, dc := range ch.base.spec.Spec.Datacenters {
			if findDC(ch.head.spec.Spec.Datacenters, dc.Name) == nil {
				ops = append(ops, ch.removeDatacenter(dc))
			}
		}
	}
	return ops
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
