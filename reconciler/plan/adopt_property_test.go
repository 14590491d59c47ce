package plan_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/plan/sim"
)

// adoptScenario: a ring CassKop made (#20), in dc1 and sometimes dc2 (or
// dc2 new, made by ringops), its operator running for a few ticks or not
// at all, taken over with spec.adopt under faults: it must converge with
// no pod restarted (the world checks that no step restarts a pod CassKop
// made while the revision renders the template it was adopted with, and
// writes nothing CassKop made while its operator runs). Then one change,
// under faults: a scale must leave every adopted pod template as it is
// (0 restarts), an image or configuration change must roll every pod
// exactly once to ringops' template. Then random changes and faults, as
// scenario.
func adoptScenario(t *testing.T, seed int64, chaosTicks, convergeTicks int, seen map[string]int) {
	w := newWorld(t, seed)
	spec := simSpec{adopt: true, series: w.OpsRand().Intn(2), image: 1, tokens: 16, size: 1, dcs: []simDC{{name: "dc1", ctx: "region-1",
		nodes: int32(1 + w.Rand().Intn(3)), racks: 1 + w.Rand().Intn(3)}}}
	made := []string{"dc1"}
	if w.Rand().Intn(2) == 0 {
		spec.dcs = append(spec.dcs, simDC{name: "dc2", ctx: "region-2", nodes: int32(1 + w.Rand().Intn(2)), racks: 1 + w.Rand().Intn(2)})
		if w.Rand().Intn(3) > 0 {
			made = append(made, "dc2") // else a new datacenter ringops makes beside the adopted one
		}
	}
	for i, d := range spec.dcs {
		if !d.allocatable() {
			spec.dcs[i].nodes = 1
		}
	}
	w.ksSpec(&spec, false)
	operator := w.Rand().Intn(3) > 0
	w.SeedCassKop(sim.CassKop{Cluster: spec.cluster(), Datacenters: made, Operator: operator})
	if !w.accept(spec) {
		t.Fatalf("seed %d: initial spec refused", seed)
	}
	w.Logf("CassKop made %v, its operator runs: %v", made, operator)

	// The adoption, under faults.
	w.SetFaults(true, 0.05)
	stop := 2 + w.Rand().Intn(8)
	for i := 0; i < 40; i++ {
		if i == stop {
			w.StopCassKop()
		}
		if w.Rand().Intn(15) == 0 {
			w.InjectFault()
		}
		p := w.tick()
		count(seen, p, w.Skewed())
		failOn(t, w)
		if operator && i < stop && len(p.Steps) > 0 {
			t.Fatalf("seed %d: steps while CassKop's operator runs: %s\n%s", seed, p, w.Dump())
		}
	}
	w.Heal()
	w.run(t, seed, convergeTicks, seen, func(plan.Plan) {})
	for _, pod := range w.CassKopPods() {
		if n := w.Restarts()[pod]; n > 0 {
			t.Fatalf("seed %d: the adoption restarted %s %d times\n%s", seed, pod, n, w.Dump())
		}
	}
	w.checkPinned(t, seed, true)

	// One change.
	before, pods := w.Restarts(), w.podNames()
	next, template := w.adoptChange(spec)
	if !w.accept(next) {
		t.Fatalf("seed %d: change refused: %s", seed, w.LastLog())
	}
	spec = next
	w.SetFaults(true, 0.05)
	for i := 0; i < 30; i++ {
		if w.Rand().Intn(15) == 0 {
			w.InjectFault()
		}
		count(seen, w.tick(), w.Skewed())
		failOn(t, w)
	}
	w.Heal()
	w.run(t, seed, convergeTicks, seen, func(plan.Plan) {})
	after := w.Restarts()
	for _, pod := range pods {
		want := 0
		if template {
			want = 1
		}
		if n := after[pod] - before[pod]; n != want {
			t.Fatalf("seed %d: %s restarted %d times for %s, not %d\n%s", seed, pod, n, w.specText, want, w.Dump())
		}
	}
	w.checkPinned(t, seed, !template)

	w.chaos(t, seed, spec, chaosTicks, convergeTicks, seen)
}

// adoptChange is the first change after an adoption: a node more in a
// datacenter (no restart), or a new image or configuration (a roll).
func (w *world) adoptChange(s simSpec) (simSpec, bool) {
	n := s
	n.dcs = slices.Clone(s.dcs)
	switch w.Rand().Intn(3) {
	case 0:
		for _, i := range w.Rand().Perm(len(n.dcs)) {
			d := n.dcs[i]
			d.nodes++
			if d.allocatable() && d.nodes <= 4 {
				n.dcs[i] = d
				w.ksSpec(&n, false)
				return n, false
			}
		}
		n.image++
	case 1:
		n.image++
	default:
		n.reads = 16 + 16*w.Rand().Intn(3) + n.reads
	}
	return n, true
}

