package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/ringops/ringops/internal/contract"
)

// Adoption in place of what CassKop made (#20). CassKop names its objects
// as ringops does (StatefulSets <cluster>-<dc>-<rack>, the headless
// Service <cluster>), so spec.adopt takes them over by name: an apply
// moves their fields to ringops and drops CassKop's owner references
// (ApplyObject), AdoptStatefulSet labels the running pods in place, and
// DeleteCassKopObject removes what ringops replaces by an object of its
// own (the PodDisruptionBudget <cluster>). The planner says when.

// foreignKinds are the kinds of CassKop's objects Observe reads with
// Query.Adopt.
var foreignKinds = []schema.GroupVersionKind{ObservedKinds[1], ObservedKinds[2], ObservedKinds[3]}

// CassKopSelector selects what CassKop made for cluster and ringops has
// not taken over: app=cassandracluster, cassandracluster=<cluster>, and
// not app.kubernetes.io/managed-by=ringops.
func CassKopSelector(cluster string) labels.Selector {
	s := labels.SelectorFromSet(labels.Set{contract.CassKopLabelApp: contract.CassKopApp, contract.CassKopLabelCluster: cluster})
	notOurs, err := labels.NewRequirement(contract.LabelManagedBy, selection.NotEquals, []string{contract.ManagedBy})
	if err != nil { // a constant, valid key and value
		panic(err)
	}
	return s.Add(*notOurs)
}

// observeCassKop fills obs.Foreign, ForeignPods and Operators.
func (m *Manager) observeCassKop(ctx context.Context, cc *contextClient, q Query, obs *Observation) error {
	selector := CassKopSelector(q.Cluster).String()
	var err error
	if obs.Foreign, err = m.listLabelled(ctx, cc, foreignKinds, q.Namespace, selector, "CassKop's "); err != nil {
		return err
	}
	rctx, cancel := m.call(ctx)
	pods, err := cc.typed.CoreV1().Pods(q.Namespace).List(rctx, metav1.ListOptions{LabelSelector: selector})
	cancel()
	if err != nil {
		return fmt.Errorf("context %s: list CassKop's pods in %s: %w", cc.name, q.Namespace, err)
	}
	for i := range pods.Items {
		pods.Items[i].ManagedFields = nil
	}
	obs.ForeignPods = pods.Items
	if len(obs.Foreign) == 0 && len(obs.ForeignPods) == 0 {
		return nil // nothing left to adopt: whether CassKop runs no longer matters
	}
	obs.Operators, err = m.cassKopOperators(ctx, cc, q.Namespace)
	return err
}

// cassKopOperators describes the Deployments of namespace that run
// CassKop or Multi-CassKop (a container image naming casskop) with
// replicas: while one runs it writes the objects back as it wants them,
// and an adoption would fight it.
func (m *Manager) cassKopOperators(ctx context.Context, cc *contextClient, namespace string) ([]string, error) {
	rctx, cancel := m.call(ctx)
	defer cancel()
	list, err := cc.typed.AppsV1().Deployments(namespace).List(rctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("context %s: list deployments in %s (is CassKop's operator running?): %w", cc.name, namespace, err)
	}
	var out []string
	for i := range list.Items {
		d := &list.Items[i]
		if image := cassKopImage(d); image != "" && (d.Spec.Replicas == nil || *d.Spec.Replicas > 0) {
			replicas := int32(1)
			if d.Spec.Replicas != nil {
				replicas = *d.Spec.Replicas
			}
			out = append(out, fmt.Sprintf("deployment %s/%s runs %s (%d replicas); stop it: kubectl --context %s -n %s scale deployment %s --replicas=0",
				d.Namespace, d.Name, image, replicas, cc.name, d.Namespace, d.Name))
		}
	}
	return out, nil
}

// cassKopImage is the image of a Deployment's container that runs CassKop
// or Multi-CassKop, "" if none does.
func cassKopImage(d *appsv1.Deployment) string {
	for _, c := range d.Spec.Template.Spec.Containers {
		if strings.Contains(strings.ToLower(c.Image), "casskop") {
			return c.Image
		}
	}
	return ""
}

