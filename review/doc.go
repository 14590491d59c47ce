// Package review describes a change of the repository for the people who
// review it: what merging head over base would do to every cluster, in a
// Cassandra operator's words, and the rendered manifest diff per region.
// It is what `ringops plan` prints and what the daemon posts on pull
// requests. It needs no cluster: it reads two trees (any fs.FS, such as a
// sources/git snapshot), parses, validates and renders. It is independent
// of the planner (reconciler/plan), whose output is one step at a time
// against live state; review describes a whole change, from the specs and
// renders alone, following the planner's documented rules.
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
//	  otherwise render both sides in every region, and derive:
//	    topology, datacenter by datacenter, seed first: DCs added (their
//	      nodes bootstrap in the planner's order: the rack with the fewest
//	      nodes, first on a tie), nodes bootstrapped, nodes decommissioned
//	      (highest pod of the rack with the most nodes, last on a tie) and
//	      what becomes of their PVCs, empty DCs removed;
//	    the rolling restart: racks whose rendered pod template differs,
//	      with the causes (image, configuration, JVM options, environment,
//	      resources, pod labels, any other field), the number of pods and
//	      the order (rack by rack, seed DC first);
//	    the seed list (render.Seeds) that comes and goes: no cause of a
//	      restart, as the planner writes the seeds that have joined into a
//	      template it writes anyway; racks whose seeds all leave may roll;
//	    StatefulSets re-created (immutable fields), PVCs grown, PVCs
//	      deleted, objects created, updated or pruned at once per region;
//	    gates: spec.rollout.paused, and change windows evaluated at
//	      Options.Now (the next opening, from robfig/cron).
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
