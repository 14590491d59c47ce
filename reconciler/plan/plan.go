package plan

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Plan is the planner's answer: the steps to take now, in order, or why
// none is taken. It is a value: the executor applies it and plans again.
type Plan struct {
	// Cluster and Revision name what the plan is for.
	Cluster  string
	Revision string
	// Steps are to be executed in order; the executor stops at the first
	// error and plans again. Either one disruptive step, or one or more
	// non-disruptive ones.
	Steps []Step
	// Wait says why there is no step (Reason is zero when Steps is not
	// empty); Converged when there is nothing left to do.
	Wait Wait
}

// Done reports whether the cluster is as the revision asks, ring healthy.
func (p Plan) Done() bool { return len(p.Steps) == 0 && p.Wait.Reason == Converged }

// Failed reports whether the plan is a failure to report (Blocked,
// HealthTimeout): the rollout cannot go on without a human.
func (p Plan) Failed() bool { return len(p.Steps) == 0 && p.Wait.Reason.Failed() }

// String renders the plan for humans, one line per step:
//
//	orders@1a2b3c: 1 step
//	  1. eu-west: ScaleStatefulSet orders-dc1-r2 1 -> 2 (orders-dc1-r2-1 joins): dc1 grows, rack r2
func (p Plan) String() string {
	var b strings.Builder
	b.WriteString(p.Cluster)
	if p.Revision != "" {
		b.WriteString("@" + p.Revision)
	}
	if len(p.Steps) == 0 {
		b.WriteString(": " + p.Wait.String())
		return b.String()
	}
	fmt.Fprintf(&b, ": %s", plural(len(p.Steps), "step"))
	for i, s := range p.Steps {
		fmt.Fprintf(&b, "\n  %d. %s", i+1, s)
	}
	return b.String()
}

// Wait is why a plan has no step.
type Wait struct {
	Reason WaitReason
	// Context is the region the wait is about, "" when cluster-wide.
	Context string
	// Message is for humans; code never reads it back.
	Message string
	// Since is when the awaited step started (its stamp), zero when
	// unknown or not applicable.
	Since time.Time
	// Until is when the wait ends by itself (the next change window
	// opens), zero when nothing but a change ends it.
	Until time.Time
}

func (w Wait) String() string {
	s := w.Reason.String()
	if w.Context != "" {
		s += " (" + w.Context + ")"
	}
	if w.Message != "" {
		s += ": " + w.Message
	}
	return s
}

// WaitReason is why no step is taken.
type WaitReason uint8

// The wait reasons.
const (
	// Converged: everything is as desired and the ring is healthy.
	Converged WaitReason = iota + 1
	// Blocked: the revision is invalid (validation, change validation,
	// render) and nothing is applied, or the next step needs a human.
	// A failure.
	Blocked
	// RegionUnreachable: an API server cannot be read. The seed region
	// blocks everything; another region blocks every disruptive step (one
	// step in flight across all regions cannot be checked without it).
	RegionUnreachable
	// WaitingForRegion: the next step is in a later datacenter, and an
	// earlier one is not done (a node joining, restarting, unhealthy).
	WaitingForRegion
	// RolloutInProgress: a step of the rollout is in flight (a node
	// joining, restarting or leaving; the StatefulSet controller catching
	// up).
	RolloutInProgress
	// RingUnhealthy: the ring is not healthy, and no step of ours is in
	// flight.
	RingUnhealthy
	// Settling: the ring became healthy less than spec.rollout.settle ago.
	Settling
	// Paused: spec.rollout.paused stops disruptive steps.
	Paused
	// OutsideWindow: no change window is open.
	OutsideWindow
	// HealthTimeout: a step has waited for a healthy ring (or for its own
	// completion) longer than spec.rollout.healthTimeout. A failure; the
	// planner keeps waiting.
	HealthTimeout
)

var waitNames = [...]string{"", "Converged", "Blocked", "RegionUnreachable", "WaitingForRegion",
	"RolloutInProgress", "RingUnhealthy", "Settling", "Paused", "OutsideWindow", "HealthTimeout"}

func (r WaitReason) String() string {
	if int(r) < len(waitNames) && r > 0 {
		return waitNames[r]
	}
	return "WaitReason(" + strconv.Itoa(int(r)) + ")"
}

// Failed reports whether the reason is a failure (commit status failure).
func (r WaitReason) Failed() bool { return r == Blocked || r == HealthTimeout }

