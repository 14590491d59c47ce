package reconciler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
)

// Runner is what a Driver needs of the engine: *Engine.
type Runner interface {
	Observe(ctx context.Context, t *Target) (*plan.Observed, error)
	Execute(ctx context.Context, p plan.Plan) ([]Event, error)
	Wait(ctx context.Context, t *Target, p plan.Plan) error
}

var _ Runner = (*Engine)(nil)

// DriveMode says when a drive ends on a plan (the column Ends of Waits).
type DriveMode uint8

// The modes.
const (
	// DriveOnce (`ringops apply`): what is due now, then end: after a
	// disruptive step, at the first wait that is not EndsNever, at the
	// first error that is not a conflict (or after ConflictRetries).
	DriveOnce DriveMode = iota + 1
	// DriveUntilDone (`ringops apply --wait`): end on a wait that
	// EndsAlways; errors are planned again after a backoff.
	DriveUntilDone
	// DriveFollow (the daemon): never end on a plan; only ctx's end or
	// Interrupt end the drive.
	DriveFollow
)

var modeNames = [...]string{"", "DriveOnce", "DriveUntilDone", "DriveFollow"}

func (m DriveMode) String() string {
	if int(m) < len(modeNames) && m > 0 {
		return modeNames[m]
	}
	return "DriveMode(" + strconv.Itoa(int(m)) + ")"
}

// DriverOptions configure a Driver. Zero fields take the
// DefaultDriverOptions value.
type DriverOptions struct {
	// Mode says when the drive ends. Default DriveUntilDone.
	Mode DriveMode
	// ConflictRetries is how many conflicts in a row (kube.ErrConflict:
	// the world moved since it was observed) are planned again at once,
	// before the backoff. Default 3.
	ConflictRetries int
	// MinBackoff and MaxBackoff bound the pause after a failed turn:
	// MinBackoff after the first, doubling with each failure in a row.
	// Defaults 1s and 10s.
	MinBackoff, MaxBackoff time.Duration
	// IdleRepeats is how many times the same steps may come back with
	// nothing written by any of them (the planner and an API server
	// disagree on a field the server normalises) before the drive stops
	// on them (EndStuck; DriveFollow waits as on a Blocked plan). Default 3.
	IdleRepeats int
	// Timeout, when positive, ends the drive after this long (EndCanceled
	// with context.DeadlineExceeded).
	Timeout time.Duration
	// ShutdownGrace, when positive, lets the steps in flight finish for
	// up to this long once ctx ends (a step is not cut in the middle by a
	// shutdown); zero: steps take ctx as it is.
	ShutdownGrace time.Duration
	// Interrupt, when set, ends the drive (EndInterrupted) between two
	// turns, in a wait or in a backoff, never in a step: the daemon's new
	// revision. One that comes while a turn's steps run is held until
	// they are done (OnHeld, Turn.Interrupted), then ends the drive.
	Interrupt <-chan struct{}
	// OnHeld, when set, is told at once of an Interrupt that came while
	// p's steps run: the steps go on, the drive ends once they are done.
	OnHeld func(ctx context.Context, p plan.Plan)
	// OnTurn, when set, sees every turn once its steps are executed.
	OnTurn func(ctx context.Context, turn Turn)
	// Logger, when set, logs what the drive does on its own (a step
	// finished during a shutdown).
	Logger *slog.Logger
}

// DefaultDriverOptions: until done, three conflicts retried at once,
// then a backoff from 1s to 10s; the same steps with nothing written
// three times more and the drive stops on them.
func DefaultDriverOptions() DriverOptions {
	return DriverOptions{Mode: DriveUntilDone, ConflictRetries: 3, MinBackoff: time.Second, MaxBackoff: 10 * time.Second, IdleRepeats: 3}
}

