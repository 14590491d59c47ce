package cassandra

// Mode is a node's StorageService OperationMode.
type Mode int

// The operation modes of Cassandra 3.11 to 5.0 (StorageService.Mode; 5.0
// adds JOINING_FAILED and DECOMMISSION_FAILED, 5.0.1 StorageService.java:478).
// The simulation enters STARTING, JOINING, NORMAL, LEAVING, DECOMMISSIONED,
// DRAINED and, on 5.0, JOINING_FAILED and DECOMMISSION_FAILED; MOVING and
// DRAINING exist so that a version's behaviour can be modelled.
const (
	ModeStarting       Mode = iota // process up, Jolokia up, gossip not started
	ModeJoining                    // bootstrapping
	ModeNormal                     // a ring member
	ModeLeaving                    // decommissioning (streaming, then announcing LEFT)
	ModeDecommissioned             // left the ring; the process still runs
	ModeDrained                    // graceful shutdown done (the process is ending)
	ModeMoving                     // moving tokens (never entered: ringops does not move)
	ModeDraining                   // draining before a shutdown
	// ModeJoiningFailed: 5.0 only, a bootstrap whose streaming failed; it
	// waits for resumeBootstrap (`nodetool bootstrap resume`; 4.x stays
	// JOINING).
	ModeJoiningFailed
	// ModeDecommissionFailed: 5.0 only, a decommission that failed; 5.0
	// accepts a new decommission from it (4.x stays LEAVING).
	ModeDecommissionFailed
)

var modeNames = [...]string{
	ModeStarting: "STARTING", ModeJoining: "JOINING", ModeNormal: "NORMAL", ModeLeaving: "LEAVING",
	ModeDecommissioned: "DECOMMISSIONED", ModeDrained: "DRAINED", ModeMoving: "MOVING", ModeDraining: "DRAINING",
	ModeJoiningFailed: "JOINING_FAILED", ModeDecommissionFailed: "DECOMMISSION_FAILED",
}

func (m Mode) String() string {
	if m >= 0 && int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "UNKNOWN"
}
