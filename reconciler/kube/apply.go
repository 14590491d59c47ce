package kube

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/ringops/ringops/internal/contract"
)

// Apply server-side applies objs in context kctx, staged: first every
// namespace they live in is created if missing (ringops never deletes a
// namespace), then the objects in kind order (Namespace, ServiceAccount,
// Secret, ConfigMap, RBAC, Service, PodDisruptionBudget, other kinds,
// StatefulSet; the given order within a kind). Each object goes through
// ApplyObject. It stops at the first error and returns the results so far;
// a namespace appears in the results only when it was created.
func (m *Manager) Apply(ctx context.Context, kctx string, objs ...*unstructured.Unstructured) ([]Result, error) {
	results, err := m.ensureNamespaces(ctx, kctx, objs)
	if err != nil {
		return results, err
	}
	for _, u := range staged(objs) {
		r, err := m.ApplyObject(ctx, kctx, u)
		if err != nil {
			return results, err
		}
		results = append(results, r)
	}
	return results, nil
}

// ApplyObject server-side applies one object (field manager
// ManagerOptions.FieldManager, forcing ownership of fields other managers
// hold, as Flux does). It reads the live object; if there is none it
// creates it (Created). Otherwise it first applies with dryRun=All and
// compares the server's answer with the live object, ignoring
// managedFields, resourceVersion, generation and status: if they are equal
// nothing is written (Unchanged), else the object is applied (Configured).
//
// A live object ringops did not create (without the managed-by label) is
// never taken over unless obj carries contract.AnnotationAdopt (spec.adopt):
// ErrNotOwned, nothing written. With it, an owner reference to CassKop's
// CassandraCluster is removed first (dropCassKopOwners), so that deleting
// that object no longer deletes this one. An object carrying metadata.resourceVersion
// is applied only over that version: if the live object changed (or is
// gone) the error wraps ErrConflict. A change to immutable fields fails the dry-run with an error
// wrapping ErrImmutable; nothing is recreated here (see
// RecreateStatefulSet). Errors read "context <kctx>: <kind> <name>: ...".
func (m *Manager) ApplyObject(ctx context.Context, kctx string, obj *unstructured.Unstructured) (Result, error) {
	ref := RefOf(obj)
	res := Result{Context: kctx, Ref: ref}
	fail := func(op string, err error) (Result, error) {
		return res, fmt.Errorf("context %s: %s: %s: %w", kctx, ref, op, classify(err))
	}
	cc, err := m.context(kctx)
	if err != nil {
		return res, err
	}
	ri, err := cc.resourceOf(obj)
	if err != nil {
		return fail("apply", err)
	}
	body := applyBody(obj)
	live, err := m.get(ctx, ri, ref.Name)
	switch {
	case apierrors.IsNotFound(err) && ref.ResourceVersion != "":
		return fail("apply", fmt.Errorf("%w: it no longer exists (resourceVersion %s)", ErrConflict, ref.ResourceVersion))
	case apierrors.IsNotFound(err):
		out, err := m.apply(ctx, ri, body, false)
		if err != nil {
			return fail("apply", err)
		}
		return finished(res, Created, out), nil
	case err != nil:
		return fail("read", err)
	case !ownedByRingops(live) && madeByCassKop(live) != "" && obj.GetAnnotations()[contract.AnnotationAdopt] != "true":
		return fail("apply", fmt.Errorf("%w: made by CassKop (%s): set spec.adopt: true to take it over in place (ringops import writes it; README: Coming from CassKop)",
			ErrNotOwned, madeByCassKop(live)))
	case !ownedByRingops(live) && obj.GetAnnotations()[contract.AnnotationAdopt] != "true":
		return fail("apply", fmt.Errorf("%w (no %s=%s label): set spec.adopt: true to take it over, or remove it", ErrNotOwned, contract.LabelManagedBy, contract.ManagedBy))
	}
	if obj.GetAnnotations()[contract.AnnotationAdopt] == "true" {
		if ref.ResourceVersion != "" && ref.ResourceVersion != live.GetResourceVersion() {
			return fail("apply", fmt.Errorf("%w: resourceVersion %s, observed %s", ErrConflict, live.GetResourceVersion(), ref.ResourceVersion))
		}
		if live, err = m.dropCassKopOwners(ctx, ri, live); err != nil {
			return fail("remove CassKop's owner reference", err)
		}
		if ref.ResourceVersion != "" { // the version observed, but for that write
			body.SetResourceVersion(live.GetResourceVersion())
		}
	}
	replaced := false
	if leavesAdoptedTemplate(obj, live) { // #20: CassKop's template fields go with it
		replaced = true
		if ref.ResourceVersion != "" && ref.ResourceVersion != live.GetResourceVersion() {
			return fail("apply", fmt.Errorf("%w: resourceVersion %s, observed %s", ErrConflict, live.GetResourceVersion(), ref.ResourceVersion))
		}
		if live, err = m.replaceAdoptedTemplate(ctx, ri, live, obj, false); err != nil {
			return fail("replace the adopted pod template", err)
		}
		// The update held the precondition; the controller writes the
		// status of the new revision at once, so the apply has none.
		body.SetResourceVersion("")
	}
	dry, err := m.apply(ctx, ri, body, true)
	if err != nil {
		return fail("dry-run apply", err)
	}
	if equivalent(dry, live) && !replaced {
		return finished(res, Unchanged, live), nil
	}
	out, err := m.apply(ctx, ri, body, false)
	if err != nil {
		return fail("apply", err)
	}
	return finished(res, Configured, out), nil
}

