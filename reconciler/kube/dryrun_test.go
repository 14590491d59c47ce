package kube_test

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/reconciler/kube"
)

// TestDryRun proves DryRun against a real API server: it never writes;
// new objects come back as the server would create them; an applied
// object is Unchanged until it differs; a change of immutable fields is
// reported as Recreated, not as an error.
func TestDryRun(t *testing.T) {
	f := startWorld(t, region)
	const ns = "dryrun"
	client := f.world.Region(region).Client
	objs := func(size string) []*unstructured.Unstructured {
		return []*unstructured.Unstructured{object(t, configMap(ns, "16")), object(t, statefulSet(ns, 0, size))}
	}

	before := f.counter.Counts(region)
	results, err := f.manager.DryRun(t.Context(), region, objs("1Gi")...)
	if err != nil {
		t.Fatal(err)
	}
	if spent := f.counter.Counts(region).Sub(before); spent.Writes() != 0 {
		t.Errorf("a dry run wrote: %s", spent)
	}
	for _, r := range results {
		if r.Action != kube.Created || r.Live != nil || r.Note == "" {
			t.Errorf("before the namespace exists: %s (note %q)", r, r.Note)
		}
	}

	if _, err := client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	results, err = f.manager.DryRun(t.Context(), region, objs("1Gi")...)
	if err != nil {
		t.Fatal(err)
	}
	sts := results[1]
	if sts.Action != kube.Created || sts.Note != "" {
		t.Fatalf("new StatefulSet: %s (note %q)", sts, sts.Note)
	}
	if v, _, _ := unstructured.NestedInt64(sts.Applied.Object, "spec", "revisionHistoryLimit"); v != 10 {
		t.Errorf("the server's defaults are in the answer: revisionHistoryLimit %d", v)
	}
	if sts.Applied.GetUID() != "" || sts.Applied.GetResourceVersion() != "" {
		t.Errorf("fields set on every write are left out: %v", sts.Applied.Object["metadata"])
	}
	if _, err := client.AppsV1().StatefulSets(ns).Get(t.Context(), "orders-dc1-r1", metav1.GetOptions{}); err == nil {
		t.Error("the dry run created the StatefulSet")
	}

	if _, err := f.manager.Apply(t.Context(), region, objs("1Gi")...); err != nil {
		t.Fatal(err)
	}
	results, err = f.manager.DryRun(t.Context(), region, objs("1Gi")...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Action != kube.Unchanged || r.Live == nil {
			t.Errorf("after the apply: %s", r)
		}
	}

	results, err = f.manager.DryRun(t.Context(), region, objs("2Gi")...)
	if err != nil {
		t.Fatal(err)
	}
	if results[0].Action != kube.Unchanged || results[1].Action != kube.Recreated || results[1].Note == "" {
		t.Errorf("volumeClaimTemplates changed: %v (note %q)", results, results[1].Note)
	}

	if _, err := f.manager.DryRun(t.Context(), "mars", objs("1Gi")...); !errors.Is(err, kube.ErrUnknownContext) {
		t.Errorf("unknown context: %v", err)
	}
}
