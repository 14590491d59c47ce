package cassandra

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestCloseLeavesNothingRunning checks that Close ends every goroutine and
// closes every listener, even with a decommission exec blocked in flight.
func TestCloseLeavesNothingRunning(t *testing.T) {
	before := runtime.NumGoroutine()
	w := newWorld(t, testOptions())
	a, _, c := threeNodes(t, w, 30)
	c.SetJolokiaDelay(time.Hour) // a request parked in the delay
	parked := agentOf(c)
	go func() { _, _ = parked.mode() }()
	blocked := execAsync(agentOf(a), execReq("decommission", true))
	eventually(t, "a leaving", func() error {
		if a.Mode() != "LEAVING" {
			return fmt.Errorf("mode %s", a.Mode())
		}
		return nil
	})
	w.sim.Close()
	if r := <-blocked; r.Status == 200 {
		t.Error("decommission exec succeeded though the sim closed under it")
	}
	for _, n := range []*Node{a, c} {
		if _, err := agentOf(n).mode(); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("%s after Close: %v, want connection refused", n.cfg.IP, err)
		}
	}
	eventually(t, "goroutines back to the baseline", func() error {
		if now := runtime.NumGoroutine(); now > before {
			buf := make([]byte, 1<<16)
			return fmt.Errorf("%d goroutines, %d before:\n%s", now, before, buf[:runtime.Stack(buf, true)])
		}
		return nil
	})
}
