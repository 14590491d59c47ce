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
//   - when a Settling wait is over, or the change window a wait is
//     outside of opens (Wait.Until);
//   - after IdleInterval when nothing is to be done (converged, paused,
//     outside the change windows, blocked), without reading the ring;
//   - after FastObserveInterval when the wait can only end on the
//     Kubernetes side (the ring is healthy, or a node has no pod IP yet,
//     while a step is in flight), else after ObserveInterval.
//
// With a Kube that watches (kube.Manager's Changes), it also returns when
// an object of the cluster is added, changed or deleted in any region: the
// intervals above are then only the safety net of the events.
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
	start := e.clock.Now()
	deadline := start.Add(e.waitInterval(t, p, o, healthy))
	if p.Wait.Reason == plan.Settling && !p.Wait.Since.IsZero() {
		if end := p.Wait.Since.Add(t.Settle); end.Before(deadline) {
			deadline = end
		}
	}
	if u := p.Wait.Until; !u.IsZero() && u.Before(deadline) {
		deadline = u // a change window opens
	}
	changed := e.changes(t)
	for {
		left := deadline.Sub(e.clock.Now())
		if left <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
			// An object of the cluster changed (#18): planned again at
			// once, but not more often than FastObserveInterval.
			if early := start.Add(e.opts.FastObserveInterval).Sub(e.clock.Now()); early > 0 {
				select {
				case <-ctx.Done():
				case <-e.clock.After(early):
				}
			}
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

// Changes is what a Kube that watches offers (kube.Manager with
// ManagerOptions.Watch): a channel that receives when an object of a
// cluster changes.
type Changes interface {
	Changes(namespace, cluster string) <-chan struct{}
}

// changes is t's channel of changes, nil (never ready) without watches.
func (e *Engine) changes(t *Target) <-chan struct{} {
	if c, ok := e.kube.(Changes); ok {
		return c.Changes(t.Namespace, t.Name())
	}
	return nil
}
