// Package replay runs the planner (reconciler/plan) over a simulated
// world that keeps the clusters' contract, and records the steps it
// takes. It is how `ringops plan` (review) shows the steps ringops will
// take: the decisions (which node joins, leaves or restarts first, when
// replication changes and nodes are rebuilt) come only from plan.Next;
// this package only plays the part of the clusters.
//
// The world (World) is fault-free and deterministic: API servers that
// hold what is applied; a StatefulSet controller with the real one's
// semantics (OrderedReady: one pod at a time, each waiting for the one
// before to be Ready; scale-down from the highest ordinal; rolling
// updates from the highest ordinal down to the partition); PVCs, one per
// pod, kept when the pod goes; Cassandra nodes that start and turn NORMAL,
// leave the ring when decommissioned, answer rebuilds and cleanups at
// once; the keyspaces' replication as ALTER KEYSPACE leaves it (a new
// ring's system keyspaces with SimpleStrategy 1, 3 and 2); a ring that is
// healthy when every member is NORMAL.
//
// Run drives one revision to convergence:
//
//	observe ─▶ plan.Next ─▶ steps: record, execute ─▶ the world settles
//	                    └─▶ a wait the world resolves (in progress,
//	                        settling, unhealthy): time moves on
//	                    └─▶ Converged: done; any other wait: an error
//
// A replay of a change runs the base revision from an empty world to its
// convergence (what the planner leaves behind, annotations included),
// then the head revision from there; the head's steps are the replay.
// Change windows and spec.rollout.paused hold the steps back in time,
// never change their order: the replay leaves them out.
package replay
