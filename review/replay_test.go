package review

import (
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/plan/replay"
	"github.com/ringops/ringops/render"
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
// order (the last rack on a tie, through its test hook) changes what
// `ringops plan` says, with no change to review.
func TestPlantedPlannerOrderChangesThePlan(t *testing.T) {
	const dc1 = "payments-dc1-r1-0, payments-dc1-r2-0, payments-dc1-r3-0, payments-dc1-r1-1, payments-dc1-r2-1, payments-dc1-r3-1"
	const planted = "payments-dc1-r1-0, payments-dc1-r2-0, payments-dc1-r3-0, payments-dc1-r3-1, payments-dc1-r2-1, payments-dc1-r1-1"
	before := string(comparePair(t, "new-cluster").Text())
	assert.Contains(t, before, "6 bootstraps first, one at a time: "+dc1+"\n")

	restore := plan.PlantGrowOrderForTest()
	defer restore()
	after := string(comparePair(t, "new-cluster").Text())
	restore()
	assert.Contains(t, after, "6 bootstraps first, one at a time: "+planted+"\n")
	assert.NotContains(t, after, dc1)
	assert.Equal(t, before, string(comparePair(t, "new-cluster").Text()), "the planner's own order again")
}

// TestPlantedPruneTimingChangesThePlan: a change of when the planner prunes
// a region's objects (at once, rather than after the StatefulSets of the
// datacenter removed there, through its test hook) changes what `ringops
// plan` says, with no change to review.
func TestPlantedPruneTimingChangesThePlan(t *testing.T) {
	const when = "NetworkPolicy orders-jolokia (once the StatefulSets of dc3 are deleted)\n"
	before := string(comparePair(t, "remove-dc").Text())
	assert.Contains(t, before, when)

	restore := plan.PlantPruneEarlyForTest()
	defer restore()
	after := string(comparePair(t, "remove-dc").Text())
	restore()
	assert.Contains(t, after, "NetworkPolicy orders-jolokia\n")
	assert.NotContains(t, after, "once the StatefulSets")
	assert.Equal(t, before, string(comparePair(t, "remove-dc").Text()), "the planner's own timing again")
}
