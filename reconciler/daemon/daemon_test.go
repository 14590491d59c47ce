package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/reconciler"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/git"
	"github.com/ringops/ringops/test/gitserver"
)

// fakeSource hands the daemon the results a test sends.
type fakeSource struct {
	results  chan git.Result
	triggers chan struct{}
}

func newFakeSource() *fakeSource {
	return &fakeSource{results: make(chan git.Result), triggers: make(chan struct{}, 8)}
}

func (s *fakeSource) Run(ctx context.Context, out chan<- git.Result) {
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-s.results:
			select {
			case out <- r:
			case <-ctx.Done():
				return
			}
		}
	}
}

func (s *fakeSource) Trigger() { s.triggers <- struct{}{} }

// fakeEngine prepares for real (validation, render) and observes an
// empty world, so that every plan has steps (create the objects), which
// each Execute reports created (or unchanged, when the test says so:
// an API server that normalises a field); its Execute blocks while the
// test holds it.
type fakeEngine struct {
	renderer *render.Renderer
	mu       sync.Mutex
	log      []string
	hold     chan struct{} // when set, Execute waits for it to close
	entered  chan string   // Execute sends the plan's revision when it starts
	execCtx  []context.Context
	// unreachable makes every context unreadable: the plans wait.
	unreachable bool
	// unchanged makes every step write nothing (kube.Unchanged).
	unchanged bool
	waits     int
	executes  int
	waited    chan plan.Plan // Wait sends its plan, when set
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{renderer: render.New(render.DefaultOptions()), entered: make(chan string, 64)}
}

func (e *fakeEngine) record(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, s)
}

func (e *fakeEngine) events() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.log...)
}

func (e *fakeEngine) Prepare(ctx context.Context, src reconciler.Source) *reconciler.Target {
	e.record("prepare " + short(src.Revision))
	t := &reconciler.Target{Desired: plan.Desired{Name: src.Name, Revision: src.Revision, Cluster: src.Cluster, Invalid: src.LoadErr}}
	if t.Desired.Invalid != nil {
		t.Desired.Cluster = nil
		return t
	}
	if errs := schemas.ValidateChange(src.Previous, src.Cluster); len(errs) > 0 {
		t.Desired.Invalid = errs
		return t
	}
	ms, err := e.renderer.RenderAll(ctx, src.FS, src.Dir, src.Cluster)
	if err != nil {
		t.Desired.Invalid = err
		return t
	}
	t.Desired.Manifests = ms
	t.Contexts = src.Cluster.Contexts()
	return t
}

func (e *fakeEngine) Observe(_ context.Context, t *reconciler.Target) (*plan.Observed, error) {
	o := &plan.Observed{Now: time.Now(), Contexts: map[string]*plan.Context{}}
	e.mu.Lock()
	unreachable := e.unreachable
	e.mu.Unlock()
	for _, kc := range t.Contexts {
		o.Contexts[kc] = &plan.Context{}
		if unreachable {
			o.Contexts[kc].Err = errors.New("connection refused")
		}
	}
	return o, nil
}

func (e *fakeEngine) Execute(ctx context.Context, p plan.Plan) ([]reconciler.Event, error) {
	if len(p.Steps) == 0 {
		return nil, nil
	}
	e.mu.Lock()
	hold, action := e.hold, kube.Created
	if e.unchanged {
		action = kube.Unchanged
	}
	e.execCtx = append(e.execCtx, ctx)
	e.executes++
	e.mu.Unlock()
	select {
	case e.entered <- p.Revision:
	default:
	}
	e.record("execute " + short(p.Revision) + " start")
	if hold != nil {
		<-hold
	} else {
		time.Sleep(10 * time.Millisecond) // the fake world never changes: every plan has steps
	}
	e.record("execute " + short(p.Revision) + " end")
	var events []reconciler.Event
	for _, st := range p.Steps {
		events = append(events, reconciler.Event{Kind: reconciler.StepDone, Cluster: p.Cluster, Revision: p.Revision, Step: st,
			Results: []kube.Result{{Context: st.Context, Ref: kube.Ref(st.Target), Action: action}}})
	}
	return events, ctx.Err()
}

func (e *fakeEngine) Wait(ctx context.Context, _ *reconciler.Target, p plan.Plan) error {
	e.mu.Lock()
	e.waits++
	waited := e.waited
	e.mu.Unlock()
	if waited != nil {
		waited <- p
	}
	<-ctx.Done()
	return ctx.Err()
}

