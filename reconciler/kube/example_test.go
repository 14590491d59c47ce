package kube_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/render"
)

// TestApplyExample applies the example cluster to three regions, then
// again: the second pass, on a converged world, writes nothing at all.
// Then it observes the cluster, with every region up and with one down.
func TestApplyExample(t *testing.T) {
	f := startWorld(t, env3...)
	manifests := exampleManifests(t)
	for _, m := range manifests {
		results, err := f.manager.Apply(t.Context(), m.Context, m.Objects...)
		if err != nil {
			t.Fatal(err)
		}
		if len(results) != len(m.Objects)+1 || results[0].Ref.String() != "namespace cassandra" {
			t.Errorf("%s: first pass %v, want the namespace and %d objects", m.Context, results, len(m.Objects))
		}
		for _, r := range results {
			if r.Action != kube.Created {
				t.Errorf("first pass: %s", r)
			}
		}
	}

	before := f.counter.Snapshot()
	for _, m := range manifests {
		results, err := f.manager.Apply(t.Context(), m.Context, m.Objects...)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			if r.Action != kube.Unchanged {
				t.Errorf("second pass: %s", r)
			}
		}
	}
	after := f.counter.Snapshot()
	for _, m := range manifests {
		spent := after[m.Context].Sub(before[m.Context])
		t.Logf("second pass, %s, %d objects: %s", m.Context, len(m.Objects), spent)
		if spent.Writes() != 0 || spent.DryRun != int64(len(m.Objects)) {
			t.Errorf("second pass in %s: %s; want zero writes and one dry-run per object (%d)", m.Context, spent, len(m.Objects))
		}
	}

	g := watchedFixture(t, f)
	t.Run("Observe", func(t *testing.T) { testObserve(t, f, manifests) })
	t.Run("ObserveWatched", func(t *testing.T) { testObserveWatched(t, f, g, manifests) })
	t.Run("ObserveWithRegionDown", func(t *testing.T) { testObserveRegionDown(t, f, g, manifests) })
}

var env3 = []string{"eu-west", "us-east", "ap-south"}

func testObserve(t *testing.T, f *fixture, manifests []*render.Manifests) {
	q := kube.Query{Cluster: "orders", Namespace: "cassandra"}
	var obs map[string]*kube.Observation
	eventually(t, time.Minute, "every StatefulSet has its pod and PVC", func(ctx context.Context) (bool, string) {
		obs = f.manager.Observe(ctx, q)
		for _, m := range manifests {
			o := obs[m.Context]
			if o.Err != nil {
				return false, o.Err.Error()
			}
			if sets := count(m.Objects, "StatefulSet"); len(o.Pods) != sets || len(o.PVCs) != sets {
				return false, fmt.Sprintf("%s: %d pods, %d PVCs, want %d", m.Context, len(o.Pods), len(o.PVCs), sets)
			}
		}
		return true, ""
	})
	for _, m := range manifests {
		o := obs[m.Context]
		if got, want := objectNames(o.Objects), objectNames(m.Objects); got != want {
			t.Errorf("%s: observed objects\n%s\nwant\n%s", m.Context, got, want)
		}
		for _, u := range o.Objects {
			if u.GetKind() == "StatefulSet" {
				if _, ok, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration"); !ok {
					t.Errorf("%s: %s observed without status", m.Context, u.GetName())
				}
			}
		}
		if o.Pods[0].Labels[contract.LabelCluster] != "orders" || !strings.HasPrefix(o.PVCs[0].Name, "data-orders-") {
			t.Errorf("%s: pods %s, PVCs %s", m.Context, o.Pods[0].Name, o.PVCs[0].Name)
		}
	}
	if o := f.manager.Observe(t.Context(), kube.Query{Cluster: "billing", Namespace: "cassandra", Contexts: []string{"eu-west"}}); o["eu-west"].Err != nil ||
		len(o["eu-west"].Objects)+len(o["eu-west"].Pods)+len(o["eu-west"].PVCs) != 0 || len(o) != 1 {
		t.Errorf("another cluster's observation: %+v", o["eu-west"])
	}
}

// testObserveRegionDown stops ap-south's control plane, and points a
// fourth context at a server that accepts connections and never answers:
// those two fail, alone, and the others are still read. The watching
// Manager g, whose caches of ap-south were synced, fails there too: its
// caches are not read once their watch failed.
func testObserveRegionDown(t *testing.T, f, g *fixture, manifests []*render.Manifests) {
	// Stop kills what does not exit within its grace period and says so:
	// either way the API server is gone.
	if err := f.world.Region("ap-south").ControlPlane.Stop(); err != nil {
		t.Logf("stop ap-south: %v", err)
	}
	wq := kube.Query{Cluster: "orders", Namespace: "cassandra", Contexts: []string{"ap-south"}}
	eventually(t, time.Minute, "the watching Manager fails to observe ap-south", func(ctx context.Context) (bool, string) {
		o := g.manager.Observe(ctx, wq)["ap-south"]
		return o.Err != nil, fmt.Sprintf("%d objects from its caches", len(o.Objects))
	})
	configs := map[string]*rest.Config{"hung": hungServer(t)}
	for _, r := range f.world.Regions() {
		configs[r.Name] = r.Config
	}
	g = newFixture(t, f.world, configs, 2*time.Second)
	q := kube.Query{Cluster: "orders", Namespace: "cassandra", Contexts: append([]string{"hung", "unknown"}, env3...)}
	obs := g.manager.Observe(t.Context(), q)
	if len(obs) != 5 {
		t.Fatalf("observations of %d contexts, want 5", len(obs))
	}
	for _, name := range []string{"ap-south", "hung", "unknown"} {
		if o := obs[name]; o.Err == nil || !strings.HasPrefix(o.Err.Error(), "context "+name+": ") || o.Objects != nil {
			t.Errorf("%s: %+v, want only an error naming the context", name, o)
		}
	}
	if !errors.Is(obs["unknown"].Err, kube.ErrUnknownContext) {
		t.Errorf("unknown context: %v", obs["unknown"].Err)
	}
	for _, m := range manifests[:2] {
		if o := obs[m.Context]; o.Err != nil || len(o.Objects) != len(m.Objects) {
			t.Errorf("%s, up: %v, %d objects", m.Context, o.Err, len(o.Objects))
		}
	}
	if _, err := g.manager.Apply(t.Context(), "ap-south", manifests[2].Objects...); err == nil || !strings.HasPrefix(err.Error(), "context ap-south: ") {
		t.Errorf("apply to a region that is down: %v", err)
	}
}

// hungServer listens on loopback, accepts connections and never answers;
// only the Manager's RequestTimeout ends a request to it.
func hungServer(t *testing.T) *rest.Config {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { <-done; _ = c.Close() }()
		}
	}()
	return &rest.Config{Host: "https://" + l.Addr().String(), BearerToken: "unused",
		TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
}

func count(objs []*unstructured.Unstructured, kind string) int {
	n := 0
	for _, u := range objs {
		if u.GetKind() == kind {
			n++
		}
	}
	return n
}

// objectNames lists objs, sorted (Observe returns them in apply order,
// render in its own).
func objectNames(objs []*unstructured.Unstructured) string {
	var out []string
	for _, u := range objs {
		out = append(out, u.GetAPIVersion()+" "+u.GetKind()+" "+u.GetNamespace()+"/"+u.GetName())
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}
