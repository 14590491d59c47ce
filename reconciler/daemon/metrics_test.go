package daemon

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/reconciler"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
)

// metricsWorker is a worker with metrics and no cluster, for observe.
func metricsWorker() (*worker, *Metrics) {
	m := NewMetrics()
	return &worker{d: &Daemon{opts: Options{Metrics: m}}, log: slog.New(slog.NewTextHandler(io.Discard, nil)), nodeKeys: map[[2]string]bool{}}, m
}

// TestGateLatency: the gate opens when the ring is healthy and the step
// before is done, whichever comes last. An ALTER that waits 8 s for
// schema agreement on a ring that stays healthy throughout, then a
// rebuild started 0.5 s after it: 0.5 s of gate reaction, not 8.5.
func TestGateLatency(t *testing.T) {
	w, m := metricsWorker()
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

	h := gathered(t, m, "ringops_gate_latency_seconds")
	require.Len(t, h, 1, "ringops_gate_latency_seconds")
	require.Equal(t, uint64(2), h[0].count)
	require.InDelta(t, 1.5, h[0].sum, 1e-9, "1 s after the ring turned healthy, then 0.5 s after the ALTER returned")
}

// TestStepResults: a step refused because its object changed since it
// was read (ErrConflict, planned again at once) is counted apart from a
// failed one.
func TestStepResults(t *testing.T) {
	w, m := metricsWorker()
	o := &plan.Observed{Ring: plan.Ring{Assessed: true, Healthy: true}}
	scale := plan.Step{Action: plan.ScaleStatefulSet, Context: "eu-west", From: 1, To: 2}
	w.observe(o, plan.Plan{Cluster: "orders"}, []reconciler.Event{
		{Kind: reconciler.StepFailed, Step: scale, Cluster: "orders", Err: fmt.Errorf("apply: %w: the StatefulSet changed", kube.ErrConflict)},
		{Kind: reconciler.StepFailed, Step: scale, Cluster: "orders", Err: errors.New("apply: forbidden")},
		{Kind: reconciler.StepDone, Step: scale, Cluster: "orders"},
	}, nil)
	got := map[string]float64{}
	for _, s := range gathered(t, m, "ringops_steps_total") {
		got[s.labels["result"]] += s.value
	}
	require.Equal(t, map[string]float64{"conflict": 1, "failed": 1, "ok": 1}, got)
}
