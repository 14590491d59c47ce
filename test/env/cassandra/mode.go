package cassandra

// Mode is a node's StorageService OperationMode.
type Mode int

// The operation modes the simulation uses.
const (
	ModeStarting       Mode = iota // process up, Jolokia up, gossip not started
	ModeJoining                    // bootstrapping
	ModeNormal                     // a ring member
	ModeLeaving                    // decommissioning (streaming, then announcing LEFT)
	ModeDecommissioned             // left the ring; the process still runs
	ModeDrained                    // graceful shutdown done (the process is ending)
)

// The modes Cassandra 5.0 adds (5.0.1 StorageService.java:478).
const (
	// ModeJoiningFailed: the bootstrap failed; resumeBootstrap resumes it.
	ModeJoiningFailed Mode = ModeDrained + 1 + iota
	// ModeDecommissionFailed: the decommission failed; a retry is accepted.
	ModeDecommissionFailed
)

func (m Mode) String() string {
	switch m {
	case ModeStarting:
		return "STARTING"
	case ModeJoining:
		return "JOINING"
	case ModeNormal:
		return "NORMAL"
	case ModeLeaving:
		return "LEAVING"
	case ModeDecommissioned:
		return "DECOMMISSIONED"
	case ModeDrained:
		return "DRAINED"
	case ModeJoiningFailed:
		return "JOINING_FAILED"
	case ModeDecommissionFailed:
		return "DECOMMISSION_FAILED"
	}
	return "UNKNOWN"
}