func short(rev string) string { return rev[:min(7, len(rev))] }

// reporter records what the board reports.
type reporter struct {
	mu         sync.Mutex
	statuses   []forge.Status
	superseded [][2]string
}

func (r *reporter) Report(_ context.Context, s forge.Status) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses = append(r.statuses, s)
	return nil
}

func (r *reporter) Supersede(_ context.Context, old, by string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.superseded = append(r.superseded, [2]string{old, by})
	return nil
}

func (r *reporter) latest(rev, context string) (forge.Status, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.statuses) - 1; i >= 0; i-- {
		if s := r.statuses[i]; s.Revision == rev && s.Context == context {
			return s, true
		}
	}
	return forge.Status{}, false
}

// world is a daemon over the fakes, and a repository of clusters-example.
type world struct {
	t      *testing.T
	repo   *gitserver.Repo
	src    *fakeSource
	engine *fakeEngine
	rep    *reporter
	d      *Daemon
	cancel context.CancelFunc
	done   chan error
	logs   *logRecorder
}

// logRecorder is a slog.Handler keeping the messages logged, so that a
// test can wait for the daemon to say what it is doing.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}

// waitLog waits until the daemon has logged msg.
func (w *world) waitLog(msg string) {
	w.t.Helper()
	require.Eventually(w.t, func() bool {
		w.logs.mu.Lock()
		defer w.logs.mu.Unlock()
		return slices.Contains(w.logs.msgs, msg)
	}, 10*time.Second, 5*time.Millisecond, "the daemon did not log %q", msg)
}

func newWorld(t *testing.T) *world {
	repo := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	repo.CopyDir(filepath.Join("..", "..", "clusters-example"), ".")
	repo.Commit("example")
	w := &world{t: t, repo: repo, src: newFakeSource(), engine: newFakeEngine(), rep: &reporter{}, logs: &logRecorder{}}
	opts := DefaultOptions()
	opts.Path = "clusters"
	opts.ShutdownGrace = 5 * time.Second
	opts.Logger = slog.New(w.logs)
	opts.Metrics = NewMetrics()
	d, err := New(w.src, w.engine, w.rep, opts)
	require.NoError(t, err)
	w.d = d
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel, w.done = cancel, make(chan error, 1)
	go func() { w.done <- d.Run(ctx) }()
	t.Cleanup(w.stop)
	return w
}

func (w *world) stop() {
	w.cancel()
	select {
	case <-w.done:
	case <-time.After(20 * time.Second):
		w.t.Error("the daemon did not stop")
	}
}

// push commits files and hands the new snapshot to the daemon.
func (w *world) push(msg string, edit func(dir string)) string {
	if edit != nil {
		edit(w.repo.Work)
	}
	hash := w.repo.Commit(msg)
	local, err := git.OpenLocal(w.repo.Work, git.Options{})
	require.NoError(w.t, err)
	snap, err := local.Snapshot(hash)
	require.NoError(w.t, err)
	w.src.results <- git.Result{Outcome: git.Changed, Revision: snap.Revision, Snapshot: snap}
	return hash
}

func editSpec(t *testing.T, from, to string) func(string) {
	return func(dir string) {
		p := filepath.Join(dir, "clusters", "orders", "cluster.yaml")
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		s := strings.Replace(string(b), from, to, 1)
		require.NotEqual(t, string(b), s, "edit %q found nothing", from)
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
	}
}

