package plan

import (
	"fmt"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/ringops/ringops/schemas"
)

// windowOpen reports whether one of the change windows is open at now;
// when none is, it returns when the next one opens (zero if never). No
// windows means always open. A window opens at each activation of its
// cron schedule, in its time zone (UTC by default), and stays open for its
// duration: it is open at now when an activation falls in
// (now-duration, now].
func windowOpen(windows []schemas.Window, now time.Time) (bool, time.Time, error) {
	if len(windows) == 0 {
		return true, time.Time{}, nil
	}
	var next time.Time
	for i, w := range windows {
		sched, d, loc, err := parseWindow(w)
		if err != nil {
			return false, time.Time{}, fmt.Errorf("spec.rollout.windows[%d]: %w", i, err)
		}
		t := now.In(loc)
		if first := sched.Next(t.Add(-d)); !first.IsZero() && !first.After(t) {
			return true, time.Time{}, nil
		}
		if n := sched.Next(t); !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	return false, next, nil
}

func parseWindow(w schemas.Window) (cron.Schedule, time.Duration, *time.Location, error) {
	sched, err := schemas.ParseSchedule(w.Schedule)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("schedule %q: %w", w.Schedule, err)
	}
	d, err := time.ParseDuration(w.Duration)
	if err != nil || d <= 0 {
		return nil, 0, nil, fmt.Errorf("duration %q: not a positive duration", w.Duration)
	}
	loc, err := location(w.TimeZone)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("time zone %q: %w", w.TimeZone, err)
	}
	return sched, d, loc, nil
}

// locations caches time zones: time.LoadLocation reads the zone database
// each time.
var locations sync.Map // string -> *time.Location

func location(name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, l)
	return l, nil
}
