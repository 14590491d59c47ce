// Command sandbox runs the local multi-region world of test/env for people:
// real control planes, simulated kubelets and Cassandra, one kubeconfig.
//
//	go run ./test/env/cmd/sandbox up     # start in the background, print how to use it
//	go run ./test/env/cmd/sandbox up -real # the same with real Cassandra 5.0 nodes (make sandbox CASSANDRA=real)
//	go run ./test/env/cmd/sandbox status # is it up? print the kubeconfig and contexts
//	go run ./test/env/cmd/sandbox stats  # resident memory of every process
//	go run ./test/env/cmd/sandbox down   # stop everything, remove the directory
//
// up starts a detached server process (its own session) that owns the
// world, waits until every region is ready and returns; with -foreground
// the world runs in the current process until Ctrl-C. Everything lives in
// one directory, by default $TMPDIR/ringops-sandbox (-dir): kubeconfig,
// sandbox.pid, sandbox.log, world/ (certificates, etcd data, component
// logs). down sends SIGTERM to the server (SIGKILL to its process group and
// descendants after a grace period) and removes the directory.
//
// The first up builds kube-apiserver and kube-controller-manager (about 8
// minutes on 2 cores, cached afterwards; see
// test/env/tools/controlplane/build.sh) unless RINGOPS_CONTROLPLANE_DIR
// points at them. Test-only tooling: never part of the ringops binary.
package main
