package reconciler

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/schemas"
	"github.com/ringops/ringops/test/env"
)

// bootstraps is the number of nodes that bootstrap in each iteration of
// the benchmarks: one rack of bootstraps+1 nodes, the first a seed.
const bootstraps = 5

// BenchmarkGateReaction measures the gate's reaction: from the moment a
// joining node turns NORMAL (the simulator's ground truth, sampled every
// 2 ms) to the start of the next node's apply. Each iteration
// bootstraps a new cluster of one rack (settle 0): bootstraps samples.
// Reported: the median, 90th percentile and maximum, in ms.
//
//	go test ./reconciler -run '^$' -bench GateReaction -benchtime 3x
func BenchmarkGateReaction(b *testing.B) {
	w := sharedWorld(b)
	var lat []time.Duration
	i := 0
	for b.Loop() {
		i++
		r := rollout(b, w, fmt.Sprintf("gate%d", i))
		lat = append(lat, r.reactions...)
	}
	slices.Sort(lat)
	b.ReportMetric(ms(percentile(lat, 50)), "median-ms")
	b.ReportMetric(ms(percentile(lat, 90)), "p90-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(float64(len(lat)), "samples")
}

// BenchmarkRolloutOfBootstraps measures a rollout of N = bootstraps
// node bootstraps in a row, from the first bootstrap's apply to
// convergence, against N x the simulated bootstrap time (StartupTime +
// BootstrapTime). Reported: the overhead per bootstrap, in ms (the
// design's target: at most 1000).
//
//	go test ./reconciler -run '^$' -bench RolloutOfBootstraps -benchtime 3x
func BenchmarkRolloutOfBootstraps(b *testing.B) {
	w := sharedWorld(b)
	o := env.TestCassandraOptions()
	own := o.StartupTime + o.BootstrapTime
	var overhead []time.Duration
	i := 0
	for b.Loop() {
		i++
		r := rollout(b, w, fmt.Sprintf("rollout%d", i))
		overhead = append(overhead, (r.elapsed-bootstraps*own)/bootstraps)
	}
	slices.Sort(overhead)
	b.ReportMetric(ms(percentile(overhead, 50)), "overhead-ms/bootstrap")
	b.ReportMetric(ms(own), "bootstrap-ms")
	b.ReportMetric(bootstraps, "bootstraps/rollout")
}

// measured is one bootstrap of a rack of bootstraps+1 nodes.
type measured struct {
	reactions []time.Duration // per bootstrap after the first: NORMAL of the previous -> apply
	elapsed   time.Duration   // first bootstrap's apply -> converged
}

func rollout(b *testing.B, w *env.World, name string) measured {
	b.Helper()
	n := int32(bootstraps + 1)
	l := newLive(b, w, Options{})
	tg := l.prepare(context.Background(), smallSource(b, name, schemas.Rack{Name: "r1", Nodes: &n}))
	if tg.Desired.Invalid != nil {
		b.Fatal(tg.Desired.Invalid)
	}
	normal, stop := watchNormal(w, name)
	l.converge(b, tg, 5*time.Minute)
	end := time.Now()
	stop()
	applied := map[int32]time.Time{} // ordinal joining -> apply start
	for _, ev := range l.Events() {
		if ev.Kind == StepStarted && ev.Step.Action == plan.ScaleStatefulSet && ev.Step.To > ev.Step.From {
			applied[ev.Step.From] = ev.At
		}
	}
	var m measured
	m.elapsed = end.Sub(applied[1])
	for ord := int32(2); ord < n; ord++ {
		prev := normal()[fmt.Sprintf("%s-dc1-r1-%d", name, ord-1)]
		if prev.IsZero() || applied[ord].IsZero() {
			b.Fatalf("%s: no NORMAL time for ordinal %d or no apply of ordinal %d: %v %v", name, ord-1, ord, normal(), applied)
		}
		m.reactions = append(m.reactions, applied[ord].Sub(prev))
	}
	return m
}

// watchNormal samples the simulator every 2 ms and remembers when each
// node of the cluster was first NORMAL and up.
func watchNormal(w *env.World, cluster string) (func() map[string]time.Time, func()) {
	var mu sync.Mutex
	seen := map[string]time.Time{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				for _, s := range w.Sim.Ring(cluster) {
					mu.Lock()
					if _, ok := seen[s.Pod]; !ok && s.Alive && s.Mode == "NORMAL" && s.Status == "NORMAL" {
						seen[s.Pod] = now
					}
					mu.Unlock()
				}
			}
		}
	})
	get := func() map[string]time.Time {
		mu.Lock()
		defer mu.Unlock()
		out := make(map[string]time.Time, len(seen))
		for k, v := range seen {
			out[k] = v
		}
		return out
	}
	return get, func() { close(done); wg.Wait() }
}

func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[(len(sorted)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