// madeByCassKop says how a live object shows CassKop made it (its labels,
// or an owner CassandraCluster of db.orange.com), "" if it does not.
func madeByCassKop(live *unstructured.Unstructured) string {
	for _, o := range live.GetOwnerReferences() {
		if o.Kind == "CassandraCluster" && strings.HasPrefix(o.APIVersion, "db.orange.com/") {
			return "owner CassandraCluster " + o.Name
		}
	}
	if live.GetLabels()["app"] == "cassandracluster" {
		return "label app=cassandracluster"
	}
	return ""
}

// ownedByRingops tells whether ringops created (or adopted) a live object.
func ownedByRingops(live *unstructured.Unstructured) bool {
	return live.GetLabels()[contract.LabelManagedBy] == contract.ManagedBy
}

func finished(r Result, a Action, live *unstructured.Unstructured) Result {
	r.Action, r.Object = a, live
	r.Ref.UID, r.Ref.ResourceVersion = string(live.GetUID()), live.GetResourceVersion()
	return r
}

func (m *Manager) get(ctx context.Context, ri dynamic.ResourceInterface, name string) (*unstructured.Unstructured, error) {
	ctx, cancel := m.call(ctx)
	defer cancel()
	return ri.Get(ctx, name, metav1.GetOptions{})
}

