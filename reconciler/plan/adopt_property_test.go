package plan_test

import (
	"strings"
	"testing"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/plan/sim"
)

// TestAdoptWaitsWhileCassKopRuns: while CassKop's operator
// runs, the planner waits Blocked, naming it, and writes nothing.
func TestAdoptWaitsWhileCassKopRuns(t *testing.T) {
	spec := simSpec{series: 1, image: 1, tokens: 16, size: 1, dcs: []simDC{{name: "dc1", ctx: "region-1", nodes: 3, racks: 1}}}
	w := adoptWorld(t, 1, spec, true)
	for i := 0; i < 5; i++ {
		p := w.tick()
		failOn(t, w)
		if p.Wait.Reason != plan.Blocked || !strings.Contains(p.Wait.Message, "scale deployment casskop --replicas=0") {
			t.Fatalf("tick %d: %s", i, p)
		}
	}
	w.StopCassKop()
	seen := map[string]int{}
	w.run(t, 1, 300, seen, func(plan.Plan) {})
	if seen[plan.AdoptStatefulSet.String()] != 1 || seen[plan.DeleteCassKopObject.String()] != 1 || len(w.Restarts()) > 0 {
		t.Fatalf("seen %v, restarts %v\n%s", seen, w.Restarts(), w.Dump())
	}
}

// adoptWorld is a world with the ring CassKop made for spec, its operator
// running or not, and spec (adopt: true) given to the planner.
func adoptWorld(t *testing.T, seed int64, spec simSpec, operator bool) *world {
	w := newWorld(t, seed)
	spec.adopt = true
	w.ksSpec(&spec, false)
	w.SeedCassKop(sim.CassKop{Cluster: spec.cluster(), Operator: operator})
	if !w.accept(spec) {
		t.Fatalf("refused: %s", w.LastLog())
	}
	return w
}
