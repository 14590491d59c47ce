package cassandra

import "errors"

// Sentinel errors of Start (and of the Sim); callers branch with errors.Is.
// The error text of a start failure also carries the message the real
// Cassandra logs before it exits.
var (
	// ErrInvalidConfig: the NodeConfig misses a field or has a bad IP.
	ErrInvalidConfig = errors.New("invalid node config")
	// ErrAddressInUse: another running node has the IP, or the Jolokia port
	// cannot be bound.
	ErrAddressInUse = errors.New("address in use")
	// ErrDataInUse: a running node already uses the Key.
	ErrDataInUse = errors.New("data directory in use by another node")
	// ErrNoSeedsListed: no seed name resolved at start; Cassandra refuses
	// to start ("The seed provider lists no seeds.").
	ErrNoSeedsListed = errors.New("no seed name resolves")
	// ErrNoSeeds: no seed was reachable within SeedTimeout.
	ErrNoSeeds = errors.New("no seed reachable")
	// ErrDecommissioned: the Key belongs to a decommissioned node.
	ErrDecommissioned = errors.New("node was decommissioned")
	// ErrIncompatibleData: the Key's data was written with another cluster
	// name, datacenter or rack.
	ErrIncompatibleData = errors.New("saved state does not match the configuration")
	// ErrAddressCollision: a new node takes the address of a ring member.
	ErrAddressCollision = errors.New("address collision")
	// ErrRangeMovement: a new node cannot bootstrap while another node of
	// the ring is joining or leaving.
	ErrRangeMovement = errors.New("concurrent range movement")
	// ErrStrictSources: a new node would bootstrap while a node it must
	// stream from is down (cassandra.consistent.rangemovement=true, the
	// default; 5.0.1 RangeStreamer.java:516, 575).
	ErrStrictSources = errors.New("a node required to move the data consistently is down")
	// ErrReplace: Cassandra refuses the replacement replace_address_first_boot
	// asks (5.0.1 StorageService.java:729-750, 2112).
	ErrReplace = errors.New("replacement refused")
	// ErrTokenAllocation: a new node joins a rack that already has a node
	// while its datacenter has more than one rack but fewer than the token
	// allocation factor (allocate_tokens_for_local_replication_factor, 3
	// from 4.0; 5.0.1 TokenAllocation.java:242-273).
	ErrTokenAllocation = errors.New("token allocation refused")
	// ErrStopped: the node was stopped, killed or its start was cancelled.
	ErrStopped = errors.New("node stopped")
	// ErrClosed: the Sim is closed.
	ErrClosed = errors.New("cassandra sim closed")
)

// Messages of the real Cassandra for the start failures above.
const (
	msgNoSeeds        = "Unable to contact any seeds!"
	msgNoSeedsListed  = "The seed provider lists no seeds."
	msgDecommissioned = "This node was decommissioned and will not rejoin the ring unless cassandra.override_decommission=true has been set, or all existing data is removed and the node is bootstrapped again"
)
