package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/test/gitserver"
)

// memKube is the API servers of every region as an in-memory store that
// outlives the daemons of a test: what is applied is observed again.
// Only what a first pass of a rollout does is modelled (apply, observe);
// apply semantics are proven against real API servers elsewhere.
type memKube struct {
	mu   sync.Mutex
	rv   int
	objs map[string]map[string]*unstructured.Unstructured // context -> kind/namespace/name
}

var _ reconciler.Kube = (*memKube)(nil)

func newMemKube() *memKube { return &memKube{objs: map[string]map[string]*unstructured.Unstructured{}} }

func (m *memKube) Observe(_ context.Context, q kube.Query) map[string]*kube.Observation {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]*kube.Observation{}
	for _, kc := range q.Contexts {
		o := &kube.Observation{}
		for _, u := range m.objs[kc] {
			if u.GetNamespace() == q.Namespace && u.GetLabels()[contract.LabelCluster] == q.Cluster {
				o.Objects = append(o.Objects, u.DeepCopy())
			}
		}
		slices.SortFunc(o.Objects, func(a, b *unstructured.Unstructured) int { return strings.Compare(key(a), key(b)) })
		out[kc] = o
	}
	return out
}

func key(u *unstructured.Unstructured) string {
	return u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
}

func (m *memKube) Apply(ctx context.Context, kctx string, objs ...*unstructured.Unstructured) ([]kube.Result, error) {
	var out []kube.Result
	for _, u := range objs {
		r, err := m.ApplyObject(ctx, kctx, u)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (m *memKube) ApplyObject(_ context.Context, kctx string, obj *unstructured.Unstructured) (kube.Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.objs[kctx] == nil {
		m.objs[kctx] = map[string]*unstructured.Unstructured{}
	}
	m.rv++
	u := obj.DeepCopy()
	u.SetResourceVersion(strconv.Itoa(m.rv))
	u.SetUID(types.UID("uid-" + key(u)))
	m.objs[kctx][key(u)] = u
	return kube.Result{Context: kctx, Ref: kube.Ref{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(),
		UID: string(u.GetUID()), ResourceVersion: u.GetResourceVersion()}, Action: kube.Configured, Object: u.DeepCopy()}, nil
}

// annotation returns an annotation of a stored object, "" when absent.
func (m *memKube) annotation(kctx, kind, namespace, name, ann string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if u := m.objs[kctx][kind+"/"+namespace+"/"+name]; u != nil {
		return u.GetAnnotations()[ann]
	}
	return ""
}

func (m *memKube) RecreateStatefulSet(_ context.Context, kctx string, target kube.Ref, _ *unstructured.Unstructured) (kube.Result, error) {
	return kube.Result{Context: kctx, Ref: target, Action: kube.Skipped}, nil
}
func (m *memKube) DeleteStatefulSet(_ context.Context, kctx string, target kube.Ref) (kube.Result, error) {
	return kube.Result{Context: kctx, Ref: target, Action: kube.Skipped}, nil
}
func (m *memKube) AdoptStatefulSet(_ context.Context, kctx string, obj *unstructured.Unstructured) (kube.Result, error) {
	return kube.Result{Context: kctx, Ref: kube.RefOf(obj), Action: kube.Skipped}, nil
}
func (m *memKube) DeleteCassKopObject(_ context.Context, kctx string, target kube.Ref) (kube.Result, error) {
	return kube.Result{Context: kctx, Ref: target, Action: kube.Skipped}, nil
}
func (m *memKube) Prune(_ context.Context, kctx string, target kube.Ref) (kube.Result, error) {
	return kube.Result{Context: kctx, Ref: target, Action: kube.Skipped}, nil
}
func (m *memKube) DeletePVC(_ context.Context, kctx string, target kube.Ref) (kube.Result, error) {
	return kube.Result{Context: kctx, Ref: target, Action: kube.Skipped}, nil
}
func (m *memKube) ExpandPVC(_ context.Context, kctx string, target kube.Ref, _ string) (kube.Result, error) {
	return kube.Result{Context: kctx, Ref: target, Action: kube.Skipped}, nil
}
func (m *memKube) MarkPVCDecommissioned(_ context.Context, kctx, _, _ string, _ time.Time) (kube.Result, error) {
	return kube.Result{Context: kctx, Action: kube.Skipped}, nil
}
func (m *memKube) DeletePod(_ context.Context, kctx, _, _, _ string) (kube.Result, error) {
	return kube.Result{Context: kctx, Action: kube.Skipped}, nil
}

// noRing answers no Jolokia read: disruptive steps wait, the
// non-disruptive ones (the first batch of a rollout) go on.
type noRing struct{}

func (noRing) ReadView(context.Context, ring.Node) (*ring.View, error) {
	return nil, errors.New("connection refused")
}
func (noRing) Decommission(context.Context, ring.Node) error { return errors.New("connection refused") }
func (noRing) ResumeBootstrap(context.Context, ring.Node) error {
	return errors.New("connection refused")
}
func (noRing) UpgradeSSTables(context.Context, ring.Node) error {
	return errors.New("connection refused")
}
func (noRing) ForceDecommission(context.Context, ring.Node) error {
	return errors.New("connection refused")
}
func (noRing) Rebuild(context.Context, ring.Node, string, []string) (bool, error) {
	return false, errors.New("connection refused")
}
func (noRing) ReadProgress(context.Context, ring.Node) (*jolokia.Progress, error) {
	return nil, errors.New("connection refused")
}
func (noRing) RemoveNode(context.Context, ring.Node, string) error {
	return errors.New("connection refused")
}
func (noRing) Cleanup(context.Context, ring.Node, int, []string) (bool, error) {
	return false, errors.New("connection refused")
}
func (noRing) Downtime(context.Context, ring.Node, string) (time.Duration, error) {
	return 0, errors.New("connection refused")
}

// startDaemon runs a daemon with the real engine over store, following a
// fake source; it stops with the test or when stop is called.
func startDaemon(t *testing.T, store *memKube, rep *reporter) (src *fakeSource, stop func()) {
	engine, err := reconciler.New(reconciler.Clients{Kube: store, Ring: noRing{}, Operations: noRing{}},
		reconciler.Options{RingPollInterval: 20 * time.Millisecond, ObserveInterval: 50 * time.Millisecond, FastObserveInterval: 20 * time.Millisecond})
	require.NoError(t, err)
	src = newFakeSource()
	opts := DefaultOptions()
	opts.Path = "clusters"
	opts.ShutdownGrace = 2 * time.Second
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := New(src, engine, rep, opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Error("the daemon did not stop")
			}
			engine.Close()
		})
	}
	t.Cleanup(stop)
	return src, stop
}

