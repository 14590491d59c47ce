package forgetest

import (
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ringops/ringops/sources/forge"
)

// Clock is a forge.Clock that only moves when the test says so: the
// Queue's throttle windows, backoffs and rate-limit waits become timers
// the test can inspect (NextTimer) and fire (Advance), without sleeping.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*timer
	changed chan struct{} // closed when timers are added
}

var _ forge.Clock = (*Clock)(nil)

// Epoch is where test clocks start: 2026-01-01T00:00:00Z (1767225600),
// the "now" recorded contracts compute their reset headers from.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// NewClock returns a Clock at start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, changed: make(chan struct{})}
}

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *Clock) NewTimer(d time.Duration) forge.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{clock: c, when: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- c.now
		return t
	}
	c.timers = append(c.timers, t)
	close(c.changed)
	c.changed = make(chan struct{})
	return t
}

// Advance moves the clock by d and fires the timers that fall due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.timers[:0]
	for _, t := range c.timers {
		if t.when.After(c.now) {
			keep = append(keep, t)
			continue
		}
		t.ch <- c.now
	}
	c.timers = keep
}

// NextTimer waits (in real time, at most 10s) until a timer is set and
// returns how far ahead the earliest one is: what the code under test
// decided to wait. It fails the test if no timer is set.
func (c *Clock) NextTimer(tb testing.TB) time.Duration {
	tb.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		if len(c.timers) > 0 {
			sort.Slice(c.timers, func(i, j int) bool { return c.timers[i].when.Before(c.timers[j].when) })
			d := c.timers[0].when.Sub(c.now)
			c.mu.Unlock()
			return d
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			tb.Fatalf("forgetest clock: no timer was set within 10s")
			return 0
		}
	}
}

// Pending reports how far ahead the earliest timer is, if one is set.
func (c *Clock) Pending() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return 0, false
	}
	earliest := c.timers[0].when
	for _, t := range c.timers[1:] {
		if t.when.Before(earliest) {
			earliest = t.when
		}
	}
	return earliest.Sub(c.now), true
}

type timer struct {
	clock *Clock
	when  time.Time
	ch    chan time.Time
}

func (t *timer) C() <-chan time.Time { return t.ch }

func (t *timer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.timers {
		if x == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			return true
		}
	}
	return false
}
