package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ringops/ringops/reconciler"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/plan/replay"
	"github.com/ringops/ringops/schemas"
	"github.com/ringops/ringops/sources/forge"
)

// worker rolls one cluster out, one plan at a time, and takes a new
// revision only between two plans.
type worker struct {
	d     *Daemon
	dir   string
	shard int // shard.Of(dir), 0 when not sharded
	log   *slog.Logger

	// after, when set, is the end of the worker this replica ran for dir
	// before (its shard was lost, then taken again): this one starts
	// after it. exited is closed when this one's run returns.
	after  <-chan struct{}
	exited chan struct{}

	wake     chan struct{} // a new revision is offered, or stop
	stopOnce sync.Once
	stopped  chan struct{}

	mu       sync.Mutex
	pending  *reconciler.Source
	last     *schemas.CassandraCluster // the last valid spec taken: the base of the next change
	st       ClusterState
	waitKey  string
	stepEnd  time.Time // when the last step ended (gate latency)
	nodeKeys map[[2]string]bool

	// done holds, by context, the last success status of a region in the
	// rollout of the revision taken last (worker goroutine only): see latch.
	done map[string]forge.Status

	// For the status page (w.mu): the replay of the revision taken last
	// (its steps in words), when the step before the timeline's last ended.
	base     *plan.Desired // the last valid revision's, the replay's base (worker goroutine only)
	replayed []replayedStep
	lastStep time.Time
}

// ClusterState is what the daemon shows of one cluster (GET /api/v1/clusters).
type ClusterState struct {
	Name string `json:"name"`
	// Dir is the cluster's directory in the repository.
	Dir string `json:"dir"`
	// Revision is the commit the cluster is rolled out to.
	Revision string `json:"revision,omitempty"`
	// State: pending, success or failure (as the summary of its regions).
	State string `json:"state"`
	// Invalid holds every validation error of the revision (the status
	// carries only the first).
	Invalid []string `json:"invalid,omitempty"`
	// Plan is the current plan in words: its steps, or its wait.
	Plan string `json:"plan,omitempty"`
	// Wait is the current wait reason ("" while steps run).
	Wait string `json:"wait,omitempty"`
	// Regions are the statuses per region, as posted.
	Regions []RegionState `json:"regions,omitempty"`
	// Ring is the ring's verdict in one line, with its nodes.
	Ring  string            `json:"ring,omitempty"`
	Nodes map[string]string `json:"nodes,omitempty"` // pod -> state (UN, UJ, DN, ...)
	// LastError is the last failed observation or step.
	LastError string    `json:"lastError,omitempty"`
	Updated   time.Time `json:"updated,omitzero"`

	// Subject is the first line of Revision's commit message.
	Subject string `json:"subject,omitempty"`
	// RolledOut is the last revision that reached success in every
	// region (since the daemon started).
	RolledOut string `json:"rolledOut,omitempty"`
	// WaitText is the wait in the words of the commit statuses
	// ("eu-west: settling: ..."), "" while steps run.
	WaitText string `json:"waitText,omitempty"`
	// Steps are the current plan's steps in words (the steps in flight).
	Steps []string `json:"steps,omitempty"`
	// RingNodes are the ring's nodes, one per pod the StatefulSets hold.
	RingNodes []NodeView `json:"ringNodes,omitempty"`
	// ToCome are the steps still to come, from the planner's replay of
	// the change (as the review shows it), when there was a revision
	// before this one.
	ToCome []string `json:"toCome,omitempty"`
	// Timeline are the steps of this revision's rollout so far (the last
	// 200).
	Timeline []TimelineEntry `json:"timeline,omitempty"`
	// History are the last revisions given to the cluster, the current
	// last.
	History []RevisionOutcome `json:"history,omitempty"`
}

// RegionState is one region's status.
type RegionState struct {
	Context     string `json:"context"`
	State       string `json:"state"`
	Description string `json:"description"`
}

func newWorker(d *Daemon, dir string) *worker {
	return &worker{d: d, dir: dir, shard: d.shardOf(dir), log: d.log.With("cluster_dir", dir), wake: make(chan struct{}, 1), exited: make(chan struct{}),
		stopped: make(chan struct{}), st: ClusterState{Dir: dir, State: "pending"}, nodeKeys: map[[2]string]bool{}}
}

