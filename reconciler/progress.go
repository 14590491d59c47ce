package reconciler

import (
	"context"
	"sync"
	"time"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
)

// nodeProgress is what the engine remembers of a node's long operation
// between observations: when its progress last moved, and its count of old
// sstables for the release it runs. Like the verdict's streak, it only
// makes judgements possible across observations; a restarted engine starts
// it afresh (a stall is then noticed StallTimeout later).
type nodeProgress struct {
	sig   string    // the last progress signature (mode and jolokia.Progress.Signature)
	since time.Time // since when sig is unchanged

	release string // the release the count is for
	old     int64  // the last count of old sstables, -1 unknown
	final   bool   // the count cannot change under this release: 0, or no metric (3.x)

	cleaning    bool      // replace (#16): a cleanup compaction ran at the last read
	cleanupSeen time.Time // the last time one was seen, or a cleanup answered done
}

// active reports whether a node's mode is a long operation's (its streams
// are followed).
func active(m ring.OperationMode) bool {
	switch m {
	case ring.ModeJoining, ring.ModeLeaving, ring.ModeJoiningFailed, ring.ModeDecommissionFailed:
		return true
	}
	return false
}

// readProgress reads the progress of the nodes that need it (jolokia.Progress)
// and writes RingNode.NoProgressSince and OldSSTables into rg: a node in a
// long operation's mode (JOINING, LEAVING, ..._FAILED) every time, and each
// node once per Cassandra release it runs until its count of old sstables
// is 0 (sstables only turn old when a node restarts on a newer release),
// and the nodes wanted (plan.OperationPods: a cleanup, a rebuild or
// another long operation tried there, in NORMAL mode) every time, with
// RingNode.Tasks and CleanupRunning: a converged ring costs no read. A node whose progress cannot be read is
// unknown this time.
func (e *Engine) readProgress(ctx context.Context, cluster string, snap *ring.Snapshot, rg *plan.Ring, wanted map[string]bool) {
	st := e.state(cluster)
	e.mu.Lock()
	known := st.progress
	e.mu.Unlock()
	now := e.clock.Now()
	next := map[string]*nodeProgress{}
	type job struct {
		node ring.Node
		mode ring.OperationMode
		prev *nodeProgress
		got  *jolokia.Progress
	}
	var jobs []*job
	for _, en := range snap.Entries {
		if en.View == nil || en.Err != nil || en.Node.Pod == "" {
			continue
		}
		prev := known[en.Node.Pod]
		if prev == nil || prev.release != en.View.ReleaseVersion {
			seen := time.Time{}
			if prev != nil {
				seen = prev.cleanupSeen
			}
			prev = &nodeProgress{release: en.View.ReleaseVersion, old: -1, cleanupSeen: seen}
		}
		if prev.final && !active(en.View.Mode) && !wanted[en.Node.Pod] {
			next[en.Node.Pod] = prev
			setProgress(rg, en.Node.Pod, time.Time{}, prev.old, nil)
			setCleanup(rg, en.Node.Pod, prev)
			continue
		}
		jobs = append(jobs, &job{node: en.Node, mode: en.View.Mode, prev: prev})
	}
	sem := make(chan struct{}, max(1, e.opts.Snapshot.Concurrency))
	var wg sync.WaitGroup
	for _, j := range jobs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			j.got, _ = e.nodeOps.ReadProgress(ctx, j.node)
		})
	}
	wg.Wait()
	for _, j := range jobs {
		p := *j.prev
		if j.got == nil {
			next[j.node.Pod] = &p
			setProgress(rg, j.node.Pod, time.Time{}, p.old, nil)
			setCleanup(rg, j.node.Pod, &p)
			continue
		}
		if p.cleaning = j.got.CleaningUp(); p.cleaning {
			p.cleanupSeen = now
		}
		if sig := string(j.mode) + ";" + j.got.Signature(); sig != p.sig || p.since.IsZero() {
			p.sig, p.since = sig, now
		}
		p.old = j.got.OldSSTables
		major, _ := ring.ReleaseMajor(p.release)
		p.final = p.old == 0 || major < 4 // 3.x has no OldVersionSSTableCount
		next[j.node.Pod] = &p
		setProgress(rg, j.node.Pod, p.since, p.old, j.got.Tasks())
		setCleanup(rg, j.node.Pod, &p)
	}
	e.mu.Lock()
	st.progress = next
	e.mu.Unlock()
}

// setCleanup writes what is known of a node's cleanup into the ring.
func setCleanup(rg *plan.Ring, pod string, p *nodeProgress) {
	n, ok := rg.Nodes[pod]
	if !ok {
		return
	}
	n.CleanupRunning, n.CleanupSeen = p.cleaning, p.cleanupSeen
	rg.Nodes[pod] = n
}

func setProgress(rg *plan.Ring, pod string, since time.Time, old int64, tasks []string) {
	n, ok := rg.Nodes[pod]
	if !ok {
		return
	}
	n.NoProgressSince, n.OldSSTables, n.Tasks = since, old, tasks
	rg.Nodes[pod] = n
}
