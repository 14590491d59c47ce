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
//	heap-MiB, goroutines go_memstats_heap_inuse_bytes and go_goroutines
//	api-list/s           LIST requests the three API servers served in the
//	                     window (the kubelets and controller managers watch)
//	apiserver-cpu-ms/s   CPU of the three kube-apiservers in the window
//	world-cpu-ms/s       CPU of the test process (kubelets, Cassandra nodes
//	                     and their Jolokia agents) in the window
//	gate-mean-s, gate-p50-s, gate-p95-s
//	                     ringops_gate_latency_seconds over the rollout (ring
//	                     healthy and settled -> next disruptive step started;
//	                     quantiles interpolated in the histogram's buckets)
//
// One iteration is one whole run (about 7 minutes for 100 clusters on two
// cores); flags after -args choose the scale, the window, another binary
// (e.g. one built with net/http/pprof to profile the window) and where the
// daemon's log goes:
//
//	go test ./test/bench -run '^$' -bench DaemonHolding -benchtime 1x -timeout 60m
//	go test ./test/bench -run '^$' -bench DaemonHolding -benchtime 1x -args -clusters 20 -window 30s
//	go test ./test/bench -run '^$' -bench DaemonHolding -benchtime 1x -args -binary /tmp/ringops -daemon-log /tmp/run.log
package bench
