package reconciler

import (
	"context"
	"time"

	"github.com/ringops/ringops/reconciler/plan"
)

// Wait blocks until it is worth planning t again after p, a plan that
// waits, and returns ctx's error if ctx ends first. It returns:
//
//   - as soon as the ring's verdict changes (a node turns NORMAL, leaves,
//     goes down; the ring becomes healthy): the ring is read every
//     RingPollInterval, so that the gate reacts within about that long;
//   - when a Settling wait is over;
//   - after IdleInterval when nothing is to be done (converged, paused,
//     outside the change windows, blocked), without reading the ring;
//   - after FastObserveInterval when the wait can only end on the
//     Kubernetes side (the ring is healthy, or a node has no pod IP yet,
//     while a step is in flight), else after ObserveInterval.
//
// A plan with steps returns at once.
func (e *Engine) Wait(ctx context.Context, t *Target, p plan.Plan) error {
	if len(p.Steps) > 0 {
		return ctx.Err()
	}
	st := e.state(t.Name())
	e.mu.Lock()
	o, sig, healthy := st.observed, st.ringSig, st.verdict.healthy
	e.mu.Unlock()
	deadline := e.clock.Now().Add(e.waitInterval(t, p, o, healthy))
	if p.Wait.Reason == plan.Settling && !p.Wait.Since.IsZero() {
		if end := p.Wait.Since.Add(t.Settle); end.Before(deadline) {
			deadline = end
		}
	}
	for {
		left := deadline.Sub(e.clock.Now())
		if left <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-e.clock.After(min(left, e.opts.RingPollInterval)):
		}
		if o == nil || idle(p.Wait.Reason) || !e.clock.Now().Before(deadline) {
			continue
		}
		if ringSignature(e.readRing(ctx, t, o)) != sig {
			return ctx.Err()
		}
	}
}

// idle reports whether a wait is one nothing on the ring can end: the
// ring is not read during it (a converged cluster costs one observation
// per IdleInterval, nothing in between).
func idle(r plan.WaitReason) bool {
	switch r {
	case plan.Converged, plan.Paused, plan.OutsideWindow, plan.Blocked:
		return true
	}
	return false
}

// waitInterval is how long a wait may last before the next observation.
func (e *Engine) waitInterval(t *Target, p plan.Plan, o *plan.Observed, healthy bool) time.Duration {
	if o == nil {
		return e.opts.ObserveInterval
	}
	if idle(p.Wait.Reason) {
		return e.opts.IdleInterval
	}
	switch p.Wait.Reason {
	case plan.RolloutInProgress, plan.WaitingForRegion, plan.RingUnhealthy:
		if healthy || addressless(t, o) {
			return e.opts.FastObserveInterval
		}
	}
	return e.opts.ObserveInterval
}
