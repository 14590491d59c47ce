package render

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"

	"github.com/ringops/ringops/internal/contract"
)

// objectID identifies an object in one context.
type objectID struct{ Kind, Namespace, Name string }

func (id objectID) String() string {
	if id.Namespace == "" {
		return id.Kind + " " + id.Name
	}
	return id.Kind + " " + id.Namespace + "/" + id.Name
}

func idOf(u *unstructured.Unstructured) objectID {
	return objectID{u.GetKind(), u.GetNamespace(), u.GetName()}
}

// finish turns kustomize's output into the rendered objects: what a
// Component may not change checked or put back (generated), the managed-by
// label on every object, the config hash on the pod templates, the spec
// hash, and the order of output.
func finish(m resmap.ResMap, generated []expected, configMap objectID) ([]*unstructured.Unstructured, error) {
	objs := make([]*unstructured.Unstructured, 0, m.Size())
	byID := make(map[objectID]*unstructured.Unstructured, m.Size())
	for _, res := range m.Resources() {
		u, err := toUnstructured(res)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", res.CurId(), err)
		}
		objs = append(objs, u)
		byID[idOf(u)] = u
	}
	configHash := ""
	if cm := byID[configMap]; cm != nil {
		h, err := hashJSON(cm.Object["data"])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", configMap, err)
		}
		configHash = h
	}
	isGenerated := make(map[objectID]bool, len(generated))
	for _, exp := range generated {
		isGenerated[exp.id] = true
		if err := enforce(byID[exp.id], exp, configHash); err != nil {
			return nil, err
		}
	}
	for _, u := range objs {
		if err := checkAdded(u, configMap.Namespace, isGenerated[idOf(u)]); err != nil {
			return nil, err
		}
	}
	for _, u := range objs {
		if err := setString(u.Object, contract.ManagedBy, "metadata", "labels", contract.LabelManagedBy); err != nil {
			return nil, fmt.Errorf("%s: %w", idOf(u), err)
		}
		if err := setSpecHash(u); err != nil {
			return nil, fmt.Errorf("%s: %w", idOf(u), err)
		}
	}
	sortObjects(objs)
	return objs, nil
}

// enforce checks that a generated object is still there with its
// replicas, and puts back the contract's labels and, on pod templates, the
// config hash.
func enforce(u *unstructured.Unstructured, exp expected, configHash string) error {
	if u == nil {
		return fmt.Errorf("%s: %w (a Component may change objects, not their kind, namespace or name)", exp.id, ErrRenamed)
	}
	if err := checkProtected(u, exp); err != nil {
		return err
	}
	if exp.replicas != nil {
		got, found, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
		if !found || got != int64(*exp.replicas) {
			return fmt.Errorf("%s: %w to %d: cluster.yaml says %d (nodes, nodesPerRack); ringops changes them one node at a time",
				exp.id, ErrReplicas, got, *exp.replicas)
		}
	}
	set := func(value string, fields ...string) error {
		if err := setString(u.Object, value, fields...); err != nil {
			return fmt.Errorf("%s: %w", exp.id, err)
		}
		return nil
	}
	for k, v := range exp.labels {
		if err := set(v, "metadata", "labels", k); err != nil {
			return err
		}
	}
	for k, v := range exp.annotations {
		if err := set(v, "metadata", "annotations", k); err != nil {
			return err
		}
	}
	if exp.podLabels == nil {
		return nil
	}
	for k, v := range exp.podLabels {
		if err := set(v, "spec", "template", "metadata", "labels", k); err != nil {
			return err
		}
	}
	if configHash != "" {
		if err := set(configHash, "spec", "template", "metadata", "annotations", contract.AnnotationConfigHash); err != nil {
			return err
		}
	}
	pruneClaimStatus(u)
	return nil
}

