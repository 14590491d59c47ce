package review

import (
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/plan/replay"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// plannerPods are the pods of the planner's disruptive steps for a golden
// pair, in its order, replayed here apart from review's operations: the
// nodes that join, leave, restart, are rebuilt or cleaned up.
func plannerPods(t *testing.T, name, cluster string) []string {
	t.Helper()
	dir := filepath.Join("testdata", "pairs", name)
	sides := make([]*side, 2)
	var contexts []string
	for i, rev := range []string{"base", "head"} {
		fsys := dirFS(filepath.Join(dir, rev))
		if fsys == nil {
			continue
		}
		if _, err := fs.Stat(fsys, path.Join(cluster, "cluster.yaml")); err != nil {
			continue // a new cluster
		}
		spec, problems := loadSpec(fsys, cluster)
		require.Empty(t, problems)
		m, problems, err := renderAll(t.Context(), render.New(render.DefaultOptions()), fsys, cluster, spec)
		require.NoError(t, err)
		require.Empty(t, problems)
		sides[i] = &side{spec: spec, manifests: m}
		for _, kc := range spec.Contexts() {
			if !slices.Contains(contexts, kc) {
				contexts = append(contexts, kc)
			}
		}
	}
	steps, err := replay.Replay(sides[0].desired(), sides[1].desired(), contexts, goldenNow, replay.Options{ManageKeyspaces: manageKeyspaces(dir)})
	require.NoError(t, err)
	var pods []string
	var last plan.Step
	for _, s := range steps {
		switch {
		case s.Action == last.Action && s.Pod == last.Pod:
			// the same operation asked again (it ran across plans)
		case s.Action == plan.ScaleStatefulSet && s.To > s.From, s.Action == plan.Decommission, s.Action == plan.RestartPod,
			s.Action == plan.Rebuild, s.Action == plan.Cleanup:
			pods = append(pods, s.Pod)
		}
		if s.Disruptive() {
			last = s
		}
	}
	return pods
}

// describedPods are the pods of a document's operations, in order.
func describedPods(doc *Document) []string {
	var pods []string
	for _, op := range doc.Clusters[0].Operations {
		switch op.Kind {
		case AddDatacenter, Bootstrap, Decommission, RollingRestart, Rebuild, Cleanup:
			pods = append(pods, op.Pods...)
		}
	}
	return pods
}

// TestGoldenOrderIsThePlanners: for every golden pair that the review
// describes (not refused, the cluster kept), the nodes it says join,
// leave, restart, are rebuilt or cleaned up, in the order it says, are
// those of the planner's own steps.
func TestGoldenOrderIsThePlanners(t *testing.T) {
	for name, outcome := range pairs {
		if outcome == Invalid || name == "removed-cluster" || name == "comment-only" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			doc := comparePair(t, name)
			require.Len(t, doc.Clusters, 1)
			assert.Equal(t, plannerPods(t, name, doc.Clusters[0].Dir), describedPods(doc))
		})
	}
}

// TestPlantedPlannerOrderChangesThePlan: a change of the planner's growth
// order (the last rack on a tie once every rack of the datacenter has a
// node: growLastOnTie wraps plan.Next) changes what `ringops plan` says,
// with no change to review.
func TestPlantedPlannerOrderChangesThePlan(t *testing.T) {
	const dc1 = "payments-dc1-r1-0, payments-dc1-r2-0, payments-dc1-r3-0, payments-dc1-r1-1, payments-dc1-r2-1, payments-dc1-r3-1"
	const planted = "payments-dc1-r1-0, payments-dc1-r2-0, payments-dc1-r3-0, payments-dc1-r3-1, payments-dc1-r2-1, payments-dc1-r1-1"
	before := string(comparePair(t, "new-cluster").Text())
	assert.Contains(t, before, "6 bootstraps first, one at a time: "+dc1+"\n")

	after := string(comparePairWith(t, "new-cluster", growLastOnTie).Text())
	assert.Contains(t, after, "6 bootstraps first, one at a time: "+planted+"\n")
	assert.NotContains(t, after, dc1)
}

