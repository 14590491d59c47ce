// Package kubelet simulates, for one region of the local world, everything
// that sits between a real Kubernetes control plane and the Cassandra pods:
// the nodes, the scheduler, the volume provisioner and the kubelet. It is
// test-only code, never imported by cmd/ringops.
//
// What it does, against a real API server:
//
//   - Nodes: registers Options.Nodes Node objects (<region>-node-<i>, Ready,
//     labelled kubernetes.io/hostname, topology.kubernetes.io/region and
//     topology.kubernetes.io/zone) and keeps their Ready heartbeat fresh.
//   - Scheduler: binds each Pending pod to a node through the Binding
//     subresource once its PersistentVolumeClaims are Bound, honouring
//     nodeSelector, required node affinity and required pod (anti-)affinity;
//     the least loaded fitting node wins. A pod that fits nowhere stays
//     Pending with PodScheduled=False/Unschedulable.
//   - Provisioner: creates a PersistentVolume pre-bound (claimRef) to every
//     pending claim, which the persistentvolume-binder controller then binds;
//     deletes its Released volumes. The claim's UID is the identity of the
//     Cassandra node's data.
//   - Kubelet: gives each pod bound to one of its nodes a unique loopback IP,
//     starts its Cassandra container through the Runtime (the simulator) from
//     the "cassandra" container's env (the pod contract of render/doc.go)
//     and the Jolokia agents of its JVM_EXTRA_OPTS, with the options the
//     agent's init script writes (agent.go: its heredocs, cp and mv read,
//     not run),
//     publishes the pod's IP in the Directory that resolves seed names, and
//     keeps the pod status true: phase, IPs, container states and restart
//     counts, and the Ready condition, which is True only while the node is
//     NORMAL and its Jolokia agent answers a read of StorageService's
//     OperationMode and NativeTransportRunning with NORMAL and true (on
//     the plain-HTTP loopback agent when the pod has one, as the rendered
//     probe reads it).
//
// The container lifecycle per pod:
//
//	start ──ok──▶ running ──probe──▶ ready
//	  │                │ killed / CrashLoop fault
//	  ▼ error          ▼
//	crashed (restartCount+1, waiting CrashLoopBackOff) ──backoff──▶ start
//
// A pod with a deletionTimestamp has its container stopped gracefully; the
// pod is then deleted with grace period 0 and a UID precondition, so that
// the StatefulSet controller recreates it. A pod deleted outright has its
// container killed.
//
// Faults (SetFault) make a pod crash-loop, never become ready or stay
// unschedulable; Kill makes its container die once (it restarts after the
// backoff, as with restartPolicy Always).
package kubelet
