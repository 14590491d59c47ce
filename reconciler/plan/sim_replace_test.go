package plan

import (
	"fmt"
	"hash/fnv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// The simulated world's lost volumes (replace, #16): a PVC deleted with
// its pod leaves the dead node in the ring (a ghost, DN, its host ID and
// old address); the pod comes back on a new volume and its init container
// holds it (render/gate.go) until the record <cluster>-nodes carries
// replace=<address> (it then streams the ghost's ranges, JOINING, and
// takes them over: the ghost is gone) or join=new (a plain bootstrap,
// once the ghost was removed). RemoveNode removes a ghost, and only a
// ghost, once.
//
// Volumes are lost one at a time (TestPropertyLostVolumes) or two at
// once (TestPropertyTwoLostVolumes; in one rack too: the StatefulSet
// controller creates no pod above one the gate holds).

// simGhost is a dead node the ring keeps.
type simGhost struct {
	host, address, pod, region string
	since                      time.Time
	leaving                    int // ticks left of a removenode in flight
}

// simHost is the host ID of the node on a volume, a UUID.
func simHost(uid string) string {
	h := fnv.New32a()
	h.Write([]byte(uid))
	return fmt.Sprintf("%08x-0000-4000-8000-000000000000", h.Sum32())
}

// ghostOf is the ghost with a host ID.
func (w *simWorld) ghostOf(host string) *simGhost {
	for _, g := range w.ghosts {
		if strings.EqualFold(g.host, host) {
			return g
		}
	}
	return nil
}

// loseVolume deletes a joined node's PVC with its pod: its node stays in
// the ring, down.
func (w *simWorld) loseVolume() {
	var cands []*simPod
	for _, rn := range w.regionNames() {
		rg := w.regions[rn]
		for _, name := range sortedKeys(rg.pods) {
			p := rg.pods[name]
			if c := w.pvcOf(rg, p); c != nil && p.healthy() && c.bootstrapped && !c.decommissioned && w.recordLine(rg, p) != "" {
				cands = append(cands, p)
			}
		}
	}
	if len(cands) < 3 {
		return // a datacenter that loses every node is restored by a human, not by ringops
	}
	p := cands[w.ops.Intn(len(cands))]
	rg := w.regionOf(p.name)
	c := w.pvcOf(rg, p)
	w.ghosts = append(w.ghosts, &simGhost{host: simHost(c.uid), address: p.ip, pod: p.name, region: rg.name, since: w.now})
	delete(rg.pvcs, c.name)
	p.deleting = 1
	w.logf("fault: %s lost its volume (%s at %s stays in the ring, down)", p.name, simHost(c.uid), p.ip)
}

// recordLine is the record's line of a pod's ordinal, "" when none.
func (w *simWorld) recordLine(rg *simRegion, p *simPod) string {
	u := rg.objects[recordKey("cassandra", w.cluster)]
	if u == nil {
		return ""
	}
	data, _ := u.Object["data"].(map[string]any)
	lines, _ := data[p.sts].(string)
	for _, l := range strings.Split(lines, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == itoa(int(p.ord)) {
			return l
		}
	}
	return ""
}

// gate is the pod's config init container: it holds a pod whose recorded
// node lived on another volume until the record says what to do; it
// returns the address to replace ("" for none) and whether it holds.
func (w *simWorld) gate(rg *simRegion, p *simPod) (replace string, hold bool) {
	l, c := w.recordLine(rg, p), w.pvcOf(rg, p)
	if l == "" || c == nil || strings.Contains(l, " pvc="+c.uid+" ") {
		return "", false
	}
	for _, f := range strings.Fields(l) {
		if a, ok := strings.CutPrefix(f, "replace="); ok {
			return a, false
		}
		if f == "join=new" {
			return "", false
		}
	}
	return "", true
}

// startReplace: the node replaces the dead node at n.replacing, which
// must still be in the ring and down, through a seed other than itself.
func (w *simWorld) startReplace(rg *simRegion, p *simPod, pvc *simPVC, self, up bool) {
	n := p.node
	if self {
		w.violate("%s: replaces %s with itself in its seed list (Cassandra refuses, or it would join with no data)", p.name, n.replacing)
	}
	g := w.ghostByAddress(n.replacing)
	if g == nil {
		n.mode = "CRASHED" // "Cannot replace_address ... because it doesn't exist in gossip"
		w.logf("%s: %s cannot replace %s: not in the ring", rg.name, p.name, n.replacing)
		return
	}
	if !up {
		return
	}
	n.mode, n.ticks, pvc.joined, pvc.joinedAs = "JOINING", 2, true, "replace"
	w.start(n, pvc)
	w.logf("%s: %s replaces %s (JOINING)", rg.name, p.name, g.host)
}

func (w *simWorld) ghostByAddress(a string) *simGhost {
	for _, g := range w.ghosts {
		if g.address == a {
			return g
		}
	}
	return nil
}

// replaced: the replacement is done, the dead node gone.
func (w *simWorld) replaced(p *simPod) {
	if g := w.ghostByAddress(p.node.replacing); g != nil {
		w.dropGhost(g)
		w.logf("%s replaced %s", p.name, g.host)
	}
	p.node.replacing = ""
}

func (w *simWorld) dropGhost(g *simGhost) {
	for i, h := range w.ghosts {
		if h == g {
			w.ghosts = append(w.ghosts[:i], w.ghosts[i+1:]...)
			return
		}
	}
}

// advanceGhosts moves removals on.
func (w *simWorld) advanceGhosts() {
	for _, g := range append([]*simGhost(nil), w.ghosts...) {
		if g.leaving > 0 {
			if g.leaving--; g.leaving == 0 {
				w.dropGhost(g)
				w.logf("%s removed from the ring", g.host)
			}
		}
	}
}

// ringGhosts adds the dead nodes to a ring: an endpoint no pod explains.
func (w *simWorld) ringGhosts(rg *Ring) {
	for _, g := range w.ghosts {
		state := "DN"
		if g.leaving > 0 {
			state = "DL"
		}
		rg.Others = append(rg.Others, RingEndpoint{Address: g.address, HostID: g.host, State: nodeState(state), DownSince: g.since})
		rg.Problems = append(rg.Problems, RingProblem{Kind: "UnknownNode", Nodes: []string{g.address}, Text: "UnknownNode: " + g.address})
	}
}

// heldPods lists the pods held by the gate (or, with ghosts, those of a
// dead node still in the ring, held or not created).
func (w *simWorld) heldPods(ghosts bool) []string {
	var out []string
	for _, rn := range w.regionNames() {
		rg := w.regions[rn]
		for _, name := range sortedKeys(rg.pods) {
			p := rg.pods[name]
			if _, hold := w.gate(rg, p); hold && p.node == nil && w.ghostOfPod(name) == nil {
				out = append(out, name)
			}
		}
	}
	if ghosts {
		for _, g := range w.ghosts {
			if p := w.podNamed(g.pod); p == nil || p.node == nil {
				out = append(out, g.pod)
			}
		}
	}
	return append(out, w.behindHeld()...)
}

// behindHeld lists the pods the StatefulSet controller does not create
// (OrderedReady) because a lower ordinal of their StatefulSet is held on
// a lost volume, whose volume holds no node of the ring: they move no
// range until the held pod is back.
func (w *simWorld) behindHeld() []string {
	var out []string
	for _, rn := range w.regionNames() {
		rg := w.regions[rn]
		for _, name := range sortedKeys(rg.sts) {
			replicas, _ := nestedInt(rg.sts[name].obj.Object, "spec", "replicas")
			held := false
			for ord := int32(0); int64(ord) < replicas; ord++ {
				pod := name + "-" + itoa(int(ord))
				p := rg.pods[pod]
				switch {
				case p != nil:
					if _, hold := w.gate(rg, p); hold && p.node == nil {
						held = true
					}
				case held:
					if c := rg.pvcs[render.VolumeData+"-"+pod]; c == nil || !inRing(c, nil) {
						out = append(out, pod)
					}
				}
			}
		}
	}
	return out
}

func (w *simWorld) ghostOfPod(pod string) *simGhost {
	for _, g := range w.ghosts {
		if g.pod == pod {
			return g
		}
	}
	return nil
}

// groundGhosts lists the dead nodes as what is wrong, but pod's.
func (w *simWorld) groundGhosts(except string) []string {
	var out []string
	for _, g := range w.ghosts {
		if g.pod != except {
			out = append(out, "dead node "+g.host+" of "+g.pod+" in the ring")
		}
	}
	return out
}

// execReplace runs a ReplaceNode step: the StatefulSet, the record, the
// pod deleted.
func (w *simWorld) execReplace(rg *simRegion, s Step) error {
	if len(s.Objects) < 2 {
		w.violate("ReplaceNode %s without the record", s.Pod)
		return nil
	}
	if err := w.applySTS(rg, s.Objects[0], s); err != nil {
		return err
	}
	w.applyObject(rg, s.Objects[1])
	if w.crash() {
		return errCrash
	}
	if s.DeletePod == "" {
		return nil
	}
	return w.deletePod(rg, s)
}

// execRemove runs a RemoveNode step: the record, the StatefulSet, then
// removenode of a ghost, never of a live node, never twice.
func (w *simWorld) execRemove(rg *simRegion, s Step) error {
	w.applyObject(rg, s.Objects[0])
	if len(s.Objects) > 1 {
		if err := w.applySTS(rg, s.Objects[1], s); err != nil {
			return err
		}
	}
	if w.crash() {
		return errCrash
	}
	if w.removed[strings.ToLower(s.HostID)] {
		w.violate("removenode %s sent twice", s.HostID)
	}
	w.removed[strings.ToLower(s.HostID)] = true
	if !w.requested(s.HostID) {
		w.violate("removenode %s, which no spec.operations asks for", s.HostID)
	}
	g := w.ghostOf(s.HostID)
	if g == nil {
		w.violate("removenode %s, which is no dead node", s.HostID)
		return nil
	}
	if via := w.podNamed(s.Via); via == nil || !via.healthy() {
		w.logf("  removenode of %s not sent (%s)", s.HostID, s.Via)
		return nil
	}
	g.leaving = 2
	return nil
}

func (w *simWorld) requested(host string) bool {
	for _, op := range w.spec.Spec.Operations {
		if strings.EqualFold(op.HostID, host) {
			return true
		}
	}
	return false
}

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
		nodes: int32(2 + w.rng.Intn(2)), racks: 1 + w.rng.Intn(3)}}}
	if w.rng.Intn(2) == 0 {
		spec.dcs = append(spec.dcs, simDC{name: "dc2", ctx: "region-2", nodes: 2, racks: 1})
	}
	if !spec.dcs[0].allocatable() {
		spec.dcs[0].racks = 3 // two racks of several nodes: Cassandra's token allocator refuses the second node of a rack
	}
	if w.ops.Intn(2) == 0 {
		spec.extraKeyspaces = []schemas.Keyspace{{Name: "events", Replication: map[string]int32{"dc1": 1}}}
	}
	if !w.accept(spec) {
		t.Fatalf("initial spec refused")
	}
	ask := func(g *simGhost) {
		for _, op := range spec.removals {
			if op.HostID == g.host {
				return
			}
		}
		spec.removals = append(spec.removals, schemas.Operation{RemoveNode: g.pod, HostID: g.host, Reason: "sim"})
		if !w.accept(spec) {
			t.Fatalf("seed %d: removal refused: %s", seed, w.log[len(w.log)-1])
		}
		w.logf("human asks for removenode %s (%s)", g.host, g.pod)
	}
	human := func(p Plan) {
		for _, g := range w.ghosts {
			if p.Wait.Reason == Blocked && strings.Contains(p.Wait.Message, "removeNode: "+g.pod+", hostID: "+g.host) {
				ask(g)
			}
		}
	}
	w.run(t, seed, 600, seen, human)
	for round := 0; round < 3; round++ {
		w.loseVolume()
		if twoAtOnce && w.ops.Intn(3) == 0 {
			w.loseVolume() // a second one at once
		}
		for i := 0; i < 40; i++ {
			if w.rng.Intn(12) == 0 {
				w.injectFault()
			}
			if i == 1 && len(w.ghosts) > 0 && w.ops.Intn(4) == 0 {
				ask(w.ghosts[0]) // a removal ringops would not need
			}
			p := w.tick()
			count(seen, p, w.skewed)
			failOn(t, w)
			human(p)
		}
		w.heal()
		w.run(t, seed, 1500, seen, human)
		if len(w.ghosts) > 0 {
			t.Fatalf("seed %d: converged with dead nodes in the ring: %v\n%s", seed, w.ghosts[0].host, w.dump())
		}
	}
}

// run ticks until the plan is done, which must be true.
func (w *simWorld) run(t *testing.T, seed int64, limit int, seen map[string]int, human func(Plan)) {
	var p Plan
	for i := 0; i < limit; i++ {
		p = w.tick()
		count(seen, p, w.skewed)
		failOn(t, w)
		w.operator(p)
		human(p)
		if p.Done() {
			if left := w.converged(); len(left) > 0 {
				t.Fatalf("seed %d: the plan says converged, but: %s\n%s", seed, strings.Join(left, "; "), w.dump())
			}
			return
		}
	}
	t.Fatalf("seed %d: not converged after %d ticks; last plan: %s\n%s", seed, limit, p, w.dump())
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
	for _, a := range []Action{ReplaceNode, RemoveNode} {
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