// Action is what a step does. The executor's part of each is in the doc
// comment of the constant.
type Action uint8

// The actions.
const (
	// ApplyObjects: server-side apply Objects, in order (ConfigMaps,
	// Services, PodDisruptionBudgets and the like). Non-disruptive.
	ApplyObjects Action = iota + 1
	// CreateStatefulSet: server-side apply Objects[0], a StatefulSet that
	// does not exist, at 0 replicas (or at the count of pods it will
	// adopt). Non-disruptive.
	CreateStatefulSet
	// UpdateStatefulSet: server-side apply Objects[0]: a changed template
	// staged behind a partition equal to the replicas (no pod restarts),
	// metadata, or the partition put back to 0 once every pod is updated.
	// Non-disruptive.
	UpdateStatefulSet
	// ScaleStatefulSet: server-side apply Objects[0] with replicas From ->
	// To (always one apart). Up: Pod joins the ring (disruptive). Down:
	// Pod is decommissioned or never joined (not disruptive); first
	// annotate the PVC MarkPVC, if set and present, with
	// contract.AnnotationDecommissioned.
	ScaleStatefulSet
	// RestartPod: server-side apply Objects[0] with the partition lowered
	// From -> To: the StatefulSet controller restarts Pod (ordinal To) on
	// the staged template. Disruptive. With DeletePod, then delete Pod
	// (precondition UID): it is down, and an OrderedReady StatefulSet never
	// replaces a pod that is not Ready on its own (Kubernetes' "forced
	// rollback"); its PVC stays, so this is a restart.
	RestartPod
	// Decommission: server-side apply Objects[0] (the StatefulSet with
	// contract.AnnotationDecommission naming Pod and the attempt), then send the
	// decommission of Pod through Jolokia (jolokia.Operations.Decommission),
	// or its retry, without waiting: the planner follows the node's
	// OperationMode and the other nodes' views. Disruptive.
	Decommission
	// DeletePVC: delete Target (preconditions UID and resourceVersion), a
	// PVC whose node was decommissioned, when spec.storage says so.
	DeletePVC
	// ExpandPVC: set Target's spec.resources.requests.storage to Size
	// (resourceVersion precondition). Non-disruptive.
	ExpandPVC
	// RecreateStatefulSet: delete Target with propagationPolicy Orphan
	// (preconditions UID and resourceVersion; pods and PVCs stay), wait
	// until it is gone, then server-side apply Objects[0]: the way to
	// change immutable fields such as volumeClaimTemplates. Non-disruptive.
	RecreateStatefulSet
	// DeleteStatefulSet: delete Target (preconditions UID and
	// resourceVersion), a StatefulSet of a removed datacenter at 0
	// replicas with no pod left. Non-disruptive.
	DeleteStatefulSet
	// Prune: delete Target (precondition UID), an object that left the
	// desired state; never a StatefulSet, pod or PVC. Non-disruptive.
	Prune
	// ResumeBootstrap: server-side apply Objects[0] (the StatefulSet
	// stamped with the attempt), then ask Pod, whose bootstrap failed, to
	// resume it (`nodetool bootstrap resume`, through
	// jolokia.Operations.ResumeBootstrap), without waiting: the planner
	// follows the node's mode and streams. Disruptive.
	ResumeBootstrap
	// UpgradeSSTables: server-side apply Objects[0] (the StatefulSet
	// stamped with the attempt), then start rewriting Pod's sstables that
	// are on an older format than its release writes (`nodetool
	// upgradesstables`, through jolokia.Operations.UpgradeSSTables), without
	// waiting: the planner follows the node's count of old sstables.
	// Disruptive (it loads the node's disks: one at a time, gated).
	UpgradeSSTables
	// replace (#16), replace.go, removenode.go, cleanup.go:

	// ReplaceNode: server-side apply Objects in order (the record
	// <cluster>-nodes with Pod's instruction, replace=<old address> or
	// join=new, then Pod's StatefulSet stamped, with the template its new
	// node must start from when Pod is a seed), then delete Pod (UID
	// DeletePod, when set): its init container lets it start as the
	// replacement of its dead node, or as a new node. Disruptive (a range
	// movement).
	ReplaceNode
	// RemoveNode: server-side apply Objects in order (the record with the
	// request carried out, then the dead node's StatefulSet stamped), then
	// ask Via to remove HostID from the ring (`nodetool removenode`,
	// jolokia.Operations.RemoveNode) without waiting: the planner follows it
	// from the ring. Disruptive (a range movement).
	RemoveNode
	// Cleanup (#16 and #15, one action): server-side apply Objects[0]
	// (the StatefulSet stamped with the attempt), then start `nodetool
	// cleanup -j Jobs` on Pod (StorageService.forceKeyspaceCleanup,
	// jolokia.Operations.Cleanup) of each of Keyspaces, or of every keyspace
	// when none is named, without waiting longer than the call's timeout:
	// the node drops the data of the ranges it no longer replicates. When
	// Cassandra answers in time that it is done, server-side apply
	// OnSuccess (the record of it, when the step has one) and remember the
	// cleanup as seen (RingNode.CleanupSeen); no answer in time is no
	// failure (the planner follows the node's cleanup compactions); an
	// answer that it failed is the step's error. Disruptive (it loads the
	// node's disks: one at a time, never during a range movement).
	Cleanup

	// The actions of keyspace replication and datacenters (#15,
	// keyspaces.go, datacenters.go):

	// AlterKeyspace: server-side apply Objects (StatefulSets stamped and
	// marked with the work the change leaves to their nodes:
	// contract.AnnotationRebuild, contract.AnnotationCleanup), then, through the nodes of
	// Datacenter over CQL, ALTER KEYSPACE each of Keyspaces, in order, to
	// NetworkTopologyStrategy with its To factors; stop at the first
	// error. Cassandra refuses it during a range movement, and the
	// planner never asks then. The planner then waits for one schema
	// version (the ring's health). Disruptive: one at a time, gated.
	AlterKeyspace
	// Rebuild: server-side apply Objects[0] (the StatefulSet stamped with
	// the attempt), then ask Pod to stream its ranges from datacenter
	// Datacenter (StorageService.rebuild: every keyspace, or only
	// Keyspaces), through jolokia.Operations.Rebuild, without waiting longer
	// than the call's timeout. When Cassandra answers in time that it is
	// done, server-side apply OnSuccess (the record of it); no answer in
	// time is no failure (the planner follows the node's streams); an
	// answer that it failed is the step's error. Disruptive.
	Rebuild

	// The actions of the adoption of a ring CassKop made (#20, adopt.go):

	// AdoptStatefulSet: server-side apply Objects[0] over Target, a
	// StatefulSet CassKop made (its owner reference to the
	// CassandraCluster removed first): its selector, claim templates and
	// pod template kept, ringops' pod labels added, partition at its
	// replicas; then, once the controller has named the update revision,
	// label each of its pods in place with the template's labels and that
	// revision, and their claims with ringops' claim labels
	// (kube.AdoptStatefulSet). Nothing restarts. Non-disruptive.
	AdoptStatefulSet
	// DeleteCassKopObject: delete Target (precondition UID), an object
	// CassKop made that ringops replaces by one of its own (its
	// PodDisruptionBudget), once every StatefulSet of the context is
	// adopted. Non-disruptive.
	DeleteCassKopObject
)