// dropCassKopOwners removes from live the owner references to CassKop's
// CassandraCluster (precondition: live's resourceVersion), so that
// deleting the CassandraCluster no longer deletes what ringops adopted.
// It returns the object as written, or live when it had none.
func (m *Manager) dropCassKopOwners(ctx context.Context, ri dynamic.ResourceInterface, live *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	var kept []metav1.OwnerReference
	for _, o := range live.GetOwnerReferences() {
		if !isCassKopOwner(o) {
			kept = append(kept, o)
		}
	}
	if len(kept) == len(live.GetOwnerReferences()) {
		return live, nil
	}
	if kept == nil {
		kept = []metav1.OwnerReference{}
	}
	patch, err := json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/resourceVersion", "value": live.GetResourceVersion()},
		{"op": "replace", "path": "/metadata/ownerReferences", "value": kept},
	})
	if err != nil {
		return nil, err
	}
	rctx, cancel := m.call(ctx)
	defer cancel()
	out, err := ri.Patch(rctx, live.GetName(), types.JSONPatchType, patch, metav1.PatchOptions{FieldManager: m.opts.FieldManager})
	if apierrors.IsInvalid(err) && strings.Contains(err.Error(), "test") {
		return nil, fmt.Errorf("%w: changed while its CassKop owner was removed", ErrConflict)
	}
	return out, err
}

func isCassKopOwner(o metav1.OwnerReference) bool {
	return o.Kind == "CassandraCluster" && strings.HasPrefix(o.APIVersion, "db.orange.com/")
}

// AdoptStatefulSet takes over a StatefulSet CassKop made, with no pod
// restart. obj is the StatefulSet to apply (contract.AnnotationAdopt set):
// CassKop's selector and volumeClaimTemplates, CassKop's pod template
// with ringops' pod labels added, and a partition at its replicas, so
// that the StatefulSet controller restarts nothing. Once the controller
// has seen it (observedGeneration, a new update revision for the labels),
// each pod of the StatefulSet that has CassKop's labels only and runs the
// revision CassKop wrote gets the template's labels and that update
// revision in place (a label change: nothing restarts; its spec is the
// revision's spec already); one on any other revision (a CassKop rollout
// left half way) gets the labels but keeps its revision, so that the
// planner sees it and rolls it. A pod labelled for ringops already is
// left as it is (run again, the step labels the claims of nodes that
// joined since). Every pod's claim gets ringops' claim labels, so that
// ringops observes it. Errors read "context <kctx>: StatefulSet <name>:
// ...".
func (m *Manager) AdoptStatefulSet(ctx context.Context, kctx string, obj *unstructured.Unstructured) (Result, error) {
	res, err := m.ApplyObject(ctx, kctx, obj)
	if err != nil {
		return res, err
	}
	ref := res.Ref
	fail := func(op string, err error) (Result, error) {
		return res, fmt.Errorf("context %s: %s: %s: %w", kctx, ref, op, classify(err))
	}
	cc, err := m.context(kctx)
	if err != nil {
		return res, err
	}
	sts, err := m.waitRevision(ctx, cc, ref)
	if err != nil {
		return fail("wait for the controller", err)
	}
	podLabels := maps.Clone(sts.Spec.Template.Labels)
	podLabels[contract.LabelRevision] = sts.Status.UpdateRevision
	claimLabels := map[string]string{}
	for _, k := range []string{contract.LabelName, contract.LabelInstance, contract.LabelManagedBy, contract.LabelCluster, contract.LabelDatacenter, contract.LabelRack} {
		if v, ok := sts.Spec.Template.Labels[k]; ok {
			claimLabels[k] = v
		}
	}
	selector, err := metav1.LabelSelectorAsSelector(sts.Spec.Selector)
	if err != nil {
		return fail("selector", err)
	}
	rctx, cancel := m.call(ctx)
	pods, err := cc.typed.CoreV1().Pods(ref.Namespace).List(rctx, metav1.ListOptions{LabelSelector: selector.String()})
	cancel()
	if err != nil {
		return fail("list pods", err)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		ord, ok := strings.CutPrefix(p.Name, ref.Name+"-")
		if _, err := strconv.Atoi(ord); !ok || err != nil {
			continue
		}
		if p.Labels[contract.LabelManagedBy] != contract.ManagedBy { // CassKop's still
			set := podLabels
			if rev := p.Labels[contract.LabelRevision]; rev != sts.Status.CurrentRevision && rev != sts.Status.UpdateRevision {
				set = maps.Clone(podLabels) // a CassKop rollout left half way: seen, and rolled by the planner
				delete(set, contract.LabelRevision)
			}
			if err := m.labelInPlace(ctx, cc.dyn.Resource(podsResource).Namespace(p.Namespace), p.Name, string(p.UID), set); err != nil {
				return fail("label pod "+p.Name, err)
			}
		}
		claim := "data-" + p.Name
		rctx, cancel := m.call(ctx)
		pvc, err := cc.typed.CoreV1().PersistentVolumeClaims(p.Namespace).Get(rctx, claim, metav1.GetOptions{})
		cancel()
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fail("read claim "+claim, err)
		}
		if err := m.labelInPlace(ctx, cc.dyn.Resource(claimsResource).Namespace(p.Namespace), claim, string(pvc.UID), claimLabels); err != nil {
			return fail("label claim "+claim, err)
		}
	}
	return res, nil
}

