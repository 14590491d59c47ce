// Package replay runs the planner (reconciler/plan) over the simulated
// clusters of package sim, with no fault, and records the steps it takes.
// It is how `ringops plan` (review) shows the steps ringops will take: the
// decisions (which node joins, leaves or restarts first, when replication
// changes and nodes are rebuilt, when objects are pruned, which dead node
// is removed) come only from plan.Next; package sim only plays the part
// of the clusters, the same world the planner's property tests run with
// faults on.
//
// Run drives one revision to convergence, a sim.Tick at a time:
//
//	observe ─▶ plan.Next ─▶ steps: record, execute ─▶ the world moves on
//	                    └─▶ a wait the world resolves (in progress,
//	                        settling, unhealthy): the world moves on
//	                    └─▶ Converged: done; any other wait, a failed
//	                        step or a broken rule: an error
//
// A replay of a change runs the base revision from an empty world to its
// convergence (what the planner leaves behind, annotations included),
// then the head revision from there; the head's steps are the replay.
// Change windows and spec.rollout.paused hold the steps back in time,
// never change their order: the replay leaves them out.
package replay
