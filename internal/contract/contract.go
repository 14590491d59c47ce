package contract

import "strings"

// Prefix is the prefix of ringops' own label and annotation keys.
const Prefix = "ringops.dev/"

// Labels of every object ringops renders or keeps, and of its pods.
const (
	LabelName       = "app.kubernetes.io/name"
	LabelInstance   = "app.kubernetes.io/instance"
	LabelManagedBy  = "app.kubernetes.io/managed-by"
	LabelCluster    = Prefix + "cluster"
	LabelDatacenter = Prefix + "datacenter"
	LabelRack       = Prefix + "rack"

	// ManagedBy is the value of LabelManagedBy on every object ringops
	// renders or keeps.
	ManagedBy = "ringops"
	// AppName is the value of LabelName.
	AppName = "cassandra"

	// LabelCredentials is on the Secrets ringops keeps itself (value: what
	// for, "jolokia"): they are never rendered, so never observed nor
	// pruned with the rendered objects (reconciler/kube skips them), and a
	// region's Component may not use the label.
	LabelCredentials = Prefix + "credentials"
	// CredentialsJolokia is the value of LabelCredentials on the agents'
	// Secret.
	CredentialsJolokia = "jolokia"
	// CredentialsCQL is the value of LabelCredentials on the Secret of
	// ringops' own CQL role, <cluster>-cql.
	CredentialsCQL = "cql"

	// LabelRevision is the label the StatefulSet controller puts on each
	// pod: the controller revision the pod was created from.
	LabelRevision = "controller-revision-hash"
)

// CassKop's labels (Orange's operator, which ringops adopts clusters
// from, #20): on its StatefulSets, their selectors and pods, and on its
// Service and PodDisruptionBudget, app=cassandracluster and
// cassandracluster=<cluster>.
const (
	CassKopLabelApp     = "app"
	CassKopApp          = "cassandracluster"
	CassKopLabelCluster = "cassandracluster"
	// AdoptedFromCassKop is the value of AnnotationAdopted on what ringops
	// took over from CassKop.
	AdoptedFromCassKop = "CassKop"
)

// Annotations render writes.
const (
	// AnnotationSpecHash is on every rendered object: the SHA-256 (hex) of
	// the object's JSON (keys sorted) as rendered, without this annotation
	// (and without metadata.annotations if it was the only one).
	AnnotationSpecHash = Prefix + "spec-hash"
	// AnnotationConfigHash is on every pod template: the SHA-256 (hex) of
	// the data of the ConfigMap <cluster>-config, so a change rolls the racks.
	AnnotationConfigHash = Prefix + "config-hash"
	// AnnotationLastApplied is on the ConfigMap <cluster>-config in every
	// context: the spec's change basis (schemas.EncodeLastApplied), so
	// that the clusters remember what was rolled out and a change is
	// validated against it after a restart (schemas.ValidateChange). It is
	// applied with the revision's other non-disruptive objects, before any
	// node joins, leaves or restarts, and does not roll the racks (the
	// config hash covers the data only).
	AnnotationLastApplied = Prefix + "last-applied"
	// AnnotationAdopt is on every rendered object when spec.adopt is set:
	// the apply may take over a live object of the same name that ringops
	// did not create (without LabelManagedBy); without it, such an object
	// is refused (reconciler/kube ErrNotOwned).
	AnnotationAdopt = Prefix + "adopt"
	// AnnotationRotate is spec.jolokia.rotate: on pod templates, so that a
	// new token restarts every node (the agent reads its password at
	// start); on the Secret ringops keeps, the token its password was made
	// for.
	AnnotationRotate = Prefix + "jolokia-rotate"
	// AnnotationCQLRotate is spec.cql.rotate on the Secret of ringops'
	// own CQL role: the token its password was made for.
	AnnotationCQLRotate = Prefix + "cql-rotate"
	// AnnotationAdopted is on a StatefulSet ringops took over in place
	// from another operator: who made it ("CassKop"). Its selector and
	// volumeClaimTemplates, which cannot change, stay that operator's
	// for good; ringops' pod labels are added to its template and pods.
	AnnotationAdopted = Prefix + "adopted"
	// AnnotationAdoptedTemplate is on an adopted StatefulSet while it
	// still runs the pod template the other operator wrote: the
	// TemplateHash of the template ringops rendered when it adopted it.
	// As long as the rendered template hashes the same (the spec changed
	// nothing that needs a restart), the adopted template is kept, so
	// that the takeover restarts no pod; then the rack rolls to ringops'
	// template as for any change, and the annotation goes.
	AnnotationAdoptedTemplate = Prefix + "adopted-template"
)

