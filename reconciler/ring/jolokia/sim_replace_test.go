package jolokia_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
)

// TestSimRemoveNode: a dead node is removed through a live one, the call
// returns at once; every view has the dead node leaving, then it is gone.
// A live node, or an unknown host ID, is refused before anything is sent.
func TestSimRemoveNode(t *testing.T) {
	o := fastSimOptions()
	o.RemoveTime = time.Second
	r := startSimRing(t, ringSpec{DCs: 1, Racks: 3, PerRack: 1, Options: o})
	c := newClient(nil, 2*time.Second)
	waitResult(t, c, ring.Expected{Nodes: r.nodes}, "healthy", func(res ring.Result) bool { return res.Healthy })
	dead, via := r.nodes[2], r.nodes[0]
	hostID := r.procs[dead.Pod].HostID()
	ops := jolokia.NewOperations(c, jolokia.OperationOptions{ExecTimeout: 200 * time.Millisecond})
	if err := ops.RemoveNode(context.Background(), via, hostID); !errors.Is(err, jolokia.ErrRemoveFailed) {
		t.Fatalf("removenode of a live node: %v, want ErrRemoveFailed", err)
	}
	r.procs[dead.Pod].Kill()
	alive := ring.Expected{Nodes: r.nodes[:2]}
	eventually(t, "the dead node down in "+via.Pod+"'s view", func() (bool, string) {
		v, err := c.ReadView(context.Background(), via)
		return err == nil && contains(v.Unreachable, dead.IP), "not yet"
	})
	if err := ops.RemoveNode(context.Background(), via, "5d1e2f3a-9b8c-4d7e-a6f5-0123456789ab"); !errors.Is(err, jolokia.ErrRemoveFailed) {
		t.Fatalf("removenode of an unknown host ID: %v", err)
	}
	start := time.Now()
	if err := ops.RemoveNode(context.Background(), via, hostID); err != nil {
		t.Fatalf("removenode: %v", err)
	}
	if d := time.Since(start); d >= o.RemoveTime {
		t.Errorf("RemoveNode held the call open for %s, as long as the removal", d)
	}
	waitResult(t, c, alive, "the dead node leaving in every view", func(res ring.Result) bool {
		for _, st := range res.Nodes {
			if !st.Expected && st.State == ring.DL {
				return true
			}
		}
		return false
	})
	waitResult(t, c, alive, "the dead node gone", func(res ring.Result) bool { return res.Healthy })
}

// TestSimCleanup: a cleanup is refused while a node joins, and otherwise
// sent once; a short one is done within the call, a long one shows as a
// Cleanup compaction until it ends.
func TestSimCleanup(t *testing.T) {
	o := fastSimOptions()
	o.CleanupTime = time.Second
	r := startSimRing(t, ringSpec{DCs: 1, Racks: 2, PerRack: 1, Options: o})
	c := newClient(nil, 2*time.Second)
	waitResult(t, c, ring.Expected{Nodes: r.nodes}, "healthy", func(res ring.Result) bool { return res.Healthy })
	n := r.nodes[0]
	ops := jolokia.NewOperations(c, jolokia.OperationOptions{ExecTimeout: 200 * time.Millisecond})
	done, err := ops.Cleanup(context.Background(), n, 1, nil)
	if err != nil || done {
		t.Fatalf("cleanup: done %v, err %v; want sent and running", done, err)
	}
	eventually(t, "a Cleanup compaction", func() (bool, string) {
		p, err := ops.ReadProgress(context.Background(), n)
		return err == nil && p.CleaningUp(), "not seen"
	})
	eventually(t, "the cleanup over", func() (bool, string) {
		p, err := ops.ReadProgress(context.Background(), n)
		return err == nil && p.CompactionsKnown && !p.CleaningUp(), "still running"
	})
	quick := jolokia.NewOperations(newClient(nil, 30*time.Second), jolokia.OperationOptions{ExecTimeout: 30 * time.Second})
	if done, err := quick.Cleanup(context.Background(), r.nodes[1], 2, nil); err != nil || !done {
		t.Fatalf("a cleanup answered in time: done %v, err %v", done, err)
	}
	down, err := quick.Downtime(context.Background(), n, r.nodes[1].IP)
	if err != nil || down != 0 {
		t.Errorf("downtime of a live node: %s %v", down, err)
	}
	r.procs[r.nodes[1].Pod].Kill()
	eventually(t, "the killed node's downtime", func() (bool, string) {
		d, err := quick.Downtime(context.Background(), n, r.nodes[1].IP)
		return err == nil && d > 0, d.String()
	})
	if _, err := quick.Cleanup(context.Background(), n, 1, nil); !errors.Is(err, jolokia.ErrRingBusy) {
		t.Errorf("cleanup with a node down: %v, want ErrRingBusy", err)
	}
}
