package cassandra

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Node is one Cassandra process. Its methods are safe for concurrent use;
// once the process has ended (Stop, Kill, a failed start, Sim.Close) they
// report its last state and the fault knobs do nothing.
type Node struct {
	sim     *Sim
	cfg     NodeConfig
	version Version
	disk    *disk
	hostID  string
	gen     int64
	done    chan struct{}
	cancel  context.CancelFunc // ends the requests to the agent

	// Guarded by sim.mu.
	mode       Mode
	running    bool
	gossiping  bool
	isSeed     bool
	seedIPs    []string
	view       *view
	booting    *streamPlan    // the bootstrap streaming, while it runs
	decom      *decomOp       // the decommission, while it runs
	upgrades   []*upgradeTask // upgradeSSTables running
	replacee   *endpoint      // the dead node this one replaces, while it does (replace.go)
	removal    *removalOp     // the removeNode this node coordinates (replace.go)
	cleanups   []*cleanupTask // forceKeyspaceCleanup running (cleanup.go)
	rebuilding *streamPlan    // the rebuild streaming, while it runs (#15, rebuild.go)
	overlaps   int            // operations started while the same one ran
	faults     Faults
	err        error
	// cqlAt is when the native transport starts (zero: not before the
	// node is NORMAL); cqlOff is `nodetool disablebinary`.
	cqlAt  time.Time
	cqlOff bool

	jolokia jolokiaState
	cql     cqlServer
}

// Start starts a Cassandra process: Jolokia answers at once (OperationMode
// STARTING), then after StartupTime the node contacts its seeds and joins
// the ring of its cluster name. Start returns when the node gossips, in mode
// JOINING (a new non-seed node, bootstrapping for BootstrapTime) or NORMAL
// (a seed, or a node that bootstrapped before).
//
// Seed names are resolved as Cassandra resolves them (SimpleSeedProvider):
// once at start, where none resolving aborts the start (ErrNoSeedsListed:
// "The seed provider lists no seeds."), and once more at the shadow round
// after StartupTime, whose list the node keeps trying and then gossips
// with; never again while it runs.
//
// Start fails, and the process ends, when the Key's data refuses to start
// (ErrDecommissioned, ErrIncompatibleData), when no seed name resolves
// (ErrNoSeedsListed), when no seed is reachable within SeedTimeout and the
// node is not a seed itself (ErrNoSeeds), when a new
// node would bootstrap while another joins or leaves (ErrRangeMovement) or
// take a member's address (ErrAddressCollision), or when ctx is cancelled
// or the node killed first (ErrStopped); a kubelet treats that as a
// container crash. ctx bounds the start only: the process then runs until
// Stop, Kill or Sim.Close. A seed that reaches no other seed starts on its
// own, as Cassandra does for a node in its own seed list.
func (s *Sim) Start(ctx context.Context, cfg NodeConfig) (*Node, error) {
	cfg.Seeds = cleanSeeds(cfg.Seeds)
	if cfg.ReleaseVersion == "" {
		cfg.ReleaseVersion = s.opts.ReleaseVersion
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	n, err := s.launch(cfg)
	if err != nil {
		return nil, err
	}
	if err := n.openJolokia(); err != nil {
		n.end(err)
		return nil, err
	}
	if err := n.openCQL(); err != nil {
		n.end(err)
		return nil, err
	}
	if err := n.boot(ctx); err != nil {
		n.end(err)
		return nil, err
	}
	return n, nil
}

// launch registers the process in mode STARTING.
func (s *Sim) launch(cfg NodeConfig) (*Node, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, fmt.Errorf("%s: %w", cfg.name(), ErrClosed)
	case s.nodes[cfg.IP] != nil:
		return nil, fmt.Errorf("%s: IP taken by a running node: %w", cfg.name(), ErrAddressInUse)
	case s.byKey[cfg.Key] != nil:
		return nil, fmt.Errorf("%s: key %s: %w", cfg.name(), cfg.Key, ErrDataInUse)
	}
	d := s.disks[cfg.Key]
	if d == nil {
		d = &disk{key: cfg.Key, cluster: cfg.ClusterName, dc: cfg.DC, rack: cfg.Rack,
			hostID: newUUID(), tokens: newTokens(s.opts.NumTokens)}
		s.disks[cfg.Key] = d
	}
	d.cfg = cfg
	s.genSeq++
	version, _ := VersionOf(cfg.ReleaseVersion) // validated
	n := &Node{
		sim: s, cfg: cfg, version: version, disk: d, hostID: d.hostID, gen: s.genSeq,
		done: make(chan struct{}), running: true, mode: ModeStarting,
		view: loadView(d), faults: s.podFaults[cfg.Namespace+"/"+cfg.Pod],
	}
	n.jolokia.handler = newAgent(n)
	n.agentTLS()
	n.jolokia.ctx, n.cancel = context.WithCancel(context.Background())
	n.jolokia.refuse = n.faults.RefuseJolokia
	n.jolokia.serial.Store(n.faults.SerialJolokia)
	n.upgradeFormat()
	s.nodes[cfg.IP] = n
	s.byKey[cfg.Key] = n
	return n, nil
}

