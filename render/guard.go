package render

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ringops/ringops/internal/contract"
)

// What a region Component may touch. A Component exists for regional
// differences (a storage class, node affinity, annotations for
// external-dns, resources); it must not be able to switch off what keeps
// the ring safe, nor reach beyond the cluster:
//
//   - it may add objects only of AllowedKinds, and only in the cluster's
//     namespace (no cluster-scoped kind, no other namespace; one that
//     names none is put there);
//   - no object may carry ownerReferences (an owner that does not exist
//     makes the garbage collector delete the object, and with it every pod
//     and volume of a StatefulSet);
//   - of the generated objects, the fields in protectedFields keep the
//     values ringops renders: selectors (a changed StatefulSet selector
//     makes the planner delete and re-create it), the headless Service,
//     the StatefulSet's update strategy and pod management (the planner
//     rolls by partition, one pod at a time), its claim retention policy
//     (spec.storage.deleteOnDecommission decides about volumes), the
//     volume claim templates' names and the PodDisruptionBudget's budget.
//
// Everything else of a generated object may be patched (pod template,
// resources, affinity, tolerations, storage class, annotations, labels
// besides the contract's).

// AllowedKinds are the kinds a region Component may add.
var AllowedKinds = []schema.GroupKind{
	{Kind: "ConfigMap"},
	{Kind: "Secret"},
	{Kind: "Service"},
	{Kind: "ServiceAccount"},
	{Group: "networking.k8s.io", Kind: "NetworkPolicy"},
	{Group: "monitoring.coreos.com", Kind: "ServiceMonitor"},
	{Group: "monitoring.coreos.com", Kind: "PodMonitor"},
}

// protectedFields are the fields of each generated kind a Component may
// not change, as paths below the object.
var protectedFields = map[string][][]string{
	"StatefulSet": {
		{"spec", "selector"},
		{"spec", "serviceName"},
		{"spec", "podManagementPolicy"},
		{"spec", "updateStrategy"},
		{"spec", "persistentVolumeClaimRetentionPolicy"},
		{"spec", "template", "spec", "subdomain"},
		{"metadata", "finalizers"},
	},
	"PodDisruptionBudget": {
		{"spec", "selector"},
		{"spec", "maxUnavailable"},
		{"spec", "minAvailable"},
		{"metadata", "finalizers"},
	},
	"Service": {
		{"spec", "selector"},
		{"spec", "clusterIP"},
		{"spec", "publishNotReadyAddresses"},
		{"metadata", "finalizers"},
	},
	"ConfigMap": {
		{"metadata", "finalizers"},
	},
}

// protectedValues extracts, from a generated object's JSON, the values of
// its protected fields (nil when absent), keyed by dotted path; plus the
// names of a StatefulSet's volume claim templates.
func protectedValues(kind string, objJSON []byte) (map[string]any, error) {
	paths := protectedFields[kind]
	if len(paths) == 0 {
		return nil, nil
	}
	var obj map[string]any
	if err := json.Unmarshal(objJSON, &obj); err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, p := range paths {
		v, _, _ := unstructured.NestedFieldNoCopy(obj, p...)
		out[strings.Join(p, ".")] = v
	}
	if kind == "StatefulSet" {
		out["spec.volumeClaimTemplates[*].metadata.name"] = claimNames(obj)
	}
	return out, nil
}

// claimNames are the names of a StatefulSet's volume claim templates, in
// order.
func claimNames(obj map[string]any) []any {
	claims, _, _ := unstructured.NestedSlice(obj, "spec", "volumeClaimTemplates")
	names := []any{}
	for _, c := range claims {
		if m, ok := c.(map[string]any); ok {
			n, _, _ := unstructured.NestedString(m, "metadata", "name")
			names = append(names, n)
		}
	}
	return names
}

// checkProtected refuses a generated object whose protected fields a
// Component changed.
func checkProtected(u *unstructured.Unstructured, exp expected) error {
	if len(exp.protected) == 0 {
		return nil
	}
	got := map[string]any{}
	for _, p := range protectedFields[exp.id.Kind] {
		v, _, _ := unstructured.NestedFieldNoCopy(u.Object, p...)
		got[strings.Join(p, ".")] = v
	}
	if exp.id.Kind == "StatefulSet" {
		got["spec.volumeClaimTemplates[*].metadata.name"] = claimNames(u.Object)
	}
	for _, path := range sortedPaths(exp.protected) {
		if !sameJSON(got[path], exp.protected[path]) {
			return fmt.Errorf("%s: %w: %s changed; ringops sets it (it keeps the ring safe): remove that patch", exp.id, ErrForbidden, path)
		}
	}
	return nil
}

func sortedPaths(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// sameJSON compares two JSON-like values by their JSON (int64 from YAML,
// float64 from JSON).
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	if errA != nil || errB != nil {
		return reflect.DeepEqual(a, b)
	}
	var va, vb any
	_ = json.Unmarshal(ja, &va)
	_ = json.Unmarshal(jb, &vb)
	return reflect.DeepEqual(va, vb)
}

// checkAdded refuses an object a Component may not hold: one outside the
// cluster's namespace, an added object of a kind not in AllowedKinds, any
// object with ownerReferences or the label contract.LabelCredentials. generated tells whether ringops renders it.
// An added object that names no namespace is put in the cluster's.
func checkAdded(u *unstructured.Unstructured, namespace string, generated bool) error {
	id := idOf(u)
	if len(u.GetOwnerReferences()) > 0 {
		return fmt.Errorf("%s: %w: metadata.ownerReferences (an owner ringops does not manage can have the garbage collector delete it, with its pods and volumes)", id, ErrForbidden)
	}
	if _, ok := u.GetLabels()[contract.LabelCredentials]; ok {
		return fmt.Errorf("%s: %w: label %s (it marks the Secrets ringops keeps itself, which it never prunes)", id, ErrForbidden, contract.LabelCredentials)
	}
	if generated {
		return nil
	}
	gk := u.GroupVersionKind().GroupKind()
	if !slices.Contains(AllowedKinds, gk) {
		return fmt.Errorf("%s: %w: kind %s (a Component may add %s, in namespace %s)", id, ErrForbidden, kindName(gk), allowedList(), namespace)
	}
	if u.GetNamespace() == "" {
		u.SetNamespace(namespace) // a generator or resource that names none: the cluster's
	}
	if u.GetNamespace() != namespace {
		return fmt.Errorf("%s: %w: namespace %q (a Component may add objects only in the cluster's namespace %s)", id, ErrForbidden, u.GetNamespace(), namespace)
	}
	return nil
}

func kindName(gk schema.GroupKind) string {
	if gk.Group == "" {
		return gk.Kind
	}
	return gk.Kind + "." + gk.Group
}

func allowedList() string {
	names := make([]string, len(AllowedKinds))
	for i, gk := range AllowedKinds {
		names[i] = kindName(gk)
	}
	return strings.Join(names, ", ")
}
