package plan

import (
	"time"

	"github.com/ringops/ringops/schemas"
)

// WindowState is what the change windows say at a time, as the planner
// reads them (windowOpen), for those who describe it (review).
type WindowState struct {
	// Open: a window is open; Until is when the first open one closes.
	Open  bool
	Until time.Time
	// Next is when the next window opens (zero: never), Window which one;
	// set when none is open.
	Next   time.Time
	Window schemas.Window
}

// Windows evaluates the change windows at now; an invalid window (which
// validation refuses) is left out.
func Windows(windows []schemas.Window, now time.Time) WindowState {
	var st WindowState
	for _, w := range windows {
		sched, d, loc, err := parseWindow(w)
		if err != nil {
			continue
		}
		t := now.In(loc)
		if open, _, _ := windowOpen([]schemas.Window{w}, now); open {
			return WindowState{Open: true, Until: sched.Next(t.Add(-d)).Add(d)}
		}
		if n := sched.Next(t); !n.IsZero() && (st.Next.IsZero() || n.Before(st.Next)) {
			st.Next, st.Window = n, w
		}
	}
	return st
}
