package sim

import (
	"math/rand"
	"slices"

	"github.com/ringops/ringops/reconciler/plan"
)

// Revise gives the planner the revision d from now on. A valid revision
// is also what the invariants judge the steps against (growth and roll
// order, managed keyspaces, requested removals); an invalid one
// (d.Invalid) is only shown to the planner, which must apply nothing.
func (w *World) Revise(d *plan.Desired) {
	w.desired = d
	if d.Invalid == nil {
		w.spec = d.Cluster
		w.pinRendered() // #20
	}
}

// Tick observes, plans (Options.Planner: plan.Next), executes the plan's steps
// (checking the invariants) and moves the world one tick on. It returns
// the plan, and the error of the step that failed, if one did.
func (w *World) Tick() (plan.Plan, error) {
	o := w.Observe()
	w.skewed = o.Ring.UpgradeSkew != ""
	p := w.planner(w.desired, o)
	err := w.Execute(p)
	w.advance()
	return p, err
}

// Violations are the invariants the steps broke so far, in words.
func (w *World) Violations() []string { return slices.Clone(w.violations) }

// Skewed reports whether the last observation showed an upgrade skew.
func (w *World) Skewed() bool { return w.skewed }

// SetFaults turns the faults a step meets on or off: the StatefulSet
// controller lagging, and the executor crashing half way through a step
// with probability crash. InjectFault arms the others.
func (w *World) SetFaults(on bool, crash float64) { w.faults, w.crashProb = on, crash }

// Rand is the world's draws, which a scenario shares to make its changes
// and pick its faults; OpsRand the draws of the long operations'
// scenarios (release series, operation faults); KeyspacesRand those of the
// keyspaces (factors, rebuild and cleanup times, the application's
// ALTERs). Three streams: a change to one leaves the others' draws as
// they were.
func (w *World) Rand() *rand.Rand          { return w.rng }
func (w *World) OpsRand() *rand.Rand       { return w.ops }
func (w *World) KeyspacesRand() *rand.Rand { return w.ks.rng }

// UIDs is how many UIDs the world has handed out (a scenario names its
// revisions after it).
func (w *World) UIDs() int { return w.uid }

// Logf adds a line to the world's log (Dump), stamped with the tick.
func (w *World) Logf(format string, args ...any) { w.logf(format, args...) }

// LastLog is the log's last line.
func (w *World) LastLog() string {
	if len(w.log) == 0 {
		return ""
	}
	return w.log[len(w.log)-1]
}

// DeadNode is a dead node the ring keeps (a lost volume's).
type DeadNode struct {
	// HostID and Pod are the dead node's, Pod the pod it ran in.
	HostID, Pod string
}

// DeadNodes are the dead nodes in the ring, oldest first.
func (w *World) DeadNodes() []DeadNode {
	out := make([]DeadNode, len(w.ghosts))
	for i, g := range w.ghosts {
		out[i] = DeadNode{HostID: g.host, Pod: g.pod}
	}
	return out
}
