package replay

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/plan/sim"
	"github.com/ringops/ringops/schemas"
)

// maxPlans bounds a run, maxWaits the plans in a row without a step: a
// planner that never converges is an error, not a hang. In the world's
// time (sim.Tick a plan), maxWaits ticks outlast any settle time or
// health timeout.
const (
	maxPlans = 50000
	maxWaits = 3600
)

// ErrNoConvergence is a run that did not reach Converged.
var ErrNoConvergence = errors.New("the replay did not converge")

// ErrInvariant is a run in which the planner broke a rollout rule that
// the world checks (sim.World.Violations).
var ErrInvariant = errors.New("the planner broke a rollout rule")

// Options are how the clusters are rolled out.
type Options struct {
	// ManageKeyspaces: the planner is given the keyspaces' replication
	// (ringops apply/run --manage-keyspaces) and changes it, rebuilds new
	// datacenters and cleans up after lower factors; false, it leaves
	// replication alone, as ringops does without the flag.
	ManageKeyspaces bool
	// Planner is the planner replayed; nil: plan.Next, the one ringops
	// applies with.
	Planner sim.Planner
}

// Replay runs base (nil for a new cluster) from an empty world to its
// convergence, then head from there, and returns the steps the planner
// took for head, in order. contexts are every region of either side.
//
// A removal that head asks for in spec.operations and base does not is
// replayed as the situation it is meant for: the named pod's node runs
// with the host ID the request names, and its volume is lost once base
// has converged (its node stays in the ring, down).
func Replay(base, head *plan.Desired, contexts []string, now time.Time, opts Options) ([]plan.Step, error) {
	w := sim.New(sim.Options{Cluster: head.Cluster.Metadata.Name, Start: now, HideKeyspaces: !opts.ManageKeyspaces,
		Contexts: contexts, Planner: opts.Planner})
	asked := newRemovals(base, head)
	for _, op := range asked {
		w.SetHostID(op.RemoveNode, op.HostID)
	}
	if base != nil {
		if _, err := Run(w, base); err != nil {
			return nil, fmt.Errorf("base: %w", err)
		}
	}
	for _, op := range asked {
		w.LoseVolumeOf(op.RemoveNode)
	}
	steps, err := Run(w, head)
	if err != nil {
		return steps, fmt.Errorf("head: %w", err)
	}
	return steps, nil
}

// Run plans and executes d over w, a tick at a time, until the planner
// says Converged, and returns every step taken, in order. Change windows
// and a paused rollout are left out of d's spec (they hold steps back in
// time, not in order). A step that fails, a rule broken or a wait the
// world does not resolve is an error.
func Run(w *sim.World, d *plan.Desired) ([]plan.Step, error) {
	w.Revise(ungated(d))
	var steps []plan.Step
	waits := 0
	for range maxPlans {
		p, err := w.Tick()
		steps = append(steps, p.Steps...)
		if v := w.Violations(); len(v) > 0 {
			return steps, fmt.Errorf("%w: %s", ErrInvariant, strings.Join(v, "; "))
		}
		switch {
		case err != nil:
			return steps, err
		case p.Done():
			return steps, nil
		case len(p.Steps) > 0:
			waits = 0
			continue
		}
		switch p.Wait.Reason {
		case plan.RolloutInProgress, plan.RingUnhealthy, plan.Settling, plan.WaitingForRegion:
			if waits++; waits < maxWaits {
				continue
			}
		}
		return steps, fmt.Errorf("%w: %s", ErrNoConvergence, p.Wait)
	}
	return steps, fmt.Errorf("%w after %d plans", ErrNoConvergence, maxPlans)
}

// newRemovals are the removals of dead nodes head's spec.operations asks
// for and base's does not.
func newRemovals(base, head *plan.Desired) []schemas.Operation {
	if head.Cluster == nil {
		return nil
	}
	var out []schemas.Operation
	for _, op := range head.Cluster.Spec.Operations {
		if op.RemoveNode == "" || op.HostID == "" {
			continue
		}
		if base != nil && base.Cluster != nil && slices.ContainsFunc(base.Cluster.Spec.Operations, func(b schemas.Operation) bool {
			return strings.EqualFold(b.HostID, op.HostID)
		}) {
			continue
		}
		out = append(out, op)
	}
	return out
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
