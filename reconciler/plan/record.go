package plan

import (
	"fmt"
	"time"
)

// RecordedNode is one node of the record <cluster>-nodes (nodes.go), for
// readers outside the planner (`ringops status`).
type RecordedNode struct {
	Pod, HostID, Address string
	// Replace is the address the pod replaces at its next start, JoinNew
	// whether it bootstraps as a new node (its dead node was removed).
	Replace string
	JoinNew bool
}

// RecordedNodes parses the data of a record ConfigMap, sorted by pod.
func RecordedNodes(data map[string]string) []RecordedNode {
	rec := &record{racks: map[string]map[int32]*nodeLine{}, dcs: map[string]time.Time{}, removed: map[string]*removedLine{}}
	for _, k := range sortedKeys(data) {
		rec.parse(k, data[k])
	}
	var out []RecordedNode
	for _, sts := range sortedKeys(rec.racks) {
		for _, ord := range sortedOrdinals(rec.racks[sts]) {
			l := rec.racks[sts][ord]
			out = append(out, RecordedNode{Pod: fmt.Sprintf("%s-%d", sts, ord), HostID: l.host, Address: l.address,
				Replace: l.replace, JoinNew: l.joinNew})
		}
	}
	return out
}

// DeadNodeAction says what ringops does about a node the ring has down,
// given the record's node with its host ID (nil when none has it).
func DeadNodeAction(hostID string, n *RecordedNode) string {
	switch {
	case n == nil:
		return "no node ringops recorded has host ID " + hostID + ": ringops leaves it alone (nodetool removenode " + hostID + " on a live node, if it is gone for good)"
	case n.Replace != "":
		return fmt.Sprintf("%s is replacing it (replace_address_first_boot=%s): it streams that node's ranges from their other replicas", n.Pod, n.Replace)
	case n.JoinNew:
		return n.Pod + " bootstraps as a new node (this host ID was removed)"
	}
	return fmt.Sprintf("it is %s's node: if that pod came back on a new data volume, ringops replaces it (replace_address_first_boot=%s, one node at a time, the rest of the ring healthy), "+
		"or, when no other replica holds its data, says so in the rollout's status and waits for {removeNode: %s, hostID: %s} in spec.operations; if the pod kept its volume, ringops waits for the node to come back",
		n.Pod, n.Address, n.Pod, hostID)
}
