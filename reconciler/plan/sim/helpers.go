package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/render"
)

func itoa(i int) string { return strconv.Itoa(i) }

func sortedKeys[K interface{ ~string | ~int32 }, V any](m map[K]V) []K {
	return slices.Sorted(maps.Keys(m))
}

// nested is the value at a path of maps, nil if absent.
func nested(obj map[string]any, path ...string) any {
	v, _, _ := unstructured.NestedFieldNoCopy(obj, path...)
	return v
}

// nestedInt is the number at a path of maps, and whether there is one.
func nestedInt(obj map[string]any, path ...string) (int64, bool) {
	switch v := nested(obj, path...).(type) {
	case int64:
		return v, true
	case int32:
		return int64(v), true
	case int:
		return int64(v), true
	case float64:
		return int64(v), true
	}
	return 0, false
}

// sameJSON reports whether a and b, unstructured content (maps, slices,
// strings, numbers, booleans, nil), encode to the same JSON: hashOf(a) ==
// hashOf(b), without encoding either.
func sameJSON(a, b any) bool {
	if null(a) || null(b) {
		return null(a) && null(b)
	}
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if w, ok := b[k]; !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameJSON(a[i], b[i]) {
				return false
			}
		}
		return true
	case string, bool:
		return a == b
	case int64:
		if b, ok := b.(int64); ok {
			return a == b
		}
	case float64:
		if b, ok := b.(float64); ok {
			return a == b
		}
	}
	return hashOf(a) == hashOf(b) // numbers of two types, or another type: as encoded
}

// null reports whether v encodes to JSON null.
func null(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]any:
		return v == nil
	case []any:
		return v == nil
	}
	return false
}

func hashOf(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// seedPods names the pods of a seed list, for messages.
func seedPods(list string) string {
	var pods []string
	for _, s := range plan.SplitSeeds(list) {
		pods = append(pods, render.SeedPod(s))
	}
	return "[" + strings.Join(pods, ",") + "]"
}

func nodeState(s string) ring.NodeState {
	var st ring.NodeState
	if err := st.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return st
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// networkTopology is NetworkTopologyStrategy with factors f, for messages.
func networkTopology(f map[string]int32) plan.Replication {
	return plan.Replication{Strategy: plan.NetworkTopology, Factors: f}
}

// firstDiff names the first path where a and b differ, for messages.
func firstDiff(a, b any) string { return diffAt(a, b, "") }

func diffAt(a, b any, path string) string {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		for _, k := range sortedKeys(keys) {
			if !sameJSON(am[k], bm[k]) {
				return diffAt(am[k], bm[k], path+"."+k)
			}
		}
		return path
	}
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if aok && bok && len(al) == len(bl) {
		for i := range al {
			if !sameJSON(al[i], bl[i]) {
				return diffAt(al[i], bl[i], path+"."+itoa(i))
			}
		}
	}
	return strings.TrimPrefix(path, ".")
}
