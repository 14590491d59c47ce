package daemon

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/reconciler"
	"github.com/ringops/ringops/reconciler/plan"
)

// TestGateLatency: the gate opens when the ring is healthy and the step
// before is done, whichever comes last. An ALTER that waits 8 s for
// schema agreement on a ring that stays healthy throughout, then a
// rebuild started 0.5 s after it: 0.5 s of gate reaction, not 8.5.
func TestGateLatency(t *testing.T) {
	m := NewMetrics()
	w := &worker{d: &Daemon{opts: Options{Metrics: m}}, log: slog.New(slog.NewTextHandler(io.Discard, nil)), nodeKeys: map[[2]string]bool{}}
	t0 := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	o := &plan.Observed{Now: t0, Ring: plan.Ring{Assessed: true, Healthy: true, Since: t0}}
	p := plan.Plan{Cluster: "orders"}
	alter := plan.Step{Action: plan.AlterKeyspace, Context: "eu-west"}
	rebuild := plan.Step{Action: plan.Rebuild, Context: "us-east"}
	ev := func(k reconciler.EventKind, s plan.Step, after time.Duration) reconciler.Event {
		return reconciler.Event{Kind: k, Step: s, At: t0.Add(after), Cluster: "orders"}
	}
	w.observe(o, p, []reconciler.Event{ev(reconciler.StepStarted, alter, time.Second), ev(reconciler.StepDone, alter, 9*time.Second)}, nil)
	w.observe(o, p, []reconciler.Event{ev(reconciler.StepStarted, rebuild, 9500*time.Millisecond)}, nil)

	families, err := m.Registry.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != "ringops_gate_latency_seconds" {
			continue
		}
		h := f.GetMetric()[0].GetHistogram()
		require.Equal(t, uint64(2), h.GetSampleCount())
		require.InDelta(t, 1.5, h.GetSampleSum(), 1e-9, "1 s after the ring turned healthy, then 0.5 s after the ALTER returned")
		return
	}
	t.Fatal("no ringops_gate_latency_seconds")
}
