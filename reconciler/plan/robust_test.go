package plan

import (
	"errors"
	"fmt"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/internal/contract"
)

// TestPartialObservations corrupts the observations of every golden case
// at random (fields removed or of the wrong type, contexts lost, pods and
// PVCs dropped or renamed, the ring half known) and checks that the
// planner neither panics nor returns an empty plan.
func TestPartialObservations(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "plan", "*"))
	require.NoError(t, err)
	rounds := 40
	if testing.Short() {
		rounds = 5
	}
	for i, dir := range dirs {
		d, o := goldenInput(t, dir)
		rng := rand.New(rand.NewSource(int64(i)))
		for round := 0; round < rounds; round++ {
			c := cloneObserved(o)
			for n := 1 + rng.Intn(4); n > 0; n-- {
				corrupt(rng, c)
			}
			var p Plan
			require.NotPanics(t, func() { p = Next(d, c) }, "%s round %d", dir, round)
			require.True(t, len(p.Steps) > 0 || p.Wait.Reason != 0, "%s round %d: empty plan", dir, round)
		}
	}
}

func cloneObserved(o *Observed) *Observed {
	c := *o
	c.Contexts = map[string]*Context{}
	for kc, oc := range o.Contexts {
		if oc == nil {
			c.Contexts[kc] = nil
			continue
		}
		n := &Context{Err: oc.Err}
		for _, u := range oc.Objects {
			n.Objects = append(n.Objects, u.DeepCopy())
		}
		for i := range oc.Pods {
			n.Pods = append(n.Pods, *oc.Pods[i].DeepCopy())
		}
		for i := range oc.PVCs {
			n.PVCs = append(n.PVCs, *oc.PVCs[i].DeepCopy())
		}
		c.Contexts[kc] = n
	}
	c.Ring.Nodes = map[string]RingNode{}
	for k, v := range o.Ring.Nodes {
		c.Ring.Nodes[k] = v
	}
	return &c
}

var oddValues = []any{nil, "x", int64(-3), 2.5, true, map[string]any{}, []any{"a", int64(1)}, map[string]any{"a": []any{}}}

func corrupt(rng *rand.Rand, o *Observed) {
	kcs := sortedKeys(o.Contexts)
	if len(kcs) == 0 {
		return
	}
	kc := kcs[rng.Intn(len(kcs))]
	oc := o.Contexts[kc]
	switch {
	case oc == nil || oc.Err != nil:
		return
	}
	switch rng.Intn(8) {
	case 0:
		o.Contexts[kc] = nil
	case 1:
		oc.Err = errors.New("connection reset")
	case 2, 3, 4:
		if len(oc.Objects) > 0 {
			u := oc.Objects[rng.Intn(len(oc.Objects))]
			mangle(rng, u.Object, 0)
		}
	case 5:
		if len(oc.Pods) > 0 {
			i := rng.Intn(len(oc.Pods))
			switch rng.Intn(3) {
			case 0:
				oc.Pods = append(oc.Pods[:i], oc.Pods[i+1:]...)
			case 1:
				oc.Pods[i].Name += fmt.Sprintf("-%d", rng.Intn(3))
			default:
				oc.Pods[i].Status = corev1.PodStatus{}
				oc.Pods[i].Labels = nil
			}
		}
	case 6:
		if len(oc.PVCs) > 0 {
			i := rng.Intn(len(oc.PVCs))
			oc.PVCs[i].Spec.Resources.Requests = nil
			oc.PVCs[i].Annotations = map[string]string{contract.AnnotationDecommissioned: "yes"}
		}
	case 7:
		o.Ring.Nodes = nil
		o.Ring.Problems = append(o.Ring.Problems, RingProblem{Kind: "NodeDown"})
		oc.Objects = append(oc.Objects, &unstructured.Unstructured{Object: map[string]any{"kind": "StatefulSet", "apiVersion": "apps/v1"}})
	}
}

// mangle removes a key, or gives it a value of another type, somewhere
// in a JSON tree.
func mangle(rng *rand.Rand, m map[string]any, depth int) {
	keys := sortedKeys(m)
	if len(keys) == 0 {
		return
	}
	k := keys[rng.Intn(len(keys))]
	switch child := m[k].(type) {
	case map[string]any:
		if depth < 6 && rng.Intn(3) > 0 {
			mangle(rng, child, depth+1)
			return
		}
	case []any:
		if len(child) > 0 && depth < 6 && rng.Intn(3) > 0 {
			if cm, ok := child[rng.Intn(len(child))].(map[string]any); ok {
				mangle(rng, cm, depth+1)
				return
			}
		}
	}
	if rng.Intn(2) == 0 {
		delete(m, k)
	} else {
		m[k] = oddValues[rng.Intn(len(oddValues))]
	}
}