func (m *Manager) apply(ctx context.Context, ri dynamic.ResourceInterface, body *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	ctx, cancel := m.call(ctx)
	defer cancel()
	opts := metav1.ApplyOptions{FieldManager: m.opts.FieldManager, Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return ri.Apply(ctx, body.GetName(), body, opts)
}

// applyBody is what is sent: the object without what the server owns
// (managedFields, creationTimestamp, generation, status). uid and
// resourceVersion stay: the server checks them as preconditions.
func applyBody(obj *unstructured.Unstructured) *unstructured.Unstructured {
	u := obj.DeepCopy()
	for _, f := range []string{"managedFields", "creationTimestamp", "generation", "selfLink"} {
		unstructured.RemoveNestedField(u.Object, "metadata", f)
	}
	delete(u.Object, "status")
	return u
}

// equivalent compares a dry-run result with the live object, without the
// fields the server sets on every write.
func equivalent(dry, live *unstructured.Unstructured) bool {
	return reflect.DeepEqual(normalised(dry), normalised(live))
}

func normalised(obj *unstructured.Unstructured) map[string]any {
	u := obj.DeepCopy()
	for _, f := range []string{"managedFields", "resourceVersion", "generation", "creationTimestamp", "selfLink"} {
		unstructured.RemoveNestedField(u.Object, "metadata", f)
	}
	delete(u.Object, "status")
	return u.Object
}

// classify adds ringops' sentinels to an API error.
func classify(err error) error {
	switch {
	case errors.Is(err, ErrConflict) || errors.Is(err, ErrImmutable):
		return err
	case apierrors.IsConflict(err):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case isImmutable(err):
		return fmt.Errorf("%w: %w", ErrImmutable, err)
	}
	return err
}

// isImmutable: the server refused the change as invalid, and every reason
// is an immutable field: a StatefulSet's spec beyond what may change
// (volumeClaimTemplates, selector, serviceName, podManagementPolicy), or a
// field reported "field is immutable".
func isImmutable(err error) bool {
	var status apierrors.APIStatus
	if !apierrors.IsInvalid(err) || !errors.As(err, &status) {
		return false
	}
	details := status.Status().Details
	if details == nil || len(details.Causes) == 0 {
		return false
	}
	for _, c := range details.Causes {
		statefulSetSpec := details.Group == "apps" && details.Kind == "StatefulSet" &&
			c.Type == metav1.CauseTypeForbidden && c.Field == "spec"
		if !statefulSetSpec && !strings.Contains(c.Message, apivalidation.FieldImmutableErrorMsg) {
			return false
		}
	}
	return true
}

// ensureNamespaces creates the namespaces of objs that do not exist.
func (m *Manager) ensureNamespaces(ctx context.Context, kctx string, objs []*unstructured.Unstructured) ([]Result, error) {
	cc, err := m.context(kctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, u := range objs {
		if ns := u.GetNamespace(); ns != "" && !slices.Contains(names, ns) {
			names = append(names, ns)
		}
	}
	slices.Sort(names)
	var results []Result
	for _, ns := range names {
		r, err := m.ensureNamespace(ctx, cc, ns)
		if err != nil {
			return results, err
		}
		if r.Action == Created {
			results = append(results, r)
		}
	}
	return results, nil
}

func (m *Manager) ensureNamespace(ctx context.Context, cc *contextClient, name string) (Result, error) {
	ref := Ref{APIVersion: "v1", Kind: "Namespace", Name: name}
	res := Result{Context: cc.name, Ref: ref, Action: Unchanged}
	rctx, cancel := m.call(ctx)
	defer cancel()
	_, err := cc.typed.CoreV1().Namespaces().Get(rctx, name, metav1.GetOptions{})
	if err == nil {
		return res, nil
	}
	if !apierrors.IsNotFound(err) {
		return res, fmt.Errorf("context %s: %s: read: %w", cc.name, ref, err)
	}
	cctx, ccancel := m.call(ctx)
	defer ccancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	created, err := cc.typed.CoreV1().Namespaces().Create(cctx, ns, metav1.CreateOptions{FieldManager: m.opts.FieldManager})
	if apierrors.IsAlreadyExists(err) {
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("context %s: %s: create: %w", cc.name, ref, err)
	}
	res.Action, res.Ref.UID, res.Ref.ResourceVersion = Created, string(created.UID), created.ResourceVersion
	return res, nil
}

// kindOrder is the apply order of kinds; kinds not listed go between
// PodDisruptionBudget and StatefulSet.
var kindOrder = []string{"Namespace", "ResourceQuota", "LimitRange", "ServiceAccount", "Secret", "ConfigMap",
	"Role", "RoleBinding", "NetworkPolicy", "Service", "PodDisruptionBudget", "", "StatefulSet"}

func kindRank(kind string) int {
	if i := slices.Index(kindOrder, kind); i >= 0 {
		return i
	}
	return slices.Index(kindOrder, "")
}

// staged returns objs in apply order (a stable sort by kind rank).
func staged(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := slices.Clone(objs)
	slices.SortStableFunc(out, func(a, b *unstructured.Unstructured) int {
		return kindRank(a.GetKind()) - kindRank(b.GetKind())
	})
	return out
}
