package forge

import (
	"context"
	"errors"
	"sort"
	"time"
)

// Run posts queued statuses until ctx ends; call it once, in its own
// goroutine. Each turn it takes the status that may be sent soonest (the
// oldest first among equals), waits until then, and sends it:
//
//	not read yet ──▶ Latest (once per revision) ── transient ──▶ forge-wide backoff
//	summary ──▶ held while a region it counts has a status reported before it queued
//	same as forge shows ──▶ dropped (Deduped), no request
//	Post ── ok / already posted ──▶ posted; the context's window restarts
//	     ── transient / rate limit ──▶ kept; forge-wide wait (backoff, Retry-After, reset)
//	     ── refused (401, 404, 422, ...) ──▶ dropped, logged
//
// Statuses reported while the forge is down replace the waiting progress
// of their context, so the latest state is what is posted when it is back.
func (q *Queue) Run(ctx context.Context) {
	for ctx.Err() == nil {
		j, due, ok := q.next()
		now := q.opts.Clock.Now()
		if ok && !due.After(now) {
			q.process(ctx, j)
			continue
		}
		q.sleep(ctx, ok, due.Sub(now))
	}
}

type job struct{ revision, context string }

// next returns the queued context that may be served soonest and when.
func (q *Queue) next() (job, time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	forgeDue := q.blockedUntil
	if !q.lastRequest.IsZero() {
		forgeDue = later(forgeDue, q.lastRequest.Add(q.opts.MinSpacing))
	}
	var best job
	var bestDue time.Time
	var bestSeq uint64
	found := false
	for rname, rev := range q.revs {
		for cname, sl := range rev.slots {
			if len(sl.queued) == 0 || rev.heldBack(cname, sl) {
				continue
			}
			due := forgeDue
			if !sl.postedAt.IsZero() {
				due = later(due, sl.postedAt.Add(q.opts.MinInterval))
			}
			seq := sl.queued[0].seq
			if !found || due.Before(bestDue) || (due.Equal(bestDue) && seq < bestSeq) {
				best, bestDue, bestSeq, found = job{rname, cname}, due, seq, true
			}
		}
	}
	return best, bestDue, found
}

func (q *Queue) sleep(ctx context.Context, timed bool, d time.Duration) {
	var fire <-chan time.Time
	if timed {
		t := q.opts.Clock.NewTimer(d)
		defer t.Stop()
		fire = t.C()
	}
	select {
	case <-ctx.Done():
	case <-q.wake:
	case <-fire:
	}
}

// process serves one context: reads the revision's statuses from the
// forge first if that was not done yet, else posts the oldest queued status.
func (q *Queue) process(ctx context.Context, j job) {
	q.mu.Lock()
	rev := q.revs[j.revision]
	if rev == nil {
		q.mu.Unlock()
		return
	}
	if !rev.read {
		q.mu.Unlock()
		q.readLatest(ctx, j.revision)
		return
	}
	sl := rev.slots[j.context]
	q.dropPostedHeadLocked(sl)
	if len(sl.queued) == 0 {
		q.changedLocked()
		q.mu.Unlock()
		return
	}
	head := sl.queued[0]
	q.mu.Unlock()

	rctx, cancel := context.WithTimeout(ctx, q.opts.RequestTimeout)
	err := q.client.Post(rctx, head.Status)
	cancel()

	q.mu.Lock()
	defer q.mu.Unlock()
	q.afterPostLocked(sl, head, err)
	q.changedLocked()
}

