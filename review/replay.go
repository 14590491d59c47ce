package review

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/plan/replay"
)

// The order of the disruptive operations is the planner's: review runs
// reconciler/plan over a simulated world (reconciler/plan/replay) from
// the base revision's convergence to the head revision's, and describes
// the steps it took, in the order it took them. Nothing here decides an
// order; it only groups the planner's steps and puts them into words.

// desired is the side as the planner is given it.
func (s *side) desired() *plan.Desired {
	if s == nil {
		return nil
	}
	d := &plan.Desired{Cluster: s.spec, Name: s.spec.Metadata.Name}
	for _, kc := range s.spec.Contexts() {
		d.Manifests = append(d.Manifests, s.manifests[kc])
	}
	return d
}

// replaySteps are the steps the planner takes from base's convergence to
// head's, and why the replay stopped short, if it did.
func (ch *change) replaySteps() ([]plan.Step, error) {
	return replay.Replay(ch.base.desired(), ch.head.desired(), ch.contexts(), ch.now, ch.replay)
}

// run is consecutive steps of one kind in one datacenter (one kind
// cluster-wide for restarts and replication changes).
type run struct {
	action plan.Action
	ctx    string
	r      *rackChange // the rack of the first step
	steps  []plan.Step
}

// runs groups the disruptive steps (and the expansions and re-creations
// of StatefulSets, which are applied at once) of steps into runs.
func (ch *change) runs(steps []plan.Step) []*run {
	var out []*run
	for _, s := range steps {
		a := s.Action
		if !s.Disruptive() && a != plan.ExpandPVC && a != plan.RecreateStatefulSet {
			continue
		}
		r := ch.rackOfStep(s)
		if n := len(out); n > 0 && out[n-1].action == a && sameRun(a, out[n-1].r, r) {
			if resent(out[n-1], s) {
				continue
			}
			out[n-1].steps = append(out[n-1].steps, s)
			continue
		}
		out = append(out, &run{action: a, ctx: s.Context, r: r, steps: []plan.Step{s}})
	}
	return out
}

// resent: s asks the node of the run's last step for the same operation
// again (a rebuild or cleanup that ran across plans, a decommission
// retried): the same operation, which the run names once.
func resent(rn *run, s plan.Step) bool {
	last := rn.steps[len(rn.steps)-1]
	return s.Pod != "" && s.Pod == last.Pod && s.Action == last.Action
}

// sameRun: restarts, re-creations, expansions and replication changes
// group across datacenters; the others by datacenter.
func sameRun(a plan.Action, x, y *rackChange) bool {
	switch a {
	case plan.RestartPod, plan.AlterKeyspace, plan.RecreateStatefulSet, plan.ExpandPVC:
		return true
	}
	return x != nil && y != nil && x.dc == y.dc
}

// rackOfStep is the rack a step is about (nil for none: AlterKeyspace).
func (ch *change) rackOfStep(s plan.Step) *rackChange {
	pod := s.Pod
	for _, r := range ch.racks {
		if r.ctx != s.Context {
			continue
		}
		sts := ch.stsName(r)
		if s.Target.Name == sts || (pod != "" && strings.HasPrefix(pod, sts+"-")) {
			return r
		}
	}
	return nil
}

func (ch *change) stsName(r *rackChange) string {
	if r.inHead {
		return ch.head.spec.StatefulSetName(r.dc, r.rack)
	}
	return ch.base.spec.StatefulSetName(r.dc, r.rack)
}

// replayOps describes the runs in the planner's order.
func (ch *change) replayOps(steps []plan.Step) []Operation {
	var ops []Operation
	grown, added := map[string]bool{}, map[string]bool{}
	ch.inPlace = map[string]bool{}
	stepped := map[string]bool{}
	for _, s := range steps {
		r := ch.rackOfStep(s)
		if r == nil || s.Action == plan.ApplyObjects {
			continue
		}
		k := r.ctx + "/" + ch.stsName(r)
		if s.Action == plan.UpdateStatefulSet {
			ch.inPlace[k] = true
		} else {
			stepped[k] = true
		}
	}
	for k := range stepped {
		delete(ch.inPlace, k)
	}
	for _, rn := range ch.runs(steps) {
		switch rn.action {
		case plan.ScaleStatefulSet:
			if rn.r.newDC && !added[rn.r.dc] {
				ops = append(ops, ch.addDatacenter(rn.r.dc, rn))
				added[rn.r.dc] = true
			} else {
				ops = append(ops, ch.grow(rn))
				grown[rn.r.dc] = !rn.r.newDC
			}
		case plan.Decommission:
			ops = append(ops, ch.shrink(rn))
		case plan.RestartPod:
			ops = append(ops, ch.restartOp(rn))
		case plan.AlterKeyspace:
			ops = append(ops, alterOps(rn)...)
		case plan.Rebuild:
			ops = append(ops, rebuildOp(rn))
		case plan.Cleanup:
			ops = append(ops, ch.cleanupOp(rn))
		case plan.RemoveNode:
			ops = append(ops, ch.removalOps(rn)...)
		case plan.RecreateStatefulSet:
			ops = append(ops, ch.recreateOps(rn)...)
		case plan.ExpandPVC:
			ops = append(ops, ch.storageOps(rn)...)
		}
	}
	for _, dc := range ch.head.spec.Spec.Datacenters {
		if r := ch.racksOf(dc.Name); len(r) > 0 && r[0].newDC && !added[dc.Name] {
			ops = append(ops, ch.addDatacenter(dc.Name, nil))
		}
		if grown[dc.Name] && !ch.head.spec.CleanupAfterScaleUp() {
			ops = append(ops, ch.noCleanup(dc.Name, dc.Context))
		}
	}
	return ops
}

