// Package cassandra simulates Apache Cassandra rings for the local test
// world (test/env): one ring per cluster name spanning every region, each
// node a goroutine-free state machine driven by the Sim's gossip rounds,
// each serving the real Jolokia protocol (test/env/jolokia) on its pod IP
// with the MBeans a ring health checker reads. Test code only; never
// shipped in the binary.
//
// # A node's life
//
//	Start ──▶ STARTING ──(StartupTime; a seed reached, or itself a seed)──▶ JOINING ──(BootstrapTime)──▶ NORMAL
//	               │                     └─ bootstrapped before, or a seed ──────────────────────────────▶ NORMAL
//	               └─(no seed within SeedTimeout / data refuses / ctx cancelled)──▶ start error, process ends
//	NORMAL ──decommission──▶ LEAVING ──(DecommissionTime)──▶ announces LEFT ──▶ DECOMMISSIONED (process runs on)
//	                            └─(FailDecommission)──▶ exec throws; LEAVING (3.11, 4.x) or
//	                                                    DECOMMISSION_FAILED (5.0); decommission again retries
//	JOINING ──(FailBootstrap)──▶ JOINING (3.11, 4.x) or JOINING_FAILED (5.0) ──resumeBootstrap──▶ streams again
//	any ──Stop (drain, peers told) / Kill (peers notice next round)──▶ process ends; DN in the others' views
//
// Each node runs one release (NodeConfig.ReleaseVersion, else
// Options.ReleaseVersion; release.go): a ring of mixed versions reports a
// schema version per release series until every node runs the new one,
// and a node restarted on a release that writes a newer sstable format
// holds old sstables (OldVersionSSTableCount, 4.0+) until upgradeSSTables
// rewrites them. While a bootstrap or a decommission streams,
// StreamManager.CurrentStreams shows it; while upgradeSSTables runs,
// CompactionManager.Compactions does (operations.go). Faults.SerialJolokia
// makes the agent serve one request at a time, as the real JVM agent does
// by default.
//
// A Key (the PVC) keeps host ID, tokens and bootstrap state: a restart with
// the same Key comes back NORMAL without bootstrapping, possibly on a new
// IP; a decommissioned Key never starts again.
//
// # Gossip
//
// Every GossipInterval each live node exchanges state with every member of
// its view and every seed it can reach (same cluster name, running, not
// partitioned): newer generation/version wins, both ends mark each other UP,
// an address that does not answer is marked DOWN. A node therefore learns
// about others only through nodes it reaches, a killed node is DN everywhere
// after one round and stays in the ring (HostIdMap, UnreachableNodes) until
// it returns, is decommissioned or removed (removeNode), and a partition
// shows two rings that each see the other side DN.
//
// # Simplifications
//
// The failure detector convicts after one failed round (Cassandra takes
// seconds); nothing streams, so removeNode is instant; LEFT endpoints are
// dropped from every attribute (Cassandra keeps them a while in gossip);
// MovingNodes is always empty.
package cassandra
