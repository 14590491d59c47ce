package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/render"
)

// candidate is the next disruptive step, before the gates.
type candidate struct {
	r      *rack
	step   Step
	except int32    // the ordinal the step is about, when its pod may be down; -1 otherwise
	desc   string   // the step in a few words, for waits: "dc1/r2 scale 2 -> 3"
	also   []string // replace (#16): what else the ring's problems may name (the dead node's address and host ID)
	lost   []string // replace (#16): the other pods held on a lost volume, which the gates let be down or missing
}

// next is the disruptive part of the plan: the one next step, gated, or
// why there is none.
func (v *view) next() Plan {
	if un := v.unreachable(); len(un) > 0 {
		return v.wait(Wait{Reason: RegionUnreachable, Context: un[0],
			Message: un[0] + " cannot be read (" + v.contextErr(un[0]) + "): disruptive steps wait, since one step in flight across all regions cannot be checked without it"})
	}
	c, w := v.candidate()
	switch {
	case w != nil:
		return v.wait(*w)
	case c == nil:
		return v.wait(v.idle())
	}
	if w := v.gate(c); w != nil {
		return v.wait(*w)
	}
	return Plan{Cluster: v.name, Revision: v.d.Revision, Steps: []Step{c.step}}
}

func (v *view) wait(w Wait) Plan {
	return Plan{Cluster: v.name, Revision: v.d.Revision, Wait: w}
}

// candidate finds the first work left, in rollout order: a decommission
// or an upgradesstables in flight, a failed bootstrap; then the topology,
// datacenter by datacenter (seed first): growth, then shrinking; then
// template rolls, rack by rack; then upgradesstables, node by node. A
// roll to another release series (or one the ring shows the schema skew
// of) goes before the topology: no node joins or leaves a ring of two
// versions, and none bootstraps on another version than the ring's; the
// nodes of removed racks leave before it starts, or roll after the others
// once it has.
func (v *view) candidate() (*candidate, *Wait) {
	for _, r := range v.racks {
		if r.live != nil && r.live.annotations[contract.AnnotationDecommission] != "" {
			return v.decommissionInFlight(r)
		}
	}
	if c, w := v.upgradeInFlight(); c != nil || w != nil {
		return c, w
	}
	if c, w := v.cleanupInFlight(); c != nil || w != nil { // replace (#16)
		return c, w
	}
	if c, w := v.opInFlight(); c != nil || w != nil { // #15: a rebuild or cleanup in flight (datacenters.go)
		return c, w
	}
	if c, w := v.failedBootstrap(); c != nil || w != nil {
		if c != nil { // replace (#16): a bootstrap lets pods held with no node in the ring be
			v.tolerateLost(c, c.step.Pod, true)
		}
		return c, w
	}
	if c, w := v.replaceWork(); c != nil || w != nil { // replace (#16)
		return c, w
	}
	if v.o.Ring.UpgradeSkew != "" || v.upgradeAcrossSeries() {
		if c, w := v.removedBeforeSeries(); c != nil || w != nil {
			return c, w
		}
		if c := v.roll(); c != nil {
			return c, nil
		}
		if c := v.rollRemoved(); c != nil {
			return c, nil
		}
	}
	if c, w := v.topology(); c != nil || w != nil {
		return c, w
	}
	if c := v.cleanupNext(); c != nil { // replace (#16)
		return c, nil
	}
	if c := v.roll(); c != nil {
		return c, nil
	}
	return v.upgradeSSTables(), nil
}

