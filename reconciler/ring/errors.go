package ring

import (
	"errors"
	"fmt"
)

// Sentinel errors of a snapshot's entries; callers branch on them with
// errors.Is.
var (
	// ErrNoAddress: the node has no pod IP (its pod does not exist, or has
	// no IP yet), so it cannot be queried.
	ErrNoAddress = errors.New("no pod IP (the pod does not exist or has no IP yet)")
	// ErrNotQueried: the node was left out of the snapshot.
	ErrNotQueried = errors.New("not queried")
)

// NodeError is the failure of one call to one node.
type NodeError struct {
	Node Node
	Op   string // "read health", "exec decommission(boolean)", ...
	Err  error
}

func (e *NodeError) Error() string { return fmt.Sprintf("node %s: %s: %v", e.Node, e.Op, e.Err) }

func (e *NodeError) Unwrap() error { return e.Err }
