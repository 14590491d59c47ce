package wait

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPollReturnsOnceTheConditionHolds(t *testing.T) {
	n := 0
	if err := poll(time.Minute, func() error {
		if n++; n < 5 {
			return errors.New("not yet")
		}
		return nil
	}); err != nil || n != 5 {
		t.Fatalf("poll: %v after %d calls, want nil after 5", err, n)
	}
}

// TestPollGivesTheLastReason: a wait that never ends says why, with the
// condition's last word; the limit is counted in calls that all fail, not
// asserted as a speed.
func TestPollGivesTheLastReason(t *testing.T) {
	n := 0
	err := poll(20*time.Millisecond, func() error { n++; return errors.New("mode " + strings.Repeat("I", n)) })
	var to *timeout
	if !errors.As(err, &to) || !strings.Contains(err.Error(), "mode "+strings.Repeat("I", n)) || n < 2 {
		t.Fatalf("poll: %v after %d calls", err, n)
	}
}

func TestStopEndsAtOnce(t *testing.T) {
	gone := errors.New("the pod is gone")
	n := 0
	err := poll(time.Hour, func() error { n++; return Stop(gone) })
	if !errors.Is(err, gone) || n != 1 {
		t.Fatalf("poll: %v after %d calls, want the stop's error after 1", err, n)
	}
}