func TestNewRevisionWaitsForTheStepInFlight(t *testing.T) {
	w := newWorld(t)
	hold := make(chan struct{})
	w.engine.mu.Lock()
	w.engine.hold = hold
	w.engine.mu.Unlock()
	first := w.push("first", nil)
	require.Equal(t, first, <-w.engine.entered)
	second := w.push("second", editSpec(t, "image: cassandra:5.0.9", "image: cassandra:5.0.10"))
	// The worker has seen the new revision while the step runs
	// (ringops_worker_wakeups_total{outcome="held"}): the step goes on.
	require.Eventually(t, func() bool { return wakeups(t, w.d.opts.Metrics, "held") == 1 }, 10*time.Second, time.Millisecond)
	require.NotContains(t, w.engine.events(), "prepare "+short(second), "a new revision was taken while a step was in flight")
	require.NotContains(t, w.engine.events(), "execute "+short(first)+" end", "the step in flight was cut")
	w.engine.mu.Lock()
	require.NoError(t, w.engine.execCtx[0].Err(), "the step in flight was cancelled")
	w.engine.mu.Unlock()
	close(hold)
	require.Eventually(t, func() bool {
		return containsInOrder(w.engine.events(), "execute "+short(first)+" end", "prepare "+short(second), "execute "+short(second)+" start")
	}, 10*time.Second, 20*time.Millisecond, "events: %v", w.engine.events())
	require.Equal(t, [][2]string{{first, second}}, w.rep.superseded)
	s, ok := w.rep.latest(second, "ringops/orders/eu-west")
	require.True(t, ok)
	require.Equal(t, forge.StatePending, s.State)
	require.Zero(t, wakeups(t, w.d.opts.Metrics, "none"))
}

