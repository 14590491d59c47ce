package reconciler

import "github.com/ringops/ringops/reconciler/plan"

// Exit codes of `ringops apply` for a run that ends on a wait (cmd/ringops
// names them the same; a test there holds the two together).
const (
	ExitOK          = 0
	ExitInvalid     = 2
	ExitBlocked     = 5
	ExitTimeout     = 6
	ExitUnreachable = 7
)

// Ends says which drives a wait ends (DriveMode).
type Ends uint8

// The endings.
const (
	// EndsNever: no drive ends on it; even `ringops apply` without
	// --wait waits it out (Settling: the next step is seconds away).
	EndsNever Ends = iota + 1
	// EndsOnce: a DriveOnce run (apply without --wait) ends on it; a
	// DriveUntilDone run waits it out.
	EndsOnce
	// EndsAlways: DriveOnce and DriveUntilDone runs end on it (nothing
	// will change without a human, or there is nothing left to do).
	// DriveFollow (the daemon) never ends on a plan.
	EndsAlways
)

var endsNames = [...]string{"", "EndsNever", "EndsOnce", "EndsAlways"}

func (e Ends) String() string {
	if int(e) < len(endsNames) && e > 0 {
		return endsNames[e]
	}
	return "Ends(?)"
}

// WaitRow is what one wait reason means to the users of the engine.
type WaitRow struct {
	// Words say the reason in a commit status ("<region>: <words>: <message>").
	Words string
	// Exit is the exit code of `ringops apply` when a run ends on it.
	Exit int
	// Metric is the reason label of ringops_waits_total and
	// ringops_cluster_waiting.
	Metric string
	// Ends says which drives end on it.
	Ends Ends
}

// Waits is the one table of the wait reasons: every reason the planner
// returns has its row (a test checks it against plan.WaitReason), and the
// CLI's exit codes, the statuses' words, the daemon's metric labels and
// the drives' stop conditions all come from it.
var Waits = map[plan.WaitReason]WaitRow{
	plan.Converged:         {Words: "converged", Exit: ExitOK, Metric: "Converged", Ends: EndsAlways},
	plan.Blocked:           {Words: "blocked", Exit: ExitBlocked, Metric: "Blocked", Ends: EndsAlways},
	plan.RegionUnreachable: {Words: "region unreachable", Exit: ExitUnreachable, Metric: "RegionUnreachable", Ends: EndsOnce},
	plan.WaitingForRegion:  {Words: "waiting for another region", Exit: ExitOK, Metric: "WaitingForRegion", Ends: EndsOnce},
	plan.RolloutInProgress: {Words: "in progress", Exit: ExitOK, Metric: "RolloutInProgress", Ends: EndsOnce},
	plan.RingUnhealthy:     {Words: "waiting for the ring", Exit: ExitOK, Metric: "RingUnhealthy", Ends: EndsOnce},
	plan.Settling:          {Words: "settling", Exit: ExitOK, Metric: "Settling", Ends: EndsNever},
	plan.Paused:            {Words: "paused", Exit: ExitBlocked, Metric: "Paused", Ends: EndsAlways},
	plan.OutsideWindow:     {Words: "outside the change windows", Exit: ExitBlocked, Metric: "OutsideWindow", Ends: EndsAlways},
	plan.HealthTimeout:     {Words: "health timeout", Exit: ExitTimeout, Metric: "HealthTimeout", Ends: EndsAlways},
}

// WaitOf is the row of reason r; a reason without a row (a planner newer
// than this table, which the test forbids) reads as blocked, under its
// own name.
func WaitOf(r plan.WaitReason) WaitRow {
	if row, ok := Waits[r]; ok {
		return row
	}
	return WaitRow{Words: r.String(), Exit: ExitBlocked, Metric: r.String(), Ends: EndsAlways}
}