// labelInPlace merges set into an object's labels (a merge patch,
// precondition its uid: the same object, whatever the kubelet wrote into
// its status since): nothing restarts for a label.
func (m *Manager) labelInPlace(ctx context.Context, ri dynamic.ResourceInterface, name, uid string, set map[string]string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": set, "uid": uid}})
	if err != nil {
		return err
	}
	rctx, cancel := m.call(ctx)
	defer cancel()
	_, err = ri.Patch(rctx, name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: m.opts.FieldManager})
	return err
}

// waitRevision waits until the StatefulSet controller has seen the
// StatefulSet's generation and named its update revision.
func (m *Manager) waitRevision(ctx context.Context, cc *contextClient, ref Ref) (*appsv1.StatefulSet, error) {
	var sts *appsv1.StatefulSet
	err := m.poll(ctx, func(ctx context.Context) (bool, string, error) {
		rctx, rcancel := m.call(ctx)
		s, err := cc.typed.AppsV1().StatefulSets(ref.Namespace).Get(rctx, ref.Name, metav1.GetOptions{})
		rcancel()
		switch {
		case err != nil:
			return false, err.Error(), nil
		case string(s.UID) != ref.UID && ref.UID != "":
			return false, "", fmt.Errorf("%w: replaced (uid %s, applied %s)", ErrConflict, s.UID, ref.UID)
		}
		sts = s
		return s.Status.ObservedGeneration >= s.Generation && s.Status.UpdateRevision != "", "not yet", nil
	})
	if err != nil {
		return nil, err
	}
	return sts, nil
}

// DeleteCassKopObject deletes target, an object CassKop made that ringops
// replaces by one of its own (CassKop's PodDisruptionBudget <cluster>: a
// pod under two budgets cannot be evicted), precondition target.UID. It
// refuses, with ErrNotPrunable, anything ringops renders or did not see
// CassKop make (CassKop's labels or owner), and StatefulSets, pods and
// PVCs. Gone already: Skipped.
func (m *Manager) DeleteCassKopObject(ctx context.Context, kctx string, target Ref) (Result, error) {
	return m.deleteChecked(ctx, kctx, target, "delete CassKop's", "is adopted, never deleted", func(live *unstructured.Unstructured) error {
		if ownedByRingops(live) || madeByCassKop(live) == "" {
			return fmt.Errorf("%w: not CassKop's", ErrNotPrunable)
		}
		return nil
	})
}

var (
	podsResource   = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	claimsResource = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
)

// leavesAdoptedTemplate: obj is an adopted StatefulSet that moves off the
// pod template it was adopted with (live has the pin, obj does not).
func leavesAdoptedTemplate(obj, live *unstructured.Unstructured) bool {
	return obj.GetKind() == "StatefulSet" && obj.GetAnnotations()[contract.AnnotationAdopted] != "" &&
		obj.GetAnnotations()[contract.AnnotationAdoptedTemplate] == "" && live.GetAnnotations()[contract.AnnotationAdoptedTemplate] != ""
}

// replaceAdoptedTemplate writes obj's pod template, replicas, update
// strategy, labels and annotations over live with an update (PUT,
// precondition live's resourceVersion), its managed fields cleared. A
// server-side apply cannot do it: the fields CassKop wrote into the
// template (its init containers, probes, volumes, sidecars) belong to
// CassKop's field manager, and an apply keeps what another manager owns,
// so that CassKop's exec probe and ringops' TCP probe would meet in one
// container (invalid). The apply that follows takes every field it sets.
// With dryRun nothing is written.
func (m *Manager) replaceAdoptedTemplate(ctx context.Context, ri dynamic.ResourceInterface, live, obj *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	u := live.DeepCopy()
	delete(u.Object, "status")
	for _, f := range []string{"template", "replicas", "updateStrategy"} {
		if v, ok := obj.Object["spec"].(map[string]any)[f]; ok {
			u.Object["spec"].(map[string]any)[f] = v
		}
	}
	labels := live.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, obj.GetLabels())
	u.SetLabels(labels)
	ann := live.GetAnnotations()
	delete(ann, contract.AnnotationAdoptedTemplate)
	maps.Copy(ann, obj.GetAnnotations())
	u.SetAnnotations(ann)
	u.SetManagedFields([]metav1.ManagedFieldsEntry{{}}) // clears them
	opts := metav1.UpdateOptions{FieldManager: m.opts.FieldManager}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	rctx, cancel := m.call(ctx)
	defer cancel()
	return ri.Update(rctx, u, opts)
}
