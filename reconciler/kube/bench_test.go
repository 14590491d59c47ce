package kube_test

import (
	"testing"

	"github.com/ringops/ringops/reconciler/kube"
)

// BenchmarkApplyUnchanged re-applies the example's objects of one region
// to a real API server where they are already applied: every object is
// Unchanged. It reports the requests per object and the writes per pass
// (zero).
//
//	RINGOPS_CONTROLPLANE_DIR=... go test ./reconciler/kube -run '^$' -bench ApplyUnchanged
func BenchmarkApplyUnchanged(b *testing.B) {
	f := startWorld(b, region)
	var objs = exampleManifests(b)[0]
	if objs.Context != region {
		b.Fatalf("the example's first context is %s", objs.Context)
	}
	if _, err := f.manager.Apply(b.Context(), region, objs.Objects...); err != nil {
		b.Fatal(err)
	}
	before := f.counter.Counts(region)
	passes := 0
	for b.Loop() {
		results, err := f.manager.Apply(b.Context(), region, objs.Objects...)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range results {
			if r.Action != kube.Unchanged {
				b.Fatalf("pass %d: %s", passes, r)
			}
		}
		passes++
	}
	spent := f.counter.Counts(region).Sub(before)
	b.ReportMetric(float64(spent.Total())/float64(passes*len(objs.Objects)), "requests/object")
	b.ReportMetric(float64(spent.Writes())/float64(passes), "writes/op")
	b.ReportMetric(float64(len(objs.Objects)), "objects/op")
}
