// Package sim is the simulated clusters of one Cassandra cluster: the
// world the planner (reconciler/plan) is run over, both by `ringops plan`
// (reconciler/plan/replay: no fault, to show the steps ringops will
// take) and by the planner's property tests (faults on, random
// revisions). One world, so that the world the review trusts is the
// world the property tests hammer.
//
// It keeps the clusters' contract: API servers holding objects; a
// StatefulSet controller with the real one's semantics (OrderedReady: one
// pod at a time, waiting for each to be Ready, and nothing else while a
// pod is not Ready; rolling updates from the highest ordinal down to the
// partition, OnDelete; scale-down from the highest ordinal); pods, PVCs
// carrying each node's data; and a Cassandra ring (a fresh node needs a
// live seed, joins, becomes NORMAL; a fresh node in its own seed list, or
// with an empty one, joins NORMAL at once without bootstrap, as Cassandra
// does, and its volume records it; decommission leaves the ring; a
// decommissioned volume never starts again). Each node runs the Cassandra
// release of its pod's image (3.11, 4.1 or 5.0): a failed decommission
// leaves 3.11 and 4.1 LEAVING and 5.0 DECOMMISSION_FAILED, nothing
// running; a failed bootstrap leaves 3.11 and 4.1 JOINING and 5.0
// JOINING_FAILED until resumed; a ring of two release series disagrees on
// its schema; a node restarted from 3.11 on 4.1 holds old sstables until
// upgradesstables. The keyspaces' replication is what ALTER KEYSPACE
// leaves (keyspaces.go); a lost volume leaves its dead node in the ring
// until it is replaced or removed (replace.go). A world may start with a
// ring CassKop made, which spec.adopt takes over (casskop.go): its
// objects, pods and claims carry CassKop's labels only, and the planner
// sees them as kube.Observe shows them with Query.Adopt. Pods and claims
// carry the labels the controller gives them (their templates' and, for
// claims, the selector's); the planner sees those labelled
// ringops.dev/cluster=<cluster>, as kube.Observe selects them.
//
// A world moves a tick (Tick) at a time:
//
//	Observe ─▶ plan.Next ─▶ Execute (invariants checked) ─▶ advance
//
// and its hooks are those a scenario needs:
//
//   - Revise: the revision the planner is given (valid or not);
//   - SeedCassKop, StopCassKop: a ring CassKop made, its operator (#20);
//   - faults: SetFaults (the controller lagging, the executor crashing
//     half way through a step), CrashIn (the next step of an action
//     crashing at a given point), InjectFault (nodes killed or
//     partitioned, pods stuck Pending, API servers and Jolokia down,
//     decommissions, bootstraps, upgradesstables, rebuilds and cleanups
//     failing, CQL unreadable), LoseVolume (a random one) and
//     LoseVolumeOf (a given pod's, with SetHostID: a removal asked in
//     spec.operations), Heal;
//   - people: Operator (does what a Blocked plan asks a human), User (the
//     application's owners altering a keyspace ringops does not manage);
//   - invariants: every step is checked against the ground truth as it
//     is executed (Violations); Converged checks the end state; Restarts
//     counts the pods restarted by rolls and RestartPod steps.
//
// With no fault armed, a world is deterministic: the same revisions give
// the same steps.
package sim
