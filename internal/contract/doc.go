// Package contract holds the label and annotation keys (and their fixed
// values) that ringops writes on the objects of a cluster and reads back:
// the contract between the renderer, the planner, the kube edge, the
// daemon and the tests. It is a leaf: it imports nothing (internal/arch
// checks it imports the standard library only), so that an edge can name a
// key without depending on render or the planner, and through them on
// kustomize.
//
// Each key, who writes it and who reads it:
//
//	key                              written by                          read by
//	app.kubernetes.io/name           render (every object, pod),         users and their tools
//	app.kubernetes.io/instance         plan (<cluster>-nodes ConfigMap),
//	                                   reconciler (credentials Secret)
//	app.kubernetes.io/managed-by     same; render puts it back after     kube (observe selects on it, apply
//	                                   a Component                         refuses a live object without it
//	                                                                       unless adopted, prune one without
//	                                                                       it), plan (what to prune)
//	ringops.dev/cluster              same                                kube (observe, pods), plan (view, ring)
//	ringops.dev/datacenter           render (per-datacenter objects,     plan (view, ring)
//	ringops.dev/rack                   pods; rack: StatefulSets, pods)
//	ringops.dev/credentials          reconciler (the Secret it keeps)    kube (never observed nor pruned),
//	                                                                       render (a Component may not use it)
//	controller-revision-hash         the StatefulSet controller (pods)   plan (which pods run the template)
//
//	ringops.dev/spec-hash            render (every object)               plan (changed by hand, or by ringops)
//	ringops.dev/config-hash          render (pod templates)              plan, review (a configuration restart)
//	ringops.dev/last-applied         render (<cluster>-config)           reconciler (Prepare: the change basis)
//	ringops.dev/adopt                render (every object, spec.adopt)   kube (apply takes over a foreign object)
//	ringops.dev/jolokia-rotate       render (pod templates),             reconciler (a new token for the agents)
//	                                   reconciler (credentials Secret)
//	ringops.dev/step, step-at,       plan (into its steps' objects;      plan (where a rollout is, after a
//	  decommission, change,            the executor applies them)          restart; timeouts; attempts)
//	  attempt, rebuild, rebuilt,
//	  cleanup, cleaned               (StatefulSets)
//	ringops.dev/decommissioned       kube (MarkPVCDecommissioned, on     plan (never reuse, delete on
//	                                   the planner's step), PVCs)          decommission), kube (DeletePVC)
//
// Every key under ringops.dev/ and the three app.kubernetes.io/ keys are
// ringops': a spec may not set them (Reserved, used by schemas).
package contract
