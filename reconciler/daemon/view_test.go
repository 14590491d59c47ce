package daemon

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
)

func sts(name, dc, rack string, replicas int64) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "StatefulSet",
		"metadata": map[string]any{"name": name, "namespace": "cassandra", "labels": map[string]any{
			contract.LabelCluster: "orders", contract.LabelDatacenter: dc, contract.LabelRack: rack}},
		"spec": map[string]any{"replicas": replicas}}}
	return u
}

// TestRingView: one cell per pod the StatefulSets hold, sorted by region,
// datacenter, rack and ordinal; the node of the step in flight marked; a
// node the views disagree on says so; the address falls back to the pod IP.
func TestRingView(t *testing.T) {
	pod := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "orders-dc1-r2-0", Labels: map[string]string{contract.LabelCluster: "orders"}},
		Status: corev1.PodStatus{PodIP: "127.0.0.9"}}
	o := &plan.Observed{Contexts: map[string]*plan.Context{
		"us-east": {Objects: []*unstructured.Unstructured{sts("orders-dc2-r1", "dc2", "r1", 1)}},
		"eu-west": {Objects: []*unstructured.Unstructured{sts("orders-dc1-r2", "dc1", "r2", 1), sts("orders-dc1-r1", "dc1", "r1", 2)},
			Pods: []corev1.Pod{pod}},
	}, Ring: plan.Ring{Nodes: map[string]plan.RingNode{
		"orders-dc1-r1-0": {State: ring.UN, Mode: ring.ModeNormal, Load: "1.2 MiB", Address: "127.0.0.1", HostID: "h1"},
		"orders-dc1-r1-1": {State: ring.UJ, Mode: ring.ModeJoining, Address: "127.0.0.2"},
		"orders-dc2-r1-0": {State: ring.UN, Address: "127.0.0.3"},
	}, Problems: []plan.RingProblem{
		{Kind: "Unreachable", Nodes: []string{"orders-dc2-r1-0"}, Text: "orders-dc2-r1-0 is down for orders-dc1-r1-0"},
		{Kind: "NodeJoining", Nodes: []string{"orders-dc1-r1-1"}, Text: "joining"},
	}}}
	p := plan.Plan{Cluster: "orders", Steps: []plan.Step{{Context: "eu-west", Pod: "orders-dc1-r1-1"}}}
	got := ringView("orders", o, p, nil)
	var pods []string
	for _, n := range got {
		pods = append(pods, n.Pod)
	}
	require.Equal(t, []string{"orders-dc1-r1-0", "orders-dc1-r1-1", "orders-dc1-r2-0", "orders-dc2-r1-0"}, pods)
	require.Equal(t, NodeView{Context: "eu-west", Datacenter: "dc1", Rack: "r1", Pod: "orders-dc1-r1-0", State: "UN", Mode: "NORMAL",
		Load: "1.2 MiB", Address: "127.0.0.1", HostID: "h1"}, got[0])
	require.True(t, got[1].InFlight)
	require.Equal(t, "UJ", got[1].State)
	require.Empty(t, got[1].Disagreement, "joining is no disagreement between views")
	require.Equal(t, "??", got[2].State)
	require.Equal(t, "127.0.0.9", got[2].Address)
	require.Equal(t, "orders-dc2-r1-0 is down for orders-dc1-r1-0", got[3].Disagreement)

	waiting := plan.Plan{Cluster: "orders", Wait: plan.Wait{Reason: plan.RolloutInProgress}}
	tl := []TimelineEntry{{Pod: "orders-dc1-r1-1"}, {Step: "apply ConfigMap"}}
	got = ringView("orders", o, waiting, tl)
	require.True(t, got[1].InFlight, "the node of the step in progress while the plan waits for it")
	got = ringView("orders", o, plan.Plan{Cluster: "orders", Wait: plan.Wait{Reason: plan.Settling}}, tl)
	require.False(t, got[1].InFlight, "settling: no step in flight")
}

// TestTimelineWaits: each step says how long it waited since the one
// before (the first, since the rollout started); waits and starts are not
// steps; the timeline keeps its last maxTimeline entries.
func TestTimelineWaits(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	step := plan.Step{Context: "eu-west", Action: plan.ScaleStatefulSet, Pod: "orders-dc1-r1-1"}
	tl, last := timeline(nil, t0, []reconciler.Event{
		{Kind: reconciler.StepStarted, At: t0.Add(time.Second), Step: step},
		{Kind: reconciler.StepDone, At: t0.Add(2 * time.Second), Step: step, Results: []kube.Result{{Action: kube.Created}}},
		{Kind: reconciler.Waiting, At: t0.Add(3 * time.Second)},
	})
	tl, last = timeline(tl, last, []reconciler.Event{{Kind: reconciler.StepFailed, At: t0.Add(32 * time.Second), Step: step, Err: errors.New("409")}})
	require.Len(t, tl, 2)
	require.Equal(t, 2.0, tl[0].Waited)
	require.Equal(t, "ok", tl[0].Result)
	require.Equal(t, 30.0, tl[1].Waited)
	require.Equal(t, "failed", tl[1].Result)
	require.Equal(t, "409", tl[1].Error)
	for i := range maxTimeline {
		tl, last = timeline(tl, last, []reconciler.Event{{Kind: reconciler.StepDone, At: t0.Add(time.Duration(100+i) * time.Second), Step: step}})
	}
	require.Len(t, tl, maxTimeline)
	require.Equal(t, t0.Add(100*time.Second), tl[0].At)
}