func (o DriverOptions) withDefaults() DriverOptions {
	d := DefaultDriverOptions()
	if o.Mode == 0 {
		o.Mode = d.Mode
	}
	if o.ConflictRetries <= 0 {
		o.ConflictRetries = d.ConflictRetries
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = d.MinBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(d.MaxBackoff, o.MinBackoff)
	}
	if o.IdleRepeats <= 0 {
		o.IdleRepeats = d.IdleRepeats
	}
	return o
}

// Turn is one pass of a drive: observe, plan, execute.
type Turn struct {
	// Target is what the drive rolls out.
	Target *Target
	// Observed is nil when the observation failed (Err).
	Observed *plan.Observed
	// Plan is the plan the turn went by; when Stuck, a Blocked wait that
	// names the steps that came back.
	Plan plan.Plan
	// Events are the execution's.
	Events []Event
	// Err is the observation's or the first step's error.
	Err error
	// Stuck: the same steps came back IdleRepeats times with nothing
	// written (Plan says which).
	Stuck bool
	// Interrupted: Interrupt came while the steps ran (OnHeld); the
	// drive ends after this turn.
	Interrupted bool
}

// End is why a drive ended.
type End uint8

// The ends.
const (
	// EndPlan: the mode ends on Outcome.Plan (its wait, or a disruptive
	// step for DriveOnce).
	EndPlan End = iota + 1
	// EndFailed: a turn failed (Outcome.Err) and DriveOnce does not retry.
	EndFailed
	// EndStuck: the same steps come back with nothing written
	// (Outcome.Err is an *IdleStepsError).
	EndStuck
	// EndCanceled: ctx ended, or Timeout passed (Outcome.Err is ctx's).
	EndCanceled
	// EndInterrupted: Interrupt fired.
	EndInterrupted
)

var endNames = [...]string{"", "EndPlan", "EndFailed", "EndStuck", "EndCanceled", "EndInterrupted"}

func (e End) String() string {
	if int(e) < len(endNames) && e > 0 {
		return endNames[e]
	}
	return "End(" + strconv.Itoa(int(e)) + ")"
}

// Outcome is how a drive ended.
type Outcome struct {
	End End
	// Plan is the last plan made (zero if none).
	Plan plan.Plan
	// Waited is the last plan without step (zero if none): what the
	// drive waited for when it was canceled.
	Waited plan.Plan
	// Err is the error of EndFailed, EndStuck and EndCanceled.
	Err error
}

// IdleStepsError: the same steps came back with nothing for the API
// servers to change.
type IdleStepsError struct {
	// Plan is the plan in words (plan.Plan.String).
	Plan string
}

func (e *IdleStepsError) Error() string {
	return "the same steps come back with nothing for the API servers to change; a field of the rendered objects is probably normalised by the server: " + e.Plan
}

// Driver drives the engine over one target, turn after turn, with the
// guards every caller needs: conflicts planned again at once a few
// times, other failures after a doubling backoff, a stop on steps that
// keep coming back with nothing written, the waits in between (Engine.Wait),
// and the end the mode asks for. `ringops apply` and the daemon both
// drive through it.
type Driver struct {
	engine Runner
	opts   DriverOptions
}

// NewDriver returns a driver of engine.
func NewDriver(engine Runner, opts DriverOptions) *Driver {
	return &Driver{engine: engine, opts: opts.withDefaults()}
}

