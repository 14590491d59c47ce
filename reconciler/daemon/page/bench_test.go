package page

import (
	"fmt"
	"io"
	"testing"

	"github.com/ringops/ringops/reconciler/daemon"
)

// countingWriter counts the bytes a stream sends.
type countingWriter struct{ n int }

func (c *countingWriter) Write(b []byte) (int, error) { c.n += len(b); return len(b), nil }

var _ io.Writer = (*countingWriter)(nil)

// BenchmarkEventStream100ClustersRolling: the bytes per second a page's
// event stream costs while 100 clusters (2 datacenters x 3 racks x 3
// nodes each) roll at once. Each simulated second every cluster's wait
// text changes (its seconds count: the busiest a status gets), and every
// 5 s every cluster's joining node turns UN, the next one joins and a
// step lands in its timeline. B/s-overview is the stream of the page's
// overview, B/s-cluster the stream of one cluster's view (the overview's
// events plus that cluster's detail); page-bytes is the page with its
// script and style, B-first-send what the overview's stream sends when it
// opens (all 100 clusters).
func BenchmarkEventStream100ClustersRolling(b *testing.B) {
	const clusters, seconds = 100, 60
	size, err := Size()
	if err != nil {
		b.Fatal(err)
	}
	var overview, one, initial int
	for b.Loop() {
		cs := make([]daemon.ClusterState, clusters)
		for i := range cs {
			cs[i] = rolling(fmt.Sprintf("c%03d", i), 3)
		}
		all, detail := newStream(""), newStream("c042")
		var wa, wd countingWriter
		if _, err := all.send(&wa, snapshot{Clusters: cs}); err != nil { // the first send is the page's load
			b.Fatal(err)
		}
		if _, err := detail.send(&wd, snapshot{Clusters: cs}); err != nil {
			b.Fatal(err)
		}
		initial, wa.n, wd.n = wa.n, 0, 0
		for s := 1; s <= seconds; s++ {
			for i := range cs {
				roll(&cs[i], s)
			}
			snap := snapshot{Clusters: cs}
			if _, err := all.send(&wa, snap); err != nil {
				b.Fatal(err)
			}
			if _, err := detail.send(&wd, snap); err != nil {
				b.Fatal(err)
			}
		}
		overview, one = wa.n/seconds, wd.n/seconds
	}
	b.ReportMetric(float64(overview), "B/s-overview")
	b.ReportMetric(float64(one), "B/s-cluster")
	b.ReportMetric(float64(size), "page-bytes")
	b.ReportMetric(float64(initial), "B-first-send")
}

// roll moves a cluster one simulated second on.
func roll(c *daemon.ClusterState, s int) {
	c.WaitText = fmt.Sprintf("eu-west: a node is joining: bootstrapping, %d s", s%5)
	c.Regions = append([]daemon.RegionState(nil), c.Regions...)
	c.Regions[0].Description = c.WaitText
	if s%5 != 0 {
		return
	}
	nodes := append([]daemon.NodeView(nil), c.RingNodes...)
	j := (s / 5) % len(nodes)
	prev := (j + len(nodes) - 1) % len(nodes)
	nodes[prev].State, nodes[prev].InFlight = "UN", false
	nodes[j].State, nodes[j].InFlight = "UJ", true
	c.RingNodes = nodes
	c.Timeline = append(append([]daemon.TimelineEntry(nil), c.Timeline...), daemon.TimelineEntry{Context: nodes[j].Context,
		Step: nodes[j].Context + ": scale StatefulSet " + nodes[j].Pod, Result: "ok", Waited: 5})
}
