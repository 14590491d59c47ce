package review

import (
	"fmt"
	"strings"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/schemas"
)

// Removals of dead nodes (replace, #16) as spec.operations asks them: the
// replay loses the named pod's volume once base has converged (the node
// stays in the ring, down, with the host ID the request names), and the
// planner's RemoveNode steps are described; it carries one out once, only
// for its host ID and only while that node is down.

// removalOps: the dead nodes the planner removes (rn), one operation each.
func (ch *change) removalOps(rn *run) []Operation {
	var ops []Operation
	for _, s := range rn.steps {
		text := fmt.Sprintf("removenode %s, the dead node of %s: once, only that host ID and only while it is down (ringops refuses a live node); its ranges are re-replicated from their other replicas, then %s bootstraps as a new node",
			s.HostID, s.Pod, s.Pod)
		if op := ch.removalAsked(s.HostID); op != nil && op.Reason != "" {
			text += "; reason: " + op.Reason
		}
		ops = append(ops, Operation{Kind: RemoveNode, Context: s.Context, Nodes: 1, Pods: []string{s.Pod}, Text: text})
	}
	return ops
}

// removalAsked is head's request to remove a host ID, nil for none.
func (ch *change) removalAsked(hostID string) *schemas.Operation {
	for i, op := range ch.head.spec.Spec.Operations {
		if op.RemoveNode != "" && strings.EqualFold(op.HostID, hostID) {
			return &ch.head.spec.Spec.Operations[i]
		}
	}
	return nil
}

// removalsNotTaken: removals head asks for and base does not, of which
// the replay took no step (no node of the pod was in the ring).
func (ch *change) removalsNotTaken() []Operation {
	asked := map[string]bool{}
	if ch.base != nil {
		for _, op := range ch.base.spec.Spec.Operations {
			asked[strings.ToLower(op.HostID)] = true
		}
	}
	for _, s := range ch.steps {
		if s.Action == plan.RemoveNode {
			asked[strings.ToLower(s.HostID)] = true
		}
	}
	var ops []Operation
	for _, op := range ch.head.spec.Spec.Operations {
		if op.RemoveNode == "" || asked[strings.ToLower(op.HostID)] {
			continue
		}
		ops = append(ops, Operation{Kind: RemoveNode, Pods: []string{op.RemoveNode}, Text: fmt.Sprintf(
			"removenode %s, asked for %s: the planner removes nothing in the replay (%s has no node in the ring at base); it removes only that host ID, once, while it is down",
			op.HostID, op.RemoveNode, op.RemoveNode)})
	}
	return ops
}
