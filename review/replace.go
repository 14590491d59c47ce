package review

import (
	"fmt"
	"strings"
)

// Cleanups after growth and removals of dead nodes (replace, #16), as
// the planner carries them out (reconciler/plan cleanup.go,
// removenode.go): after nodes join an existing datacenter, its older
// nodes are cleaned up one at a time (spec.rollout.cleanupAfterScaleUp,
// cleanupJobs); a removal newly asked in spec.operations is carried out
// once, only for its host ID and only while that node is down.

// cleanupAfter is the cleanup that follows a datacenter's growth.
func (ch *change) cleanupAfter(racks []*rackChange) (Operation, bool) {
	var older []string
	for _, r := range racks {
		if !r.inBase {
			continue
		}
		sts := ch.head.spec.StatefulSetName(r.dc, r.rack)
		for ord := int32(0); ord < min(r.base, r.head); ord++ {
			older = append(older, fmt.Sprintf("%s-%d", sts, ord))
		}
	}
	if len(older) == 0 {
		return Operation{}, false
	}
	r0 := racks[0]
	c := ch.head.spec
	if !c.CleanupAfterScaleUp() {
		return Operation{Kind: Cleanup, Context: r0.ctx, Datacenter: r0.dc, Text: fmt.Sprintf(
			"%s (%s): no cleanup after the growth (spec.rollout.cleanupAfterScaleUp: false): its %s keep the data of the ranges they give away until nodetool cleanup",
			r0.dc, r0.ctx, plural(len(older), "older node"))}, true
	}
	text := fmt.Sprintf("%s (%s): then cleanup of its %s, %s at once (spec.rollout.cleanupJobs), once the growth is done and the ring healthy: they drop the data of the ranges they gave away%s",
		r0.dc, r0.ctx, plural(len(older), "older node"), plural(int(c.CleanupJobs()), "table"), podList(older))
	return Operation{Kind: Cleanup, Context: r0.ctx, Datacenter: r0.dc, Nodes: len(older), Pods: older, Text: text}, true
}

// removalOps: the removals spec.operations asks for at head and not at
// base.
func (ch *change) removalOps() []Operation {
	asked := map[string]bool{}
	if ch.base != nil {
		for _, op := range ch.base.spec.Spec.Operations {
			asked[strings.ToLower(op.HostID)] = true
		}
	}
	var ops []Operation
	for _, op := range ch.head.spec.Spec.Operations {
		if op.RemoveNode == "" || asked[strings.ToLower(op.HostID)] {
			continue
		}
		text := fmt.Sprintf("removenode %s, the dead node of %s: once, only that host ID and only while it is down (ringops refuses a live node); its ranges are re-replicated from their other replicas, then %s bootstraps as a new node",
			op.HostID, op.RemoveNode, op.RemoveNode)
		if op.Reason != "" {
			text += "; reason: " + op.Reason
		}
		ops = append(ops, Operation{Kind: RemoveNode, Nodes: 1, Pods: []string{op.RemoveNode}, Text: text})
	}
	return ops
}
