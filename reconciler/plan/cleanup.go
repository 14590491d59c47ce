package plan

import (
	"fmt"
	"strings"
	"time"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/ring"
)

// Cleanup after growth (replace, #16). Once a datacenter was complete
// (the record notes when, nodes.go), a node that joins it takes ranges
// from the older nodes, which keep their data until `nodetool cleanup`
// drops it. After the topology of every datacenter is done, each older
// node of a datacenter that grew is cleaned up, one at a time in rollout
// order, gated like any disruptive step (the ring healthy, nothing else in
// flight), never during a range movement (a cleanup in flight holds every
// other disruptive step), with spec.rollout.cleanupJobs tables at once,
// unless spec.rollout.cleanupAfterScaleUp is false. A node needs it when
// a node of its datacenter joined after the datacenter was complete, and
// after the node itself joined and was last cleaned up:
//
//	due ──Cleanup (attempt stamped)──▶ cleaning (a cleanup compaction runs)
//	cleaning ──no cleanup running, one seen since the stamp──▶ the record: cleaned=<now>
//	sent, none seen after StartGrace ──▶ tried again (MaxAttempts in all), then Blocked
//
// A replacement keeps the joined time of the node it replaces (it holds
// the same ranges): it makes no cleanup due. The action is jolokia.Operations'
// Cleanup, one reusable operation (a lower replication factor needs it
// too).

// grownAt is the latest join into a complete datacenter: zero when the
// datacenter did not grow since it was complete.
func (v *view) grownAt(kc, dc string) time.Time {
	rec := v.record(kc)
	complete, ok := rec.dcs[dc]
	if !ok {
		return time.Time{}
	}
	var last time.Time
	for _, r := range v.racks {
		if r.ctx != kc || r.dc != dc {
			continue
		}
		for _, l := range rec.racks[r.name] {
			if l.joined.After(complete) && l.joined.After(last) {
				last = l.joined
			}
		}
	}
	return last
}

// cleanupDue reports whether the node at ord of r needs a cleanup.
func (v *view) cleanupDue(r *rack, ord int32) bool {
	l := v.lineOf(r, ord)
	if l == nil {
		return false
	}
	g := v.grownAt(r.ctx, r.dc)
	return !g.IsZero() && l.joined.Before(g) && l.cleaned.Before(g)
}

// cleanupNext is the first node due for a cleanup, in rollout order.
func (v *view) cleanupNext() *candidate {
	if !v.c.CleanupAfterScaleUp() {
		return nil
	}
	for _, r := range v.racks {
		if r.live == nil || r.orphan() || !r.reachable {
			continue
		}
		for ord := int32(0); ord < r.live.replicas; ord++ {
			if n, _ := v.joinedNode(r, ord); n == nil || !v.cleanupDue(r, ord) {
				continue
			}
			left := v.cleanupsLeft(r.dc)
			why := fmt.Sprintf("datacenter %s grew (a node joined at %s): cleanup of its older nodes, one at a time (%d left), %s at once: %s drops the data of the ranges it gave away",
				r.dc, stamp(v.grownAt(r.ctx, r.dc)), left, plural(int(v.c.CleanupJobs()), "table"), r.podName(ord))
			c := v.operation(r, ord, Cleanup, v.tried(opCleanup, r.podName(ord), 1, "cleanup "+r.podName(ord)), why)
			c.step.Jobs = v.c.CleanupJobs()
			return c
		}
	}
	return nil
}

// cleanupsLeft counts the nodes of a datacenter due for a cleanup.
func (v *view) cleanupsLeft(dc string) int {
	n := 0
	for _, r := range v.racks {
		if r.dc != dc || r.live == nil || r.orphan() {
			continue
		}
		for ord := int32(0); ord < r.live.replicas; ord++ {
			if v.cleanupDue(r, ord) {
				n++
			}
		}
	}
	return n
}

// cleanupDone: the cleanup tried at a was seen (running, or answered
// done) since, and runs no more.
func cleanupDone(n RingNode, a attempt) bool {
	return !n.CleanupRunning && !n.CleanupSeen.IsZero() && !n.CleanupSeen.Before(a.at)
}

// recordCleanup records the end of a rack's cleanup: cleaned=<now> on its
// node's line.
func (v *view) recordCleanup(lines map[int32]*nodeLine, r *rack) string {
	a := r.attemptOf()
	if a.op != opCleanup {
		return ""
	}
	ord, ok := ordinalOf(a.pod, r.name)
	l := lines[ord]
	if !ok || l == nil || !l.cleaned.Before(a.at) || !cleanupDone(v.o.Ring.Nodes[a.pod], a) {
		return ""
	}
	l.cleaned = v.now
	return a.pod + " cleaned up"
}

// cleanupInFlight: a cleanup tried on a rack's pod that the record does
// not have done yet runs (a cleanup compaction), or was sent within
// StartGrace; else it did not run, and is tried again.
func (v *view) cleanupInFlight() (*candidate, *Wait) {
	for _, r := range v.racks {
		a := r.attemptOf()
		if a.op != opCleanup || r.live == nil {
			continue
		}
		ord, ok := ordinalOf(a.pod, r.name)
		l := v.lineOf(r, ord)
		n := v.o.Ring.Nodes[a.pod]
		if !ok || ord >= r.live.replicas || l == nil || !l.cleaned.Before(a.at) || cleanupDone(n, a) {
			continue
		}
		if !n.CleanupRunning && v.now.Sub(a.at) >= StartGrace && n.Mode == ring.ModeNormal {
			return v.retry(r, ord, a, "it did not run (no cleanup compaction seen since it was sent)")
		}
		state := "sent at " + stamp(a.at)
		if n.CleanupRunning {
			state = "cleanup compactions running"
		}
		w := v.timed(Wait{Reason: RolloutInProgress, Context: r.ctx, Message: fmt.Sprintf("%s: cleanup of %s in flight (%s)", r.label(), a.pod, state)}, a.at)
		return nil, &w
	}
	return nil, nil
}

// OperationPods lists the pods of a cluster a long operation was tried on
// (contract.AnnotationAttempt of their StatefulSet): the executor reads their
// progress at every observation, so that a cleanup or a rebuild (#15),
// which leaves no other trace than its compactions or streams, is followed
// (RingNode.CleanupRunning, Tasks, NoProgressSince).
func OperationPods(cluster string, o *Observed) map[string]bool {
	out := map[string]bool{}
	for _, kc := range sortedKeys(o.Contexts) {
		oc := o.Contexts[kc]
		if oc == nil || oc.Err != nil {
			continue
		}
		for _, u := range indexContext(oc, cluster).sts {
			if f := strings.Fields(u.GetAnnotations()[contract.AnnotationAttempt]); len(f) == 3 {
				out[f[1]] = true
			}
		}
	}
	return out
}
