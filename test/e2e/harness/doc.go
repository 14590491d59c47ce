// Package harness is what the end-to-end test packages share: the
// ringops binary their TestMain builds once (Main, Binary), a run of it
// to its end (Ringops, RunBinary, Run), a world of test/env started by
// the first test that needs it and stopped, or kept on failure, by Main
// (World), and small helpers of their assertions (Lines, WaitFor).
//
// test/e2e drives the binary against the world of the simulated ring;
// test/e2e/realnodes against real Cassandra nodes. Each is its own test
// process, so that `go test ./...` runs them side by side.
package harness