func containsInOrder(log []string, want ...string) bool {
	i := 0
	for _, l := range log {
		if i < len(want) && l == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestInvalidRevisionFailsAndAppliesNothing(t *testing.T) {
	w := newWorld(t)
	// A first revision that does not parse: its regions are unknown, the
	// failure goes on the cluster's own context.
	bad := w.push("a typo", editSpec(t, "imagePullPolicy: IfNotPresent", "imagePullPolicy: IfNotPresnt"))
	for _, c := range []string{"ringops/orders", forge.SummaryContext} {
		require.Eventually(t, func() bool {
			s, ok := w.rep.latest(bad, c)
			return ok && s.State == forge.StateFailure && strings.Contains(s.Description, "imagePullPolicy")
		}, 10*time.Second, 20*time.Millisecond, "context %s", c)
	}
	cs := w.d.Clusters()
	require.Len(t, cs, 1)
	require.Equal(t, "failure", cs[0].State)
	require.NotEmpty(t, cs[0].Invalid)

	// Fixed, rolled out: a worker takes its revisions in order, so by the
	// time the fix executes, the invalid revision would have executed
	// before it if it ever did.
	good := w.push("fixed", editSpec(t, "IfNotPresnt", "IfNotPresent"))
	require.Eventually(t, func() bool { return slices.Contains(w.engine.events(), "execute "+short(good)+" start") }, 10*time.Second, 10*time.Millisecond)
	require.False(t, slicesContainsPrefix(w.engine.events(), "execute "+short(bad)), "an invalid revision executed steps: %v", w.engine.events())

	// Broken again: the failure goes on every region of the spec rolled
	// out before, and nothing of it is executed (checked once the next
	// fix has executed).
	bad = w.push("a typo again", editSpec(t, "imagePullPolicy: IfNotPresent", "imagePullPolicy: IfNotPresnt"))
	for _, c := range []string{"ringops/orders/eu-west", "ringops/orders/us-east", "ringops/orders/ap-south", forge.SummaryContext} {
		require.Eventually(t, func() bool {
			s, ok := w.rep.latest(bad, c)
			return ok && s.State == forge.StateFailure
		}, 10*time.Second, 20*time.Millisecond, "context %s", c)
	}
	again := w.push("fixed again", editSpec(t, "IfNotPresnt", "IfNotPresent"))
	require.Eventually(t, func() bool { return slices.Contains(w.engine.events(), "execute "+short(again)+" start") }, 10*time.Second, 10*time.Millisecond)
	require.False(t, slicesContainsPrefix(w.engine.events(), "execute "+short(bad)), "an invalid revision executed steps: %v", w.engine.events())
}

func slicesContainsPrefix(l []string, prefix string) bool {
	for _, s := range l {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func TestUnsafeChangeKeepsTheClusterAtItsRevision(t *testing.T) {
	w := newWorld(t)
	first := w.push("first", nil)
	require.Equal(t, first, <-w.engine.entered)
	// Shrinking storage is refused against the previous revision.
	bad := w.push("shrink storage", editSpec(t, "size: 10Gi", "size: 5Gi"))
	require.Eventually(t, func() bool {
		s, ok := w.rep.latest(bad, "ringops/orders/eu-west")
		return ok && s.State == forge.StateFailure && strings.Contains(s.Description, "storage")
	}, 10*time.Second, 20*time.Millisecond)
	cs := w.d.Clusters()
	require.Equal(t, bad, cs[0].Revision)
	require.Equal(t, "failure", cs[0].State)
}

func TestFailedPollKeepsTheClusters(t *testing.T) {
	w := newWorld(t)
	first := w.push("first", nil)
	require.Equal(t, first, <-w.engine.entered)
	w.src.results <- git.Result{Outcome: git.Failed, Err: errors.New("git http://x: ls-remote: connection refused")}
	require.Eventually(t, func() bool { return w.d.Source().Error != "" }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, first, w.d.Source().Commit)
	require.Equal(t, []string{"clusters/orders"}, w.d.Source().Clusters)
	require.Len(t, w.d.Clusters(), 1)
}

func TestRemovedClusterIsNoLongerManaged(t *testing.T) {
	w := newWorld(t)
	first := w.push("first", nil)
	require.Equal(t, first, <-w.engine.entered)
	w.push("remove the cluster", func(dir string) { require.NoError(t, os.RemoveAll(filepath.Join(dir, "clusters", "orders"))) })
	require.Eventually(t, func() bool { return len(w.d.Clusters()) == 0 }, 5*time.Second, 10*time.Millisecond)
}

func TestShutdownFinishesTheStepInFlight(t *testing.T) {
	w := newWorld(t)
	hold := make(chan struct{})
	w.engine.mu.Lock()
	w.engine.hold = hold
	w.engine.mu.Unlock()
	first := w.push("first", nil)
	require.Equal(t, first, <-w.engine.entered)
	w.cancel()
	// The shutdown has reached the step's driver (a Run that did not wait
	// for its workers has returned by then): Run is still waiting.
	w.waitLog("stopping: finishing the step in flight")
	select {
	case <-w.done:
		t.Fatal("Run returned with a step in flight")
	default:
	}
	w.engine.mu.Lock()
	execCtx := w.engine.execCtx[0]
	w.engine.mu.Unlock()
	require.NoError(t, execCtx.Err(), "the step's context was cancelled by the shutdown")
	close(hold)
	select {
	case err := <-w.done:
		require.ErrorIs(t, err, context.Canceled)
		w.done <- err // for Cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return once the step finished")
	}
	require.Contains(t, w.engine.events(), "execute "+short(first)+" end")
}

func TestBoardSummaryAndDedupe(t *testing.T) {
	rep := &reporter{}
	b := newBoard(rep, "https://ringops.example", slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	b.begin(ctx, "aaa", map[string][]string{"orders": {"ringops/orders/eu-west", "ringops/orders/us-east"}})
	sum, ok := rep.latest("aaa", forge.SummaryContext)
	require.True(t, ok)
	require.Equal(t, forge.StatePending, sum.State)
	require.Equal(t, "https://ringops.example/api/v1/clusters", sum.TargetURL)
	eu, _ := rep.latest("aaa", "ringops/orders/eu-west")
	require.Equal(t, "https://ringops.example/api/v1/clusters/orders", eu.TargetURL)

	n := len(rep.statuses)
	b.set(ctx, forge.Succeeded("aaa", "ringops/orders/eu-west", "eu-west: 3 nodes UN"))
	b.set(ctx, forge.Succeeded("aaa", "ringops/orders/eu-west", "eu-west: 3 nodes UN"))
	require.Len(t, rep.statuses, n+2, "the same status twice is reported once (with the summary once)")
	b.set(ctx, forge.Succeeded("aaa", "ringops/orders/us-east", "us-east: 2 nodes UN"))
	sum, _ = rep.latest("aaa", forge.SummaryContext)
	require.Equal(t, forge.StateSuccess, sum.State)

	b.begin(ctx, "bbb", map[string][]string{"orders": {"ringops/orders/eu-west", "ringops/orders/us-east"}})
	require.Equal(t, [][2]string{{"aaa", "bbb"}}, rep.superseded)
	n = len(rep.statuses)
	b.set(ctx, forge.Succeeded("aaa", "ringops/orders/eu-west", "late news of the old revision"))
	require.Len(t, rep.statuses, n, "a status of a superseded revision is dropped")
}

func TestRegionStatusDescriptions(t *testing.T) {
	settling := plan.Plan{Wait: plan.Wait{Reason: plan.Settling, Context: "eu-west", Message: "ring healthy since 10:00, settling for 10s; next: dc1/r2 scale 0 -> 1"}}
	s := regionStatus("abc", "orders", "eu-west", &plan.Observed{}, settling, false, nil)
	require.Equal(t, forge.StatePending, s.State)
	require.Equal(t, "eu-west: settling: ring healthy since 10:00, settling for 10s; next: dc1/r2 scale 0 -> 1", s.Description)
	s = regionStatus("abc", "orders", "us-east", &plan.Observed{}, settling, false, nil)
	require.Equal(t, "queued behind eu-west: settling: ring healthy since 10:00, settling for 10s; next: dc1/r2 scale 0 -> 1", s.Description)

	timeout := plan.Plan{Wait: plan.Wait{Reason: plan.HealthTimeout, Context: "us-east", Message: "us-east: dc2/r1 scale 0 -> 1: orders-dc2-r1-0 not Ready for 10m"}}
	s = regionStatus("abc", "orders", "us-east", &plan.Observed{}, timeout, false, nil)
	require.Equal(t, forge.StateFailure, s.State)
	require.Equal(t, "us-east: health timeout: dc2/r1 scale 0 -> 1: orders-dc2-r1-0 not Ready for 10m", s.Description)
	s = regionStatus("abc", "orders", "eu-west", &plan.Observed{}, timeout, true, nil)
	require.Equal(t, forge.StateSuccess, s.State, "a region done is not failed by another region's timeout")

	converged := plan.Plan{Wait: plan.Wait{Reason: plan.Converged, Message: "7 nodes in 7 racks"}}
	s = regionStatus("abc", "orders", "ap-south", &plan.Observed{}, converged, false, nil)
	require.Equal(t, forge.StatePending, s.State, "not done until the region is at rest")
	require.NotContains(t, s.Description, "converged")
}

func TestBoardPostsOneSummaryForAPass(t *testing.T) {
	rep := &reporter{}
	b := newBoard(rep, "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	regions := []string{"ringops/orders/ap-south", "ringops/orders/eu-west", "ringops/orders/us-east"}
	b.begin(ctx, "aaa", map[string][]string{"orders": regions})
	n := len(rep.statuses)
	var failed []forge.Status
	for _, c := range regions {
		failed = append(failed, forge.Failed("aaa", c, errors.New("cluster.yaml:3: spec.x: unknown field")))
	}
	b.set(ctx, failed...)
	require.Len(t, rep.statuses, n+len(regions)+1, "three regions and one summary")
	sum, _ := rep.latest("aaa", forge.SummaryContext)
	require.Equal(t, forge.StateFailure, sum.State)
	require.NotContains(t, sum.Description, "picked up")
}

// TestWaitsAreCutOnlyByANewRevision: a plan that waits waits until a new
// revision comes, once per revision (a wake-up that outlived its revision
// would turn every later wait into a busy loop). A worker woken counts
// the wake-up (ringops_worker_wakeups_total) before it plans again, so
// once the third revision's wait has begun, every cut of the two waits
// before it is counted.
func TestWaitsAreCutOnlyByANewRevision(t *testing.T) {
	w := newWorld(t)
	waited := make(chan plan.Plan, 64)
	w.engine.mu.Lock()
	w.engine.unreachable, w.engine.waited = true, waited
	w.engine.mu.Unlock()
	var revisions, waits []string
	for i, edit := range []func(string){nil,
		editSpec(t, "image: cassandra:5.0.9", "image: cassandra:5.0.10"),
		editSpec(t, "image: cassandra:5.0.10", "image: cassandra:5.0.11")} {
		rev := w.push(fmt.Sprintf("revision %d", i+1), edit)
		revisions = append(revisions, rev)
		for p := range waited { // until the first wait of rev
			waits = append(waits, p.Revision)
			if p.Revision == rev {
				break
			}
		}
	}
	require.Zero(t, wakeups(t, w.d.opts.Metrics, "none"), "a wait was cut short without a new revision")
	require.Equal(t, revisions, waits, "one wait per revision")
}

// TestTwoDirectoriesOfOneRingAreRefused: a second directory declaring the
// same cluster (name and namespace) makes both invalid: neither is rolled
// out, and both fail naming both files.
func TestTwoDirectoriesOfOneRingAreRefused(t *testing.T) {
	w := newWorld(t)
	bad := w.push("copy the cluster", func(dir string) {
		require.NoError(t, os.CopyFS(filepath.Join(dir, "clusters", "orders-copy"), os.DirFS(filepath.Join(dir, "clusters", "orders"))))
	})
	require.Eventually(t, func() bool {
		cs := w.d.Clusters()
		if len(cs) != 2 {
			return false
		}
		for _, c := range cs {
			if c.State != "failure" || !strings.Contains(strings.Join(c.Invalid, "\n"), "is also declared by clusters/orders") {
				return false
			}
		}
		return true
	}, 10*time.Second, 20*time.Millisecond, "clusters: %+v", w.d.Clusters())
	for _, c := range []string{"ringops/orders", forge.SummaryContext} {
		require.Eventually(t, func() bool {
			s, ok := w.rep.latest(bad, c)
			return ok && s.State == forge.StateFailure && strings.Contains(s.Description, "is also declared by clusters/orders")
		}, 10*time.Second, 20*time.Millisecond, "context %s", c)
	}
	require.Never(t, func() bool {
		return slicesContainsPrefix(w.engine.events(), "execute")
	}, 500*time.Millisecond, 50*time.Millisecond, "a duplicated cluster executed steps")
}

// TestSameStepsWithNothingWrittenDoNotSpin: an API server that
// normalises a field makes the planner ask for the same steps again and
// again while the server finds nothing to change. The daemon stops on
// them as `ringops apply` does: after IdleRepeats more plans it waits as
// on a Blocked plan (once per idle interval, not in a busy loop) and
// fails the region's status, naming the steps.
func TestSameStepsWithNothingWrittenDoNotSpin(t *testing.T) {
	w := newWorld(t)
	waited := make(chan plan.Plan, 8)
	w.engine.mu.Lock()
	w.engine.unchanged, w.engine.waited = true, waited
	w.engine.mu.Unlock()
	rev := w.push("first", nil)
	var p plan.Plan
	select {
	case p = <-waited:
	case <-time.After(10 * time.Second):
		w.engine.mu.Lock()
		n := w.engine.executes
		w.engine.mu.Unlock()
		t.Fatalf("the daemon never waited: %d executions of the same steps with nothing written", n)
	}
	require.Equal(t, plan.Blocked, p.Wait.Reason)
	require.Contains(t, p.Wait.Message, "CreateStatefulSet")
	w.engine.mu.Lock()
	require.Equal(t, 1+reconciler.DefaultDriverOptions().IdleRepeats, w.engine.executes, "the first plan and its repeats")
	w.engine.mu.Unlock()
	s, ok := w.rep.latest(rev, forge.RegionContext("orders", p.Wait.Context))
	require.True(t, ok)
	require.Equal(t, forge.StateFailure, s.State)
	require.Contains(t, s.Description, "blocked: the same steps come back with nothing for the API servers to change")
	require.Equal(t, []string{"Blocked"}, waitingReasons(t, w.d.opts.Metrics, "orders"))
}

// wakeups is ringops_worker_wakeups_total{outcome}.
func wakeups(t *testing.T, m *Metrics, outcome string) float64 {
	t.Helper()
	for _, s := range gathered(t, m, "ringops_worker_wakeups_total") {
		if s.labels["outcome"] == outcome {
			return s.value
		}
	}
	return 0
}

// waitingReasons are the reasons ringops_cluster_waiting is 1 for, for cluster.
func waitingReasons(t *testing.T, m *Metrics, cluster string) []string {
	t.Helper()
	var out []string
	for _, s := range gathered(t, m, "ringops_cluster_waiting") {
		if s.labels["cluster"] == cluster && s.value == 1 {
			out = append(out, s.labels["reason"])
		}
	}
	return out
}

// sample is one sample of a gathered metric: its labels, its value (a
// counter's or a gauge's), or its histogram's count and sum.
type sample struct {
	labels map[string]string
	value  float64
	count  uint64
	sum    float64
}

// gathered are the samples of metric name in m.
func gathered(t *testing.T, m *Metrics, name string) []sample {
	t.Helper()
	families, err := m.Registry.Gather()
	require.NoError(t, err)
	var out []sample
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, mt := range f.GetMetric() {
			s := sample{labels: map[string]string{}, value: mt.GetCounter().GetValue() + mt.GetGauge().GetValue(),
				count: mt.GetHistogram().GetSampleCount(), sum: mt.GetHistogram().GetSampleSum()}
			for _, l := range mt.GetLabel() {
				s.labels[l.GetName()] = l.GetValue()
			}
			out = append(out, s)
		}
	}
	return out
}
