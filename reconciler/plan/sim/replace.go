package sim

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/render"
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

// deadNode is a dead node the ring keeps.
type deadNode struct {
	host, address, pod, region string
	since                      time.Time
	leaving                    int // ticks left of a removenode in flight
}

// hostIDOf is the host ID of the node on a volume, a UUID.
func hostIDOf(uid string) string {
	h := fnv.New32a()
	h.Write([]byte(uid))
	return fmt.Sprintf("%08x-0000-4000-8000-000000000000", h.Sum32())
}

// ghostOf is the ghost with a host ID.
func (w *World) ghostOf(host string) *deadNode {
	for _, g := range w.ghosts {
		if strings.EqualFold(g.host, host) {
			return g
		}
	}
	return nil
}

// LoseVolume deletes a joined node's PVC with its pod: its node stays in
// the ring, down.
func (w *World) LoseVolume() {
	var cands []*podState
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
	w.loseVolume(cands[w.ops.Intn(len(cands))])
}

// LoseVolumeOf deletes the PVC of pod, whose node has joined the ring,
// with the pod: its node stays in the ring, down. It reports whether
// there was such a node.
func (w *World) LoseVolumeOf(pod string) bool {
	p := w.podNamed(pod)
	if p == nil {
		return false
	}
	if c := w.pvcOf(w.regionOf(pod), p); c == nil || !c.bootstrapped || c.decommissioned {
		return false
	}
	w.loseVolume(p)
	return true
}

func (w *World) loseVolume(p *podState) {
	rg := w.regionOf(p.name)
	c := w.pvcOf(rg, p)
	w.ghosts = append(w.ghosts, &deadNode{host: w.hostID(c), address: p.ip, pod: p.name, region: rg.name, since: w.now})
	delete(rg.pvcs, c.name)
	p.deleting = 1
	w.logf("fault: %s lost its volume (%s at %s stays in the ring, down)", p.name, w.hostID(c), p.ip)
}

// SetHostID makes hostID the host ID of the node on pod's next new
// volume, instead of one the world makes up: a removal asked in
// spec.operations names a host ID. A volume made later for the pod (a
// new node) has a host ID of its own.
func (w *World) SetHostID(pod, hostID string) { w.hostIDs[pod] = hostID }

// hostID is the host ID of the node on a volume.
func (w *World) hostID(c *claim) string {
	if c.hostID != "" {
		return c.hostID
	}
	return hostIDOf(c.uid)
}

// recordLine is the record's line of a pod's ordinal, "" when none.
func (w *World) recordLine(rg *kubeRegion, p *podState) string {
	u := rg.objects[plan.RecordKey("cassandra", w.cluster)]
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
func (w *World) gate(rg *kubeRegion, p *podState) (replace string, hold bool) {
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
func (w *World) startReplace(rg *kubeRegion, p *podState, pvc *claim, self, up bool) {
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

func (w *World) ghostByAddress(a string) *deadNode {
	for _, g := range w.ghosts {
		if g.address == a {
			return g
		}
	}
	return nil
}

// replaced: the replacement is done, the dead node gone.
func (w *World) replaced(p *podState) {
	if g := w.ghostByAddress(p.node.replacing); g != nil {
		w.dropGhost(g)
		w.logf("%s replaced %s", p.name, g.host)
	}
	p.node.replacing = ""
}

func (w *World) dropGhost(g *deadNode) {
	for i, h := range w.ghosts {
		if h == g {
			w.ghosts = append(w.ghosts[:i], w.ghosts[i+1:]...)
			return
		}
	}
}

// advanceGhosts moves removals on.
func (w *World) advanceGhosts() {
	for _, g := range append([]*deadNode(nil), w.ghosts...) {
		if g.leaving > 0 {
			if g.leaving--; g.leaving == 0 {
				w.dropGhost(g)
				w.logf("%s removed from the ring", g.host)
			}
		}
	}
}

// ringGhosts adds the dead nodes to a ring: an endpoint no pod explains.
func (w *World) ringGhosts(rg *plan.Ring) {
	for _, g := range w.ghosts {
		state := "DN"
		if g.leaving > 0 {
			state = "DL"
		}
		rg.Others = append(rg.Others, plan.RingEndpoint{Address: g.address, HostID: g.host, State: nodeState(state), DownSince: g.since})
		rg.Problems = append(rg.Problems, plan.RingProblem{Kind: "UnknownNode", Nodes: []string{g.address}, Text: "UnknownNode: " + g.address})
	}
}

// heldPods lists the pods held by the gate (or, with ghosts, those of a
// dead node still in the ring, held or not created).
func (w *World) heldPods(ghosts bool) []string {
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
func (w *World) behindHeld() []string {
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

func (w *World) ghostOfPod(pod string) *deadNode {
	for _, g := range w.ghosts {
		if g.pod == pod {
			return g
		}
	}
	return nil
}

// groundGhosts lists the dead nodes as what is wrong, but pod's.
func (w *World) groundGhosts(except string) []string {
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
func (w *World) execReplace(rg *kubeRegion, s plan.Step) error {
	if len(s.Objects) < 2 {
		w.violate("ReplaceNode %s without the record", s.Pod)
		return nil
	}
	if err := w.applySTS(rg, s.Objects[0], s); err != nil {
		return err
	}
	if err := w.applyObject(rg, s.Objects[1], s); err != nil {
		return err
	}
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
func (w *World) execRemove(rg *kubeRegion, s plan.Step) error {
	if err := w.applyObject(rg, s.Objects[0], s); err != nil {
		return err
	}
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

func (w *World) requested(host string) bool {
	for _, op := range w.spec.Spec.Operations {
		if strings.EqualFold(op.HostID, host) {
			return true
		}
	}
	return false
}