// setString sets a nested string field, creating the maps on the way.
func setString(obj map[string]any, value string, fields ...string) error {
	m := obj
	for i, f := range fields[:len(fields)-1] {
		next, ok := m[f]
		if !ok || next == nil {
			next = map[string]any{}
			m[f] = next
		}
		if m, ok = next.(map[string]any); !ok {
			return fmt.Errorf("%v: not a map", fields[:i+1])
		}
	}
	m[fields[len(fields)-1]] = value
	return nil
}

// pruneClaimStatus drops the empty status of volumeClaimTemplates, an
// artefact of the typed API objects.
func pruneClaimStatus(u *unstructured.Unstructured) {
	spec, _ := u.Object["spec"].(map[string]any)
	claims, _ := spec["volumeClaimTemplates"].([]any)
	for _, c := range claims {
		if cm, ok := c.(map[string]any); ok {
			if st, ok := cm["status"].(map[string]any); ok && len(st) == 0 {
				delete(cm, "status")
			}
		}
	}
}

// setSpecHash sets contract.AnnotationSpecHash to the hash of the object without it.
func setSpecHash(u *unstructured.Unstructured) error {
	meta, _ := u.Object["metadata"].(map[string]any)
	if ann, ok := meta["annotations"].(map[string]any); ok {
		delete(ann, contract.AnnotationSpecHash)
		if len(ann) == 0 {
			delete(meta, "annotations")
		}
	}
	h, err := hashJSON(u.Object)
	if err != nil {
		return err
	}
	return setString(u.Object, h, "metadata", "annotations", contract.AnnotationSpecHash)
}

// hashJSON is the hex SHA-256 of v's JSON (map keys sorted).
func hashJSON(v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("hash: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// toUnstructured decodes a resource straight from its YAML tree (kyaml's
// MarshalJSON prints it and parses it again, twice the cost), falling back
// to JSON for values a JSON-decoded object cannot hold (timestamps, ...).
func toUnstructured(res *resource.Resource) (*unstructured.Unstructured, error) {
	if m, err := res.Map(); err == nil {
		if obj, ok := jsonValue(m); ok {
			if om, ok := obj.(map[string]any); ok {
				return &unstructured.Unstructured{Object: om}, nil
			}
		}
	}
	data, err := res.MarshalJSON()
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return u, nil
}

// jsonValue converts, in place, a decoded YAML value to the types of JSON
// decoded unstructured content (int64 rather than int); false if it holds
// anything else.
func jsonValue(v any) (any, bool) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			n, ok := jsonValue(e)
			if !ok {
				return nil, false
			}
			t[k] = n
		}
		return t, true
	case []any:
		for i, e := range t {
			n, ok := jsonValue(e)
			if !ok {
				return nil, false
			}
			t[i] = n
		}
		return t, true
	case int:
		return int64(t), true
	case float64:
		return t, !math.IsNaN(t) && !math.IsInf(t, 0)
	case string, bool, int64, nil:
		return t, true
	default:
		return nil, false
	}
}

// kindOrder is the order of output: ConfigMap, Service, PodDisruptionBudget,
// StatefulSet, then any other kind (by name: the NetworkPolicy, what a
// Component added).
var kindOrder = map[string]int{"ConfigMap": 0, "Service": 1, "PodDisruptionBudget": 2, "StatefulSet": 3}

func sortObjects(objs []*unstructured.Unstructured) {
	rank := func(kind string) int {
		if r, ok := kindOrder[kind]; ok {
			return r
		}
		return len(kindOrder)
	}
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int {
		ia, ib := idOf(a), idOf(b)
		return cmp.Or(
			cmp.Compare(rank(ia.Kind), rank(ib.Kind)),
			cmp.Compare(ia.Kind, ib.Kind),
			cmp.Compare(ia.Namespace, ib.Namespace),
			cmp.Compare(ia.Name, ib.Name),
			cmp.Compare(a.GetAPIVersion(), b.GetAPIVersion()),
		)
	})
}
