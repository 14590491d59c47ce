package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ringops/ringops/internal/contract"
)

// AnnotatePVC sets annotations on a PersistentVolumeClaim (a JSON merge
// patch by field manager ringops). Annotations that already have their
// value are not written again: when all have, it is Unchanged with no
// write. A PVC that does not exist is Skipped.
func (m *Manager) AnnotatePVC(ctx context.Context, kctx, namespace, name string, annotations map[string]string) (Result, error) {
	return m.annotatePVC(ctx, kctx, namespace, name, annotations, true)
}

// MarkPVCDecommissioned annotates a PVC with contract.AnnotationDecommissioned = at
// (RFC 3339, UTC), unless it already carries the annotation (the first
// mark stays). A PVC that does not exist is Skipped.
func (m *Manager) MarkPVCDecommissioned(ctx context.Context, kctx, namespace, name string, at time.Time) (Result, error) {
	a := map[string]string{contract.AnnotationDecommissioned: at.UTC().Format(time.RFC3339)}
	return m.annotatePVC(ctx, kctx, namespace, name, a, false)
}

func (m *Manager) annotatePVC(ctx context.Context, kctx, namespace, name string, annotations map[string]string, overwrite bool) (Result, error) {
	res := Result{Context: kctx, Ref: Ref{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: namespace, Name: name}}
	fail := func(err error) (Result, error) {
		return res, fmt.Errorf("context %s: %s: annotate: %w", kctx, res.Ref, err)
	}
	cc, err := m.context(kctx)
	if err != nil {
		return res, err
	}
	claims := cc.typed.CoreV1().PersistentVolumeClaims(namespace)
	rctx, cancel := m.call(ctx)
	defer cancel()
	live, err := claims.Get(rctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		res.Action = Skipped
		return res, nil
	}
	if err != nil {
		return fail(err)
	}
	res.Ref.UID, res.Ref.ResourceVersion = string(live.UID), live.ResourceVersion
	missing := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		if v, ok := live.Annotations[k]; !ok || (overwrite && v != annotations[k]) {
			missing[k] = annotations[k]
		}
	}
	if len(missing) == 0 {
		res.Action = Unchanged
		return res, nil
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": missing}})
	if err != nil {
		return fail(err)
	}
	rctx, cancel = m.call(ctx)
	defer cancel()
	out, err := claims.Patch(rctx, name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: m.opts.FieldManager})
	if err != nil {
		return fail(classify(err))
	}
	res.Action, res.Ref.ResourceVersion = Configured, out.ResourceVersion
	return res, nil
}

// ExpandPVC sets the storage request of target, a PersistentVolumeClaim,
// to size (a JSON merge patch with the precondition target.ResourceVersion
// when set; target.UID is required and checked). The same size is
// Unchanged with no write; a smaller one is refused (ErrInvalidRequest):
// storage never shrinks. Whether the volume really grows is up to its
// StorageClass (allowVolumeExpansion) and CSI driver.
func (m *Manager) ExpandPVC(ctx context.Context, kctx string, target Ref, size string) (Result, error) {
	res := Result{Context: kctx, Ref: target}
	fail := func(err error) (Result, error) {
		return res, fmt.Errorf("context %s: %s: expand to %s: %w", kctx, target, size, err)
	}
	want, err := resource.ParseQuantity(size)
	if err != nil || target.UID == "" {
		return fail(fmt.Errorf("%w: a valid size and the observed uid are required", ErrInvalidRequest))
	}
	cc, err := m.context(kctx)
	if err != nil {
		return res, err
	}
	claims := cc.typed.CoreV1().PersistentVolumeClaims(target.Namespace)
	rctx, cancel := m.call(ctx)
	defer cancel()
	live, err := claims.Get(rctx, target.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return fail(fmt.Errorf("%w: it no longer exists", ErrConflict))
	case err != nil:
		return fail(err)
	case string(live.UID) != target.UID:
		return fail(fmt.Errorf("%w: uid %s, observed %s", ErrConflict, live.UID, target.UID))
	}
	cur := live.Spec.Resources.Requests.Storage()
	switch cur.Cmp(want) {
	case 0:
		res.Action = Unchanged
		return res, nil
	case 1:
		return fail(fmt.Errorf("%w: the request is %s already; storage never shrinks", ErrInvalidRequest, cur))
	}
	meta := map[string]any{}
	if target.ResourceVersion != "" {
		meta["resourceVersion"] = target.ResourceVersion
	}
	patch, err := json.Marshal(map[string]any{"metadata": meta,
		"spec": map[string]any{"resources": map[string]any{"requests": map[string]any{"storage": want.String()}}}})
	if err != nil {
		return fail(err)
	}
	rctx, cancel = m.call(ctx)
	defer cancel()
	out, err := claims.Patch(rctx, target.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: m.opts.FieldManager})
	if err != nil {
		return fail(classify(err))
	}
	res.Action, res.Ref.ResourceVersion = Configured, out.ResourceVersion
	return res, nil
}
