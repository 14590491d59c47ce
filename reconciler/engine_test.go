package reconciler

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

const exampleDir = "../clusters-example/clusters/orders"

// exampleSource is the example cluster as a revision.
func exampleSource(t *testing.T) Source {
	t.Helper()
	c, err := schemas.Load(filepath.Join(exampleDir, "cluster.yaml"))
	require.NoError(t, err)
	return Source{Name: "orders", FS: os.DirFS(exampleDir), Dir: ".", Cluster: c}
}

type fixture struct {
	kube   *fakeKube
	ring   *fakeRing
	clock  *manualClock
	engine *Engine

	mu     sync.Mutex
	events []Event
}

func (f *fixture) sink(ev Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, ev)
}

func (f *fixture) Events() []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Event(nil), f.events...)
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	f := &fixture{kube: &fakeKube{fail: map[string]error{}, contexts: map[string]*kube.Observation{}},
		ring: &fakeRing{modes: map[string]ring.OperationMode{}}, clock: &manualClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
	e, err := New(Clients{Kube: f.kube, Ring: f.ring, Operations: f.ring, Renderer: render.New(render.DefaultOptions()),
		Clock: f.clock, Events: f.sink}, opts)
	require.NoError(t, err)
	t.Cleanup(e.Close)
	f.engine = e
	return f
}

// observeRack makes eu-west hold one rack of dc1 with n running pods
// that every view has live, and observes it.
func (f *fixture) observeRack(t *testing.T, n int) *Target {
	t.Helper()
	obs := rack("dc1", "r1", 1, n)
	f.kube.contexts["eu-west"] = obs
	for _, p := range obs.Pods {
		f.ring.members = append(f.ring.members, p.Status.PodIP)
	}
	tg := f.engine.Prepare(t.Context(), exampleSource(t))
	require.NoError(t, tg.Desired.Invalid)
	_, err := f.engine.Observe(t.Context(), tg)
	require.NoError(t, err)
	return tg
}

func sts(name, rv string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "StatefulSet",
		"metadata": map[string]any{"name": name, "namespace": "cassandra"}}}
	if rv != "" {
		u.SetResourceVersion(rv)
	}
	return u
}