// Annotations the planner writes on the objects of its steps, so that the
// state of a rollout lives in the clusters: a restarted daemon re-derives
// from them where it was (design rule 8). The executor only applies those
// objects (and marks PVCs, MarkPVCDecommissioned).
const (
	// AnnotationStep is on a StatefulSet: the last disruptive step ringops
	// started on it, for humans ("scale 2 -> 3", "restart orders-dc1-r1-2").
	AnnotationStep = Prefix + "step"
	// AnnotationStepAt is on a StatefulSet: when that step started
	// (RFC 3339). The health timeout counts from the latest one.
	AnnotationStepAt = Prefix + "step-at"
	// AnnotationDecommission is on a StatefulSet while its highest pod is
	// being decommissioned: the pod's name. It is written before the
	// decommission starts and removed with the replica it frees.
	AnnotationDecommission = Prefix + "decommission"
	// AnnotationChange is on a StatefulSet whose pod template was changed:
	// what changed, for humans ("image cassandra:4.1.4 -> cassandra:4.1.5").
	AnnotationChange = Prefix + "change"
	// AnnotationAttempt is on a StatefulSet while a long operation of one
	// of its pods is tried (decommission, bootstrap resume,
	// upgradesstables): "<operation> <pod> <attempt>", e.g.
	// "decommission orders-dc1-r1-2 2". Each try writes it with the step
	// stamps; the next disruptive step removes it. Removing it by hand
	// grants the operation a new round of attempts.
	AnnotationAttempt = Prefix + "attempt"
	// AnnotationDecommissioned is on a PersistentVolumeClaim whose node was
	// decommissioned (RFC 3339 time): Cassandra will not start on it again,
	// so it is never reused by a new node; reconciler/kube's DeletePVC
	// deletes only PVCs that carry it.
	AnnotationDecommissioned = Prefix + "decommissioned"

	// AnnotationRebuild is on a StatefulSet whose nodes must be rebuilt
	// (StorageService.rebuild) from another datacenter: "<source dc> *"
	// when the rack joined a running ring as part of a new datacenter (its
	// nodes join without bootstrap: auto_bootstrap=false in its template
	// while the annotation is there; every keyspace is rebuilt), or
	// "<source dc> <keyspace>,<keyspace>" when keyspaces gained the
	// datacenter while its nodes ran (only those are rebuilt). It is
	// written before the first node joins (with the StatefulSet) or before
	// the ALTER KEYSPACE, and removed once every node of the rack is
	// rebuilt.
	AnnotationRebuild = Prefix + "rebuild"
	// AnnotationRebuilt is on a StatefulSet with AnnotationRebuild: the
	// ordinals of its nodes whose rebuild Cassandra answered as done,
	// "0,1". Written after each rebuild (the step's OnSuccess).
	AnnotationRebuilt = Prefix + "rebuilt"
	// AnnotationCleanup is on a StatefulSet whose nodes hold data of
	// ranges they no longer replicate, since a keyspace's factor in their
	// datacenter was lowered: the keyspaces to clean up, "orders,system_auth".
	// Written before the ALTER KEYSPACE, removed once every node of the
	// rack is cleaned up.
	AnnotationCleanup = Prefix + "cleanup"
	// AnnotationCleaned is on a StatefulSet with AnnotationCleanup: the
	// ordinals of its nodes cleaned up, "0,1" (the step's OnSuccess).
	AnnotationCleaned = Prefix + "cleaned"
)

// AnnotationShardTerm is on every object a step writes when the daemon
// runs sharded (`ringops run --shards N`, N > 1): the term of the shard
// Lease under which the step was let through, "<replica>/<leaseTransitions>"
// (reconciler.WithFence). An audit of the writes tells from it which
// replica wrote what in which term; nothing reads it back to decide.
const AnnotationShardTerm = Prefix + "shard-term"

// Reserved reports whether key is a label or annotation key ringops sets
// itself: the three app.kubernetes.io keys above and every key under
// Prefix. A spec may not set one.
func Reserved(key string) bool {
	switch key {
	case LabelName, LabelInstance, LabelManagedBy:
		return true
	}
	return strings.HasPrefix(key, Prefix)
}
