package review

import (
	"encoding/json"
	"fmt"
	"time"
)

// APIVersion and Kind identify a plan document. The version changes only
// when a field changes meaning or goes away; fields may be added.
const (
	APIVersion = "ringops.dev/plan/v1"
	Kind       = "Plan"
)

// Document is the plan of a change: what merging head over base does to
// every cluster of the repository, in an operator's words, and the
// rendered manifest diff per region. It is the one result of Compare; the
// text and Markdown forms are rendered from it (Text, Markdown), and it is
// printed as is by `ringops plan -o json`.
type Document struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Base and Head are the compared revisions.
	Base Revision `json:"base"`
	Head Revision `json:"head"`
	// Now is when change windows were evaluated.
	Now time.Time `json:"now"`
	// Outcome is Invalid when any cluster is refused, else Changes when
	// any cluster changes, else NoChange.
	Outcome Outcome `json:"outcome"`
	// Summary is one line for a heading or a commit status.
	Summary string `json:"summary"`
	// Clusters are the clusters the change touches (and those invalid at
	// head), sorted by directory.
	Clusters []Cluster `json:"clusters"`
	// Unchanged counts the clusters whose rendered objects are the same
	// at base and head (their directory may still differ, e.g. comments).
	Unchanged int `json:"unchanged"`
}

// Revision names one side of the change.
type Revision struct {
	// Name is the revision as the user gave it (main, origin/main, HEAD~1).
	Name string `json:"name"`
	// Commit is the commit hash, when known.
	Commit string `json:"commit,omitempty"`
}

// String is "name (abcdef1)", or the name alone.
func (r Revision) String() string {
	if r.Commit == "" {
		return r.Name
	}
	return fmt.Sprintf("%s (%s)", r.Name, shortHash(r.Commit))
}

func shortHash(h string) string { return h[:min(len(h), 7)] }

// Outcome is the verdict of a plan; `ringops plan` exits with it.
type Outcome string

// The outcomes.
const (
	// NoChange: no cluster's rendered objects change (exit 0).
	NoChange Outcome = "NoChange"
	// Changes: the change implies operations (exit 1).
	Changes Outcome = "Changes"
	// Invalid: a cluster is invalid at head or its change is refused;
	// ringops applies nothing of the revision to it (exit 2).
	Invalid Outcome = "Invalid"
)

func (o Outcome) String() string { return string(o) }

// ChangeKind says what happened to a cluster's directory.
type ChangeKind string

// The kinds of cluster change.
const (
	// Added: the cluster is new at head.
	Added ChangeKind = "Added"
	// Removed: the cluster's directory is gone at head.
	Removed ChangeKind = "Removed"
	// Modified: the cluster exists on both sides and changed.
	Modified ChangeKind = "Modified"
	// Moved: the cluster (same name and namespace) changed directory.
	Moved ChangeKind = "Moved"
	// Unmodified: the cluster's files are the same on both sides; listed
	// only when it is invalid at head.
	Unmodified ChangeKind = "Unmodified"
)

func (k ChangeKind) String() string { return string(k) }

// Cluster is what the change does to one cluster.
type Cluster struct {
	// Name is metadata.name (the directory's base name when the spec
	// cannot be read).
	Name string `json:"name"`
	// Dir is the cluster's directory in the repository at head (at base
	// when removed), e.g. clusters/orders.
	Dir string `json:"dir"`
	// BaseDir is the directory at base when it moved.
	BaseDir string     `json:"baseDir,omitempty"`
	Change  ChangeKind `json:"change"`
	// Summary is the cluster's part of the document's summary, e.g.
	// "+1 DC, 3 bootstraps, 9 restarts" or "refused".
	Summary string `json:"summary"`
	// Refused lists why the head revision is invalid or its change
	// unsafe. When it is not empty, Operations and Contexts are empty:
	// nothing of the revision is applied to the cluster.
	Refused []Problem `json:"refused,omitempty"`
	// Notes are facts a reviewer should know that are not operations
	// (e.g. the base revision did not load).
	Notes []string `json:"notes,omitempty"`
	// Operations are in the order ringops carries them out.
	Operations []Operation `json:"operations,omitempty"`
	// Contexts are the regions whose rendered objects change, seed
	// region first.
	Contexts []ContextDiff `json:"contexts,omitempty"`
}

// Problem is one reason a change is refused, located when possible.
type Problem struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// String is "file:line: field: message", leaving out what is unknown.
func (p Problem) String() string {
	s := ""
	if p.File != "" {
		s = p.File
		if p.Line > 0 {
			s += fmt.Sprintf(":%d", p.Line)
		}
		s += ": "
	}
	if p.Field != "" {
		s += p.Field + ": "
	}
	return s + p.Message
}

// OperationKind is the kind of an operation.
type OperationKind string

