// Package wait is the one polling helper of ringops' tests. A test waits
// for the world (a controller, a node, a goroutine) to reach a state: For
// polls until the condition holds, and fails the test with the last reason
// it did not when the limit passes. The limit bounds a wait for the world;
// it is never a performance assertion (those are benchmarks). Only tests
// import it (internal/arch checks).
package wait

import (
	"errors"
	"testing"
	"time"
)

// stop is an error that ends a wait at once.
type stop struct{ error }

func (s stop) Unwrap() error { return s.error }

// Stop wraps err so that For fails at once with it: the state waited for
// can no longer come.
func Stop(err error) error { return stop{err} }

// For calls cond until it returns nil, first every millisecond, then less
// often, up to every 100 ms. It fails the test with cond's last error when
// limit passes, or at once when cond returns Stop(err).
func For(t testing.TB, limit time.Duration, what string, cond func() error) {
	t.Helper()
	if err := poll(limit, cond); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Until is For for a condition that says whether it holds and, when it
// does not, why.
func Until(t testing.TB, limit time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	For(t, limit, what, func() error {
		if ok, why := cond(); !ok {
			return errors.New(why)
		}
		return nil
	})
}

// poll is For without the test: nil once cond holds, else why not.
func poll(limit time.Duration, cond func() error) error {
	deadline := time.Now().Add(limit)
	pause := time.Millisecond
	for {
		err := cond()
		if err == nil {
			return nil
		}
		var s stop
		if errors.As(err, &s) {
			return s.error
		}
		if time.Now().After(deadline) {
			return &timeout{limit: limit, last: err}
		}
		time.Sleep(pause)
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// timeout is a wait whose limit passed.
type timeout struct {
	limit time.Duration
	last  error
}

func (e *timeout) Error() string {
	return "still not the case after " + e.limit.String() + ": " + e.last.Error()
}
func (e *timeout) Unwrap() error { return e.last }
