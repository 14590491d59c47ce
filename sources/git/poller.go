package git

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Source is what the daemon needs from a Git source.
type Source interface {
	// Poll does one tick and returns the new snapshot when the ref moved.
	Poll(ctx context.Context) (snap *Snapshot, changed bool, err error)
	// Current returns the last accepted snapshot (nil before the first).
	Current() *Snapshot
	// Trigger asks Run for an immediate poll.
	Trigger()
}

var _ Source = (*Poller)(nil)

// Outcome is what one poll found.
type Outcome int

const (
	// Unchanged: the remote head is the revision already seen; nothing fetched.
	Unchanged Outcome = iota
	// Changed: a new revision was fetched and is now the current snapshot.
	Changed
	// Failed: the remote could not be asked or the fetch failed; the
	// current snapshot stays.
	Failed
	// Refused: the new revision was fetched and refused (signature, size);
	// the current snapshot stays.
	Refused
)

func (o Outcome) String() string {
	switch o {
	case Unchanged:
		return "Unchanged"
	case Changed:
		return "Changed"
	case Failed:
		return "Failed"
	case Refused:
		return "Refused"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Result is the outcome of one poll, as sent by Run.
type Result struct {
	Outcome Outcome
	// Revision is the remote head: the new revision when Changed, the one
	// already seen when Unchanged, the refused one when Refused; zero when
	// Failed.
	Revision Revision
	// Snapshot is the new snapshot when Changed, nil otherwise.
	Snapshot *Snapshot
	// Err is set when Failed or Refused.
	Err error
	// Duration is how long the poll took (ls-remote, and the fetch when
	// there was one).
	Duration time.Duration
}

// Poller watches one ref of one repository.
type Poller struct {
	opts    Options
	ep      *transport.Endpoint
	ref     string
	creds   *credentials
	verify  *verifier
	trigger chan struct{}

	pollMu sync.Mutex // one poll at a time

	mu         sync.Mutex // guards the fields below
	last       Revision
	current    *Snapshot
	refused    Revision
	refusedErr error
}

// NewPoller checks opts (URL, auth, durations) and loads the trusted keys
// when Verify is set. It does not contact the remote.
func NewPoller(opts Options) (*Poller, error) {
	ep, err := opts.validate()
	if err != nil {
		return nil, err
	}
	p := &Poller{
		opts: opts, ep: ep, ref: opts.ref(),
		creds:   &credentials{opts: opts.Auth, ep: ep},
		trigger: make(chan struct{}, 1),
	}
	if opts.Verify != nil {
		if p.verify, err = newVerifier(opts.Verify); err != nil {
			return nil, fmt.Errorf("git %s: %w", opts.URL, err)
		}
	}
	return p, nil
}

// Ref returns the full name of the watched ref.
func (p *Poller) Ref() string { return p.ref }

// Current returns the last accepted snapshot, nil before the first. A
// failed or refused poll never replaces it.
func (p *Poller) Current() *Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.current
}

// Trigger asks Run for a poll now. It never blocks; triggers that arrive
// while a poll is pending are merged into it.
func (p *Poller) Trigger() {
	select {
	case p.trigger <- struct{}{}:
	default:
	}
}

// Poll does one tick: ls-remote; when the head is the revision already seen
// it returns (nil, false, nil) without fetching. Otherwise it fetches the
// head at depth 1, verifies it when configured and makes it current.
// Errors are typed (ErrRefNotFound, ErrUnreachable, ErrAuth, ErrUntrusted,
// ErrRefused and its refusals); on error the current snapshot is kept.
func (p *Poller) Poll(ctx context.Context) (*Snapshot, bool, error) {
	r := p.poll(ctx)
	return r.Snapshot, r.Outcome == Changed, r.Err
}

func (p *Poller) poll(ctx context.Context) Result {
	p.pollMu.Lock()
	defer p.pollMu.Unlock()
	head, err := p.Head(ctx)
	if err != nil {
		return Result{Outcome: Failed, Err: err}
	}
	p.mu.Lock()
	last, refused, refusedErr := p.last, p.refused, p.refusedErr
	p.mu.Unlock()
	switch head.Hash {
	case last.Hash:
		return Result{Outcome: Unchanged, Revision: head}
	case refused.Hash:
		return Result{Outcome: Refused, Revision: head, Err: refusedErr}
	}
	snap, err := p.fetchVerified(ctx)
	switch {
	case errors.Is(err, ErrRefused):
		p.setRefused(head, err)
		return Result{Outcome: Refused, Revision: head, Err: err}
	case err != nil:
		return Result{Outcome: Failed, Err: err}
	case snap.Revision.Hash == last.Hash: // moved back between ls-remote and fetch
		return Result{Outcome: Unchanged, Revision: snap.Revision}
	}
	p.setCurrent(snap)
	return Result{Outcome: Changed, Revision: snap.Revision, Snapshot: snap}
}

// fetchVerified fetches the watched ref and checks its signature.
func (p *Poller) fetchVerified(ctx context.Context) (*Snapshot, error) {
	snap, raw, err := p.fetch(ctx, p.ref)
	if err != nil || p.verify == nil {
		return snap, err
	}
	signer, err := p.verify.verify(raw)
	if err != nil {
		return nil, fmt.Errorf("git %s: revision %s: %w", p.opts.URL, snap.Revision, err)
	}
	snap.Commit.Signer = signer
	return snap, nil
}

func (p *Poller) setCurrent(snap *Snapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.current, p.last = snap, snap.Revision
	p.refused, p.refusedErr = Revision{}, nil
}

func (p *Poller) setRefused(rev Revision, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refused, p.refusedErr = rev, err
}

// Run polls until ctx is done and sends every Result to out: at once, then
// every Interval plus jitter, after a failure with exponential backoff
// (MinBackoff doubling up to MaxBackoff), and immediately on Trigger.
// A refused revision is not a failure: the next poll comes after the normal
// interval and costs one ls-remote while the head stays the same.
func (p *Poller) Run(ctx context.Context, out chan<- Result) {
	failures := 0
	for {
		start := time.Now()
		r := p.poll(ctx)
		r.Duration = time.Since(start)
		if ctx.Err() != nil {
			return
		}
		select {
		case out <- r:
		case <-ctx.Done():
			return
		}
		if r.Outcome == Failed {
			failures++
		} else {
			failures = 0
		}
		if !p.wait(ctx, p.delay(failures)) {
			return
		}
	}
}

// delay is the wait before the next poll after failures consecutive failures.
func (p *Poller) delay(failures int) time.Duration {
	if failures > 0 {
		d := p.opts.MinBackoff
		for i := 1; i < failures && d < p.opts.MaxBackoff; i++ {
			d *= 2
		}
		return min(d, p.opts.MaxBackoff)
	}
	d := p.opts.Interval
	if p.opts.Jitter > 0 {
		d += rand.N(p.opts.Jitter)
	}
	return d
}

// wait sleeps for d or until a trigger; it returns false when ctx is done.
func (p *Poller) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-p.trigger:
	case <-t.C:
	}
	return true
}