func TestExecuteFollowsEachActionsContract(t *testing.T) {
	stsRef := plan.ObjectRef{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: "cassandra", Name: "orders-dc1-r1", UID: "u1", ResourceVersion: "7"}
	pvcRef := plan.ObjectRef{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: "cassandra", Name: "data-orders-dc1-r1-1", UID: "u2", ResourceVersion: "9"}
	for _, tc := range []struct {
		name string
		step plan.Step
		want []string
	}{
		{"objects are applied together", plan.Step{Action: plan.ApplyObjects, Context: "eu-west",
			Objects: []*unstructured.Unstructured{sts("orders-config", ""), sts("orders", "")}},
			[]string{"Apply eu-west orders-config,orders"}},
		{"a StatefulSet is created", plan.Step{Action: plan.CreateStatefulSet, Context: "eu-west", Objects: []*unstructured.Unstructured{sts("orders-dc1-r1", "")}},
			[]string{"Apply eu-west orders-dc1-r1"}},
		{"a scale-up is one apply over the observed version", plan.Step{Action: plan.ScaleStatefulSet, Context: "eu-west", Target: stsRef,
			Objects: []*unstructured.Unstructured{sts("orders-dc1-r1", "7")}, From: 1, To: 2, Pod: "orders-dc1-r1-1"},
			[]string{"ApplyObject eu-west orders-dc1-r1 rv=7"}},
		{"a scale-down marks the freed PVC before the apply", plan.Step{Action: plan.ScaleStatefulSet, Context: "eu-west", Target: stsRef,
			Objects: []*unstructured.Unstructured{sts("orders-dc1-r1", "7")}, From: 2, To: 1, Pod: "orders-dc1-r1-1", MarkPVC: "data-orders-dc1-r1-1"},
			[]string{"MarkPVCDecommissioned eu-west cassandra/data-orders-dc1-r1-1", "ApplyObject eu-west orders-dc1-r1 rv=7"}},
		{"a restart lowers the partition", plan.Step{Action: plan.RestartPod, Context: "eu-west", Target: stsRef,
			Objects: []*unstructured.Unstructured{sts("orders-dc1-r1", "7")}, From: 1, To: 0, Pod: "orders-dc1-r1-0"},
			[]string{"ApplyObject eu-west orders-dc1-r1 rv=7"}},
		{"a pod that is down is deleted after the apply", plan.Step{Action: plan.RestartPod, Context: "eu-west", Target: stsRef,
			Objects: []*unstructured.Unstructured{sts("orders-dc1-r1", "7")}, From: 1, To: 0, Pod: "orders-dc1-r1-0", DeletePod: "pod-7"},
			[]string{"ApplyObject eu-west orders-dc1-r1 rv=7", "DeletePod eu-west cassandra/orders-dc1-r1-0 uid=pod-7"}},
		{"a PVC is deleted with its preconditions", plan.Step{Action: plan.DeletePVC, Context: "eu-west", Target: pvcRef},
			[]string{"DeletePVC eu-west PersistentVolumeClaim/data-orders-dc1-r1-1 uid=u2 rv=9"}},
		{"a PVC grows", plan.Step{Action: plan.ExpandPVC, Context: "eu-west", Target: pvcRef, Size: "20Gi"},
			[]string{"ExpandPVC eu-west PersistentVolumeClaim/data-orders-dc1-r1-1 uid=u2 rv=9 20Gi"}},
		{"a StatefulSet is re-created", plan.Step{Action: plan.RecreateStatefulSet, Context: "eu-west", Target: stsRef,
			Objects: []*unstructured.Unstructured{sts("orders-dc1-r1", "")}},
			[]string{"RecreateStatefulSet eu-west StatefulSet/orders-dc1-r1 uid=u1 rv=7 orders-dc1-r1"}},
		{"the StatefulSet of a removed datacenter is deleted", plan.Step{Action: plan.DeleteStatefulSet, Context: "ap-south", Target: stsRef},
			[]string{"DeleteStatefulSet ap-south StatefulSet/orders-dc1-r1 uid=u1 rv=7"}},
		{"an object is pruned", plan.Step{Action: plan.Prune, Context: "eu-west",
			Target: plan.ObjectRef{APIVersion: "v1", Kind: "Service", Namespace: "cassandra", Name: "old", UID: "u3"}},
			[]string{"Prune eu-west Service/old uid=u3 rv="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			events, err := f.engine.Execute(t.Context(), plan.Plan{Cluster: "orders", Steps: []plan.Step{tc.step}})
			require.NoError(t, err)
			assert.Equal(t, tc.want, f.kube.Calls())
			require.Len(t, events, 2)
			assert.Equal(t, []EventKind{StepStarted, StepDone}, []EventKind{events[0].Kind, events[1].Kind})
			assert.True(t, events[1].Wrote(), "the fake wrote: %v", events[1].Results)
			assert.Equal(t, events, f.Events(), "every event also goes to the sink")
		})
	}
}

func TestExecuteStopsAtTheFirstError(t *testing.T) {
	f := newFixture(t, Options{})
	conflict := errors.Join(kube.ErrConflict, errors.New("409"))
	f.kube.fail["ApplyObject"] = conflict
	p := plan.Plan{Cluster: "orders", Steps: []plan.Step{
		{Action: plan.ApplyObjects, Context: "eu-west", Objects: []*unstructured.Unstructured{sts("orders", "")}},
		{Action: plan.UpdateStatefulSet, Context: "eu-west", Target: plan.ObjectRef{Name: "orders-dc1-r1"},
			Objects: []*unstructured.Unstructured{sts("orders-dc1-r1", "7")}},
		{Action: plan.UpdateStatefulSet, Context: "eu-west", Target: plan.ObjectRef{Name: "orders-dc1-r2"},
			Objects: []*unstructured.Unstructured{sts("orders-dc1-r2", "7")}},
	}}
	events, err := f.engine.Execute(t.Context(), p)
	require.ErrorIs(t, err, kube.ErrConflict)
	assert.Equal(t, []string{"Apply eu-west orders", "ApplyObject eu-west orders-dc1-r1 rv=7"}, f.kube.Calls(), "the third step is not tried")
	var kinds []EventKind
	for _, ev := range events {
		kinds = append(kinds, ev.Kind)
	}
	assert.Equal(t, []EventKind{StepStarted, StepDone, StepStarted, StepFailed}, kinds)
	assert.Contains(t, events[3].String(), "[eu-west] UpdateStatefulSet orders-dc1-r1: conflict, planning again: ")
}

func TestExecuteRefusesAStepWithoutItsObject(t *testing.T) {
	f := newFixture(t, Options{})
	_, err := f.engine.Execute(t.Context(), plan.Plan{Cluster: "orders", Steps: []plan.Step{{Action: plan.ScaleStatefulSet, Context: "eu-west"}}})
	require.ErrorIs(t, err, ErrBadStep)
	assert.Empty(t, f.kube.Calls())
}

