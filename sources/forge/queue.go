package forge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Reporter takes the statuses of the rollouts. Report never blocks on the
// forge: it returns at once, and an error only for a Status that can never
// be posted (ErrInvalidStatus).
type Reporter interface {
	Report(ctx context.Context, s Status) error
}

var _ Reporter = (*Queue)(nil)

// Options configure a Queue.
type Options struct {
	// MinInterval is the least time between two posts in one context of
	// one revision; a status reported sooner waits, and only the latest
	// one waiting is posted (terminal states are never dropped). Default 10s.
	MinInterval time.Duration
	// MinSpacing is the least time between two requests to the forge
	// (GitHub asks for a second between mutative requests). Default 1s.
	MinSpacing time.Duration
	// MinBackoff is the wait after a first transient failure; it doubles
	// with each further failure up to MaxBackoff. A rate-limit answer
	// waits at least as long as the forge says. Defaults 1s and 5m.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// RequestTimeout bounds each request to the forge. Default 30s.
	RequestTimeout time.Duration
	// MaxRevisions is how many revisions are remembered for dedupe; the
	// least recently reported ones with nothing queued are forgotten first.
	// Default 256.
	MaxRevisions int
	// MaxQueued bounds the statuses waiting in one context (terminal ones
	// accumulate; the oldest is dropped beyond this). Default 8.
	MaxQueued int
	// Clock defaults to the system clock.
	Clock Clock
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{
		MinInterval:    10 * time.Second,
		MinSpacing:     time.Second,
		MinBackoff:     time.Second,
		MaxBackoff:     5 * time.Minute,
		RequestTimeout: 30 * time.Second,
		MaxRevisions:   256,
		MaxQueued:      8,
		Clock:          SystemClock{},
		Logger:         slog.Default(),
	}
}

func (o Options) validate() error {
	var errs []error
	if o.MinInterval < 0 || o.MinSpacing < 0 {
		errs = append(errs, errors.New("intervals must not be negative"))
	}
	if o.MinBackoff <= 0 || o.MaxBackoff < o.MinBackoff {
		errs = append(errs, errors.New("backoff must be positive with min <= max"))
	}
	if o.RequestTimeout <= 0 || o.MaxRevisions <= 0 || o.MaxQueued <= 0 {
		errs = append(errs, errors.New("request timeout, max revisions and max queued must be positive"))
	}
	if o.Clock == nil || o.Logger == nil {
		errs = append(errs, errors.New("clock and logger are required"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("forge queue: options: %w", err)
	}
	return nil
}

// Stats count what the Queue did, for tests and metrics.
type Stats struct {
	// Reported counts accepted Report calls.
	Reported int
	// Posted counts statuses the forge now shows (including GitLab's
	// "already posted" answers).
	Posted int
	// Deduped counts statuses not sent because the forge already showed them.
	Deduped int
	// Coalesced counts statuses replaced by a newer one before posting.
	Coalesced int
	// Dropped counts statuses the forge refused for good, or that
	// overflowed MaxQueued.
	Dropped int
	// Retries counts failed requests that will be tried again.
	Retries int
	// Requests counts requests sent (posts and listings).
	Requests int
	// Queued is the number of statuses waiting now.
	Queued int
	// LastError is the last failure, if any.
	LastError error
}

// Queue is the Reporter every forge goes through: it dedupes against the
// last state posted per (revision, context) — read back from the forge the
// first time a revision is seen, so a restarted daemon does not repost —,
// throttles each context, holds the summary (SummaryContext) behind the
// statuses of the regions it counts that were reported before it, retries
// transient failures with backoff, honours rate limits, and keeps the
// latest state per context while the forge is down. Report enqueues; Run
// posts.
type Queue struct {
	client Client
	limits Limits
	opts   Options
	log    *slog.Logger
	wake   chan struct{}

	mu           sync.Mutex
	revs         map[string]*revState
	seq          uint64
	changed      chan struct{} // closed at every change, for Flush
	blockedUntil time.Time     // forge-wide: backoff or rate limit
	lastRequest  time.Time
	failures     int
	stats        Stats
}

type revState struct {
	read    bool // the forge's statuses were read (or cannot be)
	lastUse uint64
	slots   map[string]*slot
}

type slot struct {
	queued   []queuedStatus
	posted   *Remote // last state the forge shows, as far as we know
	postedAt time.Time
}

type queuedStatus struct {
	Status
	seq uint64
	// reported is the seq the status was reported with: seq moves when a
	// failed post lets other contexts go first (toBackLocked), reported
	// keeps the order of the reports, which the summary is held behind.
	reported uint64
}

// NewQueue returns a Queue posting through client. Call Run to start posting.
func NewQueue(client Client, opts Options) (*Queue, error) {
	if client == nil {
		return nil, errors.New("forge queue: client is required")
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	return &Queue{
		client:  client,
		limits:  client.Limits(),
		opts:    opts,
		log:     opts.Logger.With("forge", client.Kind().String()),
		wake:    make(chan struct{}, 1),
		revs:    map[string]*revState{},
		changed: make(chan struct{}),
	}, nil
}

// Report queues s for posting and returns at once. The description is made
// one line and truncated to the forge's limit; a status equal to the one
// the forge shows is not queued.
func (q *Queue) Report(_ context.Context, s Status) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s = q.normalize(s)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stats.Reported++
	q.enqueueLocked(s)
	q.evictLocked()
	q.changedLocked()
	return nil
}

// Supersede marks every context of revision old that is still pending as
// superseded by revision by (one call when a new revision is picked up).
func (q *Queue) Supersede(ctx context.Context, old, by string) error {
	q.mu.Lock()
	rev := q.revs[old]
	var contexts []string
	if rev != nil {
		for name, sl := range rev.slots {
			if q.pendingLocked(sl) {
				contexts = append(contexts, name)
			}
		}
	}
	q.mu.Unlock()
	sortStrings(contexts)
	var errs []error
	for _, c := range contexts {
		errs = append(errs, q.Report(ctx, Superseded(old, c, by)))
	}
	return errors.Join(errs...)
}

// pendingLocked reports whether the latest known state of a slot is pending.
func (q *Queue) pendingLocked(sl *slot) bool {
	if n := len(sl.queued); n > 0 {
		return sl.queued[n-1].State == StatePending
	}
	return sl.posted != nil && sl.posted.State == q.client.NativeState(StatePending)
}

// Flush waits until every queued status is posted or dropped, or ctx ends.
func (q *Queue) Flush(ctx context.Context) error {
	for {
		q.mu.Lock()
		n, ch := q.queuedLocked(), q.changed
		q.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("forge queue: %d statuses not posted: %w", n, ctx.Err())
		case <-ch:
		}
	}
}

// Stats returns a snapshot of the counters.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := q.stats
	st.Queued = q.queuedLocked()
	return st
}