// topology is the next node to join or leave, datacenter by datacenter.
func (v *view) topology() (*candidate, *Wait) {
	for i := 0; i <= len(v.c.Spec.Datacenters); i++ {
		var racks []*rack
		for _, r := range v.racks {
			if r.dcIndex == i && r.live != nil {
				racks = append(racks, r)
			}
		}
		if c, w := v.grow(racks); c != nil || w != nil {
			return c, w
		}
		if c, w := v.beforeShrink(i); c != nil || w != nil { // #15: replication and rebuilds (datacenters.go)
			return c, w
		}
		if c, w := v.shrink(racks); c != nil || w != nil {
			return c, w
		}
		if c := v.afterShrink(i); c != nil { // #15: cleanups
			return c, nil
		}
	}
	return v.lastReplication() // #15: datacenters gone, still in a replication
}

// removedBeforeSeries: before a roll to another release series starts
// (the nodes run one series still), the nodes of racks the revision
// removed leave first: they do not roll, and could not leave a ring of two
// series.
func (v *view) removedBeforeSeries() (*candidate, *Wait) {
	var racks []*rack
	for _, r := range v.racks {
		if r.orphan() && r.live != nil && r.live.replicas > 0 {
			racks = append(racks, r)
		}
	}
	if len(racks) == 0 || len(v.podSeries()) > 1 {
		return nil, nil
	}
	i := len(v.c.Spec.Datacenters)
	if c, w := v.beforeShrink(i); c != nil || w != nil {
		return c, w
	}
	return v.shrink(racks)
}

// rollRemoved: once the ring runs two release series, the nodes of racks
// the revision removed on the older one cannot leave it: those with a
// template of the newer series staged (before their racks were removed)
// roll to it, after the others, then leave.
func (v *view) rollRemoved() *candidate {
	for _, r := range v.racks {
		if ord := r.nextRestart(); ord >= 0 && r.orphan() && len(v.podSeries()) > 1 {
			return v.restart(r, ord)
		}
	}
	return nil
}

// podSeries are the release series the pods run (their images').
func (v *view) podSeries() []string {
	seen := map[string]bool{}
	for _, r := range v.racks {
		for _, p := range r.pods {
			if s := releaseSeries(podImage(p)); s != "" && p.DeletionTimestamp == nil {
				seen[s] = true
			}
		}
	}
	return sortedKeys(seen)
}

// roll is the next pod to restart on its staged template, rack by rack.
func (v *view) roll() *candidate {
	for _, r := range v.racks {
		if ord := r.nextRestart(); ord >= 0 && !r.orphan() {
			return v.restart(r, ord)
		}
	}
	return nil
}

// decommissionInFlight: a marker the batch could not complete. The
// decommission runs (the node LEAVING, or not answering while the others
// have it leaving), or it failed and is tried again as decommissionFailure
// and retry say.
func (v *view) decommissionInFlight(r *rack) (*candidate, *Wait) {
	m := r.live.annotations[contract.AnnotationDecommission]
	ord, _ := ordinalOf(m, r.name)
	if ord != r.live.replicas-1 {
		return nil, &Wait{Reason: Blocked, Context: r.ctx, Message: fmt.Sprintf(
			"StatefulSet %s is marked as decommissioning %s, which is not its highest pod (%d replicas): check the node and remove the annotation %s by hand",
			r.name, m, r.live.replicas, contract.AnnotationDecommission)}
	}
	a := r.tries(opDecommission, m)
	if failure := v.decommissionFailure(r, m, a); failure != "" {
		return v.retry(r, ord, a, failure)
	}
	w := v.timed(Wait{Reason: RolloutInProgress, Context: r.ctx,
		Message: r.label() + ": decommission of " + m + " in flight (" + v.decommissionState(r, m) + ")"}, r.stepAt())
	return nil, &w
}

