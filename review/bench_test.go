package review

import (
	"testing"
)

// BenchmarkPlan100Clusters plans an image bump of one cluster in a
// repository of 100 (three regions each), with a cold renderer every
// time: the 99 others are compared file by file and parsed, never
// rendered; the changed one is rendered once per region and side. It
// fails if any other render happens.
func BenchmarkPlan100Clusters(b *testing.B) {
	base := repository(100)
	head := clone(base)
	head["clusters/c042/cluster.yaml"].Data = []byte(clusterYAML("c042", "cassandra:4.1.5"))
	b.ReportAllocs()
	for b.Loop() {
		r := newCountingRenderer()
		doc := compare(b, base, head, Options{Renderer: r})
		if len(r.n) != 1 || r.n["clusters/c042"] != 6 {
			b.Fatalf("renders: %v; want only clusters/c042, 3 regions x 2 sides", r.n)
		}
		if doc.Summary != "c042: 4 restarts" || doc.Unchanged != 99 {
			b.Fatalf("plan: %s (%d unchanged)", doc.Summary, doc.Unchanged)
		}
	}
}
