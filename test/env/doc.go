// Package env is the local multi-region world that ringops is proven
// against: one real Kubernetes control plane per region (etcd,
// kube-apiserver, kube-controller-manager; see test/env/controlplane), a
// simulated kubelet, scheduler and volume provisioner per region (see
// test/env/kubelet) and one simulated Cassandra (see test/env/cassandra)
// whose rings span every region. Test-only code: never imported by
// cmd/ringops.
//
// Start brings a world up for a test and stops it in t.Cleanup;
// StartWorld and World.Stop do the same for long-lived users such as the
// sandbox command (test/env/cmd/sandbox).
//
// A world reserves a loopback block 127.B.0.0/16 (see
// test/env/loopback), so that worlds of parallel test binaries
// never collide. Region i (from 0) uses:
//
//	127.B.0.(i+1)       its control plane: etcd :2379/:2380, API server :6443,
//	                    controller manager :10257
//	127.B.(i+1).1-254   its pod IPs (Cassandra's Jolokia listens on them)
//	127.B.(100+i).n     its nodes' InternalIPs
//
// One kubeconfig (World.Kubeconfig) holds one context per region, named
// after it, authenticated with the region's admin token (group
// system:masters). Every process the world starts is stopped by Stop, and
// dies with the process that started it if that one crashes.
//
// The world's directory holds world.log (control plane readiness times,
// scheduling, container starts, crashes and deletions by the kubelets) and
// <region>/{etcd,kube-apiserver,kube-controller-manager}.log. Under Start,
// a failed test keeps the directory and lists the log files.
//
// Figures (benchmarks in bench_test.go): BenchmarkStartWorld times the warm
// start of three regions; BenchmarkWorldMemory reports the resident memory
// of three regions running 9 Cassandra pods each.
package env
