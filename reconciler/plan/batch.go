package plan

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/render"
)

// batch is every non-disruptive step due, in context order, then rack
// order: objects to apply, StatefulSets to create, stage, recreate or
// finish, decommissions to complete, PVCs to expand or delete, objects to
// prune. None makes a node join, leave or restart, so they go together,
// paused or not, in a window or not. At most one write per StatefulSet.
func (v *view) batch() []Step {
	var steps []Step
	for _, kc := range v.contexts {
		if !v.reachable(kc) {
			continue
		}
		for _, r := range v.racks { // #20: the pods get ringops' labels before the Service selects by them
			if r.ctx == kc && r.adopting() {
				steps = append(steps, v.adopt(r))
			}
		}
		if s, ok := v.applyObjects(kc); ok {
			steps = append(steps, s)
		}
		if s, ok := v.recordStep(kc); ok { // replace (#16): the record of the nodes
			steps = append(steps, s)
		}
		pruned := v.prune(kc)
		for _, r := range v.racks {
			if r.ctx == kc && !r.adopting() {
				steps = append(steps, v.rackBatch(r)...)
			}
		}
		steps = append(steps, pruned...)
		steps = append(steps, v.dropCassKop(kc)...)
	}
	return steps
}

// applyObjects is the desired objects of a context (StatefulSets aside)
// that are missing or differ from what is rendered.
func (v *view) applyObjects(kc string) (Step, bool) {
	lc := v.live[kc]
	var objs []*unstructured.Unstructured
	var why []string
	for _, want := range v.objects[kc] {
		live := lc.byKey[ObjectKey(want)]
		switch {
		case live == nil && lc.foreign[ObjectKey(want)] != nil:
			why = append(why, want.GetKind()+" "+want.GetName()+" adopted from CassKop")
		case live == nil:
			why = append(why, want.GetKind()+" "+want.GetName()+" missing")
		case CoversObject(want, live):
			continue
		case live.GetAnnotations()[contract.AnnotationSpecHash] == want.GetAnnotations()[contract.AnnotationSpecHash]:
			why = append(why, want.GetKind()+" "+want.GetName()+" changed by hand")
		default:
			why = append(why, want.GetKind()+" "+want.GetName()+" changed")
		}
		objs = append(objs, want.DeepCopy())
	}
	if len(objs) == 0 {
		return Step{}, false
	}
	return Step{Action: ApplyObjects, Context: kc, Target: refOf(objs[0]), Objects: objs,
		Reason: strings.Join(why, ", ")}, true
}

// rackBatch is a rack's non-disruptive steps: one StatefulSet write at
// most, then its PVCs.
func (v *view) rackBatch(r *rack) []Step {
	var steps []Step
	if s, ok := v.rackWrite(r); ok {
		steps = append(steps, s)
	}
	return append(steps, v.pvcSteps(r)...)
}

// rackWrite is the StatefulSet write a rack needs, if any.
func (v *view) rackWrite(r *rack) (Step, bool) {
	if r.live == nil {
		if r.orphan() {
			return Step{}, false
		}
		return v.create(r), true
	}
	if v.holdStrategy(r) { // replace (#16): OnDelete until the restarted pod is back
		return Step{}, false
	}
	if s, ok := v.finishDecommission(r); ok {
		return s, true
	}
	if s, ok := v.finishMarks(r); ok { // #15: rebuilds and cleanups done (datacenters.go)
		return s, true
	}
	if r.orphan() {
		return v.deleteEmpty(r)
	}
	d := v.diffSTS(r)
	ref := refOf(r.live.obj)
	switch {
	case d.immutable != "":
		u := v.write(r, r.live.replicas, r.live.partition, changeNote(d))
		u.SetResourceVersion("")
		return Step{Action: RecreateStatefulSet, Context: r.ctx, Target: ref, Objects: []*unstructured.Unstructured{u},
			From: r.live.partition, To: partitionOf(u),
			Reason: d.immutable + " cannot change in place: re-create the StatefulSet, keeping its pods and volumes"}, true
	case d.any():
		u := v.write(r, r.live.replicas, r.live.partition, changeNote(d))
		reason := "labels, annotations or settings changed"
		if d.template {
			reason = d.change + ": staged behind partition " + itoa(int(partitionOf(u))) + ", no pod restarts yet"
		}
		return Step{Action: UpdateStatefulSet, Context: r.ctx, Target: ref, Objects: []*unstructured.Unstructured{u},
			From: r.live.partition, To: partitionOf(u), Reason: reason}, true
	case r.rollDone():
		u := v.write(r, r.live.replicas, 0, map[string]string{contract.AnnotationChange: ""})
		return Step{Action: UpdateStatefulSet, Context: r.ctx, Target: ref, Objects: []*unstructured.Unstructured{u},
			From: r.live.partition, To: 0, Reason: "every pod runs the current template: partition back to 0"}, true
	}
	return Step{}, false
}