// Drive turns until the mode, ctx, Timeout or Interrupt ends the drive.
func (d *Driver) Drive(ctx context.Context, t *Target) Outcome {
	if d.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.opts.Timeout)
		defer cancel()
	}
	var out Outcome
	var idle idleSteps
	failures := 0
	for {
		if d.interrupted() {
			out.End = EndInterrupted
			return out
		}
		turn := d.turn(ctx, t, &idle)
		switch {
		case ctx.Err() != nil:
			out.End, out.Err = EndCanceled, ctx.Err()
			return out
		case turn.Interrupted:
			out.End, out.Plan = EndInterrupted, turn.Plan
			return out
		case turn.Err != nil:
			failures++
			if end, ok := d.retry(ctx, failures, turn.Err); !ok {
				out.End, out.Err = end, turn.Err
				if end == EndCanceled {
					out.Err = ctx.Err()
				}
				return out
			}
			continue
		}
		failures = 0
		out.Plan = turn.Plan
		if len(turn.Plan.Steps) == 0 {
			out.Waited = turn.Plan
		}
		if turn.Stuck && d.opts.Mode != DriveFollow {
			out.End, out.Err = EndStuck, &IdleStepsError{Plan: idle.last}
			return out
		}
		if d.ends(turn.Plan) {
			out.End = EndPlan
			return out
		}
		if len(turn.Plan.Steps) > 0 {
			continue
		}
		if end, ok := d.wait(ctx, t, turn.Plan); !ok {
			out.End = end
			if end == EndCanceled {
				out.Err = ctx.Err()
			}
			return out
		}
	}
}

// turn observes, plans and executes, and notices steps that come back
// with nothing written.
func (d *Driver) turn(ctx context.Context, t *Target, idle *idleSteps) Turn {
	o, err := d.engine.Observe(ctx, t)
	if err != nil {
		turn := Turn{Target: t, Err: err}
		d.report(ctx, turn)
		return turn
	}
	p := plan.Next(&t.Desired, o)
	events, held, err := d.execute(ctx, p)
	turn := Turn{Target: t, Observed: o, Plan: p, Events: events, Err: err, Interrupted: held}
	if err == nil && len(p.Steps) > 0 && idle.stuck(p, events, d.opts.IdleRepeats) {
		turn.Stuck = true
		turn.Plan = stuckPlan(p)
	}
	d.report(ctx, turn)
	return turn
}

func (d *Driver) report(ctx context.Context, turn Turn) {
	if d.opts.OnTurn != nil {
		d.opts.OnTurn(ctx, turn)
	}
}

// stuckPlan is the Blocked wait a drive follows when p's steps keep
// coming back with nothing written: its message is the IdleStepsError's,
// in the region of p's first step.
func stuckPlan(p plan.Plan) plan.Plan {
	msg := (&IdleStepsError{Plan: p.String()}).Error()
	return plan.Plan{Cluster: p.Cluster, Revision: p.Revision,
		Wait: plan.Wait{Reason: plan.Blocked, Context: p.Steps[0].Context, Message: msg}}
}

// execute runs p's steps; with ShutdownGrace, once ctx ends they get that
// long more to finish. An Interrupt that comes meanwhile is held (OnHeld)
// and reported (held) once the steps are done: it never cuts them.
func (d *Driver) execute(ctx context.Context, p plan.Plan) (events []Event, held bool, err error) {
	if len(p.Steps) == 0 {
		events, err = d.engine.Execute(ctx, p)
		return events, false, err
	}
	ectx := ctx
	cancel := context.CancelFunc(func() {})
	if d.opts.ShutdownGrace > 0 {
		ectx, cancel = context.WithCancel(context.WithoutCancel(ctx))
	}
	defer cancel()
	done, watched := make(chan struct{}), make(chan bool)
	go func() { watched <- d.watchStep(ctx, p, done, cancel) }()
	events, err = d.engine.Execute(ectx, p)
	close(done)
	return events, <-watched, err
}

// watchStep runs beside a turn's steps until done: it holds an Interrupt
// (OnHeld) and, with ShutdownGrace, gives the steps that long once ctx
// ends before cancel. It reports whether it held an Interrupt.
func (d *Driver) watchStep(ctx context.Context, p plan.Plan, done <-chan struct{}, cancel context.CancelFunc) (held bool) {
	interrupt, stopping := d.opts.Interrupt, ctx.Done()
	if d.opts.ShutdownGrace <= 0 {
		stopping = nil // the steps take ctx as it is
	}
	var grace <-chan time.Time
	for {
		select {
		case <-done:
			return held
		case <-interrupt:
			held, interrupt = true, nil
			if d.opts.OnHeld != nil {
				d.opts.OnHeld(ctx, p)
			}
		case <-stopping:
			stopping = nil
			if d.opts.Logger != nil {
				d.opts.Logger.Info("stopping: finishing the step in flight", "grace", d.opts.ShutdownGrace)
			}
			grace = time.After(d.opts.ShutdownGrace)
		case <-grace:
			grace = nil
			cancel()
		}
	}
}

