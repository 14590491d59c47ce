package reconciler

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
)

// fakeKube records the calls the executor makes, in order, and answers
// from fail (by call name) or with success. It stands for the kube edge
// in tests of the executor's contract (the order and arguments of its
// calls); apply semantics are proven against real API servers.
type fakeKube struct {
	mu    sync.Mutex
	calls []string
	fail  map[string]error
	// contexts are what Observe returns.
	contexts map[string]*kube.Observation
}

var _ Kube = (*fakeKube)(nil)

func (f *fakeKube) record(name, detail string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name+" "+detail)
	return f.fail[name]
}

// termOf is " term=<shard term>" for an object a fenced step stamped,
// else "".
func termOf(u *unstructured.Unstructured) string {
	if t, ok := u.GetAnnotations()[contract.AnnotationShardTerm]; ok {
		return " term=" + t
	}
	return ""
}

func (f *fakeKube) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeKube) result(kctx string, ref kube.Ref, a kube.Action, err error) (kube.Result, error) {
	if err != nil {
		return kube.Result{Context: kctx, Ref: ref}, err
	}
	return kube.Result{Context: kctx, Ref: ref, Action: a}, nil
}

func (f *fakeKube) Observe(_ context.Context, q kube.Query) map[string]*kube.Observation {
	_ = f.record("Observe", strings.Join(q.Contexts, ","))
	out := map[string]*kube.Observation{}
	for _, kc := range q.Contexts {
		if o, ok := f.contexts[kc]; ok {
			out[kc] = o
		} else {
			out[kc] = &kube.Observation{}
		}
	}
	return out
}

func (f *fakeKube) Apply(_ context.Context, kctx string, objs ...*unstructured.Unstructured) ([]kube.Result, error) {
	var names []string
	for _, u := range objs {
		names = append(names, u.GetName()+termOf(u))
	}
	if err := f.record("Apply", kctx+" "+strings.Join(names, ",")); err != nil {
		return nil, err
	}
	var out []kube.Result
	for _, u := range objs {
		out = append(out, kube.Result{Context: kctx, Ref: kube.RefOf(u), Action: kube.Configured})
	}
	return out, nil
}

func (f *fakeKube) ApplyObject(_ context.Context, kctx string, obj *unstructured.Unstructured) (kube.Result, error) {
	err := f.record("ApplyObject", kctx+" "+obj.GetName()+termOf(obj)+" rv="+obj.GetResourceVersion())
	return f.result(kctx, kube.RefOf(obj), kube.Configured, err)
}

func (f *fakeKube) RecreateStatefulSet(_ context.Context, kctx string, target kube.Ref, obj *unstructured.Unstructured) (kube.Result, error) {
	err := f.record("RecreateStatefulSet", kctx+" "+refText(target)+" "+obj.GetName())
	return f.result(kctx, target, kube.Recreated, err)
}

func (f *fakeKube) DeleteStatefulSet(_ context.Context, kctx string, target kube.Ref) (kube.Result, error) {
	return f.result(kctx, target, kube.Deleted, f.record("DeleteStatefulSet", kctx+" "+refText(target)))
}

func (f *fakeKube) AdoptStatefulSet(_ context.Context, kctx string, obj *unstructured.Unstructured) (kube.Result, error) {
	err := f.record("AdoptStatefulSet", kctx+" "+obj.GetName()+" rv="+obj.GetResourceVersion())
	return f.result(kctx, kube.RefOf(obj), kube.Configured, err)
}

func (f *fakeKube) DeleteCassKopObject(_ context.Context, kctx string, target kube.Ref) (kube.Result, error) {
	return f.result(kctx, target, kube.Deleted, f.record("DeleteCassKopObject", kctx+" "+refText(target)))
}

func (f *fakeKube) Prune(_ context.Context, kctx string, target kube.Ref) (kube.Result, error) {
	return f.result(kctx, target, kube.Deleted, f.record("Prune", kctx+" "+refText(target)))
}

func (f *fakeKube) DeletePVC(_ context.Context, kctx string, target kube.Ref) (kube.Result, error) {
	return f.result(kctx, target, kube.Deleted, f.record("DeletePVC", kctx+" "+refText(target)))
}

