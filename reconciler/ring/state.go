package ring

import (
	"fmt"
	"strings"
)

// NodeState is a node's state as `nodetool status` prints it: Up or Down,
// then Normal, Joining, Leaving or Moving. StateUnknown ("??") is a node no
// view has in its ring and that did not answer itself.
type NodeState uint8

// The node states. U/D is the failure detectors' verdict (down in any view
// is down); N/J/L/M is what the ring says the node is doing.
const (
	StateUnknown NodeState = iota
	UN
	UJ
	UL
	UM
	DN
	DJ
	DL
	DM
)

var stateNames = [...]string{"??", "UN", "UJ", "UL", "UM", "DN", "DJ", "DL", "DM"}

func (s NodeState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("NodeState(%d)", uint8(s))
}

// Up reports whether the node is up in every view that has it.
func (s NodeState) Up() bool { return s >= UN && s <= UM }

// Down reports whether some view has the node unreachable (DN, DJ, DL, DM).
func (s NodeState) Down() bool { return s >= DN && s <= DM }

// Leaving reports whether the ring has the node leaving, up or down (UL, DL).
func (s NodeState) Leaving() bool { return s == UL || s == DL }

// Normal reports whether the node is Up and Normal.
func (s NodeState) Normal() bool { return s == UN }

// MarshalText encodes the state as its two letters.
func (s NodeState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes two letters ("UN"; "??" for unknown).
func (s *NodeState) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n == string(b) {
			*s = NodeState(i)
			return nil
		}
	}
	return fmt.Errorf("node state %q: want one of %s", b, strings.Join(stateNames[:], ", "))
}

// activity is the second letter of a state.
type activity uint8

const (
	actNormal activity = iota
	actJoining
	actLeaving
	actMoving
)

func makeState(down bool, a activity) NodeState {
	s := UN + NodeState(a)
	if down {
		s += DN - UN
	}
	return s
}

// ReasonKind is why a ring is not healthy.
type ReasonKind uint8

// The reasons, in the order Assess reports them.
const (
	// NodeDown: views have the node unreachable, and none other than its
	// own has it up.
	NodeDown ReasonKind = iota + 1
	// Unreachable: some views have the node down while others have it up:
	// a partition; SeenBy are the views that cannot see it.
	Unreachable
	// NotQueried: an expected node's own view is missing: no pod IP, or its
	// agent could not be read (timeout, 401, refused, garbage).
	NotQueried
	// NotInRing: views do not have an expected node in their ring at all.
	NotInRing
	// UnknownNode: an endpoint in some view's ring is no expected node.
	UnknownNode
	// NodeJoining, NodeLeaving, NodeMoving: a view (or the node's own
	// operation mode) has the node bootstrapping, decommissioning, moving.
	NodeJoining
	NodeLeaving
	NodeMoving
	// NotNormal: a node's own operation mode is none of NORMAL, JOINING,
	// LEAVING, MOVING (STARTING, DRAINED, DECOMMISSIONED, ..._FAILED).
	NotNormal
	// NotServing: a node is NORMAL but its native transport (CQL) is not
	// running: it cannot serve clients yet (Cassandra starts it seconds
	// after NORMAL) or was stopped (nodetool disablebinary).
	NotServing
	// SchemaDisagreement: the nodes report more than one schema version of
	// themselves (StorageService.SchemaVersion).
	SchemaDisagreement
	// HostIDConflict: views give one endpoint different host IDs (an IP
	// taken over by another node).
	HostIDConflict
)

var reasonNames = [...]string{"", "NodeDown", "Unreachable", "NotQueried", "NotInRing", "UnknownNode",
	"NodeJoining", "NodeLeaving", "NodeMoving", "NotNormal", "NotServing", "SchemaDisagreement", "HostIDConflict"}

func (k ReasonKind) String() string {
	if k > 0 && int(k) < len(reasonNames) {
		return reasonNames[k]
	}
	return fmt.Sprintf("ReasonKind(%d)", uint8(k))
}

// MarshalText encodes the kind as its name.
func (k ReasonKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText decodes a kind's name.
func (k *ReasonKind) UnmarshalText(b []byte) error {
	for i, n := range reasonNames {
		if i > 0 && n == string(b) {
			*k = ReasonKind(i)
			return nil
		}
	}
	return fmt.Errorf("reason kind %q: unknown", b)
}