// podNames are the pods of the cluster, from the observation.
func (w *world) podNames() []string {
	var out []string
	o := w.Observe()
	for _, kc := range slices.Sorted(maps.Keys(o.Contexts)) {
		for _, p := range o.Contexts[kc].Pods {
			out = append(out, p.Name)
		}
	}
	return out
}

// checkPinned: every StatefulSet adopted keeps CassKop's pod template (its
// pin), or none does (it rolled to ringops' template); nothing of
// CassKop's is left to adopt.
func (w *world) checkPinned(t *testing.T, seed int64, want bool) {
	o := w.Observe()
	for _, kc := range slices.Sorted(maps.Keys(o.Contexts)) {
		oc := o.Contexts[kc]
		if len(oc.Foreign) > 0 || len(oc.ForeignPods) > 0 {
			t.Fatalf("seed %d: %s: CassKop's objects left: %d, pods %d\n%s", seed, kc, len(oc.Foreign), len(oc.ForeignPods), w.Dump())
		}
		for _, u := range oc.Objects {
			ann := u.GetAnnotations()
			if u.GetKind() != "StatefulSet" || ann[contract.AnnotationAdopted] == "" {
				continue
			}
			if pinned := ann[contract.AnnotationAdoptedTemplate] != ""; pinned != want {
				t.Fatalf("seed %d: %s: StatefulSet %s pinned %v, want %v\n%s", seed, kc, u.GetName(), pinned, want, w.Dump())
			}
		}
	}
}

