package plan

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// BenchmarkPlan300 plans 100 clusters of 3 regions each (one datacenter
// per region, 3 racks of 3 nodes: 27 nodes, 9 StatefulSets, 300 contexts
// in all) per iteration, as the daemon does on each pass. cpu-ns/op is
// the CPU time of one pass over the 100 clusters (the design's budget for
// render + plan is 2 s CPU).
//
//   - converged: everything as rendered, nothing to do;
//   - rolling: a template change staged on every rack, one rack mid-roll;
//   - staging: a new revision changed every pod template (the plan stages
//     it on 9 StatefulSets per cluster).
func BenchmarkPlan300(b *testing.B) {
	clusters := benchClusters(b, 100)
	for _, scenario := range []string{"converged", "rolling", "staging"} {
		inputs := make([]benchInput, len(clusters))
		for i, d := range clusters {
			inputs[i] = benchInput{d, benchObserved(b, d, scenario)}
		}
		b.Run(scenario, func(b *testing.B) {
			b.ReportAllocs()
			start := cpuTime()
			n := 0
			for b.Loop() {
				for _, in := range inputs {
					if p := Next(in.d, in.o); len(p.Steps) == 0 && p.Wait.Reason == 0 {
						b.Fatal("empty plan")
					}
				}
				n++
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(n), "cpu-ns/op")
		})
	}
}

type benchInput struct {
	d *Desired
	o *Observed
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchClusters(b *testing.B, n int) []*Desired {
	var out []*Desired
	for i := range n {
		c, err := schemas.Parse("cluster.yaml", []byte(fmt.Sprintf(`apiVersion: ringops.dev/v1alpha1
kind: CassandraCluster
metadata: {name: c%03d, namespace: cassandra}
spec:
  image: cassandra:4.1.5
  nodesPerRack: 3
  storage: {size: 100Gi}
  config: {cassandra-yaml: {num_tokens: 16}}
  datacenters:
    - {name: dc1, context: eu-west, racks: [{name: r1}, {name: r2}, {name: r3}]}
    - {name: dc2, context: us-east, racks: [{name: r1}, {name: r2}, {name: r3}]}
    - {name: dc3, context: ap-south, racks: [{name: r1}, {name: r2}, {name: r3}]}
`, i)))
		require.NoError(b, err)
		d := &Desired{Cluster: c, Revision: "bench"}
		for kc, m := range renderAll(b, c) {
			_ = kc
			d.Manifests = append(d.Manifests, m)
		}
		sortManifests(d.Manifests)
		out = append(out, d)
	}
	return out
}

func sortManifests(ms []*render.Manifests) {
	order := map[string]int{"eu-west": 0, "us-east": 1, "ap-south": 2}
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && order[ms[j].Context] < order[ms[j-1].Context]; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

func benchObserved(b *testing.B, d *Desired, scenario string) *Observed {
	rendered := map[string]map[string]*render.Manifests{"desired": {}}
	for _, m := range d.Manifests {
		rendered["desired"][m.Context] = m
	}
	of := &obsFile{Contexts: map[string]*ctxSpec{}}
	for _, m := range d.Manifests {
		cs := &ctxSpec{StatefulSets: map[string]*stsSpec{}}
		for _, u := range m.Objects {
			if !isStatefulSet(u) {
				continue
			}
			ss := &stsSpec{}
			switch scenario {
			case "rolling":
				ss = &stsSpec{Partition: new(int32(3)), Updated: new(int32(0)),
					Annotations: map[string]string{contract.AnnotationChange: "image cassandra:4.1.4 -> cassandra:4.1.5"}}
				if u.GetName() == d.Cluster.Metadata.Name+"-dc1-r1" {
					ss.Partition, ss.Updated = new(int32(1)), new(int32(2))
				}
			case "staging":
				ss.Drift = map[string]any{"spec.template.spec.containers.0.image": "cassandra:4.1.4"}
			}
			cs.StatefulSets[u.GetName()] = ss
		}
		of.Contexts[m.Context] = cs
	}
	return buildObserved(b, d.Cluster.Metadata.Name, of, rendered)
}
