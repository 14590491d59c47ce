package plan

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// Desired is what one revision of the repository asks for one cluster.
type Desired struct {
	// Name is the cluster's name, for messages when Cluster is nil (the
	// spec could not be read).
	Name string
	// Cluster is the defaulted, valid spec. It may be nil only when Invalid
	// is set.
	Cluster *schemas.CassandraCluster
	// Revision names the revision (a commit) in messages; it may be empty.
	Revision string
	// Manifests are the rendered objects, one entry per context of the
	// cluster (render.Renderer.RenderAll).
	Manifests []*render.Manifests
	// Invalid is why the revision must not be applied at all: the spec's
	// validation, the change validation against the previous revision
	// (schemas.ValidateChange) or a render error. When set, the plan is
	// the wait Blocked and nothing is applied.
	Invalid error
}

// Observed is the state of the world the plan is made against, read by the
// kube edge and the ring reader just before planning.
type Observed struct {
	// Now is the time of the observation: it stamps the steps
	// (contract.AnnotationStepAt) and is compared with the stamps, the change
	// windows and the settle time. The planner never reads the clock.
	Now time.Time
	// Contexts holds what was read in each kube context, by context name.
	// It should hold the cluster's contexts in Desired plus every context
	// where the cluster had objects (the contexts of the previous
	// revision), so that a removed datacenter is still seen. A context of
	// the cluster missing here counts as unreachable.
	Contexts map[string]*Context
	// Ring is the health of the ring, judged over Members(Observed).
	Ring Ring
	// Keyspaces is the replication of the keyspaces, read over CQL (#15,
	// keyspaces.go); nil when the executor manages no replication (no CQL
	// edge): the planner then leaves replication and rebuilds alone.
	Keyspaces *Keyspaces
}

// Context is what the kube edge read in one context. Either Err is set,
// or the lists are what the API server returned (they may be empty).
type Context struct {
	// Err is why the API server could not be read; the lists are then
	// ignored.
	Err error
	// Objects are the live objects labelled for the cluster
	// (app.kubernetes.io/managed-by=ringops, ringops.dev/cluster=<name>),
	// StatefulSets included, with their status: at least every kind the
	// revision renders, plus ConfigMap, Service, PodDisruptionBudget and
	// StatefulSet, so that what left the desired state is pruned.
	Objects []*unstructured.Unstructured
	// Pods are the cluster's pods (label ringops.dev/cluster=<name>).
	Pods []corev1.Pod
	// PVCs are the cluster's PersistentVolumeClaims (same label: the
	// volumeClaimTemplate carries it).
	PVCs []corev1.PersistentVolumeClaim
	// With spec.adopt (#20), what CassKop made for the cluster and ringops
	// has not taken over yet (labels app=cassandracluster,
	// cassandracluster=<name>): Foreign its StatefulSets, Services and
	// PodDisruptionBudgets, ForeignPods its pods; Operators the CassKop
	// operators running in the namespace, each described with how to stop
	// it (adoption waits for them).
	Foreign     []*unstructured.Unstructured
	ForeignPods []corev1.Pod
	Operators   []string
}

// Ring is the verdict on the ring, built from a ring.Result by FromResult
// (or by hand in tests).
type Ring struct {
	// Assessed is false when no verdict could be reached (no node
	// answered); the ring then counts as unhealthy.
	Assessed bool
	// Healthy: every expected node Up and Normal in every view, one schema.
	Healthy bool
	// Since is when the current verdict started (the first observation
	// of the current healthy, or unhealthy, streak); zero when unknown.
	// Settle counts from it; so does the health timeout, with the steps'
	// stamps.
	Since time.Time
	// Summary is the verdict in one line, for messages.
	Summary string
	// Problems are why the ring is unhealthy, sorted.
	Problems []RingProblem
	// Nodes are what the ring says of each pod, by pod name.
	Nodes map[string]RingNode
	// UpgradeSkew, when not empty, says that the ring's only problem is
	// the schema disagreement of a rolling upgrade across Cassandra
	// release series (ring.UpgradeSkew, in words): restarts of the roll go
	// on through it, nothing else does.
	UpgradeSkew string
	// replace (#16): Others are the ring members no pod of the cluster is
	// at (UnknownNode endpoints: a dead node whose pod came back at
	// another address), sorted by address.
	Others []RingEndpoint
}

// RingEndpoint is a ring member no pod is at (replace, #16).
type RingEndpoint struct {
	Address, HostID string
	// State is as RingNode.State (DN: down, DL: down and being removed).
	State ring.NodeState
	// DownSince is since when it has been down (RingNode.DownSince).
	DownSince time.Time
}

// RingProblem is one reason of an unhealthy ring.
type RingProblem struct {
	// Kind is the ring package's ReasonKind name (NodeDown, NodeJoining,
	// SchemaDisagreement, ...).
	Kind string
	// Nodes names who the problem is about: pod names, or bare addresses
	// for endpoints no pod has. Empty for cluster-wide problems.
	Nodes []string
	// Text is the problem in one sentence.
	Text string
}

// RingNode is what the ring says of one pod.
type RingNode struct {
	// Mode is the node's own OperationMode (NORMAL, JOINING, LEAVING,
	// DECOMMISSIONED, ...), "" when it could not be asked.
	Mode ring.OperationMode
	// State is the node's state as nodetool prints it (UN, UJ, DN, ...;
	// StateUnknown, "??", when no view has it).
	State ring.NodeState
	// InRing is true when some view has the node in its ring (live,
	// unreachable or with a host ID): it joined at some point.
	InRing bool
	// NoProgressSince is since when the node's long operation has shown
	// no progress: the same streams with the same bytes moved, the same
	// upgradesstables work done and count of old sstables, in every read
	// of its progress since then (jolokia.Progress.Signature). Zero when its
	// progress was not read (it did not answer, or runs no operation).
	// The executor keeps it between observations, as Ring.Since.
	NoProgressSince time.Time
	// OldSSTables is the number of the node's sstables on an older format
	// than its release writes (jolokia.Progress.OldSSTables): above 0, the
	// node needs an upgradesstables; -1 when unknown.
	OldSSTables int64
	// Tasks are what the node's progress read shows running (#15): the
	// descriptions of its stream plans ("Rebuild", "Bootstrap", ...) and
	// the task types of its compactions ("Cleanup", "Upgrade sstables");
	// nil when its progress was not read.
	Tasks []string

	// replace (#16):
	// HostID and Address are the node's host ID and address in the ring
	// (its own view's, else the first that has it); "" when none has it.
	HostID, Address string
	// Load is the node's data size as the ring reports it (its own
	// view's, else the first that has it), "" when none does: for
	// display only.
	Load string
	// DownSince is since when the node has been down, as a live node's
	// failure detector says (jolokia.Operations.Downtime); zero when it is up
	// or nobody could say. The executor computes it.
	DownSince time.Time
	// CleanupRunning: a cleanup compaction runs on the node
	// (jolokia.Progress.CleaningUp). CleanupSeen is the last time one was
	// seen running, or the node answered a cleanup as done; the executor
	// keeps it between observations (a restarted one starts afresh).
	CleanupRunning bool
	CleanupSeen    time.Time
}
