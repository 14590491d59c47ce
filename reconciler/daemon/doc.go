// Package daemon is the long-running loop of `ringops run`: it follows a
// Git source, and for every revision of the repository it validates,
// renders and plans each cluster and rolls the clusters out through the
// engine (package reconciler), reporting progress as commit statuses.
//
//	source (git.Poller.Run) ──Result──▶ Daemon.Run
//	    Changed: find the clusters of the snapshot (dirs with a cluster.yaml
//	             below Options.Path), parse each spec, refuse every
//	             directory that declares the same ring as another
//	             (schemas.Duplicates: neither is rolled out), hand every
//	             cluster its Source; Supersede the old revision's pending statuses
//	    Failed:  log, count; the clusters go on at the revision they have
//	    Refused: failure status on the refused revision; nothing changes
//	    every tick: the pull-request heads are checked (Options.PullRequests;
//	             `ringops run` plans each head in a child process with memory
//	             and time limits, review/pullrequests.Isolated)
//
//	one worker per cluster (clusters in parallel, steps inside one never):
//	    new Source? ──▶ Prepare (validate the change, render) ──▶ invalid: failure, wait for the next revision
//	    reconciler.Driver (DriveFollow, the guards of `ringops apply`), until a new revision:
//	    observe ──▶ plan.Next ──▶ Execute (shielded from shutdown for Options.ShutdownGrace)
//	        ──▶ statuses per region: pending (the step or wait), success (plan.RegionsDone),
//	            failure (gate timeout, blocked; the same steps back with nothing written)
//	        ──▶ no step: Engine.Wait, cut short by a new revision
//	        ──▶ failed: at once after a conflict (3 times), else after MinRetry..MaxRetry
//
// A new revision never abandons a step in flight: the worker takes it only
// between two plans, and a decommission the engine started goes on in the
// background, followed by the next plans. Between revisions the worker keeps
// reconciling: drift is applied again and rollouts go on as the gates open.
// Nothing is kept in the daemon that the clusters do not hold (DESIGN, rule
// 8): a restarted daemon observes and plans from where the clusters are,
// and validates a change against the spec the clusters recorded as last
// applied (the engine's Prepare reads it), besides the previous spec the
// worker remembers.
//
// A cluster whose directory disappears from the repository is no longer
// managed: its worker stops, and nothing is deleted.
//
// Sharded (Options.Shards, `ringops run --shards N`): the cluster in
// directory dir belongs to shard.Of(dir, N), and a replica runs a worker
// only for the clusters of the shards it holds. Losing a shard (or giving
// it back) stops those workers after their step in flight, and the shard's
// fence (on each worker's context, reconciler.WithFence) refuses any step
// after it; taking one starts its clusters' workers on the current
// revision, each after the worker this replica ran there before, if any,
// has ended. Statuses are posted by the owner of each cluster only; the
// revision-wide failure (a refused revision) and the pull-request checks
// by the holder of shard 0; the revision's summary (ringops) by none.
//
// For the status page (package page) each worker also keeps, in memory
// and bounded, what a person watching wants and the clusters do not hold:
// the ring per node as observed (NodeView), the rollout's timeline (the
// last 200 steps of the revision, each with the time its gate made it
// wait), the steps still to come (the planner's replay of the change, as
// the review shows it, run in the background one at a time), and the
// last 10 revisions with their outcome and duration. None of it is read
// back to decide; Changed tells the page's event streams that it moved.
package daemon
