// Package e2e proves ringops end to end: its tests build the ringops
// binary and drive it, as a user or a CI job would, against the local
// multi-region world of test/env (three real control planes, simulated
// kubelets and a simulated Cassandra ring spanning them).
//
// One world serves the whole package (started by the first test that
// needs it, stopped by TestMain); each scenario works on its own cluster
// name, so that they do not see each other's rings. While a rollout runs,
// a monitor samples the simulator's ground truth and watches the
// StatefulSets, and the tests assert what a Cassandra operator cares
// about: the seed datacenter first, one node joining, leaving or
// restarting at a time, replicas moving by one, the ring healthy at the
// end of each change, and no API write on a converged cluster.
//
// TestJolokiaTLS and TestJolokiaRotation roll out clusters whose agents
// serve HTTPS (spec.jolokia.tls): ringops reads the ring with the CA, and
// names an untrusted certificate; a credentials rotation restarts the pods
// one at a time while ringops reads old and new passwords alike.
//
// TestPropertyRollout does the same under random sequences of spec
// changes and faults (seeds fixed; -e2e.seeds and -e2e.events for more).
//
// The TestDaemon* tests run the daemon (`ringops run`) as a process
// following a real Git server of test/gitserver (git http-backend behind a
// token, or sshd with a key and known_hosts) and check, through its HTTP
// API (/api/v1/clusters, /metrics), the server's request counters and the
// world: pushes rolled out, no fetch on a no-op poll, a broken revision
// applied nowhere, the source failing without touching the clusters, a
// restart after SIGKILL or SIGTERM that repeats no step, and two replicas
// on one Lease of which only the leader acts.
//
// The scenarios on real Cassandra nodes are in test/e2e/realnodes, a
// package of its own so that `go test ./...` runs them beside these; what
// both use (the binary built once by TestMain, a run of it, the worlds
// kept with their logs on failure) is in test/e2e/harness.
//
// The tests are skipped with -short. They need the control plane
// binaries ($RINGOPS_CONTROLPLANE_DIR, or the cache filled by
// test/env/tools/controlplane/build.sh) and etcd.
package e2e