// grow picks, among a datacenter's racks below their node count, the one
// with the fewest nodes (the first such rack on a tie): every rack gets its
// first node before any gets a second, and none is ever more than one node
// ahead.
func (v *view) grow(racks []*rack) (*candidate, *Wait) {
	var pick *rack
	for _, r := range racks {
		if !r.orphan() && r.live.replicas < r.target && (pick == nil || r.live.replicas < pick.live.replicas) {
			pick = r
		}
	}
	if pick == nil {
		return nil, nil
	}
	if c := v.rollBeforeGrowth(pick); c != nil { // #20
		return c, nil
	}
	n := pick.live.replicas
	if pvc := pick.pvcs[n]; pvc != nil && pvc.Annotations[contract.AnnotationDecommissioned] != "" && pvc.DeletionTimestamp == nil {
		return nil, &Wait{Reason: Blocked, Context: pick.ctx, Message: fmt.Sprintf(
			"%s should grow to %d nodes, but PVC %s holds the decommissioned node %s and Cassandra will not start on it: delete it (kubectl --context %s -n %s delete pvc %s) or set spec.storage.deleteOnDecommission",
			pick.label(), n+1, pvc.Name, pick.podName(n), pick.ctx, pvc.Namespace, pvc.Name)}
	}
	reason := v.growReason(pick, racks)
	set := v.stamp(fmt.Sprintf("scale %d -> %d", n, n+1))
	tmpl, why, w := v.joinTemplate(pick, set)
	if w != nil {
		return nil, w
	}
	u := v.writeTemplate(pick, tmpl, n+1, pick.live.partition, set)
	return &candidate{r: pick, except: -1, desc: fmt.Sprintf("%s scale %d -> %d", pick.label(), n, n+1),
		step: Step{Action: ScaleStatefulSet, Context: pick.ctx, Target: refOf(pick.live.obj), Objects: objs(u),
			Pod: pick.podName(n), From: n, To: n + 1, Reason: reason + why}}, nil
}

// joinTemplate is the pod template the next node of r joins with: the
// one write would apply, unless its seed list does not fit the node
// (seedsFit); the effective list then replaces it, and the rack's pods
// that run restart on it later (a change note in set says so). why is
// for the step's reason.
func (v *view) joinTemplate(r *rack, set map[string]string) (tmpl any, why string, w *Wait) {
	pod := r.podName(r.live.replicas)
	if r.pinned() { // #20: the adopted template keeps its seeds where it has them (CassKop: its bootstrap container)
		tmpl, why, kept := v.adoptedJoin(r, pod, set)
		if e := v.effectiveList(); !kept && (e == "" || !v.seedsFit(e, pod)) && v.o.Ring.Assessed && v.o.Ring.Healthy {
			return v.noSeedToJoin(r, pod)
		}
		return tmpl, why, nil // else the ring gate holds the step
	}
	tmpl = v.templateFor(r)
	live, _ := SeedsOf(tmpl)
	if v.seedsFit(live, pod) {
		return tmpl, "", nil
	}
	e := v.effectiveList()
	if e == "" || !v.seedsFit(e, pod) {
		if !v.o.Ring.Assessed || !v.o.Ring.Healthy {
			return tmpl, "", nil // the ring gate holds the step
		}
		return v.noSeedToJoin(r, pod)
	}
	why = "; its seed list names " + pod + " itself, which would then skip its bootstrap"
	if !slices.ContainsFunc(SplitSeeds(live), func(s string) bool { return render.SeedPod(s) == pod }) {
		why = "; its seed list names no node that is up"
	}
	why += ": it gets the " + plural(len(SplitSeeds(e)), "joined node") + " instead"
	if n := r.live.replicas; n > 0 {
		why += fmt.Sprintf(", which the rack's %s take at their restart, after the topology change", plural(int(n), "other pod"))
		change := r.live.annotations[contract.AnnotationChange]
		if !strings.Contains(change, "seed list") {
			change = strings.TrimPrefix(change+", seed list "+seedCount(live)+" -> "+seedCount(e), ", ")
		}
		set[contract.AnnotationChange] = change
	}
	return WithSeeds(tmpl, e), why, nil
}

// noSeedToJoin: no node that has joined the ring is up to be the seed of
// the next node of r.
func (v *view) noSeedToJoin(r *rack, pod string) (any, string, *Wait) {
	return nil, "", &Wait{Reason: RingUnhealthy, Context: r.ctx, Message: fmt.Sprintf(
		"%s should join, but no node that has joined the ring is up to be its seed", pod)}
}