// adoptSeeds are the seeds of TestPropertyInvariants that start from a
// ring CassKop made.
func adoptSeeds(short bool) []int64 {
	if short {
		return []int64{101, 102}
	}
	out := make([]int64, 0, 10)
	for seed := int64(101); seed <= 110; seed++ {
		out = append(out, seed)
	}
	return out
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

// TestAdoptWaitsWhileCassKopRuns: while CassKop's operator runs, the
// planner waits Blocked, naming it, and writes nothing; then it adopts.
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

// TestAdoptResumedAfterACrash: the executor dies after it applied an
// adopted StatefulSet, before or while it labels its pods. The adoption
// must be carried out still: the pods labelled before ringops' Service
// selects by ringops' labels and before CassKop's PodDisruptionBudget
// goes, and no pod restarted. (It used to stop there: the StatefulSet
// was ringops' already, so the planner no longer adopted it, applied the
// Service, which then selected none of the pods ringops could not see,
// deleted the budget, and waited forever for pods "not created yet".)
func TestAdoptResumedAfterACrash(t *testing.T) {
	for _, point := range []int{2, 3} { // 1 is before the apply: nothing written but the owner references
		t.Run(fmt.Sprint(point), func(t *testing.T) {
			spec := simSpec{series: 1, image: 1, tokens: 16, size: 1, dcs: []simDC{{name: "dc1", ctx: "region-1", nodes: 3, racks: 1}}}
			w := adoptWorld(t, 1, spec, false)
			w.CrashIn(plan.AdoptStatefulSet, point)
			seen := map[string]int{}
			w.run(t, 1, 300, seen, func(plan.Plan) {})
			if r := w.Restarts(); len(r) > 0 || seen[plan.AdoptStatefulSet.String()] != 2 {
				t.Fatalf("restarts %v, seen %v\n%s", r, seen, w.Dump())
			}
		})
	}
}

// TestAdoptedRackGrowsAndShrinks: a node added to an adopted rack gets its
// claim from CassKop's claim template, which the StatefulSet keeps (it
// cannot change): CassKop's labels only. ringops must label it all the
// same: unseen, its node would not be recorded, nor its volume marked
// when it is decommissioned (the next node of that ordinal would start
// on it, which Cassandra refuses). No pod restarts, and the adopted
// template stays.
func TestAdoptedRackGrowsAndShrinks(t *testing.T) {
	spec := simSpec{series: 1, image: 1, tokens: 16, size: 1, adopt: true, dcs: []simDC{{name: "dc1", ctx: "region-1", nodes: 2, racks: 1}}}
	w := adoptWorld(t, 1, spec, false)
	nobody := func(plan.Plan) {}
	w.run(t, 1, 300, map[string]int{}, nobody)
	w.resize(t, &spec, 0, 3, 2, 3)
	if r := w.Restarts(); len(r) > 0 {
		t.Fatalf("restarts: %v", r)
	}
	w.checkPinned(t, 1, true)
}

// TestAdoptedRackGrowsWithANewTemplate: an adopted rack is to grow and
// take a new template at once, then shrinks back as soon as it grew. The
// claim of its new node, made with CassKop's labels, must be labelled for
// ringops before that node can be decommissioned, so that its volume is
// marked. (It grew first and rolled after: the claim could not be
// labelled while pods ran the older template, since the executor labels
// the pods of the current revision with the update revision; the node
// was decommissioned with its volume unmarked.)
func TestAdoptedRackGrowsWithANewTemplate(t *testing.T) {
	spec := simSpec{series: 1, image: 1, tokens: 16, size: 1, adopt: true, dcs: []simDC{{name: "dc1", ctx: "region-1", nodes: 2, racks: 1}}}
	w := adoptWorld(t, 1, spec, false)
	nobody := func(plan.Plan) {}
	w.run(t, 1, 300, map[string]int{}, nobody)
	spec.image, spec.dcs[0].nodes = 2, 3
	w.ksSpec(&spec, false)
	if !w.accept(spec) {
		t.Fatalf("refused: %s", w.LastLog())
	}
	for i := 0; i < 300 && !slices.Contains(w.podNames(), "orders-dc1-r1-2"); i++ {
		w.tick()
		failOn(t, w)
	}
	spec.dcs[0].nodes = 2
	w.ksSpec(&spec, false)
	if !w.accept(spec) {
		t.Fatalf("refused: %s", w.LastLog())
	}
	w.run(t, 1, 600, map[string]int{}, nobody)
	if r := w.Restarts(); r["orders-dc1-r1-0"] != 1 || r["orders-dc1-r1-1"] != 1 {
		t.Fatalf("restarts: %v", r)
	}
}

// TestAdoptedRackVolumesGrow: spec.storage.size grows over an adopted
// rack. Its StatefulSet keeps CassKop's claim template, which cannot
// change in place: it is re-created with the larger request (its pods
// kept, none restarted) and its claims grown, as any rack's. (The
// adopted claim template used to be kept as CassKop made it, so the
// growth was ignored without a word.)
func TestAdoptedRackVolumesGrow(t *testing.T) {
	spec := simSpec{series: 1, image: 1, tokens: 16, size: 1, adopt: true, dcs: []simDC{{name: "dc1", ctx: "region-1", nodes: 2, racks: 1}}}
	w := adoptWorld(t, 1, spec, false)
	nobody := func(plan.Plan) {}
	w.run(t, 1, 300, map[string]int{}, nobody)
	spec.size = 3
	w.ksSpec(&spec, false)
	if !w.accept(spec) {
		t.Fatalf("refused: %s", w.LastLog())
	}
	seen := map[string]int{}
	w.run(t, 1, 600, seen, nobody)
	if r := w.Restarts(); len(r) > 0 || seen[plan.RecreateStatefulSet.String()] != 1 || seen[plan.ExpandPVC.String()] != 2 {
		t.Fatalf("restarts %v, seen %v\n%s", r, seen, w.Dump())
	}
	w.checkPinned(t, 1, true)
}

// TestAdoptedDatacenterEmptiedThenGrown: a datacenter CassKop made is
// emptied, then grows again, its templates still CassKop's (pinned).
// CassKop's seed list, in its bootstrap init container, names the first
// pod of each rack: that pod, back on a new volume, must not start in
// its own seed list (it would join without bootstrap, owning ranges
// without their data). The planner cannot write its list into CassKop's
// template: the rack takes ringops' template, with the effective list
// (free: the rack has no pod). (The planner used to read no seed list in
// CassKop's template, and let the node join with CassKop's.)
func TestAdoptedDatacenterEmptiedThenGrown(t *testing.T) {
	for _, del := range []bool{false, true} {
		t.Run(fmt.Sprint("deleteOnDecommission=", del), func(t *testing.T) {
			spec := simSpec{series: 1, image: 1, tokens: 16, size: 1, adopt: true, deleteOnDecom: del, dcs: []simDC{
				{name: "dc1", ctx: "region-1", nodes: 2, racks: 1}, {name: "dc2", ctx: "region-2", nodes: 1, racks: 1}}}
			w := adoptWorld(t, 1, spec, false)
			nobody := func(plan.Plan) {}
			w.run(t, 1, 300, map[string]int{}, nobody)
			w.resize(t, &spec, 1, 0, 1)
			if r := w.Restarts(); len(r) > 0 {
				t.Fatalf("restarts: %v", r)
			}
		})
	}
}

// resize gives datacenter dc of spec each node count in turn, each
// accepted and run until the plan is done.
func (w *world) resize(t *testing.T, spec *simSpec, dc int, counts ...int32) {
	t.Helper()
	for _, n := range counts {
		spec.dcs[dc].nodes = n
		w.ksSpec(spec, false)
		if !w.accept(*spec) {
			t.Fatalf("refused: %s", w.LastLog())
		}
		w.run(t, 1, 600, map[string]int{}, func(plan.Plan) {})
	}
}
