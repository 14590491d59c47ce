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
	// then throw, leaving the node LEAVING (as Cassandra 4.1 does).
	FailDecommission bool
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
		uuid = s.schemaOf(n.cfg.ClusterName)
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

// applyFaults sets every fault at once.
func (n *Node) applyFaults(f Faults) {
	n.NeverFinishJoining(f.NeverFinishJoining)
	n.FailDecommission(f.FailDecommission)
	n.SetJolokiaDelay(f.JolokiaDelay)
	n.RefuseJolokia(f.RefuseJolokia)
}