// loadView is the ring a restarting node knows from its system tables: its
// saved peers, all down until gossip reaches them.
func loadView(d *disk) *view {
	v := newView()
	for _, e := range d.peers {
		v.eps[e.hostID] = e.clone()
		if e.status.member() {
			v.mark(e.hostID, liveDown)
		}
	}
	v.changed()
	return v
}

// boot runs STARTING: resolve the seeds (the configuration check), wait
// StartupTime, check the data, resolve the seeds again for the shadow round
// and contact them until one answers or SeedTimeout.
func (n *Node) boot(ctx context.Context) error {
	s := n.sim
	if len(s.resolveSeeds(n.cfg.Region, n.cfg.Seeds)) == 0 {
		return fmt.Errorf("%s: %w (seeds %v): %s", n.cfg.name(), ErrNoSeedsListed, n.cfg.Seeds, msgNoSeedsListed)
	}
	if err := n.sleep(ctx, s.opts.StartupTime); err != nil {
		return err
	}
	if err := n.checkData(); err != nil {
		return err
	}
	seedIPs := s.resolveSeeds(n.cfg.Region, n.cfg.Seeds)
	deadline := time.Now().Add(s.opts.SeedTimeout)
	for {
		joined, err := n.tryJoin(seedIPs)
		if joined || err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w (seeds %v): %s", n.cfg.name(), ErrNoSeeds, n.cfg.Seeds, msgNoSeeds)
		}
		if err := n.sleep(ctx, s.opts.GossipInterval); err != nil {
			return err
		}
	}
}

// sleep waits d unless the start is cancelled or the process ends.
func (n *Node) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: start: %w: %w", n.cfg.name(), ErrStopped, ctx.Err())
	case <-n.done:
		return fmt.Errorf("%s: start: %w", n.cfg.name(), ErrStopped)
	}
}

// checkData refuses what Cassandra refuses at startup.
func (n *Node) checkData() error {
	s := n.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	d, c := n.disk, n.cfg
	switch {
	case d.decommissioned:
		return fmt.Errorf("%s: %w: %s", c.name(), ErrDecommissioned, msgDecommissioned)
	case d.cluster != c.ClusterName:
		return fmt.Errorf("%s: %w: Saved cluster name %s != configured name %s", c.name(), ErrIncompatibleData, d.cluster, c.ClusterName)
	case d.dc != c.DC:
		return fmt.Errorf("%s: %w: Cannot start node if snitch's data center (%s) differs from previous data center (%s)", c.name(), ErrIncompatibleData, c.DC, d.dc)
	case d.rack != c.Rack:
		return fmt.Errorf("%s: %w: Cannot start node if snitch's rack (%s) differs from previous rack (%s)", c.name(), ErrIncompatibleData, c.Rack, d.rack)
	}
	return nil
}