// TestRestartedDaemonRemembersWhatWasRolledOut: the clusters record the
// spec rolled out (on the ConfigMap, with the first objects applied), so
// that a daemon restarted before the next revision still refuses a
// renamed datacenter; the daemon's memory alone forgot it.
func TestRestartedDaemonRemembersWhatWasRolledOut(t *testing.T) {
	repo := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	repo.CopyDir(filepath.Join("..", "..", "clusters-example"), ".")
	repo.Commit("example")
	store, rep := newMemKube(), &reporter{}
	w := &world{t: t, repo: repo, rep: rep}

	var stop func()
	w.src, stop = startDaemon(t, store, rep)
	first := w.push("first", nil)
	require.Eventually(t, func() bool {
		return store.annotation("us-east", "ConfigMap", "cassandra", "orders-config", contract.AnnotationLastApplied) != ""
	}, 20*time.Second, 20*time.Millisecond, "the rollout of %s applied no ConfigMap in us-east", short(first))
	stop()

	w.src, _ = startDaemon(t, store, rep)
	renamed := w.push("rename dc2", editSpec(t, "    - name: dc2\n", "    - name: dc4\n"))
	require.Eventually(t, func() bool {
		s, ok := rep.latest(renamed, forge.SummaryContext)
		return ok && s.State == forge.StateFailure && strings.Contains(s.Description, "dc2 was renamed to dc4")
	}, 20*time.Second, 20*time.Millisecond, "the restarted daemon did not refuse the renamed datacenter")
}
