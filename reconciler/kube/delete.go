package kube

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ringops/ringops/internal/contract"
)

// neverPruned are the kinds that leave only through the decommission path
// (StatefulSets, pods, PVCs), and namespaces, which ringops never deletes.
var neverPruned = []schema.GroupKind{
	{Group: "apps", Kind: "StatefulSet"},
	{Kind: "Pod"},
	{Kind: "PersistentVolumeClaim"},
	{Kind: "Namespace"},
}

// Prune deletes target, an object that left the desired state, with
// background propagation and the preconditions target.UID (required) and
// target.ResourceVersion (when set). It refuses, with ErrNotPrunable,
// StatefulSets, pods, PVCs and namespaces, any object not labelled
// app.kubernetes.io/managed-by=ringops, and the Secrets ringops keeps
// (contract.LabelCredentials). An object already gone or being
// deleted is Skipped;
// one replaced or changed since it was observed fails with ErrConflict.
func (m *Manager) Prune(ctx context.Context, kctx string, target Ref) (Result, error) {
	return m.deleteChecked(ctx, kctx, target, "prune", "leaves only through the decommission path", func(live *unstructured.Unstructured) error {
		if live.GetLabels()[contract.LabelManagedBy] != contract.ManagedBy {
			return fmt.Errorf("%w: not labelled %s=%s", ErrNotPrunable, contract.LabelManagedBy, contract.ManagedBy)
		}
		if _, kept := live.GetLabels()[contract.LabelCredentials]; kept {
			return fmt.Errorf("%w: labelled %s: credentials ringops keeps, never rendered", ErrNotPrunable, contract.LabelCredentials)
		}
		return nil
	})
}

// deleteChecked deletes target with background propagation and the
// preconditions target.UID (required) and target.ResourceVersion (when
// set), once may accepts the live object. A kind of neverPruned is
// refused with ErrNotPrunable ("a <Kind> " then never). An object already
// gone or being deleted is Skipped. Errors read "context <kctx>: <target>:
// <op>: ...".
func (m *Manager) deleteChecked(ctx context.Context, kctx string, target Ref, op, never string, may func(live *unstructured.Unstructured) error) (Result, error) {
	res := Result{Context: kctx, Ref: target}
	fail := func(err error) (Result, error) {
		return res, fmt.Errorf("context %s: %s: %s: %w", kctx, target, op, err)
	}
	gvk := schema.FromAPIVersionAndKind(target.APIVersion, target.Kind)
	switch {
	case slices.Contains(neverPruned, gvk.GroupKind()):
		return fail(fmt.Errorf("%w: a %s %s", ErrNotPrunable, target.Kind, never))
	case target.UID == "":
		return fail(fmt.Errorf("%w: the observed uid is required", ErrInvalidRequest))
	}
	cc, err := m.context(kctx)
	if err != nil {
		return res, err
	}
	ri, err := cc.resource(gvk, target.Namespace)
	if err != nil {
		return fail(err)
	}
	live, err := m.get(ctx, ri, target.Name)
	if skip, err := checkLive(target, live, err); err != nil {
		return fail(err)
	} else if skip {
		res.Action = Skipped
		return res, nil
	}
	if err := may(live); err != nil {
		return fail(err)
	}
	rctx, cancel := m.call(ctx)
	defer cancel()
	background := metav1.DeletePropagationBackground
	err = ri.Delete(rctx, target.Name, metav1.DeleteOptions{PropagationPolicy: &background, Preconditions: preconditions(target)})
	return deleted(res, err, fail)
}

// DeletePVC deletes target, a PersistentVolumeClaim whose node was
// decommissioned, with the preconditions target.UID and
// target.ResourceVersion (both required). It refuses a PVC without the
// ringops.dev/decommissioned annotation (ErrNotDecommissioned). A PVC
// already gone or being deleted (a pod still uses it) is Skipped.
func (m *Manager) DeletePVC(ctx context.Context, kctx string, target Ref) (Result, error) {
	res := Result{Context: kctx, Ref: target}
	fail := func(err error) (Result, error) {
		return res, fmt.Errorf("context %s: %s: delete: %w", kctx, target, err)
	}
	if target.Kind != "PersistentVolumeClaim" || target.UID == "" || target.ResourceVersion == "" {
		return fail(fmt.Errorf("%w: a PersistentVolumeClaim with its observed uid and resourceVersion is required", ErrInvalidRequest))
	}
	cc, err := m.context(kctx)
	if err != nil {
		return res, err
	}
	claims := cc.typed.CoreV1().PersistentVolumeClaims(target.Namespace)
	rctx, cancel := m.call(ctx)
	defer cancel()
	live, err := claims.Get(rctx, target.Name, metav1.GetOptions{})
	if skip, err := checkLive(target, live, err); err != nil {
		return fail(err)
	} else if skip {
		res.Action = Skipped
		return res, nil
	}
	if live.Annotations[contract.AnnotationDecommissioned] == "" {
		return fail(fmt.Errorf("%w: no annotation %s", ErrNotDecommissioned, contract.AnnotationDecommissioned))
	}
	rctx, cancel = m.call(ctx)
	defer cancel()
	err = claims.Delete(rctx, target.Name, metav1.DeleteOptions{Preconditions: preconditions(target)})
	return deleted(res, err, fail)
}

