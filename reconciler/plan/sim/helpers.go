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
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/render"
)

func itoa(i int) string { return strconv.Itoa(i) }

func sortedKeys[K interface{ ~string | ~int32 }, V any](m map[K]V) []K {
	return slices.Sorted(maps.Keys(m))
}

func deepCopy(v any) any { return runtime.DeepCopyJSONValue(v) }

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
