package kube

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// DryRunResult is what applying one object would do, as the API server
// answers a server-side dry run: nothing is written.
type DryRunResult struct {
	// Context is the kube context of the object.
	Context string
	// Ref names the object (UID and ResourceVersion of the live one).
	Ref Ref
	// Action is Created (no live object), Configured (the apply would
	// change it), Unchanged, or Recreated when the server refuses the
	// change of immutable fields (a StatefulSet's volumeClaimTemplates...):
	// the planner would re-create the object (RecreateStatefulSet).
	Action Action
	// Live is the live object, nil when there is none. Applied is the
	// object as the server would hold it after the apply (defaults
	// filled in). Both are without managedFields, resourceVersion, uid,
	// generation, creationTimestamp and status, so that they compare.
	Live, Applied *unstructured.Unstructured
	// Note says why Applied is the object as rendered rather than the
	// server's answer: its namespace does not exist yet, or the server
	// refused the change (Recreated, with its message).
	Note string
}

// String is "<context>: <kind> <name> <Action>".
func (r DryRunResult) String() string {
	return r.Context + ": " + r.Ref.String() + " " + r.Action.String()
}

// DryRun asks the API server of kctx what a server-side apply of each
// object (as ApplyObject makes it: field manager, forced ownership) would
// do, without writing anything: reads, and applies with dryRun=All.
// Results are in the order of objs. It stops at the first error (other
// than immutable fields, a Recreated result) and returns the results so
// far.
func (m *Manager) DryRun(ctx context.Context, kctx string, objs ...*unstructured.Unstructured) ([]DryRunResult, error) {
	cc, err := m.context(kctx)
	if err != nil {
		return nil, err
	}
	var out []DryRunResult
	for _, obj := range objs {
		r, err := m.dryRunObject(ctx, cc, obj)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (m *Manager) dryRunObject(ctx context.Context, cc *contextClient, obj *unstructured.Unstructured) (DryRunResult, error) {
	ref := RefOf(obj)
	res := DryRunResult{Context: cc.name, Ref: ref}
	fail := func(op string, err error) (DryRunResult, error) {
		return res, fmt.Errorf("context %s: %s: %s: %w", cc.name, ref, op, classify(err))
	}
	ri, err := cc.resourceOf(obj)
	if err != nil {
		return fail("dry-run apply", err)
	}
	live, err := m.get(ctx, ri, ref.Name)
	switch {
	case apierrors.IsNotFound(err):
		res.Action = Created
	case err != nil:
		return fail("read", err)
	default:
		res.Live = forDiff(live)
		res.Ref.UID, res.Ref.ResourceVersion = string(live.GetUID()), live.GetResourceVersion()
	}
	var dry *unstructured.Unstructured
	if live != nil && leavesAdoptedTemplate(obj, live) { // #20: as ApplyObject writes it
		dry, err = m.replaceAdoptedTemplate(ctx, ri, live, obj, true)
	} else {
		dry, err = m.apply(ctx, ri, applyBody(obj), true)
	}
	if res.Action == Created && isMissingNamespace(err, obj.GetNamespace()) {
		res.Applied = forDiff(obj)
		res.Note = "namespace " + obj.GetNamespace() + " does not exist yet: shown as rendered"
		return res, nil
	}
	if err != nil && res.Action == 0 && errors.Is(classify(err), ErrImmutable) {
		res.Action, res.Applied, res.Note = Recreated, forDiff(obj), err.Error()
		return res, nil
	}
	if err != nil {
		return fail("dry-run apply", err)
	}
	res.Applied = forDiff(dry)
	if res.Action == 0 {
		res.Action = Configured
		if equivalent(dry, live) {
			res.Action = Unchanged
		}
	}
	return res, nil
}

// isMissingNamespace: the server refused the object because its
// namespace does not exist.
func isMissingNamespace(err error, ns string) bool {
	var status apierrors.APIStatus
	if ns == "" || !apierrors.IsNotFound(err) || !errors.As(err, &status) {
		return false
	}
	d := status.Status().Details
	return d != nil && d.Kind == "namespaces" && d.Name == ns
}

// forDiff is obj without the fields the server sets on every write
// (and the uid), for diffs.
func forDiff(obj *unstructured.Unstructured) *unstructured.Unstructured {
	u := obj.DeepCopy()
	for _, f := range []string{"managedFields", "resourceVersion", "generation", "creationTimestamp", "selfLink", "uid"} {
		unstructured.RemoveNestedField(u.Object, "metadata", f)
	}
	delete(u.Object, "status")
	return u
}