// TestDecommissionIsFireAndForget: the step applies the marker, sends the
// decommission and returns, whatever the node answers next (a node whose
// agent serves one request at a time does not answer reads while it
// decommissions): nothing is held open, nothing waits for the node to
// leave NORMAL.
func TestDecommissionIsFireAndForget(t *testing.T) {
	f := newFixture(t, Options{RingPollInterval: time.Millisecond})
	f.ring.decom = func(context.Context, ring.Node) error { return nil } // sent; the node still says NORMAL
	f.observeRack(t, 2)
	step := plan.Step{Action: plan.Decommission, Context: "eu-west", Pod: "orders-dc1-r1-1",
		Target:  plan.ObjectRef{Kind: "StatefulSet", Namespace: "cassandra", Name: "orders-dc1-r1"},
		Objects: []*unstructured.Unstructured{sts("orders-dc1-r1", "7")}, From: 2, To: 1}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	events, err := f.engine.Execute(ctx, plan.Plan{Cluster: "orders", Steps: []plan.Step{step}})
	require.NoError(t, err, "the step is done once the decommission is sent; the planner follows it from the ring")
	assert.Equal(t, StepDone, events[len(events)-1].Kind)
	// Prepare reads the spec the clusters recorded, then the observation.
	assert.Equal(t, []string{"Observe eu-west,us-east,ap-south", "Observe eu-west,us-east,ap-south", "ApplyObject eu-west orders-dc1-r1 rv=7"}, f.kube.Calls(),
		"the marker is applied first")
	assert.Equal(t, []string{"orders-dc1-r1-1@10.0.1.2"}, f.ring.Decommissions(), "the node is reached at its pod IP")
}

// TestOperationSteps: a bootstrap resume and an upgradesstables apply
// their StatefulSet (the attempt's stamp), then go to the step's node.
func TestOperationSteps(t *testing.T) {
	f := newFixture(t, Options{})
	f.observeRack(t, 2)
	for _, a := range []plan.Action{plan.ResumeBootstrap, plan.UpgradeSSTables} {
		step := plan.Step{Action: a, Context: "eu-west", Pod: "orders-dc1-r1-1",
			Target:  plan.ObjectRef{Kind: "StatefulSet", Namespace: "cassandra", Name: "orders-dc1-r1"},
			Objects: []*unstructured.Unstructured{sts("orders-dc1-r1", "7")}}
		_, err := f.engine.Execute(t.Context(), plan.Plan{Cluster: "orders", Steps: []plan.Step{step}})
		require.NoError(t, err, "%s", a)
	}
	assert.Equal(t, []string{"ResumeBootstrap orders-dc1-r1-1@10.0.1.2", "UpgradeSSTables orders-dc1-r1-1@10.0.1.2"}, f.ring.Ops())
	// Prepare reads the spec the clusters recorded, then the observation.
	assert.Equal(t, []string{"Observe eu-west,us-east,ap-south", "Observe eu-west,us-east,ap-south", "ApplyObject eu-west orders-dc1-r1 rv=7", "ApplyObject eu-west orders-dc1-r1 rv=7"},
		f.kube.Calls())

	f.ring.opErr = jolokia.ErrResumeFailed
	step := plan.Step{Action: plan.ResumeBootstrap, Context: "eu-west", Pod: "orders-dc1-r1-1",
		Objects: []*unstructured.Unstructured{sts("orders-dc1-r1", "7")}}
	_, err := f.engine.Execute(t.Context(), plan.Plan{Cluster: "orders", Steps: []plan.Step{step}})
	require.ErrorIs(t, err, jolokia.ErrResumeFailed, "a refusal is the step's failure")
	_, err = f.engine.Execute(t.Context(), plan.Plan{Cluster: "orders", Steps: []plan.Step{{Action: plan.UpgradeSSTables, Context: "eu-west",
		Objects: []*unstructured.Unstructured{sts("orders-dc1-r1", "7")}}}})
	require.ErrorIs(t, err, ErrBadStep, "no pod")
}

