package review

import (
	"fmt"
	"reflect"
	"slices"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/render"
)

// roll is one rack whose pods restart.
type roll struct {
	r      *rackChange
	nodes  int32
	causes []string
}

// restartOps: the racks whose pod template changes restart their pods,
// one at a time, rack by rack, seed datacenter first. A rack restarts
// the pods it keeps (nodes that bootstrap meanwhile start on the new
// template). A seed list is no cause (seedOps).
func (ch *change) restartOps() []Operation {
	var rolls []roll
	for _, r := range ch.racks {
		if r.baseSTS == nil || r.headSTS == nil {
			continue
		}
		causes := restartCauses(r.baseSTS, r.headSTS)
		if len(causes) == 0 {
			continue
		}
		if n := min(r.base, r.head); n > 0 {
			rolls = append(rolls, roll{r: r, nodes: n, causes: causes})
		}
	}
	if len(rolls) == 0 {
		return nil
	}
	op := Operation{Kind: RollingRestart, Causes: ch.rollCauses(rolls)}
	for _, rl := range rolls {
		op.Nodes += int(rl.nodes)
		op.Racks = append(op.Racks, rl.r.label())
	}
	when := ""
	if ch.topology {
		when = ", once the topology change is done"
	}
	op.Text = fmt.Sprintf("%s: rolling restart of %s in %s, one node at a time%s: %s", join(op.Causes, "; "),
		plural(op.Nodes, "node"), plural(len(rolls), "rack"), when, rollOrder(rolls))
	return []Operation{op}
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

// immutableFields of a StatefulSet's spec: a change means the planner
// re-creates it (orphan delete).
var immutableFields = []string{"selector", "serviceName", "podManagementPolicy", "volumeClaimTemplates"}

// recreateOps: StatefulSets whose immutable fields change.
func (ch *change) recreateOps() []Operation {
	byFields := map[string][]string{}
	var order []string
	for _, r := range ch.racks {
		if r.baseSTS == nil || r.headSTS == nil {
			continue
		}
		var fields []string
		for _, f := range immutableFields {
			if !reflect.DeepEqual(nested(r.baseSTS.Object, "spec", f), nested(r.headSTS.Object, "spec", f)) {
				fields = append(fields, "spec."+f)
			}
		}
		if len(fields) == 0 {
			continue
		}
		k := joinAnd(fields)
		if _, ok := byFields[k]; !ok {
			order = append(order, k)
		}
		byFields[k] = append(byFields[k], r.headSTS.GetName())
	}
	var ops []Operation
	for _, k := range order {
		sets := byFields[k]
		ops = append(ops, Operation{Kind: Recreate, Objects: prefixed("StatefulSet ", sets), Text: fmt.Sprintf(
			"%s %s re-created, as %s cannot change in place: deleted with their pods orphaned, then created again; pods and PVCs are kept, nothing restarts, existing PVCs keep their StorageClass",
			pluralWord(len(sets), "StatefulSet", "StatefulSets"), joinAnd(sets), k)})
	}
	return ops
}

// storageOps: data volumes that grow, and PVCs deleted because
// deleteOnDecommission was turned on.
func (ch *change) storageOps() []Operation {
	var ops []Operation
	grows := map[string]int{}
	var order []string
	for _, r := range ch.racks {
		if r.baseSTS == nil || r.headSTS == nil {
			continue
		}
		b, h := claimSize(r.baseSTS), claimSize(r.headSTS)
		if b == nil || h == nil || h.Cmp(*b) <= 0 {
			continue
		}
		k := b.String() + " -> " + h.String()
		if _, ok := grows[k]; !ok {
			order = append(order, k)
		}
		grows[k] += int(min(r.base, r.head))
	}
	for _, k := range order {
		ops = append(ops, Operation{Kind: ExpandStorage, Nodes: grows[k], Text: fmt.Sprintf(
			"storage %s: the %s of %s grow in place, nothing restarts (their StorageClass must allow volume expansion)",
			k, pluralWord(grows[k], "PVC", "PVCs"), plural(grows[k], "existing node"))})
	}
	if ch.base != nil && !ch.base.spec.Spec.Storage.DeleteOnDecommission && ch.head.spec.Spec.Storage.DeleteOnDecommission {
		ops = append(ops, Operation{Kind: DeletePVCs, Text: "storage.deleteOnDecommission turned on: the PVCs of nodes decommissioned earlier and still present (annotated ringops.dev/decommissioned) are deleted"})
	}
	return ops
}

// claimSize is the storage request of the "data" volume claim template.
func claimSize(sts *unstructured.Unstructured) *resource.Quantity {
	vcts, _ := nested(sts.Object, "spec", "volumeClaimTemplates").([]any)
	for _, v := range vcts {
		m, _ := v.(map[string]any)
		if nested(m, "metadata", "name") != render.VolumeData {
			continue
		}
		s, _ := nested(m, "spec", "resources", "requests", "storage").(string)
		q, err := resource.ParseQuantity(s)
		if err != nil {
			return nil
		}
		return &q
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
