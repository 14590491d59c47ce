package review

import (
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/ringops/ringops/reconciler/plan"
)

// roll is one rack whose pods restart.
type roll struct {
	r      *rackChange
	nodes  int32
	causes []string
}

// restartOp: the pods the planner restarts (rn), rack by rack in its
// order, with the causes: what differs between the racks' rendered pod
// templates; for a rack whose nodes the replay joined without bootstrap,
// the end of that join (the planner's restart drops the option). A seed
// list alone is no cause of the planner's (seedOps); a rack it restarts
// for nothing else says so.
func (ch *change) restartOp(rn *run) Operation {
	var rolls []roll
	for _, r := range ch.racksOfRun(rn) {
		var causes []string
		switch {
		case ch.endsJoinWithoutBootstrap(r, rn):
			causes = []string{"end of the join without bootstrap (auto_bootstrap=false leaves the template)"}
		case r.baseSTS != nil && r.headSTS != nil:
			causes = restartCauses(r.baseSTS, r.headSTS)
		}
		if len(causes) == 0 {
			causes = []string{"seed list"}
		}
		var nodes int32
		for _, s := range rn.steps {
			if ch.rackOfStep(s) == r {
				nodes++
			}
		}
		rolls = append(rolls, roll{r: r, nodes: nodes, causes: causes})
	}
	op := Operation{Kind: RollingRestart, Causes: ch.rollCauses(rolls), Pods: rn.pods()}
	for _, rl := range rolls {
		op.Nodes += int(rl.nodes)
		op.Racks = append(op.Racks, rl.r.label())
	}
	op.Text = fmt.Sprintf("%s: rolling restart of %s in %s, one node at a time: %s", join(op.Causes, "; "),
		plural(op.Nodes, "node"), plural(len(rolls), "rack"), rollOrder(rolls))
	return op
}

// endsJoinWithoutBootstrap: in the replay, nodes of rack r joined
// without bootstrap before the run, and the run restarts them on a
// template without the option.
func (ch *change) endsJoinWithoutBootstrap(r *rackChange, rn *run) bool {
	joined := false
	for _, s := range ch.steps {
		if s.Action == plan.ScaleStatefulSet && ch.rackOfStep(s) == r && joinsWithoutBootstrap(s) {
			joined = true
		}
		if s.Action == plan.RestartPod && slices.ContainsFunc(rn.steps, func(t plan.Step) bool { return t.Pod == s.Pod }) &&
			ch.rackOfStep(s) == r {
			return joined && !joinsWithoutBootstrap(s)
		}
	}
	return false
}

// rollCauses is the union of the racks' causes, in order; a cause that
// only some racks have says in which regions.
func (ch *change) rollCauses(rolls []roll) []string {
	var all []string
	for _, rl := range rolls {
		all = dedupe(append(all, rl.causes...))
	}
	out := make([]string, len(all))
	for i, c := range all {
		var where []string
		for _, rl := range rolls {
			if slices.Contains(rl.causes, c) && !slices.Contains(where, rl.r.ctx) {
				where = append(where, rl.r.ctx)
			}
		}
		if len(where) < len(contextsOf(rolls)) {
			c += " (in " + joinAnd(where) + ")"
		}
		out[i] = c
	}
	return out
}

func contextsOf(rolls []roll) []string {
	var out []string
	for _, rl := range rolls {
		if !slices.Contains(out, rl.r.ctx) {
			out = append(out, rl.r.ctx)
		}
	}
	return out
}

// rollOrder is "eu-west dc1 r1, r2, r3, then us-east dc2 r1 (2 nodes)".
func rollOrder(rolls []roll) string {
	var groups []string
	var cur []string
	key := ""
	for _, rl := range rolls {
		k := rl.r.ctx + " " + rl.r.dc
		if k != key && len(cur) > 0 {
			groups = append(groups, key+" "+join(cur, ", "))
			cur = nil
		}
		key = k
		name := rl.r.rack
		if rl.nodes > 1 {
			name += fmt.Sprintf(" (%d nodes)", rl.nodes)
		}
		cur = append(cur, name)
	}
	groups = append(groups, key+" "+join(cur, ", "))
	return join(groups, ", then ")
}

// recreateOps: the StatefulSets the planner re-creates (rn), with the
// fields of their spec that differ besides the template, the replicas
// and the update strategy (those it changes in place).
func (ch *change) recreateOps(rn *run) []Operation {
	byFields := map[string][]string{}
	var order []string
	for _, s := range rn.steps {
		r := ch.rackOfStep(s)
		var fields []string
		if r != nil && r.baseSTS != nil && r.headSTS != nil {
			bs, _ := r.baseSTS.Object["spec"].(map[string]any)
			hs, _ := r.headSTS.Object["spec"].(map[string]any)
			for _, f := range slices.Sorted(maps.Keys(hs)) {
				if f != "template" && f != "replicas" && f != "updateStrategy" && !reflect.DeepEqual(bs[f], hs[f]) {
					fields = append(fields, "spec."+f)
				}
			}
		}
		k := joinAnd(fields)
		if _, ok := byFields[k]; !ok {
			order = append(order, k)
		}
		byFields[k] = append(byFields[k], s.Target.Name)
	}
	var ops []Operation
	for _, k := range order {
		sets := byFields[k]
		why := "as " + k + " cannot change in place"
		if k == "" {
			why = "as the planner does"
		}
		ops = append(ops, Operation{Kind: Recreate, Objects: prefixed("StatefulSet ", sets), Text: fmt.Sprintf(
			"%s %s re-created, %s: deleted with their pods orphaned, then created again; pods and PVCs are kept, nothing restarts, existing PVCs keep their StorageClass",
			pluralWord(len(sets), "StatefulSet", "StatefulSets"), joinAnd(sets), why)})
	}
	return ops
}

// storageOps: the data volumes the planner grows (rn).
func (ch *change) storageOps(rn *run) []Operation {
	var ops []Operation
	grows := map[string]int{}
	var order []string
	for _, s := range rn.steps {
		from := "?"
		if r := ch.rackOfStep(s); r != nil && r.baseSTS != nil {
			if b := plan.DataClaimSize(r.baseSTS); b != nil {
				from = b.String()
			}
		}
		k := from + " -> " + s.Size
		if _, ok := grows[k]; !ok {
			order = append(order, k)
		}
		grows[k]++
	}
	for _, k := range order {
		ops = append(ops, Operation{Kind: ExpandStorage, Nodes: grows[k], Text: fmt.Sprintf(
			"storage %s: the %s of %s grow in place, nothing restarts (their StorageClass must allow volume expansion)",
			k, pluralWord(grows[k], "PVC", "PVCs"), plural(grows[k], "existing node"))})
	}
	return ops
}

// deletePVCsOp: PVCs deleted because deleteOnDecommission was turned on.
func (ch *change) deletePVCsOp() []Operation {
	if ch.base != nil && !ch.base.spec.Spec.Storage.DeleteOnDecommission && ch.head.spec.Spec.Storage.DeleteOnDecommission {
		return []Operation{{Kind: DeletePVCs, Text: "storage.deleteOnDecommission turned on: the PVCs of nodes decommissioned earlier and still present (annotated ringops.dev/decommissioned) are deleted"}}
	}
	return nil
}

func prefixed(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}

// pluralVerb is "is" or "are".
func pluralVerb(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