func (f *fakeKube) ExpandPVC(_ context.Context, kctx string, target kube.Ref, size string) (kube.Result, error) {
	return f.result(kctx, target, kube.Configured, f.record("ExpandPVC", kctx+" "+refText(target)+" "+size))
}

func (f *fakeKube) MarkPVCDecommissioned(_ context.Context, kctx, namespace, name string, _ time.Time) (kube.Result, error) {
	ref := kube.Ref{Kind: "PersistentVolumeClaim", Namespace: namespace, Name: name}
	return f.result(kctx, ref, kube.Configured, f.record("MarkPVCDecommissioned", kctx+" "+namespace+"/"+name))
}

func (f *fakeKube) DeletePod(_ context.Context, kctx, namespace, name, uid string) (kube.Result, error) {
	ref := kube.Ref{Kind: "Pod", Namespace: namespace, Name: name, UID: uid}
	return f.result(kctx, ref, kube.Deleted, f.record("DeletePod", kctx+" "+namespace+"/"+name+" uid="+uid))
}

func refText(r kube.Ref) string {
	return fmt.Sprintf("%s/%s uid=%s rv=%s", r.Kind, r.Name, r.UID, r.ResourceVersion)
}

// fakeRing answers every node's view from a function of the node, runs
// the node operations by switching the node's mode, and answers each
// node's progress.
type fakeRing struct {
	mu       sync.Mutex
	reads    int
	modes    map[string]ring.OperationMode // by IP; NORMAL when absent
	releases map[string]string             // by IP; 4.1.5 when absent
	schemas  map[string]string             // by IP; "s1" when absent
	progress map[string]*jolokia.Progress  // by IP; nothing running, no old sstables when absent
	members  []string                      // IPs every view has live
	decoms   []string                      // pods Decommission was called for
	ops      []string                      // every operation sent: "<operation> <pod>@<IP>"
	progRead []string                      // pods whose progress was read
	// decom is what Decommission does; nil: the node leaves.
	decom func(ctx context.Context, n ring.Node) error
	// opErr is what the other operations return.
	opErr error
	// cleanupDone: Cleanup answers done (else it runs on); downtime is
	// what Downtime answers, by address (replace, #16).
	cleanupDone bool
	downtime    map[string]time.Duration
}

var (
	_ ring.Reader    = (*fakeRing)(nil)
	_ NodeOperations = (*fakeRing)(nil)
)

func (f *fakeRing) ReadView(_ context.Context, n ring.Node) (*ring.View, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	mode := f.modes[n.IP]
	if mode == "" {
		mode = ring.ModeNormal
	}
	release := f.releases[n.IP]
	if release == "" {
		release = "4.1.5"
	}
	v := &ring.View{Live: append([]string(nil), f.members...), Mode: mode, HostIDs: map[string]string{},
		NativeTransportRunning: mode == ring.ModeNormal || mode == ring.ModeLeaving, ReleaseVersion: release}
	v.SchemaVersion = f.schemas[n.IP]
	if v.SchemaVersion == "" {
		v.SchemaVersion = "s1"
	}
	for _, ip := range f.members {
		v.HostIDs[ip] = "id-" + ip
		switch f.modes[ip] {
		case ring.ModeJoining:
			v.Joining = append(v.Joining, ip)
		case ring.ModeLeaving:
			v.Leaving = append(v.Leaving, ip)
		}
	}
	return v, nil
}

func (f *fakeRing) setMode(ip string, m ring.OperationMode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.modes[ip] = m
}

func (f *fakeRing) setProgress(ip string, p *jolokia.Progress) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.progress == nil {
		f.progress = map[string]*jolokia.Progress{}
	}
	f.progress[ip] = p
}

func (f *fakeRing) Reads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

func (f *fakeRing) Decommission(ctx context.Context, n ring.Node) error {
	f.mu.Lock()
	f.decoms = append(f.decoms, n.Pod+"@"+n.IP)
	f.ops = append(f.ops, "Decommission "+n.Pod+"@"+n.IP)
	do := f.decom
	f.mu.Unlock()
	if do != nil {
		return do(ctx, n)
	}
	f.setMode(n.IP, ring.ModeLeaving)
	return nil
}

