// Package realnodes proves ringops end to end on real Cassandra 5.0
// nodes: its tests build the ringops binary (test/e2e/harness) and drive
// it against the local multi-region world of test/env run with
// env.RealOptions(): one Apache Cassandra JVM with the real Jolokia agent
// per pod (test/env/realcassandra). Every step is checked with rows
// written and read back over CQL (test/env/cqldata) and against
// `nodetool status`.
//
// TestRealNodes rolls a three-region cluster out (bootstrap, growth, a
// new rack, a decommission, a configuration roll under a LOCAL_QUORUM
// writer, a node killed); TestRealReplace replaces nodes that lost their
// volume, a seed included, and checks the cleanup after growth;
// TestRealDatacenters adds and removes a datacenter with its data, its
// keyspaces' replication altered by ringops (`make test-keyspaces` runs
// it alone); TestRealAdoption makes a ring the way CassKop makes one
// (its CassandraCluster, then its controller's objects), imports it with
// `ringops import --from-cluster` and checks that ringops takes it over
// in place without a pod restart, then rolls it to a new image. The steps
// of each test depend on each other: the first failure ends the test.
//
// One world serves the whole package (started by the first test that
// needs it, stopped by TestMain, kept with its logs on failure); each
// scenario works on its own cluster name. It is its own package, so
// that `go test ./...` runs it beside the simulator scenarios of
// test/e2e. The tests are skipped with -short. They need the control
// plane binaries and the Cassandra jars ($RINGOPS_CASSANDRA_DIR, or the
// cache filled by test/tools/cassandra/build.sh).
package realnodes