func TestADecommissionThatCannotStartFailsTheStep(t *testing.T) {
	f := newFixture(t, Options{RingPollInterval: time.Millisecond})
	f.ring.decom = func(context.Context, ring.Node) error { return jolokia.ErrRingBusy }
	f.observeRack(t, 2)
	step := plan.Step{Action: plan.Decommission, Context: "eu-west", Pod: "orders-dc1-r1-1",
		Objects: []*unstructured.Unstructured{sts("orders-dc1-r1", "7")}}
	events, err := f.engine.Execute(t.Context(), plan.Plan{Cluster: "orders", Steps: []plan.Step{step}})
	require.ErrorIs(t, err, jolokia.ErrRingBusy)
	assert.Equal(t, StepFailed, events[len(events)-1].Kind)
	f.engine.Close()
	assert.Equal(t, events, f.Events(), "reported once, as the step's failure")
}

func TestAnInvalidRevisionTouchesNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  func(Source) Source
	}{
		{"the spec could not be loaded", func(s Source) Source {
			s.Cluster, s.LoadErr = nil, errors.New("cluster.yaml:3: spec.nodesPerRack: -1 is negative")
			return s
		}},
		{"the change is unsafe", func(s Source) Source {
			prev := *s.Cluster
			prev.Spec.Datacenters = append([]schemas.Datacenter(nil), s.Cluster.Spec.Datacenters...)
			prev.Spec.Datacenters[0].Racks = []schemas.Rack{{Name: "other"}}
			s.Previous = &prev
			return s
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			tg := f.engine.Prepare(t.Context(), tc.src(exampleSource(t)))
			require.Error(t, tg.Desired.Invalid)
			p, events, err := f.engine.Step(t.Context(), tg)
			require.NoError(t, err)
			assert.Equal(t, plan.Blocked, p.Wait.Reason)
			assert.Empty(t, f.kube.Calls(), "no API server is asked anything")
			assert.Zero(t, f.ring.Reads(), "no node is asked anything")
			require.Len(t, events, 1)
			assert.Contains(t, events[0].String(), "[orders] waiting: Blocked: the revision is invalid, nothing is applied")
		})
	}
}

func TestTheRingVerdictKeepsItsStart(t *testing.T) {
	f := newFixture(t, Options{})
	t0 := f.clock.Now()
	tg := f.observeRack(t, 2)
	observe := func() plan.Ring {
		o, err := f.engine.Observe(t.Context(), tg)
		require.NoError(t, err)
		return o.Ring
	}
	f.clock.Advance(5 * time.Second)
	rg := observe()
	assert.True(t, rg.Healthy)
	assert.Equal(t, t0, rg.Since, "healthy since the first observation of the streak")

	f.clock.Advance(5 * time.Second)
	f.ring.setMode("10.0.1.2", ring.ModeJoining)
	rg = observe()
	assert.False(t, rg.Healthy)
	assert.Equal(t, t0.Add(10*time.Second), rg.Since, "a new verdict starts a new streak")

	f.clock.Advance(2 * time.Second)
	f.ring.setMode("10.0.1.2", ring.ModeNormal)
	rg = observe()
	assert.True(t, rg.Healthy)
	assert.Equal(t, t0.Add(12*time.Second), rg.Since, "settle counts from here")
}

func TestAnEmptyRingHasNothingToSettle(t *testing.T) {
	f := newFixture(t, Options{})
	tg := f.engine.Prepare(t.Context(), exampleSource(t))
	o, err := f.engine.Observe(t.Context(), tg)
	require.NoError(t, err)
	assert.True(t, o.Ring.Healthy)
	assert.True(t, o.Ring.Since.IsZero())
	p := plan.Next(&tg.Desired, o)
	require.NotEmpty(t, p.Steps, "a new cluster: its objects are created at once")
}

func TestWaitEndsWhenTheRingChanges(t *testing.T) {
	f := newFixture(t, Options{RingPollInterval: 5 * time.Millisecond, ObserveInterval: time.Hour, FastObserveInterval: time.Hour})
	f.ring.modes["10.0.1.2"] = ring.ModeJoining
	tg := f.observeRack(t, 2)
	go func() {
		time.Sleep(50 * time.Millisecond)
		f.ring.setMode("10.0.1.2", ring.ModeNormal)
	}()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	err := f.engine.Wait(ctx, tg, plan.Plan{Cluster: "orders", Wait: plan.Wait{Reason: plan.RolloutInProgress}})
	require.NoError(t, err, "the wait ends on the node turning NORMAL, not after the hour between observations")
}

func TestWaitEndsWithTheSettleTime(t *testing.T) {
	f := newFixture(t, Options{RingPollInterval: 5 * time.Millisecond, ObserveInterval: time.Hour})
	tg := f.observeRack(t, 2)
	tg.Settle = 50 * time.Millisecond
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	e := f.engine
	e.clock = WallClock{}
	err := e.Wait(ctx, tg, plan.Plan{Cluster: "orders", Wait: plan.Wait{Reason: plan.Settling, Since: time.Now()}})
	require.NoError(t, err, "the wait ends when the settle time is over")
}

