// Package controlplane runs one real Kubernetes control plane on loopback:
// etcd (Debian's etcd-server), kube-apiserver and kube-controller-manager
// (built from k8s.io/kubernetes by test/env/tools/controlplane/build.sh).
// It is test-only code, never imported by cmd/ringops.
//
// A control plane owns a directory (certificates, keys, token file, etcd data,
// one log file per process) and one loopback address on which every component
// listens on its fixed port: etcd 2379 (client) and 2380 (peer),
// kube-apiserver 6443, kube-controller-manager 10257. Callers hand out
// distinct addresses (see test/env/loopback), so no port is ever
// probed or raced for.
//
// The API server authenticates bearer tokens from a static token file (an
// admin in system:masters, the controller manager as
// system:kube-controller-manager), authorizes with RBAC, signs service
// account tokens with its own key and runs without nodes, cloud or endpoint
// reconciler. The controller manager runs only the controllers a StatefulSet
// workload needs (statefulset, garbage collector, service accounts,
// namespaces, disruption budgets, volume binding and protection,
// deployments and replica sets, cluster role aggregation, root CA
// publisher); node lifecycle, IPAM, cloud and route controllers are off, so
// the simulated nodes of test/env/kubelet are never tainted or evicted.
//
// Tuned for a small shared machine: etcd with a 256 MiB quota and a low
// snapshot count, API priority and fairness off, the TaintNodesByCondition
// and ResourceQuota admission plugins off, GOGC=50 for the Kubernetes
// components. The WatchList feature is off because Debian's etcd 3.4.23 does
// not support watch progress requests (3.4.31+ does): without it a watch
// with no resourceVersion would wait for a watch cache that never becomes
// fresh and fail after 3 seconds ("Too large resource version").
//
// Start returns once /readyz answers 200 and the controller manager has
// created the default ServiceAccount of namespace default. Stop stops every
// process it started, even after a failed Start.
package controlplane
