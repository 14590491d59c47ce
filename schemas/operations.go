package schemas

import (
	"fmt"
	"strconv"
	"strings"
)

// Defaults of the cleanup after growth (spec.rollout).
const (
	// DefaultCleanupAfterScaleUp: the older nodes of a datacenter that
	// grew are cleaned up.
	DefaultCleanupAfterScaleUp = true
	// DefaultCleanupJobs is the jobs argument of forceKeyspaceCleanup:
	// one table at a time, the least load on a node that serves clients.
	DefaultCleanupJobs = int32(1)
	// MaxCleanupJobs bounds spec.rollout.cleanupJobs (Cassandra caps the
	// jobs at its concurrent_compactors anyway).
	MaxCleanupJobs = 32
	// MaxOperations bounds spec.operations: one-off requests, removed once
	// done.
	MaxOperations = 16
	// MaxOperationReason bounds an operation's reason, which goes into
	// commit statuses and the record in the cluster.
	MaxOperationReason = 200
)

// Operation is a one-off request on a node: something ringops never does
// on its own. Each is carried out once, for the revision that carries it
// first, and recorded in the cluster so that a restarted daemon (or a
// later revision still carrying it) never repeats it.
type Operation struct {
	RemoveNode string `json:"removeNode" doc:"Pod whose dead node leaves the ring by nodetool removenode (its data is re-replicated from the other replicas), e.g. orders-dc1-r2-1; the pod then bootstraps as a new node. For a node ringops cannot replace (its data has no other replica), as its status says."`
	HostID     string `json:"hostID" doc:"Host ID of that dead node, as ringops status and the rollout's status show it: only this host ID is removed, and only while it is down."`
	Reason     string `json:"reason,omitempty" doc:"Why, in a sentence: it goes into the commit status and the record of the operation."`
}

// CleanupAfterScaleUp is spec.rollout.cleanupAfterScaleUp of a defaulted
// spec.
func (c *CassandraCluster) CleanupAfterScaleUp() bool {
	if r := c.Spec.Rollout; r != nil && r.CleanupAfterScaleUp != nil {
		return *r.CleanupAfterScaleUp
	}
	return DefaultCleanupAfterScaleUp
}

// CleanupJobs is spec.rollout.cleanupJobs of a defaulted spec.
func (c *CassandraCluster) CleanupJobs() int32 {
	if r := c.Spec.Rollout; r != nil && r.CleanupJobs != nil {
		return *r.CleanupJobs
	}
	return DefaultCleanupJobs
}

// defaultOperations fills spec.rollout's cleanup fields.
func (c *CassandraCluster) defaultOperations() {
	r := c.Spec.Rollout
	if r.CleanupAfterScaleUp == nil {
		r.CleanupAfterScaleUp = ptr(DefaultCleanupAfterScaleUp)
	}
	if r.CleanupJobs == nil {
		r.CleanupJobs = ptr(DefaultCleanupJobs)
	}
}

// operations checks spec.operations and the cleanup fields.
func (v *validator) operations() {
	if r := v.c.Spec.Rollout; r != nil && r.CleanupJobs != nil && (*r.CleanupJobs < 1 || *r.CleanupJobs > MaxCleanupJobs) {
		v.add("spec.rollout.cleanupJobs", "%d is out of range: 1 to %d tables cleaned up at once (default %d)", *r.CleanupJobs, MaxCleanupJobs, DefaultCleanupJobs)
	}
	ops := v.c.Spec.Operations
	if len(ops) > MaxOperations {
		v.add(fmt.Sprintf("spec.operations[%d]", MaxOperations), "%d operations are too many: at most %d; remove those that are done", len(ops), MaxOperations)
		ops = ops[:MaxOperations]
	}
	seen := map[string]int{}
	for i, op := range ops {
		p := fmt.Sprintf("spec.operations[%d]", i)
		v.removeNodePod(p+".removeNode", op.RemoveNode)
		switch id := strings.ToLower(op.HostID); {
		case op.HostID == "":
			v.add(p+".hostID", "required: the host ID of the dead node to remove, as ringops status shows it")
		case !IsHostID(op.HostID):
			v.add(p+".hostID", "%q is not a host ID; write the node's UUID, e.g. 5d1e2f3a-9b8c-4d7e-a6f5-0123456789ab", truncate(op.HostID, 40))
		default:
			if j, dup := seen[id]; dup {
				v.add(p+".hostID", "%s is already named by spec.operations[%d]; remove a node once", id, j)
			}
			seen[id] = i
		}
		switch {
		case len(op.Reason) > MaxOperationReason:
			v.add(p+".reason", "%d characters are too many: at most %d", len(op.Reason), MaxOperationReason)
		case strings.ContainsFunc(op.Reason, isControl) || strings.ContainsAny(op.Reason, "\n\r"):
			v.add(p+".reason", "contains a control character or a line break; write one line of printable text")
		}
	}
}

// removeNodePod checks that a removeNode names a pod of a rack of the
// spec: <cluster>-<dc>-<rack>-<ordinal>.
func (v *validator) removeNodePod(p, pod string) {
	if pod == "" {
		v.add(p, "required: the pod whose dead node to remove, e.g. %s", v.c.StatefulSetName("dc1", "r1")+"-1")
		return
	}
	for _, dc := range v.c.Spec.Datacenters {
		for _, r := range dc.Racks {
			rest, ok := strings.CutPrefix(pod, v.c.StatefulSetName(dc.Name, r.Name)+"-")
			if n, err := strconv.Atoi(rest); ok && err == nil && n >= 0 && strconv.Itoa(n) == rest {
				return
			}
		}
	}
	v.add(p, "%q is no pod of this cluster: write <statefulset>-<ordinal> of one of its racks, e.g. %s", truncate(pod, 64), v.c.StatefulSetName("dc1", "r1")+"-1")
}

// IsHostID reports whether s is a host ID as Cassandra prints it: a UUID
// in its 8-4-4-4-12 hexadecimal form (either case).
func IsHostID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'):
			return false
		}
	}
	return true
}
