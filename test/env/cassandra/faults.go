package cassandra

import "time"

// Faults are the misbehaviours a node can be given.
type Faults struct {
	// JolokiaDelay delays every Jolokia answer.
	JolokiaDelay time.Duration
	// RefuseJolokia closes the Jolokia listener: connections are refused.
	RefuseJolokia bool
	// NeverFinishJoining keeps a bootstrapping node JOINING.
	NeverFinishJoining bool
	// FailDecommission makes decommission stream for DecommissionTime and
	// then throw, leaving the node LEAVING (3.11, 4.x) or
	// DECOMMISSION_FAILED (5.0).
	FailDecommission bool
	// HangDecommission makes a decommission hang once LEAVING: its stream
	// plan moves no byte and it never ends (a stream to a target gone
	// without a reset, #14 item 7), until the node stops; a restarted node
	// is NORMAL again. 5.0 ignores another decommission meanwhile ("This
	// node is still decommissioning."), 4.x throws IllegalStateException.
	HangDecommission bool
	// FailBootstrap makes a bootstrap (and each resume) stream for
	// BootstrapTime and then fail, leaving the node JOINING (3.11, 4.x) or
	// JOINING_FAILED (5.0) until resumeBootstrap.
	FailBootstrap bool
	// SerialJolokia makes the agent serve one request at a time, as the
	// Jolokia JVM agent does by default (executor=single): a request held
	// open (a decommission) holds every other one back.
	SerialJolokia bool
	// DecommissionTime, when set, is how long the node's decommissions
	// stream instead of Options.DecommissionTime (a node holding much
	// data).
	DecommissionTime time.Duration
}

// SetPodFaults arms faults for a pod: its running node gets them now and
// every node later started for that pod gets them at start.
func (s *Sim) SetPodFaults(namespace, pod string, f Faults) {
	s.mu.Lock()
	s.podFaults[namespace+"/"+pod] = f
	var target *Node
	for _, n := range s.nodes {
		if n.cfg.Namespace == namespace && n.cfg.Pod == pod {
			target = n
		}
	}
	s.mu.Unlock()
	if target != nil {
		target.applyFaults(f)
	}
}

// SetSchemaVersion makes the node announce another schema version (schema
// disagreement); "" returns to the version the ring agrees on.
func (n *Node) SetSchemaVersion(uuid string) {
	s := n.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if uuid == "" {
		uuid = s.schemaOf(n.schemaKey())
	}
	if n.running && n.view.eps[n.hostID] != nil {
		n.update(func(e *endpoint) { e.schema = uuid })
	}
}

// NeverFinishJoining keeps (or stops keeping) a bootstrapping node JOINING.
func (n *Node) NeverFinishJoining(on bool) {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	n.faults.NeverFinishJoining = on
}

// FailDecommission makes the next decommissions fail after streaming.
func (n *Node) FailDecommission(on bool) {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	n.faults.FailDecommission = on
}

// FailBootstrap makes the bootstraps (and resumes) of the node fail after
// streaming.
func (n *Node) FailBootstrap(on bool) {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	n.faults.FailBootstrap = on
}

// SerialJolokia makes the node's agent serve one request at a time (on),
// or every request at once.
func (n *Node) SerialJolokia(on bool) {
	n.sim.mu.Lock()
	n.faults.SerialJolokia = on
	n.sim.mu.Unlock()
	n.jolokia.serial.Store(on)
}

// applyFaults sets every fault at once.
func (n *Node) applyFaults(f Faults) {
	n.NeverFinishJoining(f.NeverFinishJoining)
	n.FailDecommission(f.FailDecommission)
	n.FailBootstrap(f.FailBootstrap)
	n.SerialJolokia(f.SerialJolokia)
	n.sim.mu.Lock()
	n.faults.DecommissionTime = f.DecommissionTime
	n.faults.HangDecommission = f.HangDecommission
	n.sim.mu.Unlock()
	n.SetJolokiaDelay(f.JolokiaDelay)
	n.RefuseJolokia(f.RefuseJolokia)
}