func changeNote(d stsDiff) map[string]string {
	if !d.template {
		return nil
	}
	return map[string]string{contract.AnnotationChange: d.change}
}

func partitionOf(u *unstructured.Unstructured) int32 {
	n, _ := nestedInt(u.Object, "spec", "updateStrategy", "rollingUpdate", "partition")
	return int32(n)
}

// create makes a missing StatefulSet at 0 replicas, or, when pods of it
// are left (it was deleted with its pods orphaned), at the count that
// adopts them all, partition raised so that none restarts.
func (v *view) create(r *rack) Step {
	var n int32
	for ord := range r.pods {
		n = max(n, ord+1)
	}
	u := v.write(r, n, n, v.createMarks(r)) // #15: a rack of a datacenter joining a running ring
	seeds, _ := SeedsOf(nested(u.Object, "spec", "template"))
	reason := "new rack " + r.label() + ", created empty; nodes join one at a time; " + v.seedsNote(seeds)
	if n > 0 {
		reason = "StatefulSet missing while " + plural(len(r.pods), "pod") + " of it run: re-created at " + itoa(int(n)) + " replicas to adopt them"
	}
	return Step{Action: CreateStatefulSet, Context: r.ctx, Target: ObjectRef{APIVersion: "apps/v1", Kind: "StatefulSet",
		Namespace: u.GetNamespace(), Name: r.name}, Objects: []*unstructured.Unstructured{u}, From: 0, To: n, Reason: reason}
}

// finishDecommission completes a decommission whose node left the ring:
// the replica goes (the PVC is marked first), or clears a stale marker.
func (v *view) finishDecommission(r *rack) (Step, bool) {
	m := r.live.annotations[contract.AnnotationDecommission]
	if m == "" {
		return Step{}, false
	}
	ref := refOf(r.live.obj)
	ord, ok := ordinalOf(m, r.name)
	if !ok || ord >= r.live.replicas {
		u := v.write(r, r.live.replicas, r.live.partition, map[string]string{contract.AnnotationDecommission: ""})
		return Step{Action: UpdateStatefulSet, Context: r.ctx, Target: ref, Objects: []*unstructured.Unstructured{u},
			From: r.live.partition, To: partitionOf(u), Reason: "decommission of " + m + " is over: marker removed"}, true
	}
	if ord != r.live.replicas-1 {
		return Step{}, false
	}
	mode := v.o.Ring.Nodes[m].Mode
	if mode != ring.ModeDecommissioned && !v.neverJoined(m, r.pods[ord], true) {
		return Step{}, false
	}
	why := m + " is DECOMMISSIONED: its replica goes"
	if mode != ring.ModeDecommissioned {
		why = m + " is out of the ring and not Ready: its replica goes"
	}
	set := v.stamp("remove " + m)
	set[contract.AnnotationDecommission] = ""
	u := v.write(r, ord, min(r.live.partition, ord), set)
	s := Step{Action: ScaleStatefulSet, Context: r.ctx, Target: ref, Objects: []*unstructured.Unstructured{u},
		Pod: m, From: r.live.replicas, To: ord, Reason: why}
	if pvc := r.pvcs[ord]; pvc != nil {
		s.MarkPVC = pvc.Name
	}
	return s, true
}