func (v *view) growReason(pick *rack, racks []*rack) string {
	if pick.live.replicas > 0 {
		return fmt.Sprintf("%s grows towards %d nodes (racks take turns, none more than one node ahead)", pick.label(), pick.target)
	}
	empty := true
	for _, r := range racks {
		empty = empty && r.live.replicas == 0
	}
	switch {
	case empty && pick.dcIndex == 0:
		return "bootstrap of the seed datacenter " + pick.dc + ": first node of rack " + pick.rack
	case empty:
		return "datacenter " + pick.dc + " joins: first node of rack " + pick.rack
	}
	return pick.label() + ": first node of the rack (one node per rack first)"
}

// shrink picks, among a datacenter's racks above their node count, the one
// with the most nodes (the last such rack on a tie), and removes its
// highest pod: by decommission, or directly when the node never joined.
func (v *view) shrink(racks []*rack) (*candidate, *Wait) {
	pick := shrinkPick(racks)
	if pick == nil {
		return nil, nil
	}
	n := pick.live.replicas
	m := pick.podName(n - 1)
	why := fmt.Sprintf("%s shrinks towards %d nodes", pick.label(), pick.target)
	if pick.orphan() {
		why = "datacenter " + pick.dc + " left the spec"
	}
	if v.neverJoined(m, pick.pods[n-1], false) {
		u := v.write(pick, n-1, min(pick.live.partition, n-1), v.stamp("remove "+m))
		return &candidate{r: pick, except: n - 1, desc: fmt.Sprintf("%s remove %s", pick.label(), m),
			step: Step{Action: ScaleStatefulSet, Context: pick.ctx, Target: refOf(pick.live.obj), Objects: objs(u),
				Pod: m, From: n, To: n - 1, Reason: why + ": " + m + " never joined the ring (not Ready, in no view), removed without decommission"}}, nil
	}
	if v.leavingAlready(m) {
		return v.unmarkedDecommission(pick, m)
	}
	return v.decommission(pick, why+": decommission "+m+", the highest pod of the rack with the most nodes", 1), nil
}

// shrinkPick is the rack shrink takes a node from (#15 asks it too).
func shrinkPick(racks []*rack) *rack {
	var pick *rack
	for _, r := range racks {
		if r.live.replicas > r.target && (pick == nil || r.live.replicas >= pick.live.replicas) {
			pick = r
		}
	}
	return pick
}

// decommission is try n of the decommission of a rack's highest pod.
func (v *view) decommission(r *rack, why string, n int) *candidate {
	m := r.podName(r.live.replicas - 1)
	set := v.tried(opDecommission, m, n, "decommission "+m)
	set[contract.AnnotationDecommission] = m
	u := v.write(r, r.live.replicas, r.live.partition, set)
	_, force := v.decommissionRefusal(v.dc(r.dc)) // #15: the last node of a datacenter that leaves
	if force {
		why += "; with force: system_auth keeps 1 replica in " + r.dc + " until its last node is gone (Cassandra refuses it otherwise), and leaves its replication then"
	}
	return &candidate{r: r, except: -1, desc: r.label() + " decommission " + m,
		step: Step{Action: Decommission, Context: r.ctx, Target: refOf(r.live.obj), Objects: objs(u), Pod: m,
			From: r.live.replicas, To: r.live.replicas - 1, Force: force, Reason: why}}
}