var actionNames = [...]string{"", "ApplyObjects", "CreateStatefulSet", "UpdateStatefulSet", "ScaleStatefulSet",
	"RestartPod", "Decommission", "DeletePVC", "ExpandPVC", "RecreateStatefulSet", "DeleteStatefulSet", "Prune",
	"ResumeBootstrap", "UpgradeSSTables", "ReplaceNode", "RemoveNode", "Cleanup", "AlterKeyspace", "Rebuild",
	"AdoptStatefulSet", "DeleteCassKopObject"}

// LastAction is the last of the actions, for loops over all of them.
const LastAction = DeleteCassKopObject

func (a Action) String() string {
	if int(a) < len(actionNames) && a > 0 {
		return actionNames[a]
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// ObjectRef names an object in a context. UID and ResourceVersion are the
// observed ones, to use as preconditions of a delete or patch.
type ObjectRef struct {
	APIVersion      string
	Kind            string
	Namespace       string
	Name            string
	UID             string
	ResourceVersion string
}

func (r ObjectRef) String() string { return r.Kind + " " + r.Name }

func refOf(u *unstructured.Unstructured) ObjectRef {
	return ObjectRef{
		APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(),
		UID: string(u.GetUID()), ResourceVersion: u.GetResourceVersion(),
	}
}

// Step is one thing to do in one context.
type Step struct {
	Action  Action
	Context string
	// Target is the object the step is about (for ApplyObjects, the
	// first object).
	Target ObjectRef
	// Objects are to be server-side applied (field manager "ringops",
	// force), in order. A StatefulSet carries the observed
	// metadata.resourceVersion when it exists, so that a concurrent change
	// fails the apply (409) instead of being overwritten.
	Objects []*unstructured.Unstructured
	// Pod is the Cassandra node the step is about: joining, restarting,
	// decommissioned or removed.
	Pod string
	// From and To are replicas (ScaleStatefulSet) or partitions
	// (RestartPod, UpdateStatefulSet).
	From, To int32
	// Size is the new size of ExpandPVC.
	Size string
	// MarkPVC is, for ScaleStatefulSet down after a decommission, the PVC
	// to annotate with contract.AnnotationDecommissioned before the apply.
	MarkPVC string
	// DeletePod is, for RestartPod and ReplaceNode, the UID of the pod to
	// delete after the apply ("" for none): the pod is down and would
	// never be replaced.
	DeletePod string
	// replace (#16): HostID is, for RemoveNode, the dead node's host ID
	// (the only one removed), Via the pod whose node removes it; Jobs is,
	// for Cleanup, the tables cleaned up at once
	// (spec.rollout.cleanupJobs).
	HostID, Via string
	Jobs        int32
	// Keyspaces are, for AlterKeyspace, the replications to set, in
	// order; for Rebuild and Cleanup, the keyspaces (To unset; none: every
	// keyspace) (#15).
	Keyspaces []KeyspaceChange
	// Datacenter is, for AlterKeyspace, the datacenter whose nodes take
	// the statements; for Rebuild, the datacenter to stream from (#15).
	Datacenter string
	// Force is, for Decommission, Cassandra's force flag: decommission
	// even though a keyspace keeps as many replicas in the datacenter as
	// it has nodes. Only for the last node of a datacenter that leaves,
	// when system_auth alone keeps a replica there (Cassandra refuses to
	// take system_auth out of a datacenter that has nodes) (#15).
	Force bool
	// OnSuccess are, for Rebuild and Cleanup, the objects to server-side
	// apply once Cassandra answered that the operation is done: the
	// durable record of it (#15).
	OnSuccess []*unstructured.Unstructured
	// Reason is why, for humans; never read back.
	Reason string
}

// Disruptive reports whether the step makes a node join, leave or
// restart: at most one such step is in flight per cluster.
func (s Step) Disruptive() bool {
	switch s.Action {
	case RestartPod, Decommission, ResumeBootstrap, UpgradeSSTables, ReplaceNode, RemoveNode, Cleanup, AlterKeyspace, Rebuild:
		return true
	case ScaleStatefulSet:
		return s.To > s.From
	}
	return false
}

// String is "<context>: <action> <target> <detail>: <reason>".
func (s Step) String() string {
	var b strings.Builder
	b.WriteString(s.Context + ": " + s.Action.String() + " ")
	switch s.Action {
	case ApplyObjects:
		names := make([]string, len(s.Objects))
		for i, u := range s.Objects {
			names[i] = u.GetKind() + " " + u.GetName()
		}
		b.WriteString(strings.Join(names, ", "))
	case Prune:
		b.WriteString(s.Target.Kind + " " + s.Target.Name)
	case AlterKeyspace:
		changes := make([]string, len(s.Keyspaces))
		for i, k := range s.Keyspaces {
			changes[i] = k.String()
		}
		b.WriteString(strings.Join(changes, "; ") + " via " + s.Datacenter)
	default:
		b.WriteString(s.Target.Name)
	}
	switch s.Action {
	case ScaleStatefulSet:
		fmt.Fprintf(&b, " %d -> %d", s.From, s.To)
	case RestartPod:
		fmt.Fprintf(&b, " partition %d -> %d", s.From, s.To)
	case ExpandPVC:
		b.WriteString(" to " + s.Size)
	}
	switch {
	case s.Pod == "":
	case s.Action == RemoveNode:
		b.WriteString(" node " + s.Pod + " host ID " + s.HostID + " via " + s.Via)
	case s.Action == Decommission || s.Action == ResumeBootstrap || s.Action == UpgradeSSTables || s.Action == ReplaceNode ||
		s.Action == Rebuild || s.Action == Cleanup:
		b.WriteString(" node " + s.Pod)
		b.WriteString(s.operationDetail()) // #15: keyspaces_types.go
	default:
		b.WriteString(" (" + s.Pod + ")")
	}
	if s.Reason != "" {
		b.WriteString(": " + s.Reason)
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
