package pullrequests

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/review"
	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/git"
)

// Source lists and fetches the pull-request heads of the repository;
// *git.Poller is one (the Poller of the watched branch: same URL and
// credentials).
type Source interface {
	// Refs lists the advertised refs matching any of patterns (one ref
	// advertisement), sorted by ref.
	Refs(ctx context.Context, patterns ...string) ([]git.Revision, error)
	// Fetch reads one ref's tree at depth 1 into memory.
	Fetch(ctx context.Context, ref string) (*git.Snapshot, error)
}

var _ Source = (*git.Poller)(nil)

// Verdict is what one Check found about one pull-request head.
type Verdict struct {
	// Head is the head as fetched (as advertised when the fetch failed).
	Head git.Revision
	// Reason is why the head was checked.
	Reason Reason
	// Outcome is the plan's verdict; empty when Err is set.
	Outcome review.Outcome
	// Status is what was reported on Head.Hash in forge.PlanContext.
	Status forge.Status
	// Err says why the head could not be fetched or planned (Status is
	// then an error).
	Err error
}

// Result is what one Check did.
type Result struct {
	// Heads is the number of pull-request heads advertised.
	Heads int
	// Checked are the heads fetched and planned (or that failed to be),
	// in the order they were checked.
	Checked []Verdict
	// Deferred is the number of heads left for the next Checks (beyond
	// MaxPerCheck).
	Deferred int
	// Forgotten is the number of heads remembered that are no longer
	// advertised.
	Forgotten int
	// Refused is the number of heads not planned because the forge shows
	// they were refused for good (ErrLimits) before.
	Refused int
}

// Stats count what a Checker did since it was made, for tests and metrics.
type Stats struct {
	// Checks counts Check calls that listed the heads.
	Checks int
	// Fetches counts heads fetched (successfully or not).
	Fetches int
	// Reported counts statuses handed to the Reporter.
	Reported int
	// Errors counts heads that could not be fetched or planned.
	Errors int
	// Remembered is the number of heads remembered now.
	Remembered int
}

// Checker validates pull-request heads and reports the verdicts. Its
// methods are safe for concurrent use; Checks run one at a time.
type Checker struct {
	src      Source
	reporter forge.Reporter
	opts     Options

	run sync.Mutex // one Check at a time; guards mem
	mem *memory

	mu    sync.Mutex // guards stats
	stats Stats
}

// New returns a Checker reading heads from src and reporting through
// reporter (a forge.Queue). It checks opts and contacts nothing. A forge
// without pull-request refs (Bitbucket) is refused unless opts.Patterns
// names refs to read: errors.Is(err, ErrNoPullRequestRefs).
func New(src Source, reporter forge.Reporter, opts Options) (*Checker, error) {
	if src == nil || reporter == nil {
		return nil, errors.New("pull requests: a source and a reporter are required")
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if opts.Renderer == nil {
		opts.Renderer = render.New(render.DefaultOptions())
	}
	if opts.Planner == nil {
		opts.Planner = InProcess{Renderer: opts.Renderer}
	}
	return &Checker{src: src, reporter: reporter, opts: opts, mem: newMemory(opts.MaxRemembered)}, nil
}

// Patterns are the refs the Checker lists.
func (c *Checker) Patterns() []string { return append([]string(nil), c.opts.Patterns...) }

// Stats returns a snapshot of the counters.
func (c *Checker) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// count updates the counters.
func (c *Checker) count(f func(*Stats)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.stats)
}

// Check lists the pull-request heads (one ref advertisement), and checks
// against base each head not yet checked against it, at most MaxPerCheck:
// fetch, review.Compare, report the verdict on the head commit in
// forge.PlanContext. A nil base (the watched branch not read yet) checks
// nothing. The error is for what stopped the Check (the heads could not
// be listed, ctx ended, a status the Reporter refused); the Result holds
// what was done until then. A head that cannot be fetched or planned is
// not an error of Check: it is reported as an error status.
func (c *Checker) Check(ctx context.Context, base *git.Snapshot) (Result, error) {
	if base == nil {
		return Result{}, nil
	}
	c.run.Lock()
	defer c.run.Unlock()
	defer func() { c.count(func(s *Stats) { s.Remembered = len(c.mem.heads) }) }()
	heads, err := c.src.Refs(ctx, c.opts.Patterns...)
	if err != nil {
		return Result{}, fmt.Errorf("pull requests: list heads: %w", err)
	}
	c.count(func(s *Stats) { s.Checks++ })
	res := Result{Heads: len(heads), Forgotten: c.mem.forget(heads)}
	todo := c.mem.pending(heads, base.Revision.Hash)
	if len(todo) > c.opts.MaxPerCheck {
		res.Deferred = len(todo) - c.opts.MaxPerCheck
		todo = todo[:c.opts.MaxPerCheck]
	}
	var errs []error
	for _, cand := range todo {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("pull requests: %w", err)
		}
		if c.refusedBefore(ctx, base, cand) {
			res.Refused++
			continue
		}
		v, ok := c.check(ctx, base, cand)
		if !ok {
			continue
		}
		res.Checked = append(res.Checked, v)
		if err := c.report(ctx, v); err != nil {
			errs = append(errs, err)
		}
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("pull requests: %w", err))
	}
	return res, errors.Join(errs...)
}

