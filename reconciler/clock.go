package reconciler

import "time"

// Clock is the engine's time: it stamps observations (and so the steps'
// ringops.dev/step-at annotations and the settle and health timeout
// computations) and paces the waits.
type Clock interface {
	Now() time.Time
	// After is time.After.
	After(d time.Duration) <-chan time.Time
}

// WallClock is the real time.
type WallClock struct{}

var _ Clock = WallClock{}

// Now is time.Now.
func (WallClock) Now() time.Time { return time.Now() }

// After is time.After.
func (WallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