// TestToCome: the steps of the replay after the last one the rollout
// took, told apart by what they do, not their words (a cleanup's reason
// names when the node joined, in the replay and in the rollout alike).
func TestToCome(t *testing.T) {
	scale := func(sts string) plan.Step {
		return plan.Step{Action: plan.ScaleStatefulSet, Context: "eu-west", Target: plan.ObjectRef{Kind: "StatefulSet", Name: sts}, From: 1, To: 2}
	}
	cleanup := func(pod, when string) plan.Step {
		return plan.Step{Action: plan.Cleanup, Context: "eu-west", Pod: pod, Reason: "a node joined at " + when}
	}
	var replayed []replayedStep
	for _, s := range []plan.Step{scale("r1"), scale("r2"), cleanup("r1-0", "13:10:46Z"), cleanup("r2-0", "13:10:46Z")} {
		replayed = append(replayed, replayedStep{words: s.String(), key: stepKey(s)})
	}
	words := func(from int) []string {
		var out []string
		for _, r := range replayed[from:] {
			out = append(out, r.words)
		}
		return out
	}
	at := time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)
	took := func(steps ...plan.Step) []TimelineEntry {
		var evs []reconciler.Event
		for _, s := range steps {
			evs = append(evs, reconciler.Event{Kind: reconciler.StepDone, At: at, Step: s})
		}
		tl, _ := timeline(nil, at, evs)
		return tl
	}
	require.Equal(t, words(0), toCome(replayed, nil))
	require.Equal(t, words(2), toCome(replayed, took(scale("r1"), scale("r2"), plan.Step{Action: plan.ApplyObjects, Context: "eu-west"})),
		"a step the replay does not have (a record, drift) does not hide the rest")
	require.Equal(t, words(3), toCome(replayed, took(scale("r1"), scale("r2"), cleanup("r1-0", "13:02:18Z"))),
		"the cleanup done, whatever time its reason names")
	require.Empty(t, toCome(replayed, took(cleanup("r2-0", "13:02:19Z"))))
}

func TestHistory(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	h := beginRevision(nil, "r1", "first", t0)
	require.True(t, endRevision(h, "r1", "failure", t0.Add(time.Minute)))
	require.True(t, endRevision(h, "r1", "success", t0.Add(2*time.Minute)), "a failure that recovers")
	require.False(t, endRevision(h, "r1", "failure", t0.Add(3*time.Minute)), "a success stays")
	h = beginRevision(h, "r2", "second", t0.Add(4*time.Minute))
	h = beginRevision(h, "r3", "third", t0.Add(5*time.Minute))
	require.Equal(t, RevisionOutcome{Revision: "r1", Subject: "first", Outcome: "success", Started: t0, Finished: t0.Add(2 * time.Minute), Seconds: 120}, h[0])
	require.Equal(t, "superseded", h[1].Outcome)
	require.Equal(t, 60.0, h[1].Seconds)
	require.Equal(t, "rolling", h[2].Outcome)
	for i := range 2 * maxHistory {
		h = beginRevision(h, string(rune('a'+i)), "", t0)
	}
	require.Len(t, h, maxHistory)
}

func TestSubjectsAreBounded(t *testing.T) {
	var s subjects
	for i := range maxSubjects + 5 {
		s.add(string(rune('A'+i)), "subject")
	}
	require.Len(t, s.by, maxSubjects)
	require.Len(t, s.order, maxSubjects)
	_, ok := s.by["A"]
	require.False(t, ok)
}

// TestWaitTextIsTheStatus: the wait the page shows is the status posted
// for the region waited on; a cluster-wide wait shows the first region
// not done; steps and convergence show none.
func TestWaitTextIsTheStatus(t *testing.T) {
	regions := []RegionState{
		{Context: "ringops/orders/eu-west", State: "success", Description: "eu-west: 3 nodes UN, ring healthy at abcdef0"},
		{Context: "ringops/orders/us-east", State: "pending", Description: "us-east: settling: ring healthy since 12:01:03, 10s"},
		{Context: "ringops/orders/ap-south", State: "pending", Description: "queued behind us-east: settling"},
	}
	settling := plan.Plan{Wait: plan.Wait{Reason: plan.Settling, Context: "us-east"}}
	require.Equal(t, regions[1].Description, waitText("orders", settling, regions))
	clusterWide := plan.Plan{Wait: plan.Wait{Reason: plan.RingUnhealthy}}
	require.Equal(t, regions[1].Description, waitText("orders", clusterWide, regions))
	require.Empty(t, waitText("orders", plan.Plan{Steps: []plan.Step{{}}}, regions))
	require.Empty(t, waitText("orders", plan.Plan{Wait: plan.Wait{Reason: plan.Converged}}, regions))
}
