package plan_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/plan/sim"
	"github.com/ringops/ringops/schemas"
)

// lostScenario: a converged cluster loses volumes, one at a time, among
// other faults; when ringops says a dead node cannot be replaced (a
// keyspace with one replica in the datacenter), the human does what it
// says: asks for the removal of that host ID in spec.operations; and
// sometimes asks for the removal of a dead node that ringops would
// replace. The run must converge (every dead node replaced or removed,
// every pod back), no invariant broken.
func lostScenario(t *testing.T, seed int64, seen map[string]int, twoAtOnce bool) {
	w := newWorld(t, seed)
	spec := simSpec{series: 2, image: 1, tokens: 16, size: 1, dcs: []simDC{{name: "dc1", ctx: "region-1",
		nodes: int32(2 + w.Rand().Intn(2)), racks: 1 + w.Rand().Intn(3)}}}
	if w.Rand().Intn(2) == 0 {
		spec.dcs = append(spec.dcs, simDC{name: "dc2", ctx: "region-2", nodes: 2, racks: 1})
	}
	if !spec.dcs[0].allocatable() {
		spec.dcs[0].racks = 3 // two racks of several nodes: Cassandra's token allocator refuses the second node of a rack
	}
	if w.OpsRand().Intn(2) == 0 {
		spec.extraKeyspaces = []schemas.Keyspace{{Name: "events", Replication: map[string]int32{"dc1": 1}}}
	}
	if !w.accept(spec) {
		t.Fatalf("initial spec refused")
	}
	ask := func(g sim.DeadNode) {
		for _, op := range spec.removals {
			if op.HostID == g.HostID {
				return
			}
		}
		spec.removals = append(spec.removals, schemas.Operation{RemoveNode: g.Pod, HostID: g.HostID, Reason: "sim"})
		if !w.accept(spec) {
			t.Fatalf("seed %d: removal refused: %s", seed, w.LastLog())
		}
		w.Logf("human asks for removenode %s (%s)", g.HostID, g.Pod)
	}
	human := func(p plan.Plan) {
		for _, g := range w.DeadNodes() {
			if p.Wait.Reason == plan.Blocked && strings.Contains(p.Wait.Message, "removeNode: "+g.Pod+", hostID: "+g.HostID) {
				ask(g)
			}
		}
	}
	w.run(t, seed, 600, seen, human)
	for round := 0; round < 3; round++ {
		w.LoseVolume()
		if twoAtOnce && w.OpsRand().Intn(3) == 0 {
			w.LoseVolume() // a second one at once
		}
		for i := 0; i < 40; i++ {
			if w.Rand().Intn(12) == 0 {
				w.InjectFault()
			}
			if i == 1 && len(w.DeadNodes()) > 0 && w.OpsRand().Intn(4) == 0 {
				ask(w.DeadNodes()[0]) // a removal ringops would not need
			}
			p := w.tick()
			count(seen, p, w.Skewed())
			failOn(t, w)
			human(p)
		}
		w.Heal()
		w.run(t, seed, 1500, seen, human)
		if len(w.DeadNodes()) > 0 {
			t.Fatalf("seed %d: converged with dead nodes in the ring: %v\n%s", seed, w.DeadNodes()[0].HostID, w.Dump())
		}
	}
}

// TestPropertyLostVolumes runs lost-volume scenarios with fixed seeds:
// one range movement at a time (a replacement counts as one), a replaced
// seed never in its own seed list, removenode only of the host ID a
// request names, once.
func TestPropertyLostVolumes(t *testing.T) {
	seeds := 16
	if testing.Short() {
		seeds = 4
	}
	seen := map[string]int{}
	for seed := int64(1); seed <= int64(seeds); seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { lostScenario(t, seed, seen, false) })
	}
	t.Logf("seen: %v", seen)
	if testing.Short() || t.Failed() {
		return
	}
	for _, a := range []plan.Action{plan.ReplaceNode, plan.RemoveNode} {
		require.NotZero(t, seen[a.String()], "no scenario executed %s", a)
	}
}

// TestPropertyTwoLostVolumes: the same with two volumes sometimes lost at
// once (in one rack too). Seeds 17 to 53 used to find three deadlocks:
// a replacement whose every seed was held on a lost volume stayed
// STARTING (it now gets a seed list of nodes up); a removal, or a
// replacement, waited for a pod the StatefulSet controller never creates
// above a held one (the step's own dead pod may be missing; the ground
// truth lets such pods be); and a replacement whose pod waits behind a
// pod that must bootstrap as a new node (its dead node removed), which
// Cassandra refuses while the other dead node owns ranges (Blocked, with
// the removal to ask for). 200 seeds of both tests passed when written.
func TestPropertyTwoLostVolumes(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 4
	}
	seen := map[string]int{}
	for seed := int64(1); seed <= int64(seeds); seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { lostScenario(t, seed, seen, true) })
	}
	t.Logf("seen: %v", seen)
}
