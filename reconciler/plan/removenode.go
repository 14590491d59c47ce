package plan

import (
	"fmt"
	"strings"

	"github.com/ringops/ringops/schemas"
)

// Removals of dead nodes asked for in Git (replace, #16): spec.operations
// [{removeNode: <pod>, hostID: <id>}], for a node ringops cannot replace
// (its data is held nowhere else) or will not (the user chose). Never
// automatic, only for the host ID the request names, once: the record
// (nodes.go, key "removed") keeps each removal sent, with the revision
// that asked, so that neither a restarted daemon nor a later revision
// still carrying the request sends it again.
//
//	requested, host ID down in the ring     RemoveNode (through a live node of its datacenter), recorded first
//	requested, host ID up                   Blocked: only a dead node is removed
//	requested, host ID not in the ring      nothing (it left, or never was)
//	sent, the node leaving in the views     wait: its data re-replicates
//	sent, still in the ring, not leaving    after StartGrace, sent again (MaxAttempts in all), then Blocked
//	sent, gone from the ring                done: the lost pod bootstraps as a new node (replace.go)

// removal is one request of spec.operations.
type removal struct {
	index int
	op    schemas.Operation
}

// requests lists spec.operations' removals.
func (v *view) requests() []removal {
	var out []removal
	for i, op := range v.c.Spec.Operations {
		if op.RemoveNode != "" && op.HostID != "" {
			out = append(out, removal{index: i, op: op})
		}
	}
	return out
}

// requested reports whether spec.operations asks to remove a host ID.
func (v *view) requested(hostID string) bool {
	for _, rq := range v.requests() {
		if strings.EqualFold(rq.op.HostID, hostID) {
			return true
		}
	}
	return false
}

// sent is the record of a removal carried out, and the record's context.
func (v *view) sent(hostID string) (*removedLine, string) {
	for _, rec := range v.recordsInOrder() {
		if r := rec.removed[strings.ToLower(hostID)]; r != nil {
			return r, rec.ctx
		}
	}
	return nil, ""
}

// removals is the next step of the removals asked for: one in flight is
// followed (or sent again), then the first one due is sent.
func (v *view) removals(lost []*lostNode) (*candidate, *Wait) {
	for _, rq := range v.requests() {
		if sent, _ := v.sent(rq.op.HostID); sent != nil && v.hostInRing(rq.op.HostID, "") {
			return v.removalInFlight(rq, sent)
		}
	}
	for _, rq := range v.requests() {
		if sent, _ := v.sent(rq.op.HostID); sent != nil {
			continue // carried out
		}
		pod, at, ok := v.findHost(rq.op.HostID, "")
		switch {
		case !ok:
			continue // nothing to remove
		case !at.State.Down():
			where := at.Address
			if pod != "" {
				where = pod + ", " + where
			}
			return nil, &Wait{Reason: Blocked, Message: fmt.Sprintf(
				"spec.operations[%d] asks to remove host ID %s (%s), which is up (%s): ringops removes only a dead node; remove the request, or decommission that node by lowering its rack's node count",
				rq.index, rq.op.HostID, where, at.State)}
		}
		return v.removeNode(rq, at, 1)
	}
	return nil, nil
}