func (f *fakeRing) ResumeBootstrap(_ context.Context, n ring.Node) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, "ResumeBootstrap "+n.Pod+"@"+n.IP)
	return f.opErr
}

func (f *fakeRing) UpgradeSSTables(_ context.Context, n ring.Node) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, "UpgradeSSTables "+n.Pod+"@"+n.IP)
	return f.opErr
}

func (f *fakeRing) ForceDecommission(ctx context.Context, n ring.Node) error {
	f.mu.Lock()
	f.ops = append(f.ops, "ForceDecommission "+n.Pod+"@"+n.IP)
	f.mu.Unlock()
	f.setMode(n.IP, ring.ModeLeaving)
	return nil
}

func (f *fakeRing) Rebuild(_ context.Context, n ring.Node, source string, keyspaces []string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, fmt.Sprintf("Rebuild %s@%s from %s %v", n.Pod, n.IP, source, keyspaces))
	return f.opErr == nil, f.opErr
}

func (f *fakeRing) RemoveNode(_ context.Context, via ring.Node, hostID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, "RemoveNode "+hostID+" via "+via.Pod+"@"+via.IP)
	return f.opErr
}

func (f *fakeRing) Cleanup(_ context.Context, n ring.Node, jobs int, keyspaces []string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	op := fmt.Sprintf("Cleanup %s@%s jobs %d", n.Pod, n.IP, jobs)
	if len(keyspaces) > 0 {
		op += fmt.Sprintf(" %v", keyspaces)
	}
	f.ops = append(f.ops, op)
	return f.opErr == nil && f.cleanupDone, f.opErr
}

func (f *fakeRing) Downtime(_ context.Context, via ring.Node, address string) (time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, "Downtime "+address+" via "+via.Pod)
	return f.downtime[address], nil
}

func (f *fakeRing) ReadProgress(_ context.Context, n ring.Node) (*jolokia.Progress, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.progRead = append(f.progRead, n.Pod)
	if p := f.progress[n.IP]; p != nil {
		c := *p
		return &c, nil
	}
	return &jolokia.Progress{StreamsKnown: true, CompactionsKnown: true}, nil
}

func (f *fakeRing) Decommissions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.decoms...)
}

func (f *fakeRing) Ops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ops...)
}

// ProgressReads returns the pods whose progress was read, and forgets them.
func (f *fakeRing) ProgressReads() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.progRead
	f.progRead = nil
	return out
}

// rack is a live StatefulSet of the cluster "orders" with its running
// pods, as an observation: replicas pods, each Ready, IPs
// 10.0.<index>.<ordinal+1>.
func rack(dc, name string, index, replicas int) *kube.Observation {
	sts := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "StatefulSet",
		"metadata": map[string]any{"name": "orders-" + dc + "-" + name, "namespace": "cassandra", "uid": "uid-" + name, "resourceVersion": "7",
			"generation": int64(1), "labels": map[string]any{contract.LabelManagedBy: contract.ManagedBy, contract.LabelCluster: "orders",
				contract.LabelDatacenter: dc, contract.LabelRack: name}},
		"spec":   map[string]any{"replicas": int64(replicas)},
		"status": map[string]any{"observedGeneration": int64(1), "replicas": int64(replicas), "readyReplicas": int64(replicas)},
	}}
	o := &kube.Observation{Objects: []*unstructured.Unstructured{sts}}
	for i := range replicas {
		o.Pods = append(o.Pods, corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("orders-%s-%s-%d", dc, name, i), Namespace: "cassandra", UID: "pod-uid",
				Labels: map[string]string{contract.LabelCluster: "orders", contract.LabelDatacenter: dc, contract.LabelRack: name}},
			Status: corev1.PodStatus{PodIP: fmt.Sprintf("10.0.%d.%d", index, i+1),
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
		})
	}
	return o
}

// manualClock is a clock whose Now the test sets; After is real.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *manualClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