// tryJoin contacts the first reachable seed and starts gossip. A seed that
// reaches no other seed starts on its own, as Cassandra does for a node in
// its own seed list.
func (n *Node) tryJoin(seedIPs []string) (bool, error) {
	s := n.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if !n.running {
		return false, fmt.Errorf("%s: start: %w", n.cfg.name(), ErrStopped)
	}
	n.seedIPs = seedIPs
	n.isSeed = slices.Contains(seedIPs, n.cfg.IP)
	var contact *Node
	for _, ip := range seedIPs {
		if p := s.nodes[ip]; s.contactable(n, p) {
			contact = p
			break
		}
	}
	if contact == nil && !n.isSeed {
		return false, nil
	}
	if err := n.checkJoin(contact); err != nil { // replace.go
		return false, err
	}
	n.join(contact)
	return true, nil
}

// checkRangeMovement refuses to bootstrap while another node joins or
// leaves (cassandra.consistent.rangemovement=true, the default).
func (n *Node) checkRangeMovement(shadow *view) error {
	if n.disk.bootstrapped || n.isSeed {
		return nil
	}
	for id, e := range shadow.eps {
		if id != n.hostID && (e.status == statusBoot || e.status == statusLeaving) {
			return fmt.Errorf("%s: %w: Other bootstrapping/leaving/moving nodes detected, cannot bootstrap while cassandra.consistent.rangemovement is true",
				n.cfg.name(), ErrRangeMovement)
		}
	}
	return nil
}

// join starts gossip: JOINING for a new non-seed node, NORMAL otherwise
// (mu held).
func (n *Node) join(contact *Node) {
	s, d := n.sim, n.disk
	self := &endpoint{
		hostID: n.hostID, addr: n.cfg.IP, dc: n.cfg.DC, rack: n.cfg.Rack,
		schema: s.schemaOf(n.schemaKey()), release: n.cfg.ReleaseVersion,
		tokens: d.tokens, status: statusNormal, gen: n.gen, ver: 1,
	}
	if !d.bootstrapped && !n.isSeed {
		self.status = statusBoot
		if n.replacee != nil {
			self.status = n.replaceStatus() // replace.go
		}
		n.mode = ModeJoining
		n.bootstrap()
	} else {
		n.becomeNormal(time.Now())
	}
	if !d.bootstrapped {
		d.joinedAs = JoinedByBootstrap
		switch {
		case n.isSeed:
			d.joinedAs = JoinedAsSeed
		case n.replacee != nil:
			d.joinedAs = JoinedByReplace
		}
	}
	d.bootstrapped = d.bootstrapped || n.mode == ModeNormal
	d.joined, d.removed = true, false
	n.view.eps[n.hostID] = self
	n.view.changed()
	n.saveSelf()
	n.gossiping = true
	if contact != nil {
		exchange(n, contact)
	}
}

// becomeNormal sets NORMAL; the native transport follows after
// NativeTransportDelay (mu held).
func (n *Node) becomeNormal(now time.Time) {
	n.mode = ModeNormal
	if n.cqlAt.IsZero() {
		n.cqlAt = now.Add(n.sim.opts.NativeTransportDelay)
	}
}

// nativeTransportRunning is StorageService.NativeTransportRunning: the
// native transport started after NORMAL, and runs until a drain or the end
// of a decommission (mu held).
func (n *Node) nativeTransportRunning() bool {
	if n.cqlAt.IsZero() || n.cqlOff || time.Now().Before(n.cqlAt) {
		return false
	}
	return n.mode == ModeNormal || n.mode == ModeLeaving || n.mode == ModeMoving || n.mode == ModeDecommissionFailed
}

// update changes the node's own gossip state and bumps its version (mu held).
func (n *Node) update(f func(e *endpoint)) {
	e := n.view.eps[n.hostID]
	f(e)
	e.ver++
	n.view.changed()
	n.saveSelf()
}

func (n *Node) saveSelf() {
	n.disk.last = n.view.eps[n.hostID].clone()
}

