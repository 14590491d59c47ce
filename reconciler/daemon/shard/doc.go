// Package shard splits the clusters of a repository over the replicas of
// `ringops run --shards N`: shard i is held through the Kubernetes Lease
// <name>-shard-<i> (client-go's leader election, one elector per shard and
// replica: the coordination API decides, there is no consensus of our
// own), a cluster belongs to the shard Of(its directory, N), and a replica
// runs only the clusters of the shards it holds. It knows nothing of the
// daemon: the daemon asks Owns, follows Changed, and calls Fence before
// each step's writes.
//
// Every replica campaigns on every shard; client-go's elector takes a
// Lease only once it saw it unrenewed for a whole LeaseDuration (or
// released), so the shards of a replica that dies move to the others
// within about one LeaseDuration (plus a RetryPeriod).
//
// Home shards. A replica named like a StatefulSet pod (<name>-<ordinal>,
// $POD_NAME) is home to shard ordinal mod N (Home). It takes its home shard as soon as it is
// free. Any other shard it takes only when (a) it has run for one
// LeaseDuration (the home replicas starting beside it claim theirs
// first), and (b) no home replica of that shard announced itself within
// the last LeaseDuration. A home replica that finds its shard held by
// another announces itself on the Lease <name>-shard-<i>-home (renewTime,
// every RetryPeriod, only while it waits), and the holder gives the shard
// back: it stops its workers there (Owns turns false, Fence refuses), waits
// for the step in flight, then releases the Lease, which the home replica
// takes at its next try. A replica without an ordinal has no home: it
// takes free shards first come, first served (use a StatefulSet, as the
// chart does, for an even spread).
//
//	campaign ── Lease taken ──▶ held: Owns true, Fence gives the term
//	   ▲                          │ renewal fails for RenewDeadline: lost (Owns false, Fence refuses)
//	   │                          │ home replica announced (non-home shard), or Run's ctx ends:
//	   │                          ▼   yielding: Owns false, Fence refuses, wait for the steps in flight,
//	   └──────────────────── released  then the Lease is released (the next holder takes it at once)
//
// The fence. A step's writes go out only if Fence says the shard is held
// by this replica, not being given back, and was renewed (a successful
// write of the Lease, timed from its start) within RenewDeadline. Another
// replica takes the Lease only after LeaseDuration without a renewal it
// observed, so a step the fence let through started at least
// LeaseDuration-RenewDeadline (5s with the defaults) before any other
// replica can hold the shard: a step shorter than that (an apply, a
// fire-and-forget operation: ringops' steps are) never overlaps the next
// holder's. Fence returns the term, "<holder>/<leaseTransitions>", which
// is unique per holding of a shard (client-go counts every change of
// holder, a release included); the engine stamps it on the objects the
// step writes (ringops.dev/shard-term), so that an audit can tell which
// replica wrote what in which term.
//
// Cost: every replica reads each shard's Lease every RetryPeriod, and the
// holder renews it as often: with the defaults (2s) and 3 replicas on 3
// shards, about 6 requests a second on the Leases' API server.
package shard
