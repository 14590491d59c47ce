package kube

import (
	"errors"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Action is what an operation did to one object.
type Action uint8

// The actions.
const (
	// Created: the object did not exist and was created.
	Created Action = iota + 1
	// Configured: the object existed, differed from the desired state, and
	// was applied.
	Configured
	// Unchanged: the server-side dry-run showed that applying would change
	// nothing; no write was made.
	Unchanged
	// Recreated: the StatefulSet was deleted with its pods orphaned and
	// created again (immutable fields changed).
	Recreated
	// Deleted: the object was deleted.
	Deleted
	// Skipped: there was nothing to do (the object to delete or annotate is
	// already gone).
	Skipped
)

var actionNames = [...]string{"", "Created", "Configured", "Unchanged", "Recreated", "Deleted", "Skipped"}

func (a Action) String() string {
	if a > 0 && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// Ref names an object in a context; UID and ResourceVersion, when set, are
// preconditions of the operation. Its fields are those of plan.ObjectRef,
// so that kube.Ref(step.Target) converts a step's target.
type Ref struct {
	APIVersion      string
	Kind            string
	Namespace       string
	Name            string
	UID             string
	ResourceVersion string
}

// RefOf returns the reference of an object, with its UID and
// resourceVersion.
func RefOf(u *unstructured.Unstructured) Ref {
	return Ref{
		APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(),
		UID: string(u.GetUID()), ResourceVersion: u.GetResourceVersion(),
	}
}

// String is "<kind> <name>", the kind in lower case: the subject of
// messages and errors.
func (r Ref) String() string { return strings.ToLower(r.Kind) + " " + r.Name }

// Result is the outcome of an operation on one object.
type Result struct {
	// Context is the kube context of the object.
	Context string
	// Ref names the object; UID and ResourceVersion are the live ones after
	// the operation (empty after a delete).
	Ref Ref
	// Action is what was done.
	Action Action
	// Object is the live object after the operation (the server's answer to
	// the apply, or the object read when Unchanged); nil after a delete or
	// a skip.
	Object *unstructured.Unstructured
}

// String is "<context>: <kind> <name> <Action>".
func (r Result) String() string { return r.Context + ": " + r.Ref.String() + " " + r.Action.String() }

// Errors a caller branches on (errors.Is). Errors of the API server stay
// in the chain too, so that apierrors.IsConflict and the like still work.
var (
	// ErrImmutable: the apply would change immutable fields (a
	// StatefulSet's volumeClaimTemplates, selector, serviceName or
	// podManagementPolicy; any "field is immutable"). Nothing was written;
	// the planner decides whether to recreate (RecreateStatefulSet).
	ErrImmutable = errors.New("immutable fields changed")
	// ErrConflict: a precondition failed (the object's resourceVersion or
	// UID is not the one observed): it changed since it was read.
	ErrConflict = errors.New("the object changed since it was observed")
	// ErrNotPrunable: prune refuses StatefulSets, pods, PVCs and
	// namespaces (they leave only through the decommission path), and any
	// object not labelled app.kubernetes.io/managed-by=ringops.
	ErrNotPrunable = errors.New("not prunable")
	// ErrNotDecommissioned: a PVC without the ringops.dev/decommissioned
	// annotation is never deleted.
	ErrNotDecommissioned = errors.New("not marked decommissioned")
	// ErrHoldsData: a StatefulSet is deleted only at 0 replicas with no pod
	// left.
	ErrHoldsData = errors.New("still has replicas or pods")
	// ErrInvalidRequest: the arguments cannot describe the operation (no
	// UID precondition, the wrong kind, names that do not match).
	// ErrNotOwned: an object of the name exists that ringops did not
	// create (no app.kubernetes.io/managed-by=ringops label) and the
	// object applied does not say to adopt it (contract.AnnotationAdopt,
	// from spec.adopt): ringops does not take it over.
	ErrNotOwned = errors.New("exists and was not created by ringops")
	// ErrReplacementInvalid: a StatefulSet to re-create was refused by the
	// API server's dry run of its creation; the live one is not deleted.
	ErrReplacementInvalid = errors.New("the replacement would be refused")
	ErrInvalidRequest     = errors.New("invalid request")
)