// tick runs the timed transitions (mu held).
func (n *Node) tick(now time.Time) {
	if !n.running {
		return
	}
	n.bootstrapTick(now)
	if n.decom != nil {
		n.decom.tick(n, now)
	}
	n.removalTick(now) // replace.go
	n.cleanupTick(now) // cleanup.go
}

// Stop shuts the node down gracefully (drain): it tells the peers it
// reaches that it is going down, then the process ends; others see it DN
// until it comes back.
func (n *Node) Stop() {
	s := n.sim
	s.mu.Lock()
	if n.running && n.gossiping {
		n.update(func(e *endpoint) { e.shutdown = true })
		for _, p := range s.sortedNodes() {
			if s.contactable(n, p) {
				p.view.learn(p.hostID, n.view.eps[n.hostID])
			}
		}
	}
	if n.running {
		n.mode = ModeDrained
	}
	s.mu.Unlock()
	n.end(fmt.Errorf("%s: stopped: %w", n.cfg.name(), ErrStopped))
}

// Kill crashes the node: the process ends without telling anyone; the
// peers notice at their next gossip round.
func (n *Node) Kill() {
	n.end(fmt.Errorf("%s: killed: %w", n.cfg.name(), ErrStopped))
}

// end ends the process: gossip stops, the data keeps what the node knew,
// the Jolokia listener closes.
func (n *Node) end(err error) {
	s := n.sim
	s.mu.Lock()
	if n.running {
		n.running, n.gossiping, n.err = false, false, err
		delete(s.nodes, n.cfg.IP)
		delete(s.byKey, n.cfg.Key)
		n.savePeers()
		if n.decom != nil {
			n.decom.finish(err)
			n.decom = nil
		}
		n.endOperations(err) // replace.go, cleanup.go
		close(n.done)
		n.cancel()
	}
	s.mu.Unlock()
	n.closeJolokia()
	n.closeCQL()
}

// savePeers keeps the peers' states on the node's disk (mu held).
func (n *Node) savePeers() {
	n.disk.peers = n.disk.peers[:0]
	for id, e := range n.view.eps {
		if id != n.hostID {
			n.disk.peers = append(n.disk.peers, e.clone())
		}
	}
}

// Mode returns the node's OperationMode ("STARTING", "JOINING", "NORMAL",
// "LEAVING", "DECOMMISSIONED", "DRAINED", ...).
func (n *Node) Mode() string {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	return n.mode.String()
}

// Overlaps counts the operations started on the node while the same one
// ran (a resumeBootstrap during a bootstrap, a 3.11 decommission during a
// decommission): Cassandra would then stream the data twice.
func (n *Node) Overlaps() int {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	return n.overlaps
}

// ReleaseVersion returns the Cassandra version the process runs.
func (n *Node) ReleaseVersion() string { return n.cfg.ReleaseVersion }

// Version returns the release line the node answers as.
func (n *Node) Version() Version { return n.version }

// NativeTransportRunning reports whether the node serves CQL.
func (n *Node) NativeTransportRunning() bool {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	return n.nativeTransportRunning()
}

// SetNativeTransport stops (false, `nodetool disablebinary`) or starts
// again (true, `nodetool enablebinary`) the native transport of a running
// node; starting it before the node is NORMAL only lifts a stop.
func (n *Node) SetNativeTransport(on bool) {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	n.cqlOff = !on
	if on && !n.cqlAt.IsZero() && time.Now().Before(n.cqlAt) {
		n.cqlAt = time.Now()
	}
}

// HostID returns the node's host ID (kept across restarts with one Key).
func (n *Node) HostID() string { return n.hostID }

// Config returns the configuration the node was started with.
func (n *Node) Config() NodeConfig { return n.cfg }

// Done is closed when the process has ended.
func (n *Node) Done() <-chan struct{} { return n.done }

// Err returns why the process ended (wrapping ErrStopped, ErrNoSeeds, ...),
// nil while it runs.
func (n *Node) Err() error {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	return n.err
}
