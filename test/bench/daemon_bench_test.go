package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ringops/ringops/test/env"
)

var (
	clustersFlag   = flag.Int("clusters", 100, "BenchmarkDaemonHolding: clusters in the repository (each 3 nodes, one per region)")
	windowFlag     = flag.Duration("window", 60*time.Second, "BenchmarkDaemonHolding: the steady window measured after convergence")
	convergeFlag   = flag.Duration("converge-timeout", 30*time.Minute, "BenchmarkDaemonHolding: the longest wait for every cluster to converge")
	binaryFlag     = flag.String("binary", "", "BenchmarkDaemonHolding: the ringops binary to run (default: build ./cmd/ringops)")
	logFlag        = flag.String("daemon-log", "", "BenchmarkDaemonHolding: file the daemon's log is written to (default: a temporary file)")
	daemonArgsFlag = flag.String("daemon-args", "", "BenchmarkDaemonHolding: more flags of ringops run, space-separated (e.g. \"--kube-qps 100\")")
)

// worldOptions are the world of the benchmark: three regions, probes and
// gossip slower than the tests' so that 3 x N simulated nodes leave the
// machine's CPU to the daemon.
func worldOptions() env.Options {
	opts := env.DefaultOptions()
	opts.Cassandra.GossipInterval = 250 * time.Millisecond
	opts.Cassandra.SeedTimeout = 10 * time.Second
	opts.Cassandra.FatClientTimeout = 10 * time.Second
	opts.Kubelet.ProbeInterval = time.Second
	opts.Kubelet.ProbeTimeout = 5 * time.Second
	return opts
}

// startWorld starts the world; b.Cleanup stops it. A world that is slow to
// stop (an API server killed after its grace period on a loaded machine)
// is logged, not failed: the measures are taken by then. The world's
// directory is kept, and its logs listed, when the benchmark failed.
func startWorld(b *testing.B) *env.World {
	b.Helper()
	opts := worldOptions()
	opts.KeepDir = true // removed below unless the benchmark failed
	w, err := env.StartWorld(b.Context(), opts)
	if err != nil {
		b.Fatalf("local world: %v", err)
	}
	b.Cleanup(func() {
		if err := w.Stop(); err != nil {
			b.Logf("local world: stop: %v", err)
		}
		if b.Failed() {
			b.Logf("local world %s kept; logs:\n  %s", w.Dir, strings.Join(w.Logs(), "\n  "))
			return
		}
		_ = os.RemoveAll(w.Dir)
	})
	return w
}

// BenchmarkDaemonHolding measures the built daemon (`ringops run`)
// rolling out and then holding -clusters clusters of 3 regions each (see
// the package documentation for the metrics). ns/op is the time from the
// daemon's start to every cluster converged; building, starting the world
// and the steady window are not timed.
//
//	go test ./test/bench -run '^$' -bench DaemonHolding -benchtime 1x -timeout 60m
func BenchmarkDaemonHolding(b *testing.B) {
	if testing.Short() {
		b.Skip("starts three control planes and the daemon; several minutes")
	}
	n := *clustersFlag
	for range b.N { // not b.Loop: the timer runs only from the daemon's start to convergence
		b.StopTimer()
		holdClusters(b, n)
	}
}