// growLastOnTie is plan.Next growing the last of the racks with the
// fewest nodes on a tie once each rack of a datacenter has a node: it is
// given the spec with such a datacenter's racks in reverse order.
func growLastOnTie(d *plan.Desired, o *plan.Observed) plan.Plan {
	if d.Cluster == nil {
		return plan.Next(d, o)
	}
	c := *d.Cluster
	c.Spec.Datacenters = slices.Clone(c.Spec.Datacenters)
	for i, dc := range c.Spec.Datacenters {
		if !slices.ContainsFunc(dc.Racks, func(r schemas.Rack) bool { return liveReplicas(o, dc.Context, c.StatefulSetName(dc.Name, r.Name)) == 0 }) {
			c.Spec.Datacenters[i].Racks = slices.Clone(dc.Racks)
			slices.Reverse(c.Spec.Datacenters[i].Racks)
		}
	}
	planted := *d
	planted.Cluster = &c
	return plan.Next(&planted, o)
}

// liveReplicas is spec.replicas of the StatefulSet name observed in kc.
func liveReplicas(o *plan.Observed, kc, name string) int64 {
	if oc := o.Contexts[kc]; oc != nil {
		for _, u := range oc.Objects {
			if u.GetKind() == "StatefulSet" && u.GetName() == name {
				n, _, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
				return n
			}
		}
	}
	return 0
}

// TestPlantedPruneTimingChangesThePlan: a change of when the planner prunes
// a region's objects (at once, rather than after the StatefulSets of the
// datacenter removed there: pruneEarly wraps plan.Next) changes what
// `ringops plan` says, with no change to review.
func TestPlantedPruneTimingChangesThePlan(t *testing.T) {
	const when = "NetworkPolicy orders-jolokia (once the StatefulSets of dc3 are deleted)\n"
	before := string(comparePair(t, "remove-dc").Text())
	assert.Contains(t, before, when)

	after := string(comparePairWith(t, "remove-dc", pruneEarly).Text())
	assert.Contains(t, after, "NetworkPolicy orders-jolokia\n")
	assert.NotContains(t, after, "once the StatefulSets")
}

// pruneEarly is plan.Next pruning a region's objects first, while
// StatefulSets of a removed datacenter are left there: the Prune steps
// plan.Next takes once they are gone (planned as if they were) go first
// in a plan with steps.
func pruneEarly(d *plan.Desired, o *plan.Observed) plan.Plan {
	p := plan.Next(d, o)
	if len(p.Steps) == 0 {
		return p
	}
	gone := &plan.Observed{Now: o.Now, Contexts: map[string]*plan.Context{}, Ring: o.Ring, Keyspaces: o.Keyspaces}
	orphans := false
	for kc, oc := range o.Contexts {
		kept := *oc
		kept.Objects = slices.DeleteFunc(slices.Clone(oc.Objects), func(u *unstructured.Unstructured) bool {
			orphan := u.GetKind() == "StatefulSet" && !desiredObject(d, kc, u)
			orphans = orphans || orphan
			return orphan
		})
		gone.Contexts[kc] = &kept
	}
	if !orphans {
		return p
	}
	var early []plan.Step
	for _, s := range plan.Next(d, gone).Steps {
		if s.Action == plan.Prune {
			early = append(early, s)
		}
	}
	p.Steps = append(early, p.Steps...)
	return p
}

// desiredObject reports whether d renders u in kc.
func desiredObject(d *plan.Desired, kc string, u *unstructured.Unstructured) bool {
	for _, m := range d.Manifests {
		if m.Context != kc {
			continue
		}
		for _, w := range m.Objects {
			if w.GetKind() == u.GetKind() && w.GetName() == u.GetName() {
				return true
			}
		}
	}
	return false
}
