package reconciler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
)

// scriptRunner observes an empty world (every plan creates the objects)
// or, when unreachable, a world whose API servers cannot be read (every
// plan waits RegionUnreachable); Execute fails as scripted, then reports
// each step done with action.
type scriptRunner struct {
	mu          sync.Mutex
	unreachable bool
	errs        []error
	action      kube.Action
	executes    int
	waits       []plan.Plan
	block       bool // Wait blocks until its ctx ends
	waited      chan struct{}
}

func (r *scriptRunner) Observe(_ context.Context, t *Target) (*plan.Observed, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := &plan.Observed{Now: time.Now(), Contexts: map[string]*plan.Context{}}
	for _, kc := range t.Contexts {
		o.Contexts[kc] = &plan.Context{}
		if r.unreachable {
			o.Contexts[kc].Err = errors.New("connection refused")
		}
	}
	return o, nil
}

func (r *scriptRunner) Execute(_ context.Context, p plan.Plan) ([]Event, error) {
	if len(p.Steps) == 0 {
		return []Event{{Kind: Waiting, Cluster: p.Cluster, Wait: p.Wait}}, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.executes++
	if len(r.errs) > 0 {
		err := r.errs[0]
		r.errs = r.errs[1:]
		return []Event{{Kind: StepFailed, Step: p.Steps[0], Err: err}}, err
	}
	var events []Event
	for _, s := range p.Steps {
		events = append(events, Event{Kind: StepDone, Step: s, Results: []kube.Result{{Context: s.Context, Action: r.action}}})
	}
	return events, nil
}

func (r *scriptRunner) Wait(ctx context.Context, _ *Target, p plan.Plan) error {
	r.mu.Lock()
	r.waits = append(r.waits, p)
	block, waited := r.block, r.waited
	r.mu.Unlock()
	if waited != nil {
		waited <- struct{}{}
	}
	if block {
		<-ctx.Done()
	}
	return ctx.Err()
}

func (r *scriptRunner) count() (executes, waits int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.executes, len(r.waits)
}

func exampleTarget(t *testing.T) *Target {
	t.Helper()
	tg := newFixture(t, Options{}).engine.Prepare(t.Context(), exampleSource(t))
	require.NoError(t, tg.Desired.Invalid)
	return tg
}

func drive(t *testing.T, r Runner, adjust func(*DriverOptions)) Outcome {
	t.Helper()
	o := DefaultDriverOptions()
	o.MinBackoff, o.MaxBackoff = time.Millisecond, 4*time.Millisecond
	adjust(&o)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	return NewDriver(r, o).Drive(ctx, exampleTarget(t))
}

func conflict(n int) []error {
	var errs []error
	for i := range n {
		errs = append(errs, fmt.Errorf("statefulset orders-dc1-r%d: apply: %w", i, kube.ErrConflict))
	}
	return errs
}

func TestDriverPlansAgainAtOnceAfterAFewConflictsOnly(t *testing.T) {
	r := &scriptRunner{errs: conflict(4), action: kube.Created}
	out := drive(t, r, func(o *DriverOptions) { o.Mode = DriveOnce })
	assert.Equal(t, EndFailed, out.End)
	require.ErrorIs(t, out.Err, kube.ErrConflict)
	executes, _ := r.count()
	assert.Equal(t, 4, executes, "three conflicts planned again at once, the fourth ends a run without --wait")

	r = &scriptRunner{errs: []error{errors.New("etcdserver: request timed out")}}
	out = drive(t, r, func(o *DriverOptions) { o.Mode = DriveOnce })
	assert.Equal(t, EndFailed, out.End)
	executes, _ = r.count()
	assert.Equal(t, 1, executes, "any other error ends a run without --wait at once")
}

func TestDriverBacksOffAndGoesOnUntilDone(t *testing.T) {
	r := &scriptRunner{errs: append(conflict(5), errors.New("etcdserver: request timed out")), action: kube.Unchanged}
	out := drive(t, r, func(o *DriverOptions) { o.Mode = DriveUntilDone })
	assert.Equal(t, EndStuck, out.End, "after the failures the same steps come back with nothing written: %v", out)
	executes, _ := r.count()
	assert.Equal(t, 6+4, executes, "six failures, then the first plan and its three repeats")
}

func TestDriverBackoffDoubles(t *testing.T) {
	d := NewDriver(&scriptRunner{}, DriverOptions{})
	var got []time.Duration
	for n := 1; n <= 6; n++ {
		got = append(got, d.backoff(n))
	}
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}, got,
		"the curve `ringops apply --wait` had: 500ms << n, at most 10s")
	d = NewDriver(&scriptRunner{}, DriverOptions{MinBackoff: time.Second, MaxBackoff: 30 * time.Second})
	assert.Equal(t, 30*time.Second, d.backoff(6), "the daemon's: MinRetry doubling up to MaxRetry")
	assert.Equal(t, 16*time.Second, d.backoff(5))
}

