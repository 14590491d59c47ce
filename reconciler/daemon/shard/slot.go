package shard

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
)

// slot is one shard as this replica sees it.
type slot struct {
	set  *Set
	i    int
	home bool
	name string // the Lease
	lock *lock

	mu       sync.Mutex
	held     bool      // between OnStartedLeading and OnStoppedLeading
	yielding bool      // being given back: Owns false, Fence refuses
	mine     Term      // the term of this replica's last holding (from its writes)
	seen     Term      // the holder and term last read or written
	renewed  time.Time // start of the last successful write of the Lease as holder
	inflight int       // steps the fence let through, not done yet
	drained  chan struct{}
	cancel   context.CancelFunc // ends the current elector (it releases the Lease)
}

func newSlot(s *Set, i int, home bool) *slot {
	sl := &slot{set: s, i: i, home: home, name: fmt.Sprintf("%s-shard-%d", s.opts.Name, i)}
	sl.lock = &lock{slot: sl, inner: &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: s.opts.Namespace, Name: sl.name},
		Client:     s.cs.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: s.opts.Identity}}}
	return sl
}

func (sl *slot) owns() bool {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	return sl.held && !sl.yielding
}

func (sl *slot) state() State {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	return State{Shard: sl.i, Lease: sl.name, Holder: sl.seen.Holder, Term: sl.seen.String(), Owned: sl.held && !sl.yielding, Home: sl.home}
}

// fence is Set.Fence at now.
func (sl *slot) fence(now time.Time) (string, func(), error) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	switch {
	case !sl.held || sl.seen != sl.mine:
		return "", nil, fmt.Errorf("lease %s: held by %q: %w", sl.name, sl.seen.Holder, ErrNotHeld)
	case sl.yielding:
		return "", nil, fmt.Errorf("lease %s: being given back: %w", sl.name, ErrNotHeld)
	case now.Sub(sl.renewed) > sl.set.opts.RenewDeadline:
		return "", nil, fmt.Errorf("lease %s: last renewed %s ago, more than the renew deadline %s: %w",
			sl.name, now.Sub(sl.renewed).Round(time.Millisecond), sl.set.opts.RenewDeadline, ErrNotHeld)
	}
	sl.inflight++
	var once sync.Once
	return sl.mine.String(), func() { once.Do(sl.stepDone) }, nil
}

func (sl *slot) stepDone() {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	sl.inflight--
	if sl.inflight == 0 && sl.drained != nil {
		close(sl.drained)
		sl.drained = nil
	}
}

// yield stops the shard's steps: Owns turns false and the fence refuses
// from now on; it returns once the steps the fence let through are done.
func (sl *slot) yield() {
	sl.mu.Lock()
	if !sl.held {
		sl.mu.Unlock()
		return
	}
	sl.yielding = true
	var wait chan struct{}
	if sl.inflight > 0 {
		if sl.drained == nil {
			sl.drained = make(chan struct{})
		}
		wait = sl.drained
	}
	sl.mu.Unlock()
	sl.set.changes.Notify()
	if wait != nil {
		<-wait
	}
}

// giveBack yields the shard, then ends the elector, which releases the
// Lease; the campaign goes on (and the gate keeps this replica off the
// shard while its home replica is there).
func (sl *slot) giveBack() {
	sl.yield()
	sl.mu.Lock()
	cancel := sl.cancel
	sl.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// campaign runs client-go's elector on the shard's Lease, again and
// again, until ctx ends; at ctx's end a held shard is yielded, then
// released.
func (sl *slot) campaign(ctx context.Context) {
	for ctx.Err() == nil {
		ectx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		// The elector logs through klog; this package logs what a user
		// needs (taken, lost, given back) through slog, and the lock's
		// failures at debug level.
		ectx = klog.NewContext(ectx, logr.Discard())
		sl.mu.Lock()
		sl.cancel = cancel
		sl.mu.Unlock()
		stop := context.AfterFunc(ctx, func() { sl.yield(); cancel() })
		le, err := leaderelection.NewLeaderElector(sl.config(ectx))
		if err != nil { // New checked the durations
			sl.set.log.Error("shard: cannot campaign", "lease", sl.name, "err", err)
			stop()
			cancel()
			return
		}
		le.Run(ectx)
		stop()
		cancel()
	}
}

func (sl *slot) config(ectx context.Context) leaderelection.LeaderElectionConfig {
	o := sl.set.opts
	return leaderelection.LeaderElectionConfig{
		Lock: sl.lock, Name: sl.name, ReleaseOnCancel: true,
		LeaseDuration: o.LeaseDuration, RenewDeadline: o.RenewDeadline, RetryPeriod: o.RetryPeriod,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) { sl.started(lctx) },
			OnStoppedLeading: func() { sl.stopped(ectx) },
		},
	}
}

// started: the elector took the Lease (lctx ends when it stops leading;
// if it already did, this call came late and changes nothing).
func (sl *slot) started(lctx context.Context) {
	sl.mu.Lock()
	if lctx.Err() != nil {
		sl.mu.Unlock()
		return
	}
	sl.held, sl.yielding = true, false
	term := sl.mine
	sl.mu.Unlock()
	sl.set.log.Info("shard taken", "shard", sl.i, "lease", sl.name, "term", term.String(), "home", sl.home)
	sl.set.changes.Notify()
}

// stopped: the elector returned; ectx ended if this replica stopped it
// (give back, shutdown), else the Lease was lost.
func (sl *slot) stopped(ectx context.Context) {
	sl.mu.Lock()
	was, yielding, term := sl.held, sl.yielding, sl.mine
	sl.held, sl.yielding = false, false
	sl.mu.Unlock()
	if !was {
		return
	}
	if ectx.Err() == nil && !yielding {
		sl.set.log.Warn("shard lost: its Lease could not be renewed in time; its clusters stop after their step in flight",
			"shard", sl.i, "lease", sl.name, "term", term.String())
	} else {
		sl.set.log.Info("shard released", "shard", sl.i, "lease", sl.name, "term", term.String())
	}
	sl.set.changes.Notify()
}
