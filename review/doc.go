// Package review describes a change of the repository for the people who
// review it: what merging head over base would do to every cluster, in a
// Cassandra operator's words, and the rendered manifest diff per region.
// It is what `ringops plan` prints and what the daemon posts on pull
// requests. It needs no cluster: it reads two trees (any fs.FS, such as a
// sources/git snapshot), parses, validates and renders. The order of
// what it describes is the planner's own: it runs reconciler/plan over a
// simulated world (reconciler/plan/replay) from the base revision's
// convergence to the head revision's, and puts the planner's steps into
// words, in the order the planner takes them; no rule of the planner is
// restated here (a planted change of the planner's order changes the
// plan: TestPlantedPlannerOrderChangesThePlan).
//
// Compare(ctx, base, head, opts) returns a Document (apiVersion
// ringops.dev/plan/v1), a value from which Text and Markdown are
// rendered and which is printed as JSON as is:
//
//	find clusters (dirs with cluster.yaml) on both sides, pair them by
//	directory (a cluster whose directory moved is paired by name and
//	namespace)
//	  same files on both sides ─▶ parse the head only: valid ─▶ unchanged
//	                                                  invalid ─▶ refused
//	  head does not parse ───────▶ refused
//	  change refused (schemas.ValidateChange) or a region does not render
//	                             ─▶ refused: no operation, no diff
//	  otherwise render both sides in every region, replay the planner
//	  (base converged, then head) and describe, in its order:
//	    the nodes that join (bootstrap, or join without bootstrap in a
//	      new datacenter of a running ring), the nodes decommissioned and
//	      what becomes of their PVCs, the rolling restarts rack by rack
//	      with their causes (image, configuration, JVM options,
//	      environment, resources, pod labels, any other field: what
//	      differs between the rendered pod templates), the replication
//	      changes (ALTER KEYSPACE), the rebuilds and cleanups, the
//	      StatefulSets re-created and the PVCs grown, the dead nodes
//	      removed as spec.operations asks (the replay loses the named
//	      pod's volume once base has converged);
//	    then, from the specs: empty DCs removed, the seed list
//	      (render.Seeds) that comes and goes (no restart of its own),
//	      PVCs deleted, objects created, updated or pruned at once per
//	      region (pruned when the replay prunes them);
//	    gates: spec.rollout.paused, and change windows evaluated at
//	      Options.Now (the next opening). The replay leaves them out:
//	      they hold steps back in time, never change their order.
//
// Outcome: Invalid when a cluster is refused, else Changes when any
// rendered object differs, else NoChange (a comment-only change is no
// change). `ringops plan` exits 2, 1 or 0 accordingly.
//
// A cluster whose directory is deleted is reported, not refused: ringops
// stops managing it and deletes nothing (its StatefulSets, pods and PVCs
// keep running, unmanaged). To retire a cluster, scale every datacenter to
// 0 first and let that roll out.
//
// Only clusters whose files changed are rendered (with every file of the
// cluster directory compared, symlinks followed), so a change in a
// repository of a hundred clusters costs the renders of one; see
// BenchmarkPlan100Clusters.
//
// The manifest diff is a unified diff (UnifiedDiff: Myers' algorithm, 3
// lines of context, hunks headed by the object they fall in) of each
// region's rendered YAML, objects sorted as rendered, so that it is
// stable. Markdown escapes everything that comes from the repository and
// cuts the diffs to MarkdownOptions.MaxBytes (forges limit comments).
package review
