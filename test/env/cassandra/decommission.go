package cassandra

import (
	"fmt"
	"slices"
	"time"

	"github.com/ringops/ringops/test/env/jolokia"
)

// Java exception classes the StorageService operations throw.
const (
	javaUnsupported     = "java.lang.UnsupportedOperationException"
	javaIllegalState    = "java.lang.IllegalStateException"
	javaIllegalArgument = "java.lang.IllegalArgumentException"
	javaRuntime         = "java.lang.RuntimeException"
)

func jmxErr(typ, format string, args ...any) *jolokia.JMXError {
	return &jolokia.JMXError{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// decomPhase is where a decommission is.
type decomPhase int

const (
	decomStreaming  decomPhase = iota + 1 // LEAVING, streaming data away
	decomAnnouncing                       // announced LEFT, still gossiping
)

// decomOp is a decommission in flight; the exec that started it waits on
// done.
type decomOp struct {
	phase    decomPhase
	deadline time.Time
	stream   *streamPlan // the data streaming away, while it runs
	done     chan struct{}
	err      error
}

func (op *decomOp) finish(err error) {
	op.err = err
	close(op.done)
}

// tick moves the decommission on (mu held).
func (op *decomOp) tick(n *Node, now time.Time) {
	if now.Before(op.deadline) || op.stream != nil && op.stream.hung {
		return
	}
	switch op.phase {
	case decomStreaming:
		op.stream = nil
		if n.faults.FailDecommission {
			n.failDecommission(op)
			return
		}
		n.update(func(e *endpoint) { e.status = statusLeft })
		op.phase = decomAnnouncing
		op.deadline = now.Add(2 * n.sim.opts.GossipInterval)
	case decomAnnouncing:
		n.gossiping = false
		n.mode = ModeDecommissioned
		n.disk.decommissioned = true
		n.decom = nil
		op.finish(nil)
	}
}

// failDecommission ends a decommission whose stream failed: the exec
// throws; 3.11 and 4.x stay LEAVING (4.0.14 StorageService.java:4712-4721),
// 5.0 turns DECOMMISSION_FAILED (5.0.1 :5347-5364). Gossip keeps the node
// LEAVING in every case, so the others still have it leaving (mu held).
func (n *Node) failDecommission(op *decomOp) {
	n.decom = nil
	if n.version.fiveOh() {
		n.mode = ModeDecommissionFailed
	}
	op.finish(jmxErr(javaRuntime, "Error while decommissioning node: Stream failed"))
}

// decommission is StorageService.decommission: it blocks, like the JMX
// operation, until the node has left the ring or the decommission failed.
func (n *Node) decommission(force bool) (any, error) {
	s := n.sim
	s.mu.Lock()
	op, err := n.startDecommission(force)
	s.mu.Unlock()
	if err != nil || op == nil {
		return nil, err
	}
	<-op.done
	return nil, op.err
}

// startDecommission checks what each version's StorageService.decommission
// checks and starts leaving, or joins the decommission that runs; nil
// without error is a silent return (mu held):
//
//   - 3.11: NORMAL or LEAVING (3.10+, CASSANDRA-12008) accepted, no RF check,
//     and a concurrent call is not refused (the flag is never set: 3.11.17
//     StorageService.java:4197-4200);
//   - 4.x: a LEAVING node skips every check (a retry), a running one throws
//     IllegalStateException (4.1.7 :4969-4983);
//   - 5.0: returns silently when DECOMMISSIONED or while one runs, and
//     also accepts DECOMMISSION_FAILED (5.0.1 :5250-5270).
func (n *Node) startDecommission(force bool) (*decomOp, error) {
	switch {
	case n.version.fiveOh() && (n.mode == ModeDecommissioned || n.decom != nil):
		return nil, nil
	case n.version.legacy() && n.decom != nil:
		n.overlaps++
		return n.decom, nil
	case n.decom != nil:
		return nil, jmxErr(javaIllegalState, "Node is still decommissioning. Check nodetool netstats.")
	}
	if err := n.checkDecommission(force); err != nil {
		return nil, err
	}
	d := n.sim.opts.DecommissionTime
	if n.faults.DecommissionTime > 0 {
		d = n.faults.DecommissionTime
	}
	op := &decomOp{phase: decomStreaming, deadline: time.Now().Add(d), stream: newStreamPlan("Unbootstrap", true, d), done: make(chan struct{})}
	op.stream.hung = n.faults.HangDecommission
	n.decom = op
	n.mode = ModeLeaving
	n.update(func(e *endpoint) { e.status = statusLeaving })
	return op, nil
}

// checkDecommission refuses to decommission like the node's version does
// (mu held).
func (n *Node) checkDecommission(force bool) error {
	leaving := n.mode == ModeLeaving && n.retriesLeaving()
	if leaving && !n.version.legacy() {
		return nil // 4.x and 5.0: no check on a LEAVING node
	}
	if !n.isMember() {
		return jmxErr(javaUnsupported, "local node is not a member of the token ring yet")
	}
	// 5.0 counts the ring after every leaving node left
	// (cloneAfterAllLeft, 5.0.1 StorageService.java:5262-5268, 5290-5310):
	// a node whose failed decommission left it leaving in its own ring
	// (DECOMMISSION_FAILED) is not in that ring, and neither the
	// "pointless" check nor the replication check can refuse its retry.
	if self := n.view.eps[n.hostID]; n.version.fiveOh() && n.mode == ModeDecommissionFailed && self != nil && self.status == statusLeaving {
		return nil
	}
	if len(n.normalMembers("")) < 2 && !leaving {
		return jmxErr(javaUnsupported, "no other normal nodes in the ring; decommission would be pointless")
	}
	if !leaving && n.mode != ModeNormal && !(n.version.fiveOh() && n.mode == ModeDecommissionFailed) {
		return jmxErr(javaUnsupported, "Node in %s state; wait for status to become normal or restart", n.mode)
	}
	if force || n.version.legacy() || leaving {
		return nil
	}
	for _, ks := range n.replicatedKeyspaces() {
		rf, nodes := ks.simpleRF, len(n.normalMembers(""))
		if ks.simpleRF == 0 {
			rf, nodes = ks.replication[n.cfg.DC], len(n.normalMembers(n.cfg.DC))
		}
		if nodes <= rf {
			return jmxErr(javaUnsupported, "Not enough live nodes to maintain replication factor in keyspace %s (RF = %d, N = %d). Perform a forceful decommission to ignore.", ks.name, rf, nodes)
		}
	}
	return nil
}

// isMember reports whether the node owns tokens in its own view (mu held).
func (n *Node) isMember() bool {
	if n.mode == ModeStarting {
		return n.disk.bootstrapped
	}
	self := n.view.eps[n.hostID]
	return n.gossiping && self != nil && (self.status == statusNormal || self.status == statusLeaving)
}

// normalMembers returns the NORMAL (not leaving, not joining) members of the
// node's view, of one DC or of all when dc is "" (mu held).
func (n *Node) normalMembers(dc string) []*endpoint {
	var out []*endpoint
	for _, e := range n.view.members() {
		if e.status == statusNormal && (dc == "" || e.dc == dc) {
			out = append(out, e)
		}
	}
	return out
}

// endpointString is how Cassandra prints an endpoint in messages.
func (n *Node) endpointString(addr string) string {
	if n.version.legacy() {
		return "/" + addr
	}
	return "/" + addr + ":7000"
}

func validUUID(s string) bool {
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

// keyspace is a keyspace as the replication check sees it.
type keyspace struct {
	name        string
	simpleRF    int            // SimpleStrategy RF; 0 for NetworkTopologyStrategy
	replication map[string]int // NTS RF per DC
}

// distributedKeyspaces are the non-local keyspaces: Cassandra 4.1's
// replicated system keyspaces (SimpleStrategy) and the user keyspaces.
func (s *Sim) distributedKeyspaces() []keyspace {
	out := []keyspace{
		{name: "system_auth", simpleRF: 1},
		{name: "system_distributed", simpleRF: 3},
		{name: "system_traces", simpleRF: 2},
	}
	for _, k := range s.opts.Keyspaces {
		out = append(out, keyspace{name: k.Name, replication: k.Replication})
	}
	slices.SortFunc(out, func(a, b keyspace) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	return out
}

// keyspaceNames lists every keyspace (local ones included), sorted.
func (s *Sim) keyspaceNames() []string {
	names := []string{"system", "system_schema"}
	for _, k := range s.distributedKeyspaces() {
		names = append(names, k.name)
	}
	slices.Sort(names)
	return names
}
