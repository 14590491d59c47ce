// Package kube is ringops' edge to the Kubernetes API servers: one client
// per kube context (region), and every read and write the rollout engine
// makes there.
//
// Client configurations come from a kubeconfig (the --kubeconfig flag, else
// $KUBECONFIG, else ~/.kube/config), one per context named in the cluster
// spec; when ringops runs inside a cluster, Options.InClusterContext names
// the context that the pod's own service account reaches (in-cluster
// config), so that only the remote regions need a kubeconfig.
//
// A Manager, built on ready Clients, does the operations the executor of a
// plan needs, each bounded by a per-request timeout and returning a typed
// Result (Created, Configured, Unchanged, Recreated, Deleted, Skipped) and
// errors that start with "context <name>: <kind> <name>: " and wrap a
// sentinel to branch on (ErrImmutable, ErrConflict, ErrNotPrunable, ...):
//
//   - Apply / ApplyObject: server-side apply, field manager "ringops",
//     forcing ownership (as Flux). Per object: GET; absent, create; present
//     but not created by ringops (no managed-by label), refused with
//     ErrNotOwned unless the object carries contract.AnnotationAdopt
//     (spec.adopt; Helm refuses the same); else a dryRun=All apply compared with the live object (without
//     managedFields, resourceVersion, generation, status): equal means no
//     write at all. Apply stages: missing namespaces first (never pruned),
//     then ConfigMaps, Services, PodDisruptionBudgets, other kinds,
//     StatefulSets. An object carrying metadata.resourceVersion is applied
//     only over that version (ErrConflict). Immutable fields fail with
//     ErrImmutable; nothing is ever recreated implicitly.
//   - RecreateStatefulSet: a dry-run creation of the new one first (under
//     a generated name; refused: ErrReplacementInvalid, nothing deleted),
//     then delete with propagationPolicy Orphan and the UID and
//     resourceVersion preconditions, wait until gone, apply the new one;
//     pods and PVCs stay and are adopted.
//   - Observe: a cluster's objects (ConfigMaps, Services, PDBs,
//     StatefulSets with status, plus extra kinds), pods and PVCs, by label,
//     in every context at once; a context that fails is reported alone
//     (ListPods reads pods alone).
//   - Guarded deletes, all with preconditions: Prune (never a StatefulSet,
//     pod, PVC or namespace, only objects labelled managed-by ringops),
//     DeletePVC (only when annotated ringops.dev/decommissioned),
//     DeleteStatefulSet (only at 0 replicas with no pod left, orphaning its
//     PVCs), DeletePod (by UID); and the PVC writes MarkPVCDecommissioned,
//     AnnotatePVC and ExpandPVC, which write only when something changes.
//
// A Counter, installed with Clients.WithCounter (rest.Config.WrapTransport),
// counts requests per context and verb, dry-runs apart from writes: a pass
// over a converged cluster costs GETs and dry-runs, zero writes.
//
// kube does not import the planner: Ref and Observation have the fields of
// plan.ObjectRef and plan.Context, so the executor converts with
// kube.Ref(step.Target) and (*plan.Context)(obs) (checked by a test).
package kube
