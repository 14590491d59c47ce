// Package plan is the planner: a pure function from what a revision asks
// (Desired: the validated spec and its rendered objects per kube context)
// and what the clusters hold (Observed: live objects, pods, PVCs and the
// ring's health) to a Plan: the steps to take now, or a typed Wait saying
// why none is taken. It owns the order of work and the rollout invariants
// of the design; it does no I/O, reads no clock (Observed.Now), keeps no
// state between calls, and never panics on partial observations. The
// executor applies a plan and calls Next again: a step function, as
// gitops-engine's sync context.
//
// # The order of work
//
// Each call finds the first unfinished item of this list and stops there:
//
//	Blocked           the revision is invalid (Desired.Invalid): nothing at all
//	seed region down  nothing at all, anywhere
//	batch             every non-disruptive step due, together, in every reachable
//	                  context, paused or not, window or not: objects missing or
//	                  drifted (applied again), StatefulSets created empty, changed
//	                  templates staged, immutable fields re-created, decommissions
//	                  completed, PVCs grown or deleted, objects pruned, the record of
//	                  the nodes (<cluster>-nodes, nodes.go) brought up to date
//	any region down   disruptive steps wait (RegionUnreachable)
//	decommission      a decommission in flight: wait until the node is DECOMMISSIONED
//	                  or gone from every other view (the batch then removes it); try
//	                  again when it failed (see Long operations)
//	upgradesstables   one in flight: wait until the node has no old sstable; try again
//	                  when it stopped
//	cleanup           one in flight: wait until no cleanup compaction runs; try again
//	                  when none was seen (cleanup.go)
//	rebuild, cleanup  one in flight (#15): wait while the node streams or cleans up;
//	of keyspaces      try again when it stalled or ended unanswered
//	failed bootstrap  a node whose bootstrap failed: resume it
//	lost volumes      a removal asked in spec.operations in flight or due (removenode.go);
//	                  a replacement or new join in flight; the first pod whose recorded
//	                  node lost its volume: replace its dead node, or let it join anew once
//	                  that node was removed, or Blocked with the choices when its data is
//	                  held nowhere else (replace.go)
//	series roll       a template roll to another release series (4.1 to 5.0), or one
//	                  whose schema skew the ring shows (Ring.UpgradeSkew), goes first:
//	                  no node joins or leaves a ring of two versions. The nodes of racks
//	                  the revision removed leave before it starts (they do not roll);
//	                  once the ring runs two series, they roll after the others to the
//	                  template staged while their racks were the revision's, then leave
//	topology          datacenter by datacenter, seed first (removed ones last):
//	                  grow (the rack with the fewest nodes, first rack on a tie: one
//	                  node per rack, then in turn; an adopted rack with pods on an older
//	                  template rolls first, #20); then its replication (#15, see
//	                  "Keyspaces and datacenters"): keyspaces gaining it or growing
//	                  there, the rebuild of its nodes, keyspaces lowered or leaving
//	                  it; then shrink (the rack with the most nodes, last rack on a
//	                  tie: decommission its highest pod); then the cleanup its nodes
//	                  owe; last, datacenters gone from the spec and the ring taken
//	                  out of the managed keyspaces
//	cleanup           each older node of a datacenter that grew after it was complete,
//	                  one at a time, unless spec.rollout.cleanupAfterScaleUp is false
//	template rolls    rack by rack, seed datacenter first, one pod at a time
//	upgradesstables   node by node in rollout order, on each node whose sstables are
//	                  on an older format than its release writes (RingNode.OldSSTables)
//	nothing left      Converged once every rack is at rest and the ring healthy
//
// A disruptive step (a node joining, leaving or restarting) then passes the
// gates, in this order, each a typed wait: nothing in flight anywhere
// (RolloutInProgress, or WaitingForRegion when it is in an earlier
// datacenter); not Paused; inside a change window (OutsideWindow); the ring
// healthy (RingUnhealthy, WaitingForRegion) and settled (Settling). A wait
// on something in flight or on the ring that lasts longer than
// spec.rollout.healthTimeout becomes HealthTimeout, a failure. The only
// exception to the ring gate is a step about a node that is itself the
// ring's only problem and is down: restarting it on a fixed template, or
// removing it when it never joined, cannot make the ring less available,
// and without it a broken image would need a human (CassKop's deadlock);
// a retry of a long operation (a decommission, a bootstrap resume) is such
// a step, and so are the replacement of a lost node's dead node and its
// removal, whose problems also name the dead node's old address. The other exception is the upgrade skew: during a rolling
// upgrade across release series (4.1 to 5.0) the upgraded nodes report
// another schema version until every node runs the new one (5.0
// NEWS.txt), so a restart of the roll passes the ring gate when that
// disagreement is the ring's only problem (Ring.UpgradeSkew, judged by
// ring.UpgradeSkew); nothing else does.
//
// # Long operations
//
// A decommission, a bootstrap resume and an upgradesstables run for
// minutes or hours; the executor only sends them (fire-and-forget), and
// the planner follows them from the ring: the node's own mode while it
// answers, the other nodes' views (RingNode.State, InRing), its progress
// (RingNode.NoProgressSince, OldSSTables). A failed one is tried again,
// MaxAttempts times in all, RetryBackoff apart (doubling), then Blocked
// with the node, what failed, and the nodetool command or annotation that
// lets a human go on. Failure is read per version:
//
//	decommission  not started StartGrace after it was sent (node NORMAL, no view
//	              has it leaving); LEAVING with no progress for StallTimeout
//	              (3.11 and 4.x after a failed stream: both accept decommission
//	              again on a LEAVING node; 5.0 ignores it while one runs, so a 5.0
//	              node stalled LEAVING is Blocked at once, the fix a restart:
//	              decommission_stuck.go); DECOMMISSION_FAILED (5.0). A highest pod
//	              found leaving without the marker is followed the same way.
//	bootstrap     JOINING_FAILED (5.0), or JOINING / JOINING_FAILED with no
//	              progress for StallTimeout (4.x stays JOINING; 5.0 stays
//	              JOINING_FAILED while a resume streams): resumed
//	upgrade       old sstables left and no progress for StallTimeout
//
// # Keyspaces and datacenters
//
// With Observed.Keyspaces (the replication read over CQL; nil: no CQL
// edge, and the planner leaves replication alone), the replication of the
// managed keyspaces (schemas.ManagedKeyspaces) follows the topology, one
// AlterKeyspace step per datacenter and direction, gated like any
// disruptive step (never during a range movement: no node joining,
// leaving or moving, no rebuild or cleanup in flight), the ring's one
// schema version awaited after it (the annotations are internal/contract's):
//
//	new datacenter    its racks are created marked AnnotationRebuild "<source> *",
//	                  auto_bootstrap=false in their template: its nodes join one at a
//	                  time, seed region first, NORMAL at once, without data and
//	                  without a range movement
//	all its nodes UN  every managed keyspace gains it (SimpleStrategy keyspaces, as
//	                  a new ring holds the system ones, become NetworkTopologyStrategy)
//	then              each node is rebuilt from the source (rebuildFrom, default the
//	                  seed datacenter), one at a time; Cassandra's answer that it is
//	                  done is recorded (AnnotationRebuilt); when every node is, the
//	                  markers go, auto_bootstrap=false leaves the template and the
//	                  racks roll; only then are its racks at rest (RegionsDone)
//	factor raised     ALTER once the datacenter has its nodes; a keyspace that gains a
//	                  datacenter with nodes marks them for a rebuild of it; a factor
//	                  that grows needs a full repair, which ringops leaves to the
//	                  operator or Reaper (said in the step)
//	factor lowered    ALTER before the datacenter's decommissions (Cassandra refuses
//	                  one below a keyspace's factor), its racks marked
//	                  AnnotationCleanup first; after the topology change, cleanup of
//	                  each node, one at a time (AnnotationCleaned)
//	datacenter leaves every managed keyspace leaves it before its first decommission,
//	                  but system_auth (Cassandra keeps it in a datacenter with nodes):
//	                  down to 1 there; a keyspace ringops does not manage that keeps
//	                  replicas there blocks (Blocked, naming it); the last node is
//	                  decommissioned with force (system_auth alone would refuse it),
//	                  then system_auth leaves; its StatefulSets go once empty
//
// A decommission Cassandra would refuse (a keyspace with as many replicas
// as the datacenter, or for SimpleStrategy the ring, has nodes) is Blocked
// with the keyspaces' names instead of being sent.
//
// A rebuild or a cleanup answers only when it ends, past the call's
// timeout. A cleanup is one Cleanup step, whatever asks it: the growth of
// a datacenter (every keyspace, attempt "cleanup", recorded in the record
// of the nodes, cleanup.go) or a lower factor (its keyspaces, attempt
// "cleanup-keyspaces", recorded as below); both clean
// spec.rollout.cleanupJobs tables at once. For a rebuild and a cleanup of
// keyspaces, the executor applies Step.OnSuccess when the answer comes in
// time; otherwise the planner follows the node's streams or compactions
// (RingNode.Tasks, NoProgressSince), and sends the operation again when
// they stalled, or ended unanswered (Cassandra then does only what is
// left, and answers at once when nothing is), OperationAttempts times in
// all.
//
// # A rack's StatefulSet
//
//	absent ──create (0 replicas, or the count of pods left to adopt)──▶ at rest
//	at rest ──scale ±1 (disruptive up; down only after DECOMMISSIONED)──▶ at rest
//	at rest ──template changed: stage it, partition = replicas (no restart)──▶ staged
//	staged ──partition lowered to the next outdated pod (disruptive)──▶ rolling ──pod Ready──▶ staged
//	staged, every pod updated ──partition back to 0──▶ at rest
//	at rest ──mark ringops.dev/decommission, decommission──▶ leaving ──DECOMMISSIONED or gone: mark PVC, replicas-1──▶ at rest
//	leaving ──failed (per version): stamp attempt n+1, decommission again──▶ leaving
//	growing, its node's bootstrap failed ──stamp attempt n+1, resume bootstrap──▶ growing
//	at rest, a node with old sstables ──stamp attempt, upgradesstables──▶ at rest (node rewriting)
//	at rest, an older node of a grown datacenter ──stamp attempt, cleanup──▶ at rest (node cleaning up)
//	a pod's recorded node lost its volume ──stamp, record replace=<ip> or join=new, delete the pod──▶
//	    replacing (a seed: the effective seed list without it, OnDelete until the pod is back on it)
//	replacing ──pod NORMAL: the record takes its volume, RollingUpdate with partition = replicas──▶ at rest
//	a dead node asked removed ──record the removal, stamp, removenode──▶ removing ──gone──▶ lost (join=new)
//	immutable field changed ──orphan delete, re-create (pods and PVCs kept)──▶ at rest
//	new datacenter in a running ring ──create marked "<src> *", auto_bootstrap=false──▶ joining
//	joining, every keyspace replicates there ──stamp attempt, rebuild node──▶ rebuilding ──answered: record──▶ joining
//	joining, every node rebuilt ──markers off, auto_bootstrap=false off (staged)──▶ staged (rolls)
//	at rest, a factor lowered ──mark AnnotationCleanup, ALTER──▶ cleaning ──cleanup node by node──▶ at rest
//
// Every pod restart is its own ring-gated step: the partition goes down to
// exactly the next outdated ordinal. This is stricter than cass-operator and
// CassKop, which gate only between racks and let the StatefulSet controller
// restart a rack's pods back to back on readiness alone (a pod is Ready
// when its own node is NORMAL, before the others' failure detectors see it
// up). It costs one planning pass per pod, and buys: no second restart
// before the ring agrees the first node is back; pause and change windows
// that stop after the current pod, not the current rack; a health timeout
// per pod; a new revision that can restage at any point (the partition
// rises back to the replicas, so no pod restarts until the planner says so).
// Racks still roll one at a time, seed datacenter first (rule 6): a rack's
// roll starts only when every earlier rack runs its template on every pod.
//
// # Seeds
//
// Cassandra never bootstraps a node in its own seed list: it joins NORMAL
// owning token ranges and none of their data (design rule 10). So the
// CASSANDRA_SEEDS the planner writes is not the rendered one (the target,
// render.Seeds) but the effective one: the target seeds that have joined
// (pod present, NORMAL, in the ring, UN), topped up by the same rule with
// other joined nodes (render.SeedsWhere). In a brand-new ring (no node
// joined, no StatefulSet with replicas but the first node's) it is the
// cluster's first node alone, the one node that starts as its own seed.
//
// A seed list costs no restart of its own: a StatefulSet takes the
// effective list when it is written anyway (created, restaged for another
// change; re-created over running pods, it keeps theirs), and a difference
// in CASSANDRA_SEEDS alone is no template change, except:
//
//	scale-up      the live list names the joining node, or no node up:
//	              the step writes the effective list (free for a rack's
//	              first node; the rack's running pods roll on it later)
//	dead list     a rack's list names no node joined and up: once the
//	              topology is settled and the ring healthy, it is
//	              restaged with the effective list and rolls
//
// The official image writes the seeds into cassandra.yaml when the
// container starts (JMX reloadSeeds re-reads that file), so only a
// restart changes a running node's seeds.
//
// # State lives in the clusters
//
// The planner writes its state into the objects of its steps, as
// annotations the executor applies with them: ringops.dev/step and
// ringops.dev/step-at (what started when, for the health timeout),
// ringops.dev/decommission (the node being decommissioned, written before
// the decommission starts), ringops.dev/attempt (which try of which long
// operation on which node), ringops.dev/change (what a staged template
// changes, for messages), and ringops.dev/decommissioned on the PVC of a
// decommissioned node, which is never reused by a new node (Cassandra
// refuses to start on it); ringops.dev/rebuild and ringops.dev/rebuilt,
// ringops.dev/cleanup and ringops.dev/cleaned (the work a keyspace change
// left to a rack's nodes, and which of them did it). The ConfigMap <cluster>-nodes of each context
// is its record of the nodes (nodes.go): the volume, host ID and address
// each node joined with, when, when it was last cleaned up, when each
// datacenter was first complete, the removals carried out, and the
// instruction the init container of a pod whose volume was lost waits for
// (render/gate.go). A restarted daemon re-derives everything from
// them, the StatefulSets' replicas, partitions and revisions, and the ring.
//
// # What the executor does
//
// Observe every context of the revision (and of the previous one), build
// Ring with FromResult(ring.Assess(snapshot, RingExpected(...)), since),
// read the keyspaces' replication (Keyspaces) and the progress of the
// nodes in a long operation (OperationPods),
// call Next, execute the steps in order as their Action documents (server-
// side apply of the planner's objects, which carry the observed
// resourceVersion; deletes with UID and resourceVersion preconditions;
// long operations sent, never waited for), stop at the first error, and
// call Next again. It decides nothing. Ring.Since, RingNode.NoProgressSince
// and Ring.UpgradeSkew are its to keep and compute.
//
// # Where it is tested
//
// Golden cases (testdata/plan), and property tests (package plan_test:
// property_test.go, lost_property_test.go, skew_property_test.go,
// adopt_property_test.go: a ring CassKop made, #20) that
// drive Next through the simulated clusters of reconciler/plan/sim with
// faults on, checking the rules above at every step. `ringops plan`
// replays Next over the same world with no fault (reconciler/plan/replay).
// The readers of the pod template that world and its checks share with
// the planner (SeedsOf, ImageOf, HasBootstrapOption, Covers...) are
// exported for it.
package plan