func (q *Queue) afterPostLocked(sl *slot, head queuedStatus, err error) {
	now := q.opts.Clock.Now()
	q.lastRequest = now
	q.stats.Requests++
	switch {
	case err == nil || errors.Is(err, ErrAlreadyPosted):
		sl.posted = &Remote{Context: head.Context, State: q.client.NativeState(head.State),
			Description: head.Description, TargetURL: head.TargetURL}
		sl.postedAt = now
		popIf(sl, head.seq)
		q.dropPostedHeadLocked(sl)
		q.stats.Posted++
		q.recoveredLocked()
		q.log.Debug("commit status posted", "revision", head.Revision, "context", head.Context,
			"state", head.State.String(), "description", head.Description)
	case retryable(err):
		q.failLocked(now, err)
		q.toBackLocked(sl, head.seq)
	default:
		popIf(sl, head.seq)
		q.stats.Dropped++
		q.stats.LastError = err
		q.log.Error("commit status refused by the forge; dropped", "revision", head.Revision,
			"context", head.Context, "state", head.State.String(), "error", err)
	}
}

// toBackLocked lets the other contexts go first after a failed post, so
// that one status the forge keeps failing on (a 500 for that commit only)
// does not hold back the others.
func (q *Queue) toBackLocked(sl *slot, seq uint64) {
	if len(sl.queued) > 0 && sl.queued[0].seq == seq {
		q.seq++
		sl.queued[0].seq = q.seq
	}
}

// popIf removes the head of the queue if it is still the status that was sent
// (a newer progress report may have replaced it meanwhile).
func popIf(sl *slot, seq uint64) {
	if len(sl.queued) > 0 && sl.queued[0].seq == seq {
		sl.queued = sl.queued[1:]
	}
}

// readLatest seeds the revision's known statuses from the forge.
func (q *Queue) readLatest(ctx context.Context, revision string) {
	rctx, cancel := context.WithTimeout(ctx, q.opts.RequestTimeout)
	remotes, err := q.client.Latest(rctx, revision)
	cancel()

	q.mu.Lock()
	defer q.mu.Unlock()
	defer q.changedLocked()
	now := q.opts.Clock.Now()
	if !errors.Is(err, ErrUnsupported) {
		q.lastRequest = now
		q.stats.Requests++
	}
	rev := q.revs[revision]
	switch {
	case rev == nil:
	case err == nil:
		rev.read = true
		q.seedLocked(rev, remotes)
		q.recoveredLocked()
	case errors.Is(err, ErrUnsupported):
		rev.read = true
	case retryable(err):
		q.failLocked(now, err)
	default:
		rev.read = true
		q.log.Warn("cannot read the commit's statuses; dedupe from memory only",
			"revision", revision, "error", err)
	}
}

func (q *Queue) seedLocked(rev *revState, remotes []Remote) {
	for _, r := range remotes {
		sl := rev.slots[r.Context]
		if sl == nil {
			sl = &slot{}
			rev.slots[r.Context] = sl
		}
		if sl.posted == nil {
			r := r
			sl.posted = &r
		}
		q.dropPostedHeadLocked(sl)
	}
}

// failLocked blocks the forge after a retryable failure: exponential
// backoff, or longer if the forge said so (Retry-After, rate-limit reset).
func (q *Queue) failLocked(now time.Time, err error) {
	q.failures++
	q.stats.Retries++
	q.stats.LastError = err
	until := now.Add(q.backoff(q.failures))
	var api *APIError
	if errors.As(err, &api) {
		until = later(until, now.Add(api.RetryAfter))
		until = later(until, api.ResetAt)
	}
	q.blockedUntil = until
	log := q.log.Debug
	if q.failures == 1 {
		log = q.log.Warn
	}
	log("forge unavailable; statuses kept for later", "retry_in", until.Sub(now).String(),
		"queued", q.queuedLocked(), "error", err)
}

func (q *Queue) recoveredLocked() {
	if q.failures > 0 {
		q.log.Info("forge reachable again", "failures", q.failures)
	}
	q.failures = 0
}

func (q *Queue) backoff(failures int) time.Duration {
	d := q.opts.MinBackoff
	for i := 1; i < failures && d < q.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, q.opts.MaxBackoff)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func sortStrings(s []string) { sort.Strings(s) }