// restart lowers the partition of a rack to ord: the controller restarts
// that pod on the staged template.
func (v *view) restart(r *rack, ord int32) *candidate {
	pod := r.podName(ord)
	change := r.live.annotations[contract.AnnotationChange]
	if change == "" {
		change = "template change"
	}
	left := int32(0)
	for o := int32(0); o < min(r.live.partition, r.live.replicas); o++ {
		if !r.updated(o) {
			left++
		}
	}
	u := v.write(r, r.live.replicas, ord, v.stamp("restart "+pod))
	s := Step{Action: RestartPod, Context: r.ctx, Target: refOf(r.live.obj), Objects: objs(u), Pod: pod,
		From: r.live.partition, To: ord,
		Reason: fmt.Sprintf("%s: rolling %s one pod at a time (%d left in the rack), racks in turn, seed datacenter first", change, r.label(), left)}
	if p := r.pods[ord]; !podReady(p) && p.DeletionTimestamp == nil {
		s.DeletePod = string(p.UID)
		s.Reason += "; " + pod + " is down and the controller would wait for it forever: it is deleted, its volume kept"
	}
	return &candidate{r: r, except: ord, desc: r.label() + " restart " + pod, step: s}
}

// gate lets a candidate go, or says why it waits: something in flight,
// paused, outside the windows, the ring unhealthy, the ring settling.
func (v *view) gate(c *candidate) *Wait {
	for _, r := range v.racks {
		except := int32(-1)
		if r == c.r {
			except = c.except
		}
		if a := v.busyBut(r, except, c.lost); a != nil { // replace (#16): c.lost
			w := v.waitBusy(c, r, a)
			return &w
		}
	}
	ro := v.c.Spec.Rollout
	if ro != nil && ro.Paused {
		return &Wait{Reason: Paused, Context: c.r.ctx, Message: "spec.rollout.paused is set; next: " + c.desc}
	}
	if ro != nil {
		open, at, err := windowOpen(ro.Windows, v.now)
		switch {
		case err != nil:
			return &Wait{Reason: Blocked, Message: err.Error()}
		case !open:
			return &Wait{Reason: OutsideWindow, Context: c.r.ctx, Until: at, Message: "no change window is open" + nextWindow(at) + "; next: " + c.desc}
		}
	}
	return v.gateRing(c)
}

func nextWindow(at time.Time) string {
	if at.IsZero() {
		return ""
	}
	return " (the next opens " + at.Format(time.RFC3339) + ")"
}

// gateRing: the ring must be healthy and settled, unless its only
// problem is the node the step is about, down already.
func (v *view) gateRing(c *candidate) *Wait {
	rg := v.o.Ring
	if rg.Assessed && !rg.Healthy && c.except >= 0 {
		pod := c.r.podName(c.except)
		if !podReady(c.r.pods[c.except]) && v.onlyAbout(pod, c.also...) {
			return nil
		}
	}
	if !rg.Assessed || (!rg.Healthy && !v.skewTolerated(c)) {
		_, last := v.lastStep()
		since := last
		if rg.Since.After(since) {
			since = rg.Since
		}
		w := v.timed(v.ringWait(c), since)
		return &w
	}
	if v.settle > 0 && !rg.Since.IsZero() && v.now.Sub(rg.Since) < v.settle {
		return &Wait{Reason: Settling, Context: c.r.ctx, Since: rg.Since, Message: fmt.Sprintf(
			"ring healthy since %s, settling for %s; next: %s", rg.Since.UTC().Format(time.RFC3339), v.settle, c.desc)}
	}
	return nil
}

// ringWait is RingUnhealthy, or WaitingForRegion when every node the
// problems name is in an earlier datacenter than the step's.
func (v *view) ringWait(c *candidate) Wait {
	summary := v.ringSummary()
	if r := v.problemRack(); r != nil && r.dcIndex < c.r.dcIndex {
		return Wait{Reason: WaitingForRegion, Context: c.r.ctx,
			Message: fmt.Sprintf("%s (%s) waits for %s (%s): %s", c.r.dc, c.r.ctx, r.dc, r.ctx, summary)}
	}
	return Wait{Reason: RingUnhealthy, Context: c.r.ctx, Message: c.desc + ", waiting for the ring: " + summary}
}

