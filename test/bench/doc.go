// Package bench holds the benchmarks of the built daemon (`ringops run`)
// at scale, against the local multi-region world (test/env) and a real
// Git server on loopback (test/gitserver). It has no code of its own: the
// benchmarks are in its _test.go files.
//
// BenchmarkDaemonHolding serves a repository of N clusters (100 by
// default), each one Cassandra datacenter of one node in each of the
// world's three regions, runs the daemon against it, waits until every
// cluster is converged (state success in /api/v1/clusters), then measures
// the daemon holding them for a steady window:
//
//	converge-s           daemon start -> every cluster converged (also ns/op)
//	rollout-cpu-s        CPU the daemon used to get there
//	cpu-ms/s             the daemon's CPU in the window (utime+stime, /proc)
//	rss-MiB, peak-rss-MiB VmRSS at the window's end, VmHWM (peak since start)
//	rss-anon-MiB, rss-file-MiB
//	                     RssAnon and RssFile at the window's end: the
//	                     process's own memory, and its mapped files (the
//	                     binary's text, in huge pages on some kernels)
//	heap-MiB, goroutines go_memstats_heap_inuse_bytes and go_goroutines
//	api-list/s           LIST requests the three API servers served in the
//	                     window (the kubelets and controller managers watch)
//	apiserver-cpu-ms/s   CPU of the three kube-apiservers in the window
//	world-cpu-ms/s       CPU of the test process (kubelets, Cassandra nodes
//	                     and their Jolokia agents) in the window
//	gate-mean-s, gate-p50-s, gate-p95-s
//	                     ringops_gate_latency_seconds over the rollout (ring
//	                     healthy and settled, and the step before done ->
//	                     next disruptive step started; quantiles
//	                     interpolated in the histogram's buckets)
//
// BenchmarkDaemonShards runs -replicas daemons (3) with --shards (3) over
// one repository of N clusters, each daemon named ringops-<i> ($POD_NAME,
// its home shard i) with its own HTTP port, the shard Leases
// ringops-shard-<i> in eu-west's namespace default with short durations
// (-lease-duration 5s: renew deadline 3s, retry 500ms). Once every cluster
// converged, it pushes a change of every cluster's cassandra.yaml (a roll
// of its three nodes), SIGKILLs the replica running the most clusters as
// soon as it carried out a step of the change, and waits until every
// cluster converged on the change under the other replicas:
//
//	converge-s           daemons' start -> every cluster converged (also ns/op)
//	clusters-r<i>        clusters replica i runs once converged (about N/3 each)
//	takeover-s           SIGKILL -> every shard of the killed replica held by
//	                     another (its Lease's holder; about one lease duration;
//	                     the benchmark fails above two)
//	rollout-s            push of the change -> every cluster converged on it
//	steps                steps carried out over the run, by every replica
//	repeated             steps carried out twice (the benchmark fails if > 0)
//	unlogged             steps of the plans the SIGKILL cut (a plan's steps
//	                     are logged once it is over): written by the killed
//	                     replica, in no log, not taken again by the new holder
//	                     (only in its clusters; convergence shows them done)
//
// It fails when the run's audit of the replicas' logs and of the objects
// finds (a) a step logged by a replica after another took the cluster's
// shard ("shard taken"), a shard term taken by two replicas, or a
// StatefulSet, ConfigMap or Service of a cluster not stamped
// (ringops.dev/shard-term) with a term some replica took for its cluster's
// shard; (b) a step carried out twice for a cluster and
// revision, or a cluster whose steps on a revision differ from its peers'
// (the clusters are alike but for their names, host IDs and addresses),
// but for the unlogged steps above.
//
// One iteration is one whole run (about 7 minutes for 100 clusters on two
// cores); flags after -args choose the scale, the window, another binary
// (e.g. one built with net/http/pprof to profile the window) and where the
// daemon's log goes:
//
//	go test ./test/bench -run '^$' -bench DaemonHolding -benchtime 1x -timeout 60m
//	go test ./test/bench -run '^$' -bench DaemonHolding -benchtime 1x -args -clusters 20 -window 30s
//	go test ./test/bench -run '^$' -bench DaemonHolding -benchtime 1x -args -binary /tmp/ringops -daemon-log /tmp/run.log
//	go test ./test/bench -run '^$' -bench DaemonShards -benchtime 1x -timeout 60m -args -clusters 6 -replicas 3 -shards 3
//
// With -daemon-log, the replicas of BenchmarkDaemonShards write to
// <daemon-log>.<i>.
package bench
