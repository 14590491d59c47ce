// Package reconciler is the rollout engine: it moves a cluster from what
// its regions hold towards what a revision of the repository asks, one
// planner step at a time. It owns the executor (each plan.Action carried
// out as its documentation says, through reconciler/kube and
// reconciler/ring) and the pace of the loop; the order of work and every
// safety rule are the planner's (reconciler/plan), which it never
// second-guesses.
//
// The loop, one Driver for `ringops apply` and the daemon (driver.go: the
// same conflict retries, backoff and stop on steps that write nothing;
// waits.go: the one table of the wait reasons' words, exit codes, metric
// labels and endings):
//
//	t := engine.Prepare(ctx, source)          // validate the change, render every region
//	for {
//		p, events, err := engine.Step(ctx, t) // observe -> plan.Next -> execute the steps
//		if p.Done() || p.Failed() { break }   // Converged; Blocked or HealthTimeout
//		engine.Wait(ctx, t, p)                // until the ring or the regions may have moved
//	}
//
// Prepare validates the change against the previous spec the caller
// knows (Source.Previous) and against every spec the regions recorded as
// last applied (contract.AnnotationLastApplied on the ConfigMap, applied
// with the revision's first objects): a restarted daemon, or `ringops
// apply` without --previous, still refuses what Cassandra cannot do.
//
// Observe lists the cluster's objects, pods and PVCs in every context of
// the revision and of the previous one, then reads every expected node's
// view of the ring (ring.Take) and judges it (ring.Assess against
// plan.RingExpected: the live replicas, not the spec's). The engine keeps
// only what makes it fast, never rollout state: the last observation per
// cluster, and when the ring's verdict last changed (plan.Ring.Since, for
// the settle time and the health timeout). Everything else lives in the
// clusters, so a restarted engine resumes where the last one stopped.
//
// Before a step writes a StatefulSet in a region, the engine keeps there
// the Secret of the agents' credentials that ringops owns when the spec
// names none (Clients.Secrets, JolokiaSecrets: <cluster>-jolokia,
// created once with a random user and password, rotated when
// spec.jolokia.rotate changes, never printed), so that pods find it and a
// rotation's password is in place before the restart its pod annotation
// makes the planner roll; the previous password stays in the Secret and
// the SecretRouter tries it on the nodes not yet restarted.
//
// Execute does the steps in order and stops at the first error (a 409
// from a StatefulSet applied over its observed resourceVersion means the
// world moved: plan again). StatefulSet writes are server-side applies of
// the planner's objects; deletes carry UID and resourceVersion
// preconditions; a long operation (decommission, bootstrap resume,
// upgradesstables) is sent once its StatefulSet stamp is applied, and the
// step is done: nothing is held open or waited for, the planner follows
// the operation from the ring. Observe reads the progress of the nodes in
// a long operation (and each node's count of old sstables once per
// release it runs) and keeps, like the verdict's start, since when each
// has not moved (plan.RingNode.NoProgressSince); it hands the planner the
// schema skew of an upgrade across versions (ring.UpgradeSkew), which
// counts as healthy for the verdict's streak. Each step is reported as
// typed Events (StepStarted, StepDone, StepFailed, Waiting) with the
// plan's text.
//
// Wait is what makes the gate fast without loading the API servers: while
// a plan waits on the ring, the ring is read every RingPollInterval (200
// ms) and the wait ends as soon as its verdict changes; the regions are
// listed every ObserveInterval (2 s), or every FastObserveInterval (250
// ms) while the wait can only end on the Kubernetes side (a pod being
// created or becoming Ready, a controller catching up).
package reconciler
