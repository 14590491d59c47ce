package ring

// OperationMode is StorageService.OperationMode: what a node says it is doing.
type OperationMode string

// Operation modes of Cassandra 3.11 to 5.0 (the _FAILED ones are 5.0's).
const (
	ModeStarting           OperationMode = "STARTING"
	ModeNormal             OperationMode = "NORMAL"
	ModeJoining            OperationMode = "JOINING"
	ModeLeaving            OperationMode = "LEAVING"
	ModeDecommissioned     OperationMode = "DECOMMISSIONED"
	ModeMoving             OperationMode = "MOVING"
	ModeDraining           OperationMode = "DRAINING"
	ModeDrained            OperationMode = "DRAINED"
	ModeJoiningFailed      OperationMode = "JOINING_FAILED"
	ModeDecommissionFailed OperationMode = "DECOMMISSION_FAILED"
)

// View is one node's view of the ring, read over Jolokia in one bulk POST.
// Endpoints are normalised (NormalizeEndpoint) and lists are sorted. Every
// field is local to the node and exists in Cassandra 3.11, 4.x and 5.0.
type View struct {
	// Live, Unreachable: ring members this node's failure detector has up
	// or down (Live includes the node itself).
	Live        []string `json:"live"`
	Unreachable []string `json:"unreachable,omitempty"`
	// Joining, Leaving, Moving: members bootstrapping, decommissioning or
	// moving tokens.
	Joining []string `json:"joining,omitempty"`
	Leaving []string `json:"leaving,omitempty"`
	Moving  []string `json:"moving,omitempty"`
	// Mode is the node's own operation mode.
	Mode OperationMode `json:"mode"`
	// HostIDs maps every ring member's endpoint to its host ID
	// (StorageService.EndpointToHostId).
	HostIDs map[string]string `json:"hostIDs"`
	// SchemaVersion is the node's own schema version
	// (StorageService.SchemaVersion); Assess compares the nodes' answers.
	SchemaVersion string `json:"schemaVersion"`
	// NativeTransportRunning says whether the node serves CQL clients: it
	// turns true seconds after the mode turned NORMAL.
	NativeTransportRunning bool `json:"nativeTransportRunning"`
	// Load maps endpoints to their load as Cassandra prints it ("1.5 MiB");
	// nil when the agent did not answer it (it is optional).
	Load map[string]string `json:"load,omitempty"`
	// ReleaseVersion is the Cassandra version, e.g. "4.1.5".
	ReleaseVersion string `json:"releaseVersion"`
}