// offer hands the worker a revision; it replaces one not taken yet.
func (w *worker) offer(src reconciler.Source) {
	w.mu.Lock()
	w.pending = &src
	w.mu.Unlock()
	w.poke()
}

func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// stop ends the worker after its step in flight.
func (w *worker) stop() {
	w.stopOnce.Do(func() { close(w.stopped) })
	w.poke()
}

func (w *worker) take() *reconciler.Source {
	w.mu.Lock()
	defer w.mu.Unlock()
	src := w.pending
	w.pending = nil
	if src != nil {
		src.Previous = w.last
		select { // the wake-up of this revision is spent
		case <-w.wake:
		default:
		}
	}
	return src
}

func (w *worker) spec() *schemas.CassandraCluster {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

func (w *worker) state() ClusterState {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.st
	s.Invalid = slices.Clone(s.Invalid)
	s.Regions = slices.Clone(s.Regions)
	s.Steps = slices.Clone(s.Steps)
	s.RingNodes = slices.Clone(s.RingNodes)
	s.ToCome = slices.Clone(s.ToCome)
	s.Timeline = slices.Clone(s.Timeline)
	s.History = slices.Clone(s.History)
	return s
}

// run is the worker's loop: take a new revision when there is one, and
// drive it (reconciler.Driver: observe, plan, execute, wait; the same
// guards as `ringops apply`) until a newer one is offered.
func (w *worker) run(ctx context.Context) {
	defer close(w.exited)
	if w.after != nil {
		select { // the worker before this one finishes its step in flight first
		case <-w.after:
		case <-w.stopped:
			return
		case <-ctx.Done():
			return
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-w.stopped:
			cancel()
		case <-ctx.Done():
		}
	}()
	var t *reconciler.Target
	woken := false
	for ctx.Err() == nil {
		src := w.take()
		if woken {
			w.woke(src)
		}
		if src != nil {
			t = w.prepare(ctx, src)
		}
		if t == nil || t.Desired.Invalid != nil {
			w.sleep(ctx) // until the next revision
			woken = true
			continue
		}
		out := w.driver().Drive(ctx, t) // ends on a new revision (w.wake) or ctx's end
		woken = out.End == reconciler.EndInterrupted
	}
}

// woke counts a wake-up (ringops_worker_wakeups_total): with the revision
// it brought, or none. A wake-up with none is a wake-up that outlived its
// revision (logged: it would make every wait a busy loop); the stop's is
// not counted.
func (w *worker) woke(src *reconciler.Source) {
	select {
	case <-w.stopped:
		return
	default:
	}
	if src != nil {
		w.d.opts.Metrics.wakeup("revision")
		return
	}
	w.d.opts.Metrics.wakeup("none")
	w.log.Warn("woken with no new revision to take; planning again")
}

// held is told of a new revision that came while a step runs: it is
// taken once the step is done (ringops_worker_wakeups_total{outcome="held"}).
func (w *worker) held(_ context.Context, p plan.Plan) {
	w.d.opts.Metrics.wakeup("held")
	w.mu.Lock()
	next := ""
	if w.pending != nil {
		next = w.pending.Revision
	}
	w.mu.Unlock()
	w.log.Info("new revision: taken once the step in flight is done", "revision", next, "step", p.String())
}

// driver drives one revision: it follows the cluster (never ends on a
// plan) and is interrupted by a new revision between two plans, in a wait
// or a backoff, never in a step.
func (w *worker) driver() *reconciler.Driver {
	o := reconciler.DefaultDriverOptions()
	o.Mode = reconciler.DriveFollow
	o.MinBackoff, o.MaxBackoff = w.d.opts.MinRetry, w.d.opts.MaxRetry
	o.ShutdownGrace = w.d.opts.ShutdownGrace
	o.Interrupt = w.wake
	o.Logger = w.log
	o.OnTurn = w.turn
	o.OnHeld = w.held
	return reconciler.NewDriver(w.d.engine, o)
}

// prepare validates and renders a revision of the cluster and reports it.
func (w *worker) prepare(ctx context.Context, src *reconciler.Source) *reconciler.Target {
	start := time.Now()
	t := w.d.engine.Prepare(ctx, *src)
	if m := w.d.opts.Metrics; m != nil {
		m.renderSeconds.Observe(time.Since(start).Seconds())
	}
	rev := src.Revision
	name := t.Name()
	w.done = nil // a revision taken (again) starts with no region done
	subject, now := w.d.subject(rev), time.Now()
	w.mu.Lock()
	w.st = ClusterState{Name: name, Dir: w.dir, Revision: rev, State: "pending", Updated: now, Subject: subject,
		RolledOut: w.st.RolledOut, History: beginRevision(w.st.History, rev, subject, now)}
	w.replayed, w.lastStep = nil, now
	if t.Desired.Invalid == nil && src.Cluster != nil {
		w.last = src.Cluster
	}
	prev := w.last
	w.mu.Unlock()
	defer w.d.changes.Notify()
	if m := w.d.opts.Metrics; m != nil {
		m.revision.DeletePartialMatch(map[string]string{"cluster": name})
		m.revision.WithLabelValues(name, rev).Set(1)
	}
	if err := t.Desired.Invalid; err != nil {
		w.invalid(ctx, t, src, prev, err)
		return t
	}
	if w.d.opts.OnSpec != nil {
		w.d.opts.OnSpec(src.Cluster)
	}
	w.log.Info("rolling out", "cluster", name, "revision", rev)
	if w.base != nil {
		w.replay(ctx, w.base, &t.Desired, t.Contexts, rev)
	}
	w.base = &t.Desired
	return t
}

// replay runs the planner's replay of the change from base to head (as
// the review does), in the background, one replay daemon-wide at a time,
// for the steps still to come on the status page. It never delays the
// rollout; a replay that fails leaves the list empty.
func (w *worker) replay(ctx context.Context, base, head *plan.Desired, contexts []string, rev string) {
	w.d.wg.Add(1)
	go func() {
		defer w.d.wg.Done()
		select {
		case w.d.replays <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-w.d.replays }()
		steps, err := replay.Replay(base, head, contexts, time.Now(), replay.Options{ManageKeyspaces: w.d.opts.ManageKeyspaces})
		if err != nil {
			w.log.Debug("no replay of the change for the status page", "revision", rev, "err", err)
		}
		words := make([]replayedStep, 0, len(steps))
		for _, s := range steps {
			if s.Action != plan.ApplyObjects { // the replay's records name its simulated host IDs
				words = append(words, replayedStep{words: s.String(), key: stepKey(s)})
			}
		}
		w.mu.Lock()
		if w.st.Revision == rev {
			w.replayed = words
			if w.st.Wait != plan.Converged.String() {
				w.st.ToCome = toCome(words, w.st.Timeline)
			}
		}
		w.mu.Unlock()
		w.d.changes.Notify()
	}()
}

// invalid reports a revision that is applied nowhere.
func (w *worker) invalid(ctx context.Context, t *reconciler.Target, src *reconciler.Source, prev *schemas.CassandraCluster, err error) {
	errs := splitErrors(err)
	w.log.Error("revision invalid: nothing is applied", "cluster", t.Name(), "revision", src.Revision, "errors", len(errs), "err", err)
	w.d.opts.Metrics.Error("validation")
	texts := make([]string, len(errs))
	for i, e := range errs {
		texts[i] = e.Error()
	}
	w.mu.Lock()
	w.st.State, w.st.Invalid = "failure", texts
	endRevision(w.st.History, src.Revision, "invalid", time.Now())
	w.mu.Unlock()
	var regions []RegionState
	var statuses []forge.Status
	for _, c := range clusterContexts(t.Name(), src.Cluster, prev) {
		s := forge.Failed(src.Revision, c, errs...)
		regions = append(regions, RegionState{Context: c, State: s.State.String(), Description: s.Description})
		statuses = append(statuses, s)
	}
	w.post(ctx, statuses...)
	w.mu.Lock()
	w.st.Regions = regions
	w.mu.Unlock()
}

// splitErrors lists the errors of an ErrorList, or err alone.
func splitErrors(err error) []error {
	var list schemas.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		out := make([]error, len(list))
		for i, e := range list {
			out[i] = e
		}
		return out
	}
	return []error{err}
}

