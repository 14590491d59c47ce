// Package cassandra simulates Apache Cassandra rings for the local test
// world (test/env): one ring per cluster name spanning every region, each
// node a goroutine-free state machine driven by the Sim's gossip rounds,
// each serving the real Jolokia protocol (test/env/jolokia) on its pod IP
// with the MBeans a ring health checker reads: over HTTPS when its pod's
// agent options say protocol=https (NodeConfig.JolokiaTLS; an agent that
// cannot start leaves its port closed, JolokiaError), and in plain HTTP on
// the probe's port (NodeConfig.JolokiaProbePort). Test code only; never
// shipped in the binary.
//
// # A node's life
//
//	Start ──▶ STARTING ──(StartupTime; a seed reached, or itself a seed)──▶ JOINING ──(BootstrapTime)──▶ NORMAL
//	  │            │                     └─ bootstrapped before, or a seed ──────────────────────────────▶ NORMAL
//	  │            └─(no seed within SeedTimeout / data refuses / ctx cancelled)──▶ start error, process ends
//	  └─(no seed name resolves: "The seed provider lists no seeds.")──▶ start error, at once
//	NORMAL ──(NativeTransportDelay)──▶ NativeTransportRunning (CQL); a drain or DECOMMISSIONED stops it
//	NORMAL ──decommission──▶ LEAVING ──(DecommissionTime)──▶ announces LEFT ──▶ DECOMMISSIONED (process runs on)
//	                            └─(FailDecommission)──▶ exec throws; LEAVING (3.11, 4.x) or
//	                                                    DECOMMISSION_FAILED (5.0); decommission again retries
//	JOINING ──(FailBootstrap)──▶ JOINING (3.11, 4.x) or JOINING_FAILED (5.0) ──resumeBootstrap──▶ streams again
//	any ──Stop (drain, peers told) / Kill (peers notice next round)──▶ process ends; DN in the others' views
//
// A node in its own seed list skips the bootstrap, as Cassandra does: it
// turns NORMAL owning ranges and none of their data. Sim.Ring says how each
// node joined from an empty volume (NodeStatus.JoinedAs: by bootstrap, or
// as a seed), so that tests can check that only a new ring's first node
// joined as a seed.
//
// A Key (the PVC) keeps host ID, tokens and bootstrap state: a restart with
// the same Key comes back NORMAL without bootstrapping, possibly on a new
// IP, possibly on another release; a decommissioned Key never starts again.
//
// A new Key for a pod whose node died is a lost volume, treated as 5.0.1
// does (replace.go): at the dead node's address the start fails ("A node
// with address /ip:7000 already exists, cancelling join. Use
// cassandra.replace_address if you want to replace this node."); at
// another address a non-seed fails its bootstrap while a member is down
// (strict sources) and a seed joins at once with new tokens and no data.
// NodeConfig.ReplaceAddress (replace_address_first_boot) makes a non-seed
// take over the dead node's tokens and stream them: JOINING, with its own
// host ID and BOOT_REPLACE at another address (live, in no JoiningNodes,
// the dead node DN beside it), with the dead node's host ID at its address
// (hibernating: down in every other view); NORMAL, and the dead node
// leaves every view. It is ignored on bootstrapped data, and refused for a
// seed, a live node or an address gossip does not know. removeNode takes
// RemoveTime (the dead node in every LeavingNodes, RemovalStatus on the
// coordinator); forceKeyspaceCleanup takes CleanupTime per keyspace, a
// "Cleanup" compaction meanwhile (cleanup.go); Gossiper's
// getEndpointDowntime says how long a member has been down.
//
// A Key also keeps the ranges its node streamed in, by keyspace
// (available.go, placed as SimpleStrategy and NetworkTopologyStrategy
// place replicas: ranges.go): a bootstrap records them, a rebuild
// (rebuild.go) streams for BootstrapTime the ranges it lacks, then
// records them, and answers at once when it lacks none. Sent to a 5.0
// node that holds some, a rebuild is refused as 5.0 refuses it
// ("Discovered existing bootstrap data ...", CASSANDRA-17679) unless
// NodeConfig.JVMOptions set -Dcassandra.reset_bootstrap_progress (false:
// streams what is missing; true: streams everything again); 3.11 and 4.x
// stream what is missing.
//
// # Versions
//
// Each process runs one ReleaseVersion (NodeConfig.ReleaseVersion, else
// Options.ReleaseVersion, default 5.0.9), so a ring may mix versions. Its
// Version (3.11, 4.1, 5.0) selects the MBean surface: 3.11 has
// decommission() and no ...WithPort attributes; 4.1 has
// decommission(boolean) and the ...WithPort attributes; 5.0 has no
// StorageService.HostIdMap, so that a read naming it fails with 404 as on
// the real agent. Every version has EndpointToHostId, SchemaVersion (the
// node's own), NativeTransportRunning and ReleaseVersion; the modes include
// 5.0's JOINING_FAILED and DECOMMISSION_FAILED.
//
// The long operations follow each version (release.go, decommission.go,
// operations.go): a failed decommission stays LEAVING (3.11, 4.x) or turns
// DECOMMISSION_FAILED (5.0), a failed bootstrap stays JOINING (3.11, 4.x)
// or turns JOINING_FAILED (5.0) until resumeBootstrap. A ring of mixed
// versions reports a schema version per release series until every node
// runs the new one, and a node restarted on a release that writes a newer
// sstable format holds old sstables (OldVersionSSTableCount, 4.0+) until
// upgradeSSTables rewrites them. While a bootstrap or a decommission
// streams, StreamManager.CurrentStreams shows it; while upgradeSSTables
// runs, CompactionManager.Compactions does. Faults.SerialJolokia makes the
// agent serve one request at a time, as the real JVM agent does by
// default.
//
// # Seeds
//
// Seed names are resolved as SimpleSeedProvider does, each whole name
// through the Resolver (<pod>.<dnsDomain>, never by its first label): at
// start (none resolving aborts it) and at the shadow round, whose list the
// node then keeps; never while it runs (Cassandra 4.0+ only re-resolves on
// reloadSeeds).
//
// # Gossip
//
// Every GossipInterval each live node exchanges state with every member of
// its view and every seed it can reach (same cluster name, running, not
// partitioned): newer generation/version wins, both ends mark each other UP,
// an address that does not answer is marked DOWN. A node therefore learns
// about others only through nodes it reaches, a killed node is DN everywhere
// after one round and stays in the ring (EndpointToHostId,
// UnreachableNodes) until it returns, is decommissioned or removed
// (removeNode), and a partition shows two rings that each see the other
// side DN.
//
// # Simplifications
//
// The failure detector convicts after one failed round (Cassandra takes
// seconds); nothing streams (a replacement, a removeNode and a cleanup
// take a set time, and the load never changes); LEFT endpoints are
// dropped from every attribute (Cassandra keeps them a while in gossip);
// MovingNodes is always empty.
package cassandra