// ends says whether the mode ends on p.
func (d *Driver) ends(p plan.Plan) bool {
	switch {
	case d.opts.Mode == DriveFollow:
		return false
	case len(p.Steps) > 0:
		return d.opts.Mode == DriveOnce && disruptive(p)
	}
	switch WaitOf(p.Wait.Reason).Ends {
	case EndsAlways:
		return true
	case EndsOnce:
		return d.opts.Mode == DriveOnce
	}
	return false
}

func disruptive(p plan.Plan) bool {
	for _, s := range p.Steps {
		if s.Disruptive() {
			return true
		}
	}
	return false
}

// retry decides what follows the failures-th failed turn in a row: a
// conflict is planned again at once up to ConflictRetries times; then,
// and after any other error, DriveOnce ends (EndFailed) and the other
// modes pause (MinBackoff doubling up to MaxBackoff).
func (d *Driver) retry(ctx context.Context, failures int, err error) (End, bool) {
	conflict := errors.Is(err, kube.ErrConflict)
	if conflict && failures <= d.opts.ConflictRetries {
		return 0, true
	}
	if d.opts.Mode == DriveOnce {
		return EndFailed, false
	}
	return d.sleep(ctx, d.backoff(failures))
}

func (d *Driver) backoff(failures int) time.Duration {
	b := d.opts.MinBackoff
	for i := 1; i < failures && b < d.opts.MaxBackoff; i++ {
		b *= 2
	}
	return min(b, d.opts.MaxBackoff)
}

// sleep pauses for dur, cut by ctx's end or Interrupt.
func (d *Driver) sleep(ctx context.Context, dur time.Duration) (End, bool) {
	timer := time.NewTimer(dur)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return EndCanceled, false
	case <-d.opts.Interrupt:
		return EndInterrupted, false
	case <-timer.C:
		return 0, true
	}
}

// wait is Engine.Wait after p, cut short by Interrupt.
func (d *Driver) wait(ctx context.Context, t *Target, p plan.Plan) (End, bool) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	interrupted := false
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-d.opts.Interrupt: // nil: never
			interrupted = true
			cancel()
		case <-wctx.Done():
		}
	}()
	_ = d.engine.Wait(wctx, t, p)
	cancel()
	<-done // an Interrupt taken by the goroutine is never lost
	if interrupted {
		return EndInterrupted, false
	}
	if ctx.Err() != nil {
		return EndCanceled, false
	}
	return 0, true
}

// interrupted reports (and spends) an Interrupt that came between turns.
func (d *Driver) interrupted() bool {
	select {
	case <-d.opts.Interrupt:
		return true
	default:
		return false
	}
}

// idleSteps notices the same steps planned again and again while the API
// servers find nothing to change.
type idleSteps struct {
	last    string
	repeats int
}

// stuck reports whether p, just executed with events, is the same plan
// as the last one for the repeats-th time with nothing written.
func (s *idleSteps) stuck(p plan.Plan, events []Event, repeats int) bool {
	text := p.String()
	wrote := false
	for _, ev := range events {
		wrote = wrote || ev.Wrote()
	}
	if wrote || text != s.last {
		s.last, s.repeats = text, 0
		return false
	}
	s.repeats++
	return s.repeats >= repeats
}

// String is the outcome in a few words, for logs.
func (o Outcome) String() string {
	s := o.End.String()
	if o.Err != nil {
		s += ": " + o.Err.Error()
	}
	if len(o.Plan.Steps) == 0 && o.Plan.Wait.Reason != 0 {
		s += fmt.Sprintf(" (%s)", o.Plan.Wait.Reason)
	}
	return s
}