// The same steps, with nothing written, come back: a run ends on them
// (exit 5 in `ringops apply`), a followed cluster waits on them as on a
// Blocked plan instead of planning again in a busy loop.
func TestDriverStopsOnStepsThatWriteNothing(t *testing.T) {
	r := &scriptRunner{action: kube.Unchanged}
	out := drive(t, r, func(o *DriverOptions) { o.Mode = DriveUntilDone })
	require.Equal(t, EndStuck, out.End)
	var idle *IdleStepsError
	require.ErrorAs(t, out.Err, &idle)
	assert.Contains(t, out.Err.Error(), "the same steps come back with nothing for the API servers to change; a field of the rendered objects is probably normalised by the server: orders: ")
	executes, _ := r.count()
	assert.Equal(t, 4, executes)

	r = &scriptRunner{action: kube.Configured}
	out = drive(t, r, func(o *DriverOptions) { o.Mode = DriveUntilDone; o.Timeout = 100 * time.Millisecond })
	assert.Equal(t, EndCanceled, out.End, "steps that write are not stuck")

	interrupt := make(chan struct{})
	r = &scriptRunner{action: kube.Unchanged, block: true, waited: make(chan struct{}, 1)}
	var turns []Turn
	go func() { <-r.waited; interrupt <- struct{}{} }()
	out = drive(t, r, func(o *DriverOptions) {
		o.Mode, o.Interrupt = DriveFollow, interrupt
		o.OnTurn = func(_ context.Context, turn Turn) { turns = append(turns, turn) }
	})
	require.Equal(t, EndInterrupted, out.End)
	executes, waits := r.count()
	assert.Equal(t, 4, executes, "the first plan and three repeats, then a wait")
	assert.Equal(t, 1, waits)
	assert.Equal(t, plan.Blocked, out.Waited.Wait.Reason)
	require.Len(t, turns, 4)
	assert.True(t, turns[3].Stuck)
	assert.Equal(t, out.Waited, turns[3].Plan, "the daemon reports the Blocked wait it follows")
}

func TestDriverEndsWhereTheTableSays(t *testing.T) {
	r := &scriptRunner{unreachable: true}
	out := drive(t, r, func(o *DriverOptions) { o.Mode = DriveOnce })
	assert.Equal(t, EndPlan, out.End)
	assert.Equal(t, plan.RegionUnreachable, out.Plan.Wait.Reason)

	for _, mode := range []DriveMode{DriveUntilDone, DriveFollow} {
		r = &scriptRunner{unreachable: true}
		out = drive(t, r, func(o *DriverOptions) { o.Mode, o.Timeout = mode, 50*time.Millisecond })
		assert.Equal(t, EndCanceled, out.End, mode)
		require.ErrorIs(t, out.Err, context.DeadlineExceeded)
		assert.Equal(t, plan.RegionUnreachable, out.Waited.Wait.Reason, mode)
		_, waits := r.count()
		assert.Positive(t, waits, "%s waits on the plan and plans again", mode)
	}
}

// TestWaitTableIsExhaustive: every wait reason the planner can return
// has its words, `ringops apply` exit code, metric label and endings.
func TestWaitTableIsExhaustive(t *testing.T) {
	n := 0
	for r := plan.WaitReason(1); !strings.HasPrefix(r.String(), "WaitReason("); r++ {
		n++
		row, ok := Waits[r]
		if !assert.True(t, ok, "wait reason %s has no row in reconciler.Waits", r) {
			continue
		}
		assert.NotEmpty(t, row.Words, r)
		assert.Equal(t, r.String(), row.Metric, "%s: the metric label is the reason's name (dashboards select on it)", r)
		assert.Contains(t, []int{ExitOK, ExitBlocked, ExitTimeout, ExitUnreachable}, row.Exit, r)
		assert.Contains(t, []Ends{EndsNever, EndsOnce, EndsAlways}, row.Ends, r)
		if r.Failed() {
			assert.NotEqual(t, ExitOK, row.Exit, "%s is a failure", r)
			assert.Equal(t, EndsAlways, row.Ends, "%s is a failure", r)
		}
		assert.Equal(t, row, WaitOf(r))
	}
	assert.Len(t, Waits, n, "a row for a reason the planner does not have")
	assert.Equal(t, plan.Converged, plan.WaitReason(1), "the reasons start at 1")
}