// problemRack is the latest rack (in rollout order) of the nodes the ring
// problems name, nil if a problem names none or an unknown one.
func (v *view) problemRack() *rack {
	var last *rack
	for _, p := range v.o.Ring.Problems {
		if len(p.Nodes) == 0 {
			return nil
		}
		for _, n := range p.Nodes {
			r := v.rackOf(n)
			if r == nil {
				return nil
			}
			if last == nil || r.dcIndex > last.dcIndex {
				last = r
			}
		}
	}
	return last
}

func (v *view) rackOf(pod string) *rack {
	for _, r := range v.racks {
		if _, ok := ordinalOf(pod, r.name); ok {
			return r
		}
	}
	return nil
}

func (v *view) ringSummary() string {
	rg := v.o.Ring
	switch {
	case !rg.Assessed && rg.Summary == "":
		return "the ring could not be read"
	case !rg.Assessed:
		return "the ring could not be read: " + rg.Summary
	case rg.Summary != "":
		return rg.Summary
	case len(rg.Problems) > 0:
		texts := make([]string, 0, len(rg.Problems))
		for _, p := range rg.Problems {
			texts = append(texts, p.Text)
		}
		return strings.Join(texts, "; ")
	}
	return "unhealthy"
}

func (v *view) waitBusy(c *candidate, r *rack, a *activity) Wait {
	_, last := v.lastStep()
	if r.dcIndex < c.r.dcIndex {
		return v.timed(Wait{Reason: WaitingForRegion, Context: c.r.ctx,
			Message: fmt.Sprintf("%s (%s) waits for %s (%s): %s", c.r.dc, c.r.ctx, r.dc, r.ctx, a.what)}, last)
	}
	msg := r.ctx + ": "
	if step := r.lastStepName(); step != "" {
		msg += r.label() + " " + step + ": "
	}
	return v.timed(Wait{Reason: RolloutInProgress, Context: r.ctx, Message: msg + a.what + "; next: " + c.desc}, last)
}

func (r *rack) lastStepName() string {
	if r.live == nil {
		return ""
	}
	return r.live.annotations[contract.AnnotationStep]
}

// idle is the wait when no step is left: converged, or something still in
// flight, or the ring unhealthy.
func (v *view) idle() Wait {
	_, last := v.lastStep()
	for _, r := range v.racks {
		if a := v.busy(r, -1); a != nil {
			msg := r.ctx + ": "
			if step := r.lastStepName(); step != "" {
				msg += r.label() + " " + step + ": "
			}
			return v.timed(Wait{Reason: RolloutInProgress, Context: r.ctx, Message: msg + a.what}, last)
		}
	}
	rg := v.o.Ring
	if !rg.Assessed || !rg.Healthy {
		since := last
		if rg.Since.After(since) {
			since = rg.Since
		}
		return v.timed(Wait{Reason: RingUnhealthy, Message: "no step left, but " + v.ringSummary()}, since)
	}
	nodes := int32(0)
	for _, r := range v.racks {
		nodes += r.target
	}
	return Wait{Reason: Converged, Message: fmt.Sprintf("%s in %s, every StatefulSet at its replicas and template, ring healthy",
		plural(int(nodes), "node"), plural(len(v.racks), "rack"))}
}

// timed turns a wait into HealthTimeout when it has lasted longer than
// spec.rollout.healthTimeout since it began (since).
func (v *view) timed(w Wait, since time.Time) Wait {
	w.Since = since
	if since.IsZero() || v.healthTimeout <= 0 {
		return w
	}
	if d := v.now.Sub(since); d > v.healthTimeout {
		w.Reason = HealthTimeout
		w.Message += fmt.Sprintf(" (waiting for %s, more than healthTimeout %s)", d.Round(time.Second), v.healthTimeout)
	}
	return w
}

func objs(u ...*unstructured.Unstructured) []*unstructured.Unstructured { return u }
