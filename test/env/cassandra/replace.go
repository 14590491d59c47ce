package cassandra

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/ringops/ringops/test/env/jolokia"
)

// A node that lost its data, as Cassandra 5.0.1 treats it (StorageService
// prepareToJoin, prepareForReplacement, checkForEndpointCollision,
// joinTokenRing; Gossiper.isSafeForStartup; RangeStreamer):
//
//	fresh data, not replacing, at the dead node's address
//	    ──▶ "A node with address /ip:7000 already exists, cancelling join. Use cassandra.replace_address if you want to replace this node."
//	fresh data, not replacing, another address, not a seed, a ring member down
//	    ──▶ "Necessary replicas for strict consistency were removed by source filters: ..." (it streams from the down node)
//	fresh data, not replacing, another address, a seed   ──▶ NORMAL at once, new host ID, new tokens, no data
//	fresh data, replace_address_first_boot=<dead>, not its own seed
//	    ──▶ JOINING: takes the dead node's tokens and streams them; another address: its own new host ID,
//	        BOOT_REPLACE (live, with its host ID, in no view's JoiningNodes) while the dead node stays DN;
//	        the same address: the dead node's host ID, hibernating (down in every other view)
//	    ──▶ NORMAL: the dead node leaves every view (Gossiper.replacedEndpoint)
//	replacing while its own seed  ──▶ "Replacing a node without bootstrapping risks invalidating consistency ..."
//	replacing a live node, or an address gossip does not know ──▶ refused
//	bootstrapped data, replace_address_first_boot given ──▶ ignored ("this node is already bootstrapped")
//
// Simplifications: the checks run at the shadow round (Cassandra fails
// the strict-source check after RING_DELAY, gossiping BOOT meanwhile), and
// any down member counts as a strict source (with vnodes the dead node
// owns a slice of nearly every other node's neighbourhood).

// GossiperMBean is the Gossiper, for getEndpointDowntime.
const GossiperMBean = "org.apache.cassandra.net:type=Gossiper"

// replacing reports whether the node starts as a replacement: asked to,
// on data that never finished joining (mu held).
func (n *Node) replacing() bool {
	return n.cfg.ReplaceAddress != "" && !n.disk.bootstrapped
}

// checkJoin is what Cassandra checks at the shadow round before it joins
// with contact's view (nil: a seed alone) (mu held).
func (n *Node) checkJoin(contact *Node) error {
	if n.replacing() {
		return n.prepareReplacement(contact)
	}
	if contact == nil {
		return nil
	}
	if err := n.checkCollision(contact.view); err != nil {
		return err
	}
	if err := n.checkTokenAllocation(contact.view); err != nil { // tokens.go
		return err
	}
	if err := n.checkRangeMovement(contact.view); err != nil {
		return err
	}
	return n.checkStrictSources(contact.view)
}

// checkCollision refuses to take the address of another ring member
// (Gossiper.isSafeForStartup: a bootstrapping node over a NORMAL or shut
// down one, any node whose host ID differs, a hibernating replacement).
func (n *Node) checkCollision(shadow *view) error {
	for id, e := range shadow.eps {
		if id != n.hostID && e.addr == n.cfg.IP && e.status.member() {
			//lint:ignore ST1005 Cassandra's own message, word for word (Gossiper.java)
			return fmt.Errorf("%s: %w: A node with address %s already exists, cancelling join. Use cassandra.replace_address if you want to replace this node.",
				n.cfg.name(), ErrAddressCollision, n.endpointString(n.cfg.IP))
		}
	}
	return nil
}

// checkStrictSources refuses a new node's bootstrap while a ring member is
// down: with cassandra.consistent.rangemovement (the default) each range
// streams from the node that gives it away, and a down one is filtered
// out (5.0.1 RangeStreamer.java:516; with RF 1, :575).
func (n *Node) checkStrictSources(shadow *view) error {
	if n.disk.bootstrapped || n.isSeed {
		return nil
	}
	for _, e := range shadow.members() {
		if e.hostID != n.hostID && e.status == statusNormal && shadow.fd[e.hostID] == liveDown {
			return fmt.Errorf("%s: %w: Necessary replicas for strict consistency were removed by source filters: Filtered Full(%s,(%s]) out because it was down",
				n.cfg.name(), ErrStrictSources, n.endpointString(e.addr), firstToken(e))
		}
	}
	return nil
}

