// Package realcassandra is the local world's real Cassandra: a
// kubelet.Runtime that runs each pod's "cassandra" container as one Apache
// Cassandra 5.0 JVM (cassandra-all and its dependencies from Maven Central,
// see test/tools/cassandra/build.sh) with the real Jolokia 2.x JVM agent,
// the way ccm and Cassandra's dtests run small clusters on loopback
// addresses. Test-only: never imported by cmd/ringops.
//
// # A pod, run for real
//
// The kubelet materialises the pod's volumes as host directories
// (kubelet.Options.VolumeRoot: the claim's directory outlives the pod and
// goes with its PersistentVolume, so data survives a restart and is lost
// with a deleted PVC, as on a real cluster). Start then does what a
// container runtime and the official `cassandra` image would:
//
//  1. runs every init container's command to its end (bash, cp, ...), its
//     absolute paths mapped to the host directories of its volume mounts
//     and of its image (the Cassandra image brings /etc/cassandra, this
//     package's copy of test/tools/cassandra/conf; any other image is taken
//     for a Jolokia agent image and brings /jolokia/jolokia-agent.jar);
//  2. edits the container's /etc/cassandra as docker-entrypoint.sh does
//     (entrypoint.go: seeds, listen/broadcast/rpc addresses, cluster name,
//     snitch, num_tokens from CASSANDRA_*; dc and rack into
//     cassandra-rackdc.properties);
//  3. starts `java` with the image's jvm17-server.options, jamm, the
//     node's storage directory (/var/lib/cassandra), a local JMX port of its
//     own (nodetool -p), the world's hosts file and timings, then
//     JVM_EXTRA_OPTS (the pod's -javaagent), and CassandraDaemon.
//
// Inside a pod 0.0.0.0, 127.0.0.1 and localhost mean the pod itself; here
// every port of a pod (listen 7000, CQL 9042, Jolokia 8778) lives on the
// pod's own loopback IP, so those addresses are rewritten to it in
// commands, options and the agent's properties file. The readiness probe
// (Prober) and the preStop hook are the pod's own exec commands, run with
// bash; `nodetool` on their PATH is a wrapper for the node's JMX port.
// Stop runs preStop (nodetool drain), then SIGTERM, SIGKILL after the
// grace period; Kill is SIGKILL. Every JVM runs in its own process group
// and dies with the test process (Pdeathsig).
//
// Names: the JVM resolves through -Djdk.net.hosts.file, a hosts file per
// region that the world rewrites as pods come and go (cluster DNS of the
// region, external-DNS names of every region; see kubelet.Directory), with
// the JDK's address caches off, so a seed name appears when its pod gets
// an IP, as with external-DNS.
//
// # Settings for small, fast clusters (measured)
//
// BenchmarkRealNode (test/env; go test ./test/env -run '^$' -bench
// RealNode -benchtime 1x), on the 2-core machine with other tests running
// (load average 8-13), December 2026:
//
//	settings                                seed start    bootstrap    RSS/node
//	                                        to NORMAL     to NORMAL
//	ring_delay_ms=1000                      10.5-15 s     13.5-19.5 s  639 MiB
//	chosen: ring_delay_ms=5000              15 s          23.1 s       640 MiB
//	+ C2 compiler (TieredStopAtLevel=4)     14 s          18.4 s       679 MiB
//	+ wait for gossip to settle (default)   33 s          44 s         642 MiB
//
// RING_DELAY 1 s is faster but unsafe: on a loaded machine a node joining a
// three-region ring began its bootstrap before gossip had brought it the
// schema (Cassandra stops waiting for it after RING_DELAY), streamed
// nothing and joined NORMAL without its rows; 5 s leaves gossip the time.
//
// Chosen: heap 256 MiB (-Xms=-Xmx, G1 with 2 MiB regions; ccm uses 500M),
// C1 only (-XX:TieredStopAtLevel=1: less CPU at start, same time, 40 MiB
// less), one GC thread; cassandra.ring_delay_ms=5000 (the bootstrap's
// waits), skip_wait_for_gossip_to_settle=0, superuser_setup_delay_ms=0;
// in cassandra.yaml num_tokens 16, memtables 32 MiB, caches off, one
// compactor and flusher, streaming and compaction unthrottled,
// phi_convict_threshold 5 (as cassandra-dtest). Skipping the settle wait
// shortens the gap between NORMAL and the native transport; a test of that
// gap sets the JVM option back (Options.JVMOptions).
package realcassandra