// The operations. Bootstrap, Decommission and RollingRestart are
// disruptive: ringops does them one node at a time, each gated on a
// healthy ring, and only when not paused and inside a change window.
const (
	// NewCluster: the cluster appears; its datacenters follow as AddDatacenter.
	NewCluster OperationKind = "NewCluster"
	// ClusterRemoved: the directory is gone; ringops stops managing the
	// cluster and deletes nothing.
	ClusterRemoved OperationKind = "ClusterRemoved"
	// AddDatacenter: a datacenter is created and its nodes bootstrap.
	AddDatacenter OperationKind = "AddDatacenter"
	// RemoveDatacenter: an empty datacenter leaves; its empty StatefulSets
	// and PodDisruptionBudget are deleted.
	RemoveDatacenter OperationKind = "RemoveDatacenter"
	// Bootstrap: nodes join an existing datacenter.
	Bootstrap OperationKind = "Bootstrap"
	// Decommission: nodes leave an existing datacenter.
	Decommission OperationKind = "Decommission"
	// RollingRestart: pods restart on a new template, one at a time.
	RollingRestart OperationKind = "RollingRestart"
	// SeedList: the target seed list changes; it costs no restart of its
	// own (the planner writes the seeds that have joined into a rack's
	// template when it writes it for another change).
	SeedList OperationKind = "SeedList"
	// Recreate: StatefulSets are re-created because an immutable field
	// changed (pods and PVCs are kept, nothing restarts).
	Recreate OperationKind = "Recreate"
	// ExpandStorage: the nodes' PVCs grow in place.
	ExpandStorage OperationKind = "ExpandStorage"
	// DeletePVCs: PVCs of decommissioned nodes are deleted.
	DeletePVCs OperationKind = "DeletePVCs"
	// Apply: objects are created, updated or pruned at once, with no restart.
	Apply OperationKind = "Apply"
	// Gate: the disruptive operations wait (paused, change windows).
	Gate OperationKind = "Gate"
	// Cleanup: the older nodes of a datacenter that grew drop the data of
	// the ranges they gave away, one at a time (replace, #16).
	Cleanup OperationKind = "Cleanup"
	// RemoveNode: a dead node asked for in spec.operations is removed
	// from the ring (replace, #16).
	RemoveNode OperationKind = "RemoveNode"
	// Replication: ALTER KEYSPACE of the managed keyspaces (#15).
	Replication OperationKind = "Replication"
	// Rebuild: nodes stream their ranges from another datacenter, one at
	// a time (#15).
	Rebuild OperationKind = "Rebuild"
	// Adopt: a new cluster with spec.adopt takes over the StatefulSets of
	// its names that CassKop made, in place: their pods keep running (no
	// restart), CassKop's pod template until a change needs a restart
	// (#20).
	Adopt OperationKind = "Adopt"
)

func (k OperationKind) String() string { return string(k) }

// Disruptive reports whether operations of kind k make nodes join, leave
// or restart.
func (k OperationKind) Disruptive() bool {
	return k == Bootstrap || k == Decommission || k == RollingRestart || k == AddDatacenter || k == Cleanup || k == RemoveNode ||
		k == Replication || k == Rebuild
}

// Operation is one thing ringops will do for the change.
type Operation struct {
	Kind OperationKind `json:"kind"`
	// Context and Datacenter locate the operation when it has one place.
	Context    string `json:"context,omitempty"`
	Datacenter string `json:"datacenter,omitempty"`
	// Nodes is how many nodes join, leave or restart.
	Nodes int `json:"nodes,omitempty"`
	// Pods are the pods concerned, in the order ringops handles them.
	Pods []string `json:"pods,omitempty"`
	// Racks are the racks concerned, in order, as "<context> <dc> <rack>".
	Racks []string `json:"racks,omitempty"`
	// Objects are the objects concerned, as "<Kind> <name>".
	Objects []string `json:"objects,omitempty"`
	// Causes say why pods restart (image, configuration, JVM options...).
	Causes []string `json:"causes,omitempty"`
	// Text is the operation in words, e.g. "dc2 (us-east): +1 node in
	// rack r2: 1 bootstrap (orders-dc2-r2-1)".
	Text string `json:"text"`
}

// ContextDiff is how the rendered objects of one region change.
type ContextDiff struct {
	Context string         `json:"context"`
	Objects []ObjectChange `json:"objects"`
	// Diff is the unified diff of the region's rendered YAML (objects
	// sorted as rendered), base to head.
	Diff string `json:"diff"`
}

// Summary is "3 objects changed" or "3 objects changed (1 new, 1 removed)".
func (c ContextDiff) Summary() string {
	var added, removed int
	for _, o := range c.Objects {
		switch o.Change {
		case ObjectAdded:
			added++
		case ObjectRemoved:
			removed++
		}
	}
	s := plural(len(c.Objects), "object") + " changed"
	var parts []string
	if added > 0 {
		parts = append(parts, fmt.Sprintf("%d new", added))
	}
	if removed > 0 {
		parts = append(parts, fmt.Sprintf("%d removed", removed))
	}
	if len(parts) > 0 {
		s += " (" + join(parts, ", ") + ")"
	}
	return s
}

// ObjectChangeKind is what happens to one rendered object.
type ObjectChangeKind string

// The object changes.
const (
	ObjectAdded   ObjectChangeKind = "Added"
	ObjectChanged ObjectChangeKind = "Changed"
	ObjectRemoved ObjectChangeKind = "Removed"
)

func (k ObjectChangeKind) String() string { return string(k) }

// ObjectChange is one rendered object that differs.
type ObjectChange struct {
	Kind      string           `json:"kind"`
	Namespace string           `json:"namespace,omitempty"`
	Name      string           `json:"name"`
	Change    ObjectChangeKind `json:"change"`
}

// JSON returns the document as indented JSON, ending with a newline.
func (d *Document) JSON() []byte {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil { // only strings, numbers and times
		panic(fmt.Sprintf("review: %v", err))
	}
	return append(b, '\n')
}