// DeleteStatefulSet deletes target, the StatefulSet of a removed
// datacenter, with propagationPolicy Orphan (its PVCs stay whatever its
// retention policy says) and the preconditions target.UID and
// target.ResourceVersion (both required). It refuses (ErrHoldsData) a
// StatefulSet whose spec.replicas is not 0, or one that still has a pod
// matching its selector. A StatefulSet already gone or being deleted is
// Skipped.
func (m *Manager) DeleteStatefulSet(ctx context.Context, kctx string, target Ref) (Result, error) {
	res := Result{Context: kctx, Ref: target}
	fail := func(err error) (Result, error) {
		return res, fmt.Errorf("context %s: %s: delete: %w", kctx, target, err)
	}
	if target.Kind != "StatefulSet" || target.UID == "" || target.ResourceVersion == "" {
		return fail(fmt.Errorf("%w: a StatefulSet with its observed uid and resourceVersion is required", ErrInvalidRequest))
	}
	cc, err := m.context(kctx)
	if err != nil {
		return res, err
	}
	rctx, cancel := m.call(ctx)
	defer cancel()
	live, err := cc.typed.AppsV1().StatefulSets(target.Namespace).Get(rctx, target.Name, metav1.GetOptions{})
	if skip, err := checkLive(target, live, err); err != nil {
		return fail(err)
	} else if skip {
		res.Action = Skipped
		return res, nil
	}
	if live.Spec.Replicas == nil || *live.Spec.Replicas != 0 {
		return fail(fmt.Errorf("%w: spec.replicas is not 0", ErrHoldsData))
	}
	if err := m.checkNoPods(ctx, cc, target.Namespace, live.Spec.Selector); err != nil {
		return fail(err)
	}
	rctx, cancel = m.call(ctx)
	defer cancel()
	orphan := metav1.DeletePropagationOrphan
	err = cc.typed.AppsV1().StatefulSets(target.Namespace).Delete(rctx, target.Name,
		metav1.DeleteOptions{PropagationPolicy: &orphan, Preconditions: preconditions(target)})
	return deleted(res, err, fail)
}

// checkNoPods fails with ErrHoldsData when a pod matches selector.
func (m *Manager) checkNoPods(ctx context.Context, cc *contextClient, namespace string, selector *metav1.LabelSelector) error {
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return err
	}
	if sel.Empty() {
		return fmt.Errorf("%w: empty selector", ErrHoldsData)
	}
	rctx, cancel := m.call(ctx)
	defer cancel()
	pods, err := cc.typed.CoreV1().Pods(namespace).List(rctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return fmt.Errorf("list pods: %w", err)
	}
	if len(pods.Items) > 0 {
		return fmt.Errorf("%w: pod %s exists", ErrHoldsData, firstPod(pods.Items))
	}
	return nil
}

func firstPod(pods []corev1.Pod) string {
	names := make([]string, len(pods))
	for i, p := range pods {
		names[i] = p.Name
	}
	return slices.Min(names)
}

// DeletePod deletes a pod with the precondition uid (required), so that a
// pod replaced since it was observed is never deleted (ErrConflict). The
// StatefulSet controller creates it again; its PVC stays. A pod already
// gone is Skipped.
func (m *Manager) DeletePod(ctx context.Context, kctx, namespace, name, uid string) (Result, error) {
	target := Ref{APIVersion: "v1", Kind: "Pod", Namespace: namespace, Name: name, UID: uid}
	res := Result{Context: kctx, Ref: target}
	fail := func(err error) (Result, error) {
		return res, fmt.Errorf("context %s: %s: delete: %w", kctx, target, err)
	}
	if uid == "" {
		return fail(fmt.Errorf("%w: the observed uid is required", ErrInvalidRequest))
	}
	cc, err := m.context(kctx)
	if err != nil {
		return res, err
	}
	rctx, cancel := m.call(ctx)
	defer cancel()
	err = cc.typed.CoreV1().Pods(namespace).Delete(rctx, name, metav1.DeleteOptions{Preconditions: preconditions(target)})
	return deleted(res, err, fail)
}

// checkLive judges the object a guarded delete read first: gone, or being
// deleted already, is a skip; another uid than the one observed (the object
// was replaced) is ErrConflict; a failed read is returned as it is.
func checkLive(target Ref, live metav1.Object, err error) (skip bool, _ error) {
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, err
	case string(live.GetUID()) != target.UID:
		return false, fmt.Errorf("%w: uid %s, observed %s", ErrConflict, live.GetUID(), target.UID)
	}
	return live.GetDeletionTimestamp() != nil, nil
}

func preconditions(target Ref) *metav1.Preconditions {
	uid := types.UID(target.UID)
	p := &metav1.Preconditions{UID: &uid}
	if target.ResourceVersion != "" {
		rv := target.ResourceVersion
		p.ResourceVersion = &rv
	}
	return p
}

// deleted turns a delete's answer into a Result: gone already is Skipped,
// a failed precondition is ErrConflict.
func deleted(res Result, err error, fail func(error) (Result, error)) (Result, error) {
	switch {
	case apierrors.IsNotFound(err):
		res.Action = Skipped
		return res, nil
	case err != nil:
		return fail(classify(err))
	}
	res.Action = Deleted
	return res, nil
}