func TestWaitIntervalByReason(t *testing.T) {
	f := newFixture(t, Options{ObserveInterval: 2 * time.Second, IdleInterval: 30 * time.Second, FastObserveInterval: 250 * time.Millisecond})
	tg := f.observeRack(t, 2)
	o, healthy := f.engine.state(tg.Name()).observed, true
	for reason, want := range map[plan.WaitReason]time.Duration{
		plan.Converged: 30 * time.Second, plan.Paused: 30 * time.Second, plan.OutsideWindow: 30 * time.Second,
		plan.Blocked: 30 * time.Second, plan.RolloutInProgress: 250 * time.Millisecond, plan.RegionUnreachable: 2 * time.Second,
	} {
		got := f.engine.waitInterval(tg, plan.Plan{Wait: plan.Wait{Reason: reason}}, o, healthy)
		assert.Equal(t, want, got, "%s", reason)
	}
	assert.Equal(t, 2*time.Second, newFixture(t, Options{ObserveInterval: 2 * time.Second}).engine.opts.IdleInterval, "IdleInterval defaults to ObserveInterval")
}

func TestConvergedWaitReadsNoRing(t *testing.T) {
	f := newFixture(t, Options{RingPollInterval: 5 * time.Millisecond, IdleInterval: 200 * time.Millisecond})
	tg := f.observeRack(t, 2)
	e := f.engine
	e.clock = WallClock{}
	before := f.ring.Reads()
	err := e.Wait(t.Context(), tg, plan.Plan{Cluster: "orders", Wait: plan.Wait{Reason: plan.Converged}})
	require.NoError(t, err)
	assert.Equal(t, before, f.ring.Reads(), "a converged cluster's ring is read at the next observation, not every RingPollInterval")
}

func TestEventLines(t *testing.T) {
	step := plan.Step{Action: plan.ScaleStatefulSet, Context: "eu-west", Target: plan.ObjectRef{Name: "orders-dc1-r2"},
		From: 0, To: 1, Pod: "orders-dc1-r2-0", Reason: "dc1/r2: first node of the rack"}
	for _, tc := range []struct {
		ev   Event
		want string
	}{
		{Event{Kind: StepDone, Cluster: "orders", Step: step, Results: []kube.Result{{Action: kube.Configured}}},
			"[eu-west] ScaleStatefulSet orders-dc1-r2 0 -> 1 (orders-dc1-r2-0): dc1/r2: first node of the rack"},
		{Event{Kind: StepDone, Cluster: "orders", Step: step, Results: []kube.Result{{Action: kube.Unchanged}}},
			"[eu-west] ScaleStatefulSet orders-dc1-r2 0 -> 1 (orders-dc1-r2-0): dc1/r2: first node of the rack (unchanged)"},
		{Event{Kind: StepFailed, Cluster: "orders", Step: step, Err: errors.New("context eu-west: boom\nmore")},
			"[eu-west] ScaleStatefulSet orders-dc1-r2 0 -> 1 (orders-dc1-r2-0): dc1/r2: first node of the rack: FAILED: context eu-west: boom; more"},
		{Event{Kind: Waiting, Cluster: "orders", Wait: plan.Wait{Reason: plan.Converged, Message: "7 nodes"}},
			"[orders] converged: 7 nodes"},
		{Event{Kind: Waiting, Cluster: "orders", Wait: plan.Wait{Reason: plan.RegionUnreachable, Context: "ap-south", Message: "ap-south cannot be read"}},
			"[ap-south] waiting: RegionUnreachable: ap-south cannot be read"},
		{Event{Kind: OperationFailed, Cluster: "orders", Pod: "orders-dc1-r1-1", Step: plan.Step{Context: "eu-west"}, Err: jolokia.ErrDecommissionFailed},
			"[eu-west] operation on orders-dc1-r1-1 failed: decommission failed"},
	} {
		assert.Equal(t, tc.want, tc.ev.String())
	}
}

func TestNewNeedsItsClients(t *testing.T) {
	_, err := New(Clients{Ring: &fakeRing{}, Operations: &fakeRing{}}, Options{})
	require.ErrorIs(t, err, ErrMissingClient)
	assert.Contains(t, err.Error(), "Clients.Kube")
}