func firstToken(e *endpoint) string {
	if len(e.tokens) == 0 {
		return ""
	}
	return e.tokens[0]
}

// prepareReplacement is StorageService.prepareForReplacement and the
// checks of joinTokenRing: the node takes the tokens of the dead node at
// ReplaceAddress, and its host ID when it has its address (mu held).
func (n *Node) prepareReplacement(contact *Node) error {
	addr := replaceAddr(n.cfg.ReplaceAddress)
	if n.isSeed {
		return fmt.Errorf("%s: %w: Replacing a node without bootstrapping risks invalidating consistency guarantees as the expected data may not be present until repair is run. To perform this operation, please restart with -Dcassandra.allow_unsafe_replace=true",
			n.cfg.name(), ErrReplace)
	}
	var old *endpoint
	if contact != nil {
		for _, e := range contact.view.members() {
			if e.addr == addr && e.hostID != n.hostID {
				old = e
			}
		}
	}
	switch {
	case old == nil:
		return fmt.Errorf("%s: %w: Cannot replace_address %s because it doesn't exist in gossip", n.cfg.name(), ErrReplace, n.endpointString(addr))
	case contact.view.fd[old.hostID] == liveUp || contact.hostID == old.hostID:
		return fmt.Errorf("%s: %w: Cannot replace a live node... ", n.cfg.name(), ErrReplace)
	}
	n.replacee = old.clone()
	n.disk.tokens = append([]string(nil), old.tokens...)
	if addr == n.cfg.IP {
		n.hostID, n.disk.hostID = old.hostID, old.hostID // the replacee's host ID, to receive its hints
	}
	return nil
}

// replaceAddr is the address of replace_address_first_boot, without a port.
func replaceAddr(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "/")
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().String()
	}
	return s
}

// replaceStatus is the gossip status of a replacement while it streams.
func (n *Node) replaceStatus() status {
	if n.replacee.addr == n.cfg.IP {
		return statusHibernate
	}
	return statusBootReplace
}

// finishReplacement: the replacement is NORMAL; a dead node at another
// address leaves every view, as Gossiper.replacedEndpoint makes it (mu
// held).
func (n *Node) finishReplacement() {
	old := n.replacee
	if old == nil {
		return
	}
	n.replacee = nil
	for _, d := range n.sim.disks {
		if d != n.disk && d.hostID == old.hostID {
			d.removed = true
		}
	}
	if old.hostID == n.hostID {
		return
	}
	tomb := old.clone()
	tomb.status = statusRemoved
	tomb.ver += 1 << 40
	n.view.learn("", tomb)
}

// removalOp is a removeNode this node coordinates: the dead node is
// "removing" (LeavingNodes everywhere) while its data re-replicates.
type removalOp struct {
	hostID, addr, token string
	waiting             []string // the replicas that confirm, by address
	deadline            time.Time
	done                chan struct{}
	err                 error
}

// removeNode is StorageService.removeNode(hostId) (5.0.1
// StorageService.java:5633-5700): it refuses an unknown, joining, live or
// own host ID and a second removal, marks the dead node removing, waits
// RemoveTime for the re-replication, then removes it from the ring. Like
// the JMX operation it answers once done.
func (n *Node) removeNode(hostID string) (any, error) {
	s := n.sim
	s.mu.Lock()
	op, err := n.startRemoval(hostID)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	select {
	case <-op.done:
		return nil, op.err
	case <-n.done:
		return nil, jmxErr(javaRuntime, "Node stopped while removing %s", hostID)
	}
}

