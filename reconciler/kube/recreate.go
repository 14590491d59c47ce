package kube

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// RecreateStatefulSet replaces the StatefulSet target by obj when obj
// changes immutable fields (volumeClaimTemplates, selector, ...): it first
// asks the API server to create obj in a dry run (under a generated name:
// the live one still holds the name) and stops with ErrReplacementInvalid,
// deleting nothing, when the server would refuse it; then it deletes target with propagationPolicy Orphan and the preconditions
// target.UID and target.ResourceVersion (both required), waits until the
// object is gone (at most ManagerOptions.WaitTimeout), then applies obj
// as a new object (its resourceVersion and uid are dropped). The pods and
// PVCs stay: the new StatefulSet adopts the pods its selector matches, and
// its volumeClaimTemplates name the same PVCs. Never called by Apply: the
// planner decides (after ErrImmutable).
//
// A StatefulSet already gone, or changed since it was observed, fails with
// ErrConflict before anything is deleted. A failure after the delete (the
// wait, the apply) returns the error; the next observation sees the
// StatefulSet missing and the planner creates it.
func (m *Manager) RecreateStatefulSet(ctx context.Context, kctx string, target Ref, obj *unstructured.Unstructured) (Result, error) {
	res := Result{Context: kctx, Ref: target}
	subject := fmt.Sprintf("context %s: %s", kctx, target)
	if err := checkRecreate(target, obj); err != nil {
		return res, fmt.Errorf("%s: recreate: %w", subject, err)
	}
	cc, err := m.context(kctx)
	if err != nil {
		return res, err
	}
	fresh := obj.DeepCopy()
	fresh.SetResourceVersion("")
	fresh.SetUID("")
	if err := m.dryRunCreate(ctx, cc, fresh); err != nil {
		return res, fmt.Errorf("%s: recreate: %w", subject, err)
	}
	if err := m.deleteOrphan(ctx, cc, target); err != nil {
		return res, fmt.Errorf("%s: recreate: delete: %w", subject, err)
	}
	if err := m.waitGone(ctx, cc, target); err != nil {
		return res, fmt.Errorf("%s: recreate: %w", subject, err)
	}
	applied, err := m.ApplyObject(ctx, kctx, fresh)
	if err != nil {
		return res, fmt.Errorf("recreate: %w", err)
	}
	applied.Action = Recreated
	return applied, nil
}

// dryRunCreate asks the server whether it would create obj: a dry run
// (nothing is written) of its creation under a generated name, with every
// admission and validation a real creation gets.
func (m *Manager) dryRunCreate(ctx context.Context, cc *contextClient, obj *unstructured.Unstructured) error {
	ri, err := cc.resourceOf(obj)
	if err != nil {
		return err
	}
	probe := obj.DeepCopy()
	probe.SetGenerateName(probe.GetName()[:min(len(probe.GetName()), 40)] + "-")
	probe.SetName("")
	rctx, cancel := m.call(ctx)
	defer cancel()
	_, err = ri.Create(rctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: m.opts.FieldManager})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrReplacementInvalid, err)
	}
	return nil
}

func checkRecreate(target Ref, obj *unstructured.Unstructured) error {
	switch {
	case target.Kind != "StatefulSet" || obj.GetKind() != "StatefulSet":
		return fmt.Errorf("%w: only a StatefulSet is recreated, not %s", ErrInvalidRequest, target.Kind)
	case target.UID == "" || target.ResourceVersion == "":
		return fmt.Errorf("%w: the observed uid and resourceVersion are required", ErrInvalidRequest)
	case obj.GetName() != target.Name || obj.GetNamespace() != target.Namespace:
		return fmt.Errorf("%w: the new object is %s/%s", ErrInvalidRequest, obj.GetNamespace(), obj.GetName())
	}
	return nil
}

func (m *Manager) deleteOrphan(ctx context.Context, cc *contextClient, target Ref) error {
	rctx, cancel := m.call(ctx)
	defer cancel()
	orphan := metav1.DeletePropagationOrphan
	uid := types.UID(target.UID)
	err := cc.typed.AppsV1().StatefulSets(target.Namespace).Delete(rctx, target.Name, metav1.DeleteOptions{
		PropagationPolicy: &orphan,
		Preconditions:     &metav1.Preconditions{UID: &uid, ResourceVersion: &target.ResourceVersion},
	})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%w: it no longer exists", ErrConflict)
	}
	return classify(err)
}

// waitGone polls until the object named by target with target's UID no
// longer exists (a new object of the same name does not count).
func (m *Manager) waitGone(ctx context.Context, cc *contextClient, target Ref) error {
	err := m.poll(ctx, func(ctx context.Context) (bool, string, error) {
		rctx, rcancel := m.call(ctx)
		live, err := cc.typed.AppsV1().StatefulSets(target.Namespace).Get(rctx, target.Name, metav1.GetOptions{})
		rcancel()
		switch {
		case apierrors.IsNotFound(err):
			return true, "", nil
		case err != nil:
			return false, err.Error(), nil
		}
		return string(live.UID) != target.UID, "still there", nil
	})
	if err != nil {
		return fmt.Errorf("wait until deleted: %w", err)
	}
	return nil
}

// poll calls check at once, then every PollInterval, until it is done or
// fails, for WaitTimeout at most; a timeout's error ends with what check
// last said, "(still there)".
func (m *Manager) poll(ctx context.Context, check func(ctx context.Context) (done bool, last string, err error)) error {
	ctx, cancel := context.WithTimeout(ctx, m.opts.WaitTimeout)
	defer cancel()
	tick := time.NewTicker(m.opts.PollInterval)
	defer tick.Stop()
	for {
		done, last, err := check(ctx)
		if done || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (%s)", ctx.Err(), last)
		case <-tick.C:
		}
	}
}