// removeNode is try n of a requested removal.
func (v *view) removeNode(rq removal, dead RingEndpoint, n int) (*candidate, *Wait) {
	r := v.rackOf(rq.op.RemoveNode)
	if r == nil || r.live == nil || !r.reachable {
		return nil, &Wait{Reason: Blocked, Message: fmt.Sprintf("spec.operations[%d] names %s, whose StatefulSet is not there to record the removal", rq.index, rq.op.RemoveNode)}
	}
	ord, _ := ordinalOf(rq.op.RemoveNode, r.name)
	if l := v.lineOf(r, ord); l != nil && !strings.EqualFold(l.host, rq.op.HostID) && v.hostInRing(l.host, "") {
		return nil, &Wait{Reason: Blocked, Context: r.ctx, Message: fmt.Sprintf(
			"spec.operations[%d] asks to remove host ID %s for %s, but ringops recorded %s's node as host ID %s: check the request (ringops removes only the host ID it names)",
			rq.index, rq.op.HostID, rq.op.RemoveNode, rq.op.RemoveNode, l.host)}
	}
	via := v.removalVia(r.dc)
	if via == "" {
		return nil, &Wait{Reason: RingUnhealthy, Context: r.ctx, Message: "no node that has joined the ring is up to remove host ID " + rq.op.HostID}
	}
	rec := v.record(r.ctx).clone()
	rec.removed[strings.ToLower(rq.op.HostID)] = &removedLine{host: rq.op.HostID, pod: rq.op.RemoveNode, revision: v.d.Revision, at: v.now, attempt: n}
	u := v.write(r, r.live.replicas, r.live.partition, v.stamp("remove node "+rq.op.HostID))
	reason := fmt.Sprintf("spec.operations[%d] of revision %s: nodetool removenode %s, the dead node of %s (%s, %s)",
		rq.index, orDash(v.d.Revision), rq.op.HostID, rq.op.RemoveNode, dead.Address, v.downFor(dead))
	if rq.op.Reason != "" {
		reason += ", because: " + rq.op.Reason
	}
	reason += "; its ranges are re-replicated from their other replicas, then " + rq.op.RemoveNode + " bootstraps as a new node"
	if n > 1 {
		reason += fmt.Sprintf("; attempt %d of %d", n, MaxAttempts)
	}
	s := Step{Action: RemoveNode, Context: r.ctx, Target: refOf(r.live.obj), Objects: objs(v.recordObject(rec), u),
		Pod: rq.op.RemoveNode, HostID: rq.op.HostID, Via: via, Reason: reason}
	c := &candidate{r: r, except: ord, also: []string{dead.Address, rq.op.HostID}, desc: r.label() + " removenode " + rq.op.HostID, step: s}
	v.tolerateLost(c, rq.op.RemoveNode, false) // replace.go
	return c, nil
}

// removalVia is the node that removes a dead one: a joined node of its
// datacenter, else of any.
func (v *view) removalVia(dc string) string {
	s := v.seeds()
	for _, pass := range []bool{true, false} {
		for _, r := range v.racks {
			if pass && r.dc != dc {
				continue
			}
			for _, ord := range sortedOrdinals(r.pods) {
				if pod := r.podName(ord); s.joined[pod] {
					return pod
				}
			}
		}
	}
	return ""
}

// removalInFlight follows a removal sent whose node is still in the ring.
func (v *view) removalInFlight(rq removal, sent *removedLine) (*candidate, *Wait) {
	_, at, _ := v.findHost(rq.op.HostID, "")
	r := v.rackOf(rq.op.RemoveNode)
	ctx := ""
	if r != nil {
		ctx = r.ctx
	}
	if at.State.Leaving() || v.now.Sub(sent.at) < StartGrace {
		w := v.timed(Wait{Reason: RolloutInProgress, Context: ctx, Message: fmt.Sprintf(
			"removal of host ID %s (%s, the dead node of %s) in flight since %s: its data re-replicates (%s)",
			rq.op.HostID, at.Address, rq.op.RemoveNode, stamp(sent.at), at.State)}, sent.at)
		return nil, &w
	}
	failure := "it did not start, or stopped (the node is " + at.State.String() + ", not leaving)"
	if sent.attempt >= MaxAttempts {
		return nil, &Wait{Reason: Blocked, Context: ctx, Message: fmt.Sprintf(
			"host ID %s (%s) could not be removed: %s, after %s; see the log of the node that ran it, fix the cause, then run nodetool removenode %s (or nodetool removenode force, which gives up re-replicating) on a live node",
			rq.op.HostID, at.Address, failure, plural(sent.attempt, "attempt"), rq.op.HostID)}
	}
	if next := sent.at.Add(backoff(sent.attempt)); v.now.Before(next) {
		w := v.timed(Wait{Reason: RolloutInProgress, Context: ctx, Message: fmt.Sprintf(
			"removal of host ID %s: %s; attempt %d of %d at %s", rq.op.HostID, failure, sent.attempt+1, MaxAttempts, stamp(next))}, sent.at)
		return nil, &w
	}
	return v.removeNode(rq, at, sent.attempt+1)
}