func (n *Node) startRemoval(hostID string) (*removalOp, error) {
	if !validUUID(hostID) {
		return nil, jmxErr(javaIllegalArgument, "Invalid UUID string: %s", hostID)
	}
	e, ok := n.view.eps[strings.ToLower(hostID)]
	switch {
	case !ok || !e.status.member():
		return nil, jmxErr(javaUnsupported, "Host ID not found.")
	case e.status == statusBoot || e.status == statusBootReplace:
		return nil, jmxErr(javaUnsupported, "Node to be removed is not a member of the token ring")
	case e.hostID == n.hostID:
		return nil, jmxErr(javaUnsupported, "Cannot remove self")
	case n.view.fd[e.hostID] == liveUp:
		return nil, jmxErr(javaUnsupported, "Node %s is alive and owns this ID. Use decommission command to remove it from the ring", n.endpointString(e.addr))
	case n.removal != nil:
		return nil, jmxErr(javaUnsupported, "This node is already processing a removal. Wait for it to complete, or use 'removenode force' if this has failed.")
	}
	op := &removalOp{hostID: e.hostID, addr: e.addr, token: firstToken(e), done: make(chan struct{}),
		deadline: time.Now().Add(n.sim.opts.RemoveTime)}
	for _, m := range n.view.members() {
		if m.hostID != n.hostID && m.hostID != e.hostID && m.status == statusNormal && n.view.fd[m.hostID] == liveUp {
			op.waiting = append(op.waiting, m.addr)
		}
	}
	removing := e.clone()
	removing.status = statusRemoving
	removing.ver += 1 << 39
	n.view.learn("", removing)
	n.removal = op
	return op, nil
}

// removalTick ends a removal whose re-replication is done: the node is
// removed from the ring, and the removal spreads by gossip (mu held).
func (n *Node) removalTick(now time.Time) {
	op := n.removal
	if op == nil || now.Before(op.deadline) {
		return
	}
	n.removal = nil
	if e, ok := n.view.eps[op.hostID]; ok {
		tomb := e.clone()
		tomb.status = statusRemoved
		tomb.ver = max(tomb.ver, 1<<39) + 1<<40 // beats every state of that generation
		n.view.learn("", tomb)
	}
	for _, d := range n.sim.disks {
		if d.hostID == op.hostID {
			d.removed = true
		}
	}
	close(op.done)
}

// endOperations ends what the node ran when its process ends: a removal
// it coordinated stays "removing" in the others' views, as in Cassandra
// (another node's removeNode takes it over), a cleanup stops (mu held).
func (n *Node) endOperations(err error) {
	if op := n.removal; op != nil {
		n.removal = nil
		op.err = err
		close(op.done)
	}
	n.stopCleanups()
}

// removalStatus is StorageService.RemovalStatus(WithPort) (5.0.1
// StorageService.java:5577-5601): the coordinator's removal in flight.
func (n *Node) removalStatus(withPort bool) string {
	op := n.removal
	if op == nil {
		return "No token removals in process."
	}
	addrs := make([]string, len(op.waiting))
	for i, a := range op.waiting {
		addrs[i] = "/" + a
		if withPort {
			addrs[i] += storagePort
		}
	}
	return fmt.Sprintf("Removing token (%s). Waiting for replication confirmation from [%s].", op.token, strings.Join(addrs, ","))
}

// gossiper is the Gossiper MBean: getEndpointDowntime, the milliseconds
// since the node's failure detector marked an endpoint down (0 when it is
// not down; 5.0.1 Gossiper.java:536-543, 2380).
func (n *Node) gossiper() *bean {
	return newBean(map[string]func() any{}, operation{
		sig: jolokia.Operation{Name: "getEndpointDowntime", Params: []string{"java.lang.String"}, Return: "long"},
		call: func(args []any) (any, error) {
			a, _ := args[0].(string)
			addr := replaceAddr(a)
			if _, err := netip.ParseAddr(addr); err != nil {
				return nil, jmxErr("java.net.UnknownHostException", "%s: Name or service not known", a)
			}
			n.sim.mu.Lock()
			defer n.sim.mu.Unlock()
			return n.downtime(addr), nil
		},
	})
}

// downtime is how long the member at addr has been down in the node's
// view (mu held).
func (n *Node) downtime(addr string) int64 {
	for _, id := range n.view.index()[addr] {
		if id != n.hostID && n.view.fd[id] == liveDown {
			return time.Since(n.view.downSince[id]).Milliseconds()
		}
	}
	return 0
}