// holdClusters is one run: world, repository, daemon, convergence, window.
func holdClusters(b *testing.B, n int) {
	binary := *binaryFlag
	if binary == "" {
		binary = buildDaemon(b)
	}
	w := startWorld(b)
	url := serveClusters(b, n)
	b.Logf("world up, %d clusters served; without the daemon, %s", n, idleLists(b, w, 10*time.Second))

	b.StartTimer()
	start := time.Now()
	d := startDaemon(b, binary, url, w.Kubeconfig)
	d.awaitConverged(b, n, *convergeFlag)
	convergedIn := time.Since(start)
	b.StopTimer()
	rolloutCPU, err := cpuTime(d.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d clusters converged in %s, %.1f s of daemon CPU", n, convergedIn.Round(time.Second), rolloutCPU.Seconds())

	st := measureWindow(b, w, d, *windowFlag)
	if cs, err := d.clusters(b.Context()); err != nil || !converged(cs).done(n) {
		b.Fatalf("clusters no longer all converged after the window: %v %v", err, converged(cs).behind)
	}
	b.ReportMetric(convergedIn.Seconds(), "converge-s")
	b.ReportMetric(rolloutCPU.Seconds(), "rollout-cpu-s")
	st.report(b)
}

// idleLists measures the LIST requests of the world alone for a while.
func idleLists(b *testing.B, w *env.World, d time.Duration) string {
	from, err := apiListRequests(b.Context(), w)
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(d)
	to, err := apiListRequests(b.Context(), w)
	if err != nil {
		b.Fatal(err)
	}
	return fmt.Sprintf("%.1f LIST/s in %s (%s)", (to.total()-from.total())/d.Seconds(), d, to.since(from))
}

// sample is what is read at each end of the window.
type sample struct {
	at                    time.Time
	cpu, apiCPU, worldCPU time.Duration
	lists                 listCounts
}

func takeSample(ctx context.Context, w *env.World, pid int) (sample, error) {
	s := sample{at: time.Now()}
	var err error
	if s.cpu, err = cpuTime(pid); err != nil {
		return s, err
	}
	if s.apiCPU, s.worldCPU, err = worldCPU(w); err != nil {
		return s, err
	}
	s.lists, err = apiListRequests(ctx, w)
	return s, err
}

// steady is the measure of one window.
type steady struct {
	from, to   sample
	mem        memory
	maxRSS     int64
	heap       float64
	goroutines float64
	gate       gateLatency
}

// measureWindow samples at both ends of a window of length window, reads
// the daemon's resident memory every 5 s in between, and its Go heap and
// goroutines from /metrics at the end (nothing else talks to the daemon
// meanwhile).
func measureWindow(b *testing.B, w *env.World, d *daemon, window time.Duration) steady {
	pid := d.cmd.Process.Pid
	var st steady
	var err error
	if st.from, err = takeSample(b.Context(), w, pid); err != nil {
		b.Fatal(err)
	}
	for end := st.from.at.Add(window); time.Now().Before(end); {
		time.Sleep(min(5*time.Second, time.Until(end)))
		if st.mem, err = readMemory(pid); err != nil {
			b.Fatal(err)
		}
		st.maxRSS = max(st.maxRSS, st.mem.RSS)
	}
	if st.to, err = takeSample(b.Context(), w, pid); err != nil {
		b.Fatal(err)
	}
	text, err := d.metrics(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	st.heap, _ = metricSum(text, "go_memstats_heap_inuse_bytes")
	st.goroutines, _ = metricSum(text, "go_goroutines")
	st.gate = readGateLatency(text)
	return st
}

func (st steady) report(b *testing.B) {
	secs := st.to.at.Sub(st.from.at).Seconds()
	perSec := func(d time.Duration) float64 { return float64(d.Milliseconds()) / secs }
	const mib = 1 << 20
	b.ReportMetric(perSec(st.to.cpu-st.from.cpu), "cpu-ms/s")
	b.ReportMetric(float64(st.mem.RSS)/mib, "rss-MiB")
	b.ReportMetric(float64(st.mem.Peak)/mib, "peak-rss-MiB")
	b.ReportMetric(float64(st.mem.Anon)/mib, "rss-anon-MiB")
	b.ReportMetric(float64(st.mem.File)/mib, "rss-file-MiB")
	b.ReportMetric(st.heap/mib, "heap-MiB")
	b.ReportMetric(st.goroutines, "goroutines")
	b.ReportMetric((st.to.lists.total()-st.from.lists.total())/secs, "api-list/s")
	b.ReportMetric(perSec(st.to.apiCPU-st.from.apiCPU), "apiserver-cpu-ms/s")
	b.ReportMetric(perSec(st.to.worldCPU-st.from.worldCPU), "world-cpu-ms/s")
	if st.gate.count > 0 {
		b.ReportMetric(st.gate.sum/st.gate.count, "gate-mean-s")
		b.ReportMetric(st.gate.quantile(0.5), "gate-p50-s")
		b.ReportMetric(st.gate.quantile(0.95), "gate-p95-s")
		b.Logf("gate latency over the rollout: %.0f disruptive steps, mean %.2f s, median %.2f s, p95 %.2f s (interpolated in the histogram's buckets)",
			st.gate.count, st.gate.sum/st.gate.count, st.gate.quantile(0.5), st.gate.quantile(0.95))
	}
	b.Logf("window %.0f s: daemon RSS max %.1f MiB; LIST requests by resource: %s", secs, float64(st.maxRSS)/mib, st.to.lists.since(st.from.lists))
}
