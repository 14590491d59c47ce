package review

import (
	"fmt"
	"strings"
)

// Removals of dead nodes (replace, #16) as spec.operations asks them:
// the planner carries one out once, only for its host ID and only while
// that node is down, which a review of two trees cannot see happen.

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