// check fetches and plans one head. It returns false when there is
// nothing to report: the ref went away since it was listed, or ctx ended.
func (c *Checker) check(ctx context.Context, base *git.Snapshot, cand candidate) (Verdict, bool) {
	c.count(func(s *Stats) { s.Fetches++ })
	v := Verdict{Head: cand.rev, Reason: cand.reason}
	head, err := c.src.Fetch(ctx, cand.rev.Ref)
	switch {
	case ctx.Err() != nil:
		return v, false
	case errors.Is(err, git.ErrRefNotFound):
		delete(c.mem.heads, cand.rev.Ref)
		return v, false
	case err != nil:
		v.Err = fmt.Errorf("fetch %s: %w", cand.rev.Ref, err)
		// A refused head (over the size limits) stays refused: not retried.
		c.fail(&v, base, !errors.Is(err, git.ErrRefused))
		return v, true
	}
	v.Head = head.Revision
	res, err := c.opts.Planner.Plan(ctx, PlanRequest{Base: tree(base), Head: tree(head), Root: c.opts.Root, ManageKeyspaces: c.opts.ManageKeyspaces})
	switch {
	case ctx.Err() != nil:
		return v, false
	case errors.Is(err, ErrLimits):
		v.Err = fmt.Errorf("plan %s: %w", head.Revision, err)
		c.refuse(&v, base)
		return v, true
	case err != nil:
		v.Err = fmt.Errorf("plan %s: %w", head.Revision, err)
		c.fail(&v, base, true)
		return v, true
	}
	v.Outcome, v.Status = res.Outcome, planStatus(head.Revision.Hash, res)
	c.mem.remember(cand.rev.Ref, head.Revision.Hash, base.Revision.Hash, false)
	return v, true
}

// fail sets the error status of v and remembers the failed check
// (retried by a later Check when retry is set).
func (c *Checker) fail(v *Verdict, base *git.Snapshot, retry bool) {
	c.count(func(s *Stats) { s.Errors++ })
	v.Status = forge.Status{Revision: v.Head.Hash, Context: forge.PlanContext, State: forge.StateError,
		Description: "ringops could not plan this revision: " + v.Err.Error()}
	c.mem.remember(v.Head.Ref, v.Head.Hash, base.Revision.Hash, retry)
}

// refuse sets the failure status of a head refused for good (ErrLimits):
// its description, starting with RefusedPrefix, is the durable record
// that keeps a restarted Checker from planning it again.
func (c *Checker) refuse(v *Verdict, base *git.Snapshot) {
	c.count(func(s *Stats) { s.Errors++ })
	v.Status = forge.Status{Revision: v.Head.Hash, Context: forge.PlanContext, State: forge.StateFailure,
		Description: RefusedPrefix + v.Err.Error()}
	c.mem.remember(v.Head.Ref, v.Head.Hash, base.Revision.Hash, false)
}

// refusedBefore reports (and remembers) a head this Checker never saw
// that the forge shows was refused for good, by this daemon before a
// restart or by another replica.
func (c *Checker) refusedBefore(ctx context.Context, base *git.Snapshot, cand candidate) bool {
	if c.opts.Statuses == nil || c.mem.seen(cand.rev.Ref) {
		return false
	}
	if !refusedOnForge(ctx, c.opts.Statuses, cand.rev.Hash) {
		return false
	}
	c.opts.Logger.InfoContext(ctx, "pull request refused before; not checked again", "ref", cand.rev.Ref, "revision", cand.rev.Hash)
	c.mem.remember(cand.rev.Ref, cand.rev.Hash, base.Revision.Hash, false)
	return true
}

// report hands v's status to the Reporter and logs the verdict.
func (c *Checker) report(ctx context.Context, v Verdict) error {
	c.opts.Logger.InfoContext(ctx, "pull request checked", "ref", v.Head.Ref, "revision", v.Head.Hash,
		"reason", v.Reason.String(), "state", v.Status.State.String(), "description", v.Status.Description)
	if err := c.reporter.Report(ctx, v.Status); err != nil {
		return fmt.Errorf("pull requests: %s: report: %w", v.Head.Ref, err)
	}
	c.count(func(s *Stats) { s.Reported++ })
	return nil
}

// planStatus is the plan's verdict as a commit status: success with the
// summary, failure with the first refusal (and the count) when invalid.
func planStatus(revision string, res PlanResult) forge.Status {
	if res.Outcome != review.Invalid {
		return forge.Succeeded(revision, forge.PlanContext, res.Summary)
	}
	var problems []error
	for _, p := range res.Refused {
		problems = append(problems, errors.New(p))
	}
	if len(problems) == 0 { // Invalid always names a refusal; keep the summary if not
		problems = append(problems, errors.New(res.Summary))
	}
	return forge.Failed(revision, forge.PlanContext, problems...)
}

// tree is a snapshot as one side of a review: named by its short ref.
func tree(s *git.Snapshot) review.Tree {
	name := strings.TrimPrefix(strings.TrimPrefix(s.Revision.Ref, "refs/heads/"), "refs/tags/")
	return review.Tree{Revision: review.Revision{Name: name, Commit: s.Revision.Hash}, FS: s.FS}
}