// turn reports one pass of the driver: logs, metrics, statuses.
func (w *worker) turn(ctx context.Context, turn reconciler.Turn) {
	if turn.Observed == nil {
		w.failed(ctx, "observe", turn.Err)
		return
	}
	w.observe(turn.Observed, turn.Plan, turn.Events, turn.Err)
	w.report(ctx, turn.Target, turn.Observed, turn.Plan, turn.Events)
	if turn.Err != nil {
		w.failed(ctx, "step", turn.Err)
	}
}

func (w *worker) failed(ctx context.Context, what string, err error) {
	if ctx.Err() != nil {
		return
	}
	w.d.opts.Metrics.Error(what)
	level := slog.LevelWarn
	if errors.Is(err, kube.ErrConflict) || errors.Is(err, reconciler.ErrFenced) {
		level = slog.LevelInfo
	}
	w.log.Log(ctx, level, what+" failed; planning again", "err", err)
	w.mu.Lock()
	w.st.LastError = what + ": " + err.Error()
	w.mu.Unlock()
	w.d.changes.Notify()
}

// post hands statuses to the board while this replica runs the cluster:
// once its shard is lost, the next holder speaks for it.
func (w *worker) post(ctx context.Context, statuses ...forge.Status) {
	if !w.d.owns(w.dir) {
		w.log.Debug("shard not held: statuses left to its holder", "shard", w.shard)
		return
	}
	w.d.board.set(ctx, statuses...)
}

