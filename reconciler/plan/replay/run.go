package replay

import (
	"errors"
	"fmt"
	"time"

	"github.com/ringops/ringops/reconciler/plan"
)

// Tick is how far the world's clock moves while the planner waits.
const Tick = time.Minute

// maxPlans bounds a run, maxWaits the plans in a row without a step: a
// planner that never converges is an error, not a hang. In the world's
// time, maxWaits ticks outlast any settle time or health timeout.
const (
	maxPlans = 20000
	maxWaits = 600
)

// ErrNoConvergence is a run that did not reach Converged.
var ErrNoConvergence = errors.New("the replay did not converge")

// Options are how the clusters are rolled out.
type Options struct {
	// ManageKeyspaces: the planner is given the keyspaces' replication
	// (ringops apply/run --manage-keyspaces) and changes it, rebuilds new
	// datacenters and cleans up after lower factors; false, it leaves
	// replication alone, as ringops does without the flag.
	ManageKeyspaces bool
}

// Replay runs base (nil for a new cluster) from an empty world to its
// convergence, then head from there, and returns the steps the planner
// took for head, in order. contexts are every region of either side.
func Replay(base, head *plan.Desired, contexts []string, now time.Time, opts Options) ([]plan.Step, error) {
	w := NewWorld(head.Cluster.Metadata.Name, now)
	w.ManageKeyspaces = opts.ManageKeyspaces
	if base != nil {
		if _, err := w.Run(base, contexts); err != nil {
			return nil, fmt.Errorf("base: %w", err)
		}
	}
	steps, err := w.Run(head, contexts)
	if err != nil {
		return steps, fmt.Errorf("head: %w", err)
	}
	return steps, nil
}

// Run plans and executes d until the planner says Converged, and returns
// every step taken, in order. Change windows and a paused rollout are
// left out of d's spec (they hold steps back in time, not in order).
func (w *World) Run(d *plan.Desired, contexts []string) ([]plan.Step, error) {
	d = ungated(d)
	var steps []plan.Step
	waits := 0
	for range maxPlans {
		w.settle()
		p := plan.Next(d, w.Observe(contexts))
		if p.Done() {
			return steps, nil
		}
		if len(p.Steps) == 0 {
			switch p.Wait.Reason {
			case plan.RolloutInProgress, plan.RingUnhealthy, plan.Settling, plan.WaitingForRegion:
				if waits++; waits < maxWaits {
					w.Now = w.Now.Add(Tick)
					continue
				}
			}
			return steps, fmt.Errorf("%w: %s", ErrNoConvergence, p.Wait)
		}
		waits = 0
		for _, s := range p.Steps {
			steps = append(steps, s)
			if err := w.Execute(s); err != nil {
				return steps, fmt.Errorf("%s: %w", s, err)
			}
		}
		w.Now = w.Now.Add(time.Second)
	}
	return steps, fmt.Errorf("%w after %d plans", ErrNoConvergence, maxPlans)
}

// ungated is d with no change window and the rollout not paused.
func ungated(d *plan.Desired) *plan.Desired {
	if d.Cluster == nil || d.Cluster.Spec.Rollout == nil {
		return d
	}
	c := *d.Cluster
	r := *c.Spec.Rollout
	r.Paused, r.Windows = false, nil
	c.Spec.Rollout = &r
	out := *d
	out.Cluster = &c
	return &out
}