func (q *Queue) normalize(s Status) Status {
	s.Description = Truncate(CleanDescription(s.Description), q.limits.Description)
	if q.limits.TargetURL > 0 && len([]rune(s.TargetURL)) > q.limits.TargetURL {
		s.TargetURL = ""
	}
	return s
}

func (q *Queue) enqueueLocked(s Status) {
	q.seq++
	rev := q.revs[s.Revision]
	if rev == nil {
		rev = &revState{slots: map[string]*slot{}}
		q.revs[s.Revision] = rev
	}
	rev.lastUse = q.seq
	sl := rev.slots[s.Context]
	if sl == nil {
		sl = &slot{}
		rev.slots[s.Context] = sl
	}
	n := len(sl.queued)
	if n > 0 && sl.queued[n-1].Status == s {
		return // already waiting
	}
	if n > 0 && !sl.queued[n-1].State.Terminal() {
		sl.queued = sl.queued[:n-1] // the latest progress wins
		q.stats.Coalesced++
	}
	sl.queued = append(sl.queued, queuedStatus{Status: s, seq: q.seq, reported: q.seq})
	q.dropPostedHeadLocked(sl)
	if len(sl.queued) > q.opts.MaxQueued {
		sl.queued = sl.queued[1:]
		q.stats.Dropped++
	}
	q.signal()
}

// dropPostedHeadLocked removes queued statuses the forge already shows.
func (q *Queue) dropPostedHeadLocked(sl *slot) {
	for len(sl.queued) > 0 && sl.posted != nil && q.same(sl.queued[0].Status, *sl.posted) {
		sl.queued = sl.queued[1:]
		q.stats.Deduped++
	}
}

// same reports whether the forge would show s exactly as r. An empty
// TargetURL means "no link wanted" and matches any.
func (q *Queue) same(s Status, r Remote) bool {
	return q.client.NativeState(s.State) == r.State && s.Description == r.Description &&
		(s.TargetURL == "" || s.TargetURL == r.TargetURL)
}

// evictLocked forgets the least recently used revisions with nothing queued.
func (q *Queue) evictLocked() {
	for len(q.revs) > q.opts.MaxRevisions {
		var oldest string
		var oldestUse uint64
		for name, rev := range q.revs {
			if rev.queued() == 0 && (oldest == "" || rev.lastUse < oldestUse) {
				oldest, oldestUse = name, rev.lastUse
			}
		}
		if oldest == "" {
			return
		}
		delete(q.revs, oldest)
	}
}

// heldBack reports whether the summary queued at the head of sl must
// wait: a context it summarises still has a status queued that was
// reported before it. On the forge the summary never runs ahead of the
// regions it counts ("2/2 regions done" while a region shows pending),
// whatever their throttle windows and retries.
func (r *revState) heldBack(name string, sl *slot) bool {
	if name != SummaryContext {
		return false
	}
	head := sl.queued[0].reported
	for c, other := range r.slots {
		if !summarised(c) {
			continue
		}
		for _, qs := range other.queued {
			if qs.reported < head {
				return true
			}
		}
	}
	return false
}

func (r *revState) queued() int {
	n := 0
	for _, sl := range r.slots {
		n += len(sl.queued)
	}
	return n
}

func (q *Queue) queuedLocked() int {
	n := 0
	for _, rev := range q.revs {
		n += rev.queued()
	}
	return n
}

// summarised reports whether the summary of a revision counts context c:
// every context ringops posts but the summary and the plan of a
// pull-request head.
func summarised(c string) bool {
	return strings.HasPrefix(c, ContextPrefix+"/") && c != PlanContext
}

func (q *Queue) changedLocked() {
	close(q.changed)
	q.changed = make(chan struct{})
}

func (q *Queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}
