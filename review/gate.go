package review

import (
	"fmt"
	"time"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/schemas"
)

// gateOps: what holds the disruptive operations back at head: the
// rollout paused, change windows (evaluated at ch.now).
func (ch *change) gateOps(ops []Operation) []Operation {
	steps := disruptiveSteps(ops)
	if steps == "" {
		return nil
	}
	r := ch.head.spec.Spec.Rollout
	var out []Operation
	if r != nil && r.Paused {
		out = append(out, Operation{Kind: Gate, Text: fmt.Sprintf(
			"spec.rollout.paused is true: the disruptive steps (%s) wait until it is set to false; the objects are applied at once", steps)})
	}
	if r != nil && len(r.Windows) > 0 {
		out = append(out, Operation{Kind: Gate, Text: "change windows: " + windowText(r.Windows, ch.now, steps)})
	}
	return out
}

// disruptiveSteps is "3 bootstraps, 1 decommission and 7 restarts", ""
// when there are none.
func disruptiveSteps(ops []Operation) string {
	var boot, decom, restart, cleanup, remove, alter, rebuild int
	for _, op := range ops {
		switch op.Kind {
		case Replication:
			alter++
		case Rebuild:
			rebuild += op.Nodes
		case Cleanup: // replace (#16)
			cleanup += op.Nodes
		case RemoveNode:
			remove += op.Nodes
		case Bootstrap, AddDatacenter:
			boot += op.Nodes
		case Decommission:
			decom += op.Nodes
		case RollingRestart:
			restart += op.Nodes
		}
	}
	var parts []string
	if boot > 0 {
		parts = append(parts, plural(boot, "bootstrap"))
	}
	if decom > 0 {
		parts = append(parts, plural(decom, "decommission"))
	}
	if restart > 0 {
		parts = append(parts, plural(restart, "restart"))
	}
	if alter > 0 {
		parts = append(parts, plural(alter, "replication change"))
	}
	if rebuild > 0 {
		parts = append(parts, plural(rebuild, "rebuild"))
	}
	if cleanup > 0 {
		parts = append(parts, plural(cleanup, "cleanup"))
	}
	if remove > 0 {
		parts = append(parts, plural(remove, "removenode"))
	}
	return joinAnd(parts)
}

// windowText says whether a window is open at now and when the next one
// opens, as the planner reads them (plan.Windows).
func windowText(windows []schemas.Window, now time.Time, steps string) string {
	st := plan.Windows(windows, now)
	switch {
	case st.Open:
		return fmt.Sprintf("one is open now, until %s; the disruptive steps (%s) run only inside windows, what is left when it closes waits for the next one (as of %s)",
			stamp(st.Until), steps, stamp(now.In(st.Until.Location())))
	case st.Next.IsZero():
		return fmt.Sprintf("no window ever opens: the disruptive steps (%s) never start", steps)
	}
	return fmt.Sprintf("the disruptive steps (%s) wait for the next window, %s (schedule %q, open %s), as of %s",
		steps, stamp(st.Next), st.Window.Schedule, st.Window.Duration, stamp(now.In(st.Next.Location())))
}

// stamp is "2026-03-02 01:00 CET".
func stamp(t time.Time) string { return t.Format("2006-01-02 15:04 MST") }
