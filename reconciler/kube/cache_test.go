package kube_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/render"
)

// testObserveWatched observes the example cluster from the caches of a
// watching Manager (#18): what the lists say, with no LIST request once
// the caches have synced; ringops' own writes and deletes are seen by the
// next observation at once; a cluster's changes wake it; a cache behind a
// write ringops made is never read.
func testObserveWatched(t *testing.T, f, g *fixture, manifests []*render.Manifests) {
	q := kube.Query{Cluster: "orders", Namespace: "cassandra"}
	var want, got map[string]*kube.Observation
	eventually(t, time.Minute, "the caches say what the lists say", func(ctx context.Context) (bool, string) {
		want, got = f.manager.Observe(ctx, q), g.manager.Observe(ctx, q)
		for _, m := range manifests {
			if a, b := summary(want[m.Context]), summary(got[m.Context]); a != b {
				return false, fmt.Sprintf("%s: lists\n%s\ncaches\n%s", m.Context, a, b)
			}
		}
		return true, ""
	})
	for _, m := range manifests {
		if o := got[m.Context]; len(o.Objects) != len(m.Objects) || len(o.Pods) == 0 || len(o.PVCs) == 0 {
			t.Fatalf("%s: %d objects, %d pods, %d PVCs from the caches", m.Context, len(o.Objects), len(o.Pods), len(o.PVCs))
		}
		for _, u := range got[m.Context].Objects {
			if u.GetManagedFields() != nil || u.GetKind() == "" {
				t.Errorf("%s: %s cached with managedFields or without its kind", m.Context, u.GetName())
			}
		}
	}

	before := g.counter.Snapshot()
	for range 20 {
		for kc, o := range g.manager.Observe(t.Context(), q) {
			if o.Err != nil {
				t.Fatalf("%s: %v", kc, o.Err)
			}
		}
	}
	for kc, n := range g.counter.Snapshot() {
		if spent := n.Sub(before[kc]); spent.List != 0 || spent.Get != 0 {
			t.Errorf("%s: 20 observations from synced caches cost %s; want no read", kc, spent)
		}
	}

	// ringops' own write, then its delete: the next observation has them.
	kc := manifests[0].Context
	changes := g.manager.Changes("cassandra", "orders")
	drain(changes)
	cm := renderedConfigMap(t, manifests[0].Objects)
	cm.SetAnnotations(map[string]string{"ringops.test/write": time.Now().Format(time.RFC3339Nano)})
	res, err := g.manager.ApplyObject(t.Context(), kc, cm)
	if err != nil || res.Action != kube.Configured {
		t.Fatalf("apply %s: %v %v", cm.GetName(), res, err)
	}
	o := g.manager.Observe(t.Context(), kube.Query{Cluster: "orders", Namespace: "cassandra", Contexts: []string{kc}})[kc]
	if u := find(o.Objects, "ConfigMap", cm.GetName()); u == nil || u.GetResourceVersion() != res.Ref.ResourceVersion {
		t.Errorf("observed right after ringops' write: %v, want resourceVersion %s", u, res.Ref.ResourceVersion)
	}
	select {
	case <-changes:
	case <-time.After(10 * time.Second):
		t.Error("ringops' write to the cluster's ConfigMap did not wake the cluster")
	}
	if _, err := g.manager.Prune(t.Context(), kc, kube.RefOf(res.Object)); err != nil {
		t.Fatal(err)
	}
	o = g.manager.Observe(t.Context(), kube.Query{Cluster: "orders", Namespace: "cassandra", Contexts: []string{kc}})[kc]
	if u := find(o.Objects, "ConfigMap", cm.GetName()); u != nil {
		t.Errorf("observed right after ringops deleted it: %s %s", u.GetName(), u.GetResourceVersion())
	}
	if _, err := g.manager.ApplyObject(t.Context(), kc, renderedConfigMap(t, manifests[0].Objects)); err != nil {
		t.Fatal(err)
	}

	// A cache that has not seen a write (here a pretended one, far
	// ahead) is not read: the context is listed instead.
	pod := got[kc].Pods[0].Name
	g.manager.PretendWrite(kc, "cassandra", "pods", pod, "999999999999")
	before = g.counter.Snapshot()
	if o := g.manager.Observe(t.Context(), kube.Query{Cluster: "orders", Namespace: "cassandra", Contexts: []string{kc}})[kc]; o.Err != nil || len(o.Pods) == 0 {
		t.Fatalf("observed behind a write: %v, %d pods", o.Err, len(o.Pods))
	}
	if spent := g.counter.Snapshot()[kc].Sub(before[kc]); spent.List == 0 {
		t.Errorf("a cache behind ringops' write of %s was read: %s, want the lists", pod, spent)
	}
	// Nor at the next observation: the cache has still not seen it.
	before = g.counter.Snapshot()
	g.manager.Observe(t.Context(), kube.Query{Cluster: "orders", Namespace: "cassandra", Contexts: []string{kc}})
	if spent := g.counter.Snapshot()[kc].Sub(before[kc]); spent.List == 0 {
		t.Errorf("a cache still behind ringops' write of %s was read at the next observation: %s", pod, spent)
	}
}

// summary is an observation in one line per object: its kind, name and
// resourceVersion.
func summary(o *kube.Observation) string {
	if o.Err != nil {
		return "error: " + o.Err.Error()
	}
	var out []string
	for _, u := range o.Objects {
		out = append(out, u.GetKind()+" "+u.GetName()+" "+u.GetResourceVersion())
	}
	for _, p := range o.Pods {
		out = append(out, "Pod "+p.Name+" "+p.ResourceVersion)
	}
	for _, p := range o.PVCs {
		out = append(out, "PVC "+p.Name+" "+p.ResourceVersion)
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

func renderedConfigMap(t *testing.T, objs []*unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	for _, u := range objs {
		if u.GetKind() == "ConfigMap" {
			return u.DeepCopy()
		}
	}
	t.Fatal("no ConfigMap rendered")
	return nil
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, u := range objs {
		if u.GetKind() == kind && u.GetName() == name {
			return u
		}
	}
	return nil
}

func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}