// sleep waits until woken (a new revision, or stop) or ctx's end.
func (w *worker) sleep(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-w.wake:
	}
}

// observe logs the events and updates the metrics.
func (w *worker) observe(o *plan.Observed, p plan.Plan, events []reconciler.Event, err error) {
	m := w.d.opts.Metrics
	for _, ev := range events {
		switch ev.Kind {
		case reconciler.StepDone, reconciler.StepFailed:
			w.stepEnd = ev.At
			result := "ok"
			switch {
			case ev.Kind == reconciler.StepFailed && errors.Is(ev.Err, kube.ErrConflict):
				result = "conflict" // the object changed since it was read: planned again at once
			case ev.Kind == reconciler.StepFailed:
				result = "failed"
			}
			if ev.Kind == reconciler.StepDone && len(ev.Results) > 0 && !ev.Wrote() {
				result = "unchanged"
			}
			if m != nil {
				m.steps.WithLabelValues(ev.Cluster, ev.Step.Context, ev.Step.Action.String(), result).Inc()
			}
			w.log.Info(ev.String(), "cluster", ev.Cluster, "revision", ev.Revision, "result", result)
		case reconciler.StepStarted:
			if ev.Step.Disruptive() {
				w.gateLatency(o, ev)
			}
		case reconciler.OperationFailed:
			w.log.Warn(ev.String(), "cluster", ev.Cluster)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.st.Updated = time.Now()
	w.st.Ring = o.Ring.Summary
	w.st.Nodes = map[string]string{}
	for pod, n := range o.Ring.Nodes {
		w.st.Nodes[pod] = n.State.String()
	}
	w.st.Steps = nil
	if len(p.Steps) > 0 {
		w.st.Wait, w.st.Plan = "", p.String()
		for _, s := range p.Steps {
			w.st.Steps = append(w.st.Steps, s.String())
		}
	} else {
		w.st.Wait, w.st.Plan = p.Wait.Reason.String(), p.Wait.String()
	}
	w.st.Timeline, w.lastStep = timeline(w.st.Timeline, w.lastStep, events)
	w.st.RingNodes = ringView(p.Cluster, o, p, w.st.Timeline)
	switch {
	case len(p.Steps) == 0 && p.Wait.Reason == plan.Converged:
		w.st.ToCome = nil
	case w.replayed != nil:
		w.st.ToCome = toCome(w.replayed, w.st.Timeline)
	}
	if err == nil {
		w.st.LastError = ""
	}
	w.ringMetrics(o, p.Cluster)
	key := reconciler.WaitOf(p.Wait.Reason).Metric
	if len(p.Steps) > 0 {
		key = ""
	}
	if key != w.waitKey {
		if m != nil && w.waitKey != "" {
			m.waiting.DeleteLabelValues(p.Cluster, w.waitKey)
		}
		if m != nil && key != "" {
			m.waits.WithLabelValues(p.Cluster, key).Inc()
			m.waiting.WithLabelValues(p.Cluster, key).Set(1)
		}
		if key != "" {
			w.log.Info(strings.TrimSpace(p.Wait.String()), "cluster", p.Cluster, "revision", p.Revision)
		}
		w.waitKey = key
	}
}

// gateLatency observes the time from the gate opening to a disruptive
// step starting: the gate's reaction, not the step's own length (an
// ALTER waits for schema agreement, a rebuild streams). The gate opens
// when the ring has been healthy for the settle time and the step before
// is done, whichever comes last: a ring that stayed healthy through an
// ALTER opens the gate when the ALTER returns, not before it.
func (w *worker) gateLatency(o *plan.Observed, ev reconciler.Event) {
	m := w.d.opts.Metrics
	if m == nil || !o.Ring.Healthy || o.Ring.Since.IsZero() {
		return
	}
	open := o.Ring.Since
	if t := w.targetSettle(); t > 0 {
		open = open.Add(t)
	}
	if w.stepEnd.After(open) {
		open = w.stepEnd
	}
	if d := ev.At.Sub(open); d >= 0 {
		m.gateLatency.Observe(d.Seconds())
	}
}

func (w *worker) targetSettle() time.Duration {
	c := w.spec()
	if c == nil || c.Spec.Rollout == nil {
		return 0
	}
	_, settle := c.Spec.Rollout.Durations()
	return settle
}

// ringMetrics sets ringops_ring_nodes from the observation (w.mu held).
func (w *worker) ringMetrics(o *plan.Observed, cluster string) {
	m := w.d.opts.Metrics
	if m == nil {
		return
	}
	counts := map[[2]string]int{}
	members := plan.Members(cluster, o)
	for _, mb := range members {
		st := o.Ring.Nodes[mb.Pod].State.String() // "??" when no view has it
		counts[[2]string{mb.Context, st}]++
	}
	for k := range w.nodeKeys {
		if _, ok := counts[k]; !ok {
			m.ringNodes.DeleteLabelValues(cluster, k[0], k[1])
			delete(w.nodeKeys, k)
		}
	}
	for k, n := range counts {
		m.ringNodes.WithLabelValues(cluster, k[0], k[1]).Set(float64(n))
		w.nodeKeys[k] = true
	}
}

// report turns the pass into one status per region of the cluster.
func (w *worker) report(ctx context.Context, t *reconciler.Target, o *plan.Observed, p plan.Plan, events []reconciler.Event) {
	c := t.Desired.Cluster
	name, rev := t.Name(), t.Desired.Revision
	done := plan.RegionsDone(&t.Desired, o, p)
	var regions []RegionState
	var statuses []forge.Status
	states := map[forge.State]int{}
	for _, kc := range c.Contexts() {
		s := w.latch(regionStatus(rev, name, kc, o, p, done[kc], events), stepsIn(p, kc))
		states[s.State]++
		regions = append(regions, RegionState{Context: s.Context, State: s.State.String(), Description: forge.CleanDescription(s.Description)})
		statuses = append(statuses, s)
	}
	w.post(ctx, statuses...)
	state := "pending"
	switch {
	case states[forge.StateFailure] > 0:
		state = "failure"
	case states[forge.StateSuccess] == len(regions) && len(p.Steps) == 0:
		// Not while a step runs anywhere: a latched region's success
		// says its part is done, not that the revision is.
		state = "success"
	}
	w.mu.Lock()
	w.st.Regions, w.st.State = regions, state
	w.st.WaitText = waitText(name, p, regions)
	if state != "pending" {
		endRevision(w.st.History, rev, state, time.Now())
	}
	if state == "success" {
		w.st.RolledOut = rev
	}
	w.mu.Unlock()
	w.d.changes.Notify()
}

// waitText is the wait of a plan without steps as its commit status says
// it: the description of the region waited on (the first still pending
// when the wait is the cluster's), "" while steps run or all is done.
func waitText(cluster string, p plan.Plan, regions []RegionState) string {
	if len(p.Steps) > 0 || p.Wait.Reason == plan.Converged {
		return ""
	}
	var first string
	for _, r := range regions {
		if r.State == forge.StateSuccess.String() {
			continue
		}
		if p.Wait.Context != "" && r.Context == forge.RegionContext(cluster, p.Wait.Context) {
			return r.Description
		}
		if first == "" {
			first = r.Description
		}
	}
	return first
}

// latch keeps a region done for its revision once it was: a pending
// status after a success of the same revision and context is replaced by
// that success. plan.RegionsDone asks for a healthy ring, and another
// region's node joining or leaving leaves the ring unhealthy for a while;
// that does not undo this region's part, and a commit status must not go
// from success back to pending. But work found later in the region itself
// (stepsHere: a step of the plan there, e.g. a cleanup owed once a node
// joined) does undo it: the status says so, rather than a success while
// its nodes are still being worked on. A failure goes through (and ends
// the latch).
func (w *worker) latch(s forge.Status, stepsHere bool) forge.Status {
	prev, ok := w.done[s.Context]
	switch {
	case ok && prev.Revision == s.Revision && s.State == forge.StatePending && !stepsHere:
		return prev
	case s.State == forge.StateSuccess:
		if w.done == nil {
			w.done = map[string]forge.Status{}
		}
		w.done[s.Context] = s
	case ok:
		delete(w.done, s.Context)
	}
	return s
}

// stepsIn reports whether p has a step in kube context kc.
func stepsIn(p plan.Plan, kc string) bool {
	return slices.ContainsFunc(p.Steps, func(s plan.Step) bool { return s.Context == kc })
}

// regionStatus is the status of one region after a pass.
func regionStatus(rev, cluster, kc string, o *plan.Observed, p plan.Plan, done bool, events []reconciler.Event) forge.Status {
	ctxName := forge.RegionContext(cluster, kc)
	w := p.Wait
	switch {
	case len(p.Steps) == 0 && w.Reason.Failed() && (w.Context == kc || w.Context == ""):
		return forge.Failed(rev, ctxName, errors.New(waitDescription(kc, w)))
	case done:
		return forge.Succeeded(rev, ctxName, regionSummary(cluster, kc, o, rev))
	}
	for _, ev := range events {
		if ev.Kind == reconciler.StepFailed && ev.Step.Context == kc {
			return forge.Pending(rev, ctxName, kc+": "+ev.Step.String()+": failed, planning again")
		}
	}
	for _, s := range p.Steps {
		if s.Context == kc {
			return forge.Pending(rev, ctxName, s.String())
		}
	}
	switch {
	case len(p.Steps) > 0:
		return forge.Pending(rev, ctxName, "queued behind "+p.Steps[0].String())
	case p.Done():
		// The planner has nothing left, but a StatefulSet's status (ready
		// or current replicas) has not caught up yet, or the ring's verdict.
		return forge.Pending(rev, ctxName, kc+": finishing: waiting for the StatefulSets' status and the ring to agree")
	case w.Context == kc || w.Context == "":
		return forge.Pending(rev, ctxName, waitDescription(kc, w))
	}
	return forge.Pending(rev, ctxName, "queued behind "+waitDescription(w.Context, w))
}

// waitDescription is a wait in a status: "<region>: <reason>: <message>",
// the region said once.
func waitDescription(kc string, w plan.Wait) string {
	if w.Context != "" {
		kc = w.Context
	}
	words := reconciler.WaitOf(w.Reason).Words
	msg := strings.TrimPrefix(w.Message, kc+": ")
	s := words
	if kc != "" {
		s = kc + ": " + words
	}
	if msg != "" {
		s += ": " + msg
	}
	return s
}

// regionSummary describes a region that is done: its nodes and the ring.
func regionSummary(cluster, kc string, o *plan.Observed, rev string) string {
	n := 0
	for _, mb := range plan.Members(cluster, o) {
		if mb.Context == kc {
			n++
		}
	}
	short := rev
	if len(short) > 7 {
		short = short[:7]
	}
	return fmt.Sprintf("%s: %d nodes UN, ring healthy at %s", kc, n, short)
}