// pods are the pods of the run's steps, in order.
func (rn *run) pods() []string {
	out := make([]string, len(rn.steps))
	for i, s := range rn.steps {
		out[i] = s.Pod
	}
	return out
}

// racks are the racks of the run's steps, in order of first appearance.
func (ch *change) racksOfRun(rn *run) []*rackChange {
	var out []*rackChange
	for _, s := range rn.steps {
		if r := ch.rackOfStep(s); r != nil && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// joinsWithoutBootstrap: the planner's template of the step's node makes
// it join without bootstrap (a new datacenter of a running ring).
func joinsWithoutBootstrap(s plan.Step) bool {
	for _, u := range s.Objects {
		if u.GetKind() != "StatefulSet" {
			continue
		}
		cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		for _, c := range cs {
			env, _, _ := unstructured.NestedSlice(c.(map[string]any), "env")
			for _, e := range env {
				if m, _ := e.(map[string]any); m["name"] == "JVM_EXTRA_OPTS" {
					v, _ := m["value"].(string)
					if slices.Contains(strings.Fields(v), plan.JoinWithoutBootstrap) {
						return true
					}
				}
			}
		}
	}
	return false
}

// alterOps: ALTER KEYSPACE statements, one operation per step.
func alterOps(rn *run) []Operation {
	var ops []Operation
	for _, s := range rn.steps {
		byChange := map[string][]string{}
		for _, k := range s.Keyspaces {
			c := factorChange(k)
			byChange[c] = append(byChange[c], k.Keyspace)
		}
		var parts []string
		for _, c := range slices.Sorted(maps.Keys(byChange)) {
			parts = append(parts, joinAnd(byChange[c])+": "+c)
		}
		ops = append(ops, Operation{Kind: Replication, Datacenter: s.Datacenter, Text: fmt.Sprintf(
			"replication (ALTER KEYSPACE through %s, once no node joins or leaves, then schema agreement): %s", s.Datacenter, join(parts, "; "))})
	}
	return ops
}

// factorChange is "dc2 2 -> 3, dc4 +3" or "SimpleStrategy 3 -> {dc1: 3}".
func factorChange(k plan.KeyspaceChange) string {
	if k.From.Strategy != plan.NetworkTopology {
		return k.String()[len(k.Keyspace)+2:]
	}
	var parts []string
	dcs := slices.Sorted(maps.Keys(k.From.Factors))
	for dc := range k.To {
		if !slices.Contains(dcs, dc) {
			dcs = append(dcs, dc)
		}
	}
	slices.Sort(dcs)
	for _, dc := range dcs {
		from, to := k.From.Factors[dc], k.To[dc]
		switch {
		case from == to:
		case from == 0:
			parts = append(parts, fmt.Sprintf("%s gains %d", dc, to))
		case to == 0:
			parts = append(parts, fmt.Sprintf("%s leaves (was %d)", dc, from))
		default:
			parts = append(parts, fmt.Sprintf("%s %d -> %d", dc, from, to))
		}
	}
	return join(parts, ", ")
}

// rebuildOp: nodes streaming their ranges from another datacenter.
func rebuildOp(rn *run) Operation {
	pods := rn.pods()
	src := rn.steps[0].Datacenter
	return Operation{Kind: Rebuild, Context: rn.ctx, Datacenter: rn.r.dc, Nodes: len(pods), Pods: pods, Text: fmt.Sprintf(
		"%s (%s): rebuild of %s from %s%s", rn.r.dc, rn.ctx, plural(len(pods), "node"), src, podList(pods))}
}

// cleanupOp: nodes dropping the data of ranges they no longer hold, after
// a growth (every keyspace) or a lower replication (some keyspaces).
func (ch *change) cleanupOp(rn *run) Operation {
	pods := rn.pods()
	c := ch.head.spec
	what := "they drop the data of the ranges they gave away"
	if ks := rn.steps[0].Keyspaces; len(ks) > 0 {
		names := make([]string, len(ks))
		for i, k := range ks {
			names[i] = k.Keyspace
		}
		what = "they drop the data of " + joinAnd(names) + " they no longer replicate"
	}
	return Operation{Kind: Cleanup, Context: rn.ctx, Datacenter: rn.r.dc, Nodes: len(pods), Pods: pods, Text: fmt.Sprintf(
		"%s (%s): cleanup of %s, %s at once (spec.rollout.cleanupJobs), once the ring is healthy: %s%s",
		rn.r.dc, rn.ctx, plural(len(pods), "node"), plural(int(c.CleanupJobs()), "table"), what, podList(pods))}
}

// noCleanup: a datacenter grew and spec.rollout.cleanupAfterScaleUp is
// false.
func (ch *change) noCleanup(dc, kc string) Operation {
	return Operation{Kind: Cleanup, Context: kc, Datacenter: dc, Text: fmt.Sprintf(
		"%s (%s): no cleanup after the growth (spec.rollout.cleanupAfterScaleUp: false): its older nodes keep the data of the ranges they give away until nodetool cleanup",
		dc, kc)}
}

// replayStopped says that the planner did not converge in the replay.
func replayStopped(err error) Operation {
	return Operation{Kind: Gate, Text: "the planner's replay stopped before the end of the rollout (" + err.Error() +
		"): the steps above are those it takes until then"}
}