// deleteEmpty deletes the StatefulSet of a removed datacenter once it
// has no replica and no pod left.
func (v *view) deleteEmpty(r *rack) (Step, bool) {
	s := r.live
	if s.replicas != 0 || s.statusReplicas != 0 || len(r.pods) > 0 || s.observedGen < s.generation {
		return Step{}, false
	}
	return Step{Action: DeleteStatefulSet, Context: r.ctx, Target: refOf(s.obj),
		Reason: "datacenter " + r.dc + " left the spec and has no node left"}, true
}

// pvcSteps expands the rack's PVCs to the rendered size, and deletes
// those of decommissioned nodes when spec.storage.deleteOnDecommission.
func (v *view) pvcSteps(r *rack) []Step {
	var steps []Step
	want := v.claimSize(r)
	for _, ord := range sortedOrdinals(r.pvcs) {
		pvc := r.pvcs[ord]
		if pvc.DeletionTimestamp != nil {
			continue
		}
		if s, ok := v.deletePVC(r, ord, pvc); ok {
			steps = append(steps, s)
			continue
		}
		if want == nil || r.live == nil || ord >= r.live.replicas {
			continue
		}
		if have, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; ok && have.Cmp(*want) < 0 {
			steps = append(steps, Step{Action: ExpandPVC, Context: r.ctx, Target: pvcRef(pvc), Size: want.String(),
				Pod: r.podName(ord), Reason: "storage grows from " + have.String() + " to " + want.String()})
		}
	}
	return steps
}

func (v *view) deletePVC(r *rack, ord int32, pvc *corev1.PersistentVolumeClaim) (Step, bool) {
	if pvc.Annotations[contract.AnnotationDecommissioned] == "" || !v.c.Spec.Storage.DeleteOnDecommission {
		return Step{}, false
	}
	if r.pods[ord] != nil || (r.live != nil && ord < r.live.replicas) {
		return Step{}, false
	}
	return Step{Action: DeletePVC, Context: r.ctx, Target: pvcRef(pvc), Pod: r.podName(ord),
		Reason: "node " + r.podName(ord) + " was decommissioned and spec.storage.deleteOnDecommission is set"}, true
}

// claimSize is the rendered size of the "data" claim, when the live
// StatefulSet already asks for it (the claims of existing pods then grow).
func (v *view) claimSize(r *rack) *resource.Quantity {
	if r.orphan() || r.live == nil {
		return nil
	}
	want := DataClaimSize(r.desired)
	if want == nil {
		return nil
	}
	if have := DataClaimSize(r.live.obj); have == nil || have.Cmp(*want) != 0 {
		return nil
	}
	return want
}

// DataClaimSize is the storage request of a StatefulSet's "data" volume
// claim template, nil when it has none.
func DataClaimSize(u *unstructured.Unstructured) *resource.Quantity {
	claims, _ := nested(u.Object, "spec", "volumeClaimTemplates").([]any)
	for _, c := range claims {
		m := asMap(c)
		if nested(m, "metadata", "name") != render.VolumeData {
			continue
		}
		s, _ := nested(m, "spec", "resources", "requests", "storage").(string)
		q, err := resource.ParseQuantity(s)
		if err != nil {
			return nil
		}
		return &q
	}
	return nil
}

func pvcRef(pvc *corev1.PersistentVolumeClaim) ObjectRef {
	return ObjectRef{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: pvc.Namespace, Name: pvc.Name,
		UID: string(pvc.UID), ResourceVersion: pvc.ResourceVersion}
}

func sortedOrdinals[V any](m map[int32]V) []int32 {
	out := make([]int32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// prune deletes the live objects of a context that left the desired
// state (never a StatefulSet, pod or PVC), once no StatefulSet of a
// removed datacenter is left there (its pods may still use them).
func (v *view) prune(kc string) []Step {
	for _, r := range v.racks {
		if r.ctx == kc && r.orphan() {
			return nil
		}
	}
	want := map[string]bool{}
	for _, u := range v.objects[kc] {
		want[ObjectKey(u)] = true
	}
	var steps []Step
	for _, u := range v.live[kc].objects {
		if want[ObjectKey(u)] || u.GetLabels()[contract.LabelManagedBy] != contract.ManagedBy || v.isRecord(u) {
			continue
		}
		steps = append(steps, Step{Action: Prune, Context: kc, Target: refOf(u),
			Reason: "no longer rendered by the revision"})
	}
	return steps
}
