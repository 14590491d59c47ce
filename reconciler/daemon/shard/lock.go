package shard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// errStandAside: the gate kept this replica from taking a shard that is
// not its home (lock.write).
var errStandAside = errors.New("standing aside")

// lock is the shard's Lease as client-go's elector uses it, with what the
// fence and the gate need: every record read or written is remembered
// (the term), every successful write as holder times the renewal (from
// its start, the conservative end), and an attempt to take a shard that
// is not this replica's home goes through the gate first.
type lock struct {
	slot  *slot
	inner *resourcelock.LeaseLock
}

var _ resourcelock.Interface = (*lock)(nil)

func (l *lock) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	rec, raw, err := l.inner.Get(ctx)
	if err != nil {
		l.slot.set.log.Debug("shard lease: read", "lease", l.slot.name, "err", err)
		return rec, raw, err
	}
	l.slot.observe(termOf(*rec))
	return rec, raw, nil
}

func (l *lock) Create(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	return l.write(ctx, ler, l.inner.Create)
}

func (l *lock) Update(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	return l.write(ctx, ler, l.inner.Update)
}

func (l *lock) RecordEvent(string) {}
func (l *lock) Identity() string   { return l.inner.Identity() }
func (l *lock) Describe() string   { return l.inner.Describe() }
func termOf(r resourcelock.LeaderElectionRecord) Term {
	return Term{Holder: r.HolderIdentity, Transitions: int32(r.LeaderTransitions)}
}

// write is one write of the record: a take (a new term of this replica)
// passes the gate first.
func (l *lock) write(ctx context.Context, ler resourcelock.LeaderElectionRecord, do func(context.Context, resourcelock.LeaderElectionRecord) error) error {
	sl := l.slot
	t := termOf(ler)
	if t.Holder == l.Identity() && sl.taking(t) {
		if err := sl.set.mayTake(ctx, sl); err != nil {
			sl.set.log.Debug("shard lease: not taken", "lease", sl.name, "reason", err)
			return err
		}
	}
	start := time.Now()
	if err := do(ctx, ler); err != nil {
		sl.set.log.Debug("shard lease: write", "lease", sl.name, "err", err)
		return err
	}
	sl.wrote(t, start)
	return nil
}

// taking reports whether writing t takes the shard (a new term) rather
// than renews this replica's current term.
func (sl *slot) taking(t Term) bool {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	return sl.mine != t
}

func (sl *slot) observe(t Term) {
	sl.mu.Lock()
	sl.seen = t
	sl.mu.Unlock()
}

// wrote records a successful write of t, started at start.
func (sl *slot) wrote(t Term, start time.Time) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	sl.seen = t
	if t.Holder == sl.set.opts.Identity {
		sl.mine, sl.renewed = t, start
	}
}

// mayTake is the gate before this replica takes shard sl: its home shard
// at once; another only once the home replicas had one LeaseDuration
// from this replica's start to claim theirs, and while no home replica of
// that shard announced itself within the last LeaseDuration.
func (s *Set) mayTake(ctx context.Context, sl *slot) error {
	if sl.home {
		return nil
	}
	if wait := s.opts.LeaseDuration - time.Since(s.start); wait > 0 {
		return fmt.Errorf("lease %s: %w for %s more: the home replicas starting claim their shards first", sl.name, errStandAside, wait.Round(time.Millisecond))
	}
	holder, fresh, err := sl.announced(ctx)
	if err != nil {
		return fmt.Errorf("lease %s: read its home replica's announcement: %w", sl.name, err)
	}
	if fresh && holder != s.opts.Identity {
		return fmt.Errorf("lease %s: %w: its home replica %s is there", sl.name, errStandAside, holder)
	}
	return nil
}
