package reconciler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
)

// ErrNotObserved: a step names a node the last observation does not hold
// (no pod, or no pod IP).
var ErrNotObserved = errors.New("not in the last observation")

// ErrNotStarted: a decommissioned node stayed NORMAL.
var ErrNotStarted = errors.New("the decommission did not start")

// decommission is one decommission run in the background.
type decommission struct {
	pod    string
	cancel context.CancelFunc
	done   chan struct{}
	err    error // set, under the engine's lock, before done is closed
	// background: Execute returned, the decommission having started; a
	// failure from then on is an OperationFailed event (before, it is the
	// step's error).
	background bool
	over       bool // the planner saw it end: its watch is cancelled, its error is not news
}

// decommission applies the StatefulSet with its decommission marker (so
// that a restarted daemon knows), then starts the decommission in the
// background and returns once the node has left NORMAL: the planner
// follows it from there, through the node's OperationMode.
func (e *Engine) decommission(ctx context.Context, cluster string, s plan.Step) ([]kube.Result, error) {
	results, err := one(e.kube.ApplyObject(ctx, s.Context, s.Objects[0]))
	if err != nil {
		return results, err
	}
	n, err := e.node(cluster, s.Context, s.Pod)
	if err != nil {
		return results, err
	}
	op := e.startDecommission(cluster, n)
	return results, e.awaitLeaving(ctx, n, op)
}

// node is a pod of the last observation as the ring knows it.
func (e *Engine) node(cluster, kctx, pod string) (ring.Node, error) {
	st := e.state(cluster)
	e.mu.Lock()
	o, t := st.observed, st.target
	e.mu.Unlock()
	if o != nil && t != nil {
		for _, m := range plan.Members(cluster, o) {
			if m.Context != kctx || m.Pod != pod || m.IP == "" {
				continue
			}
			port := m.Port
			if port == 0 {
				port = t.JolokiaPort
			}
			return ring.Node{Cluster: cluster, Context: kctx, Namespace: m.Namespace, Pod: pod,
				Datacenter: m.Datacenter, Rack: m.Rack, IP: m.IP, Port: port}, nil
		}
	}
	return ring.Node{}, fmt.Errorf("node %s in %s: %w (no pod IP)", pod, kctx, ErrNotObserved)
}

// startDecommission runs the decommission of n in the background, unless
// this engine runs it already.
func (e *Engine) startDecommission(cluster string, n ring.Node) *decommission {
	st := e.state(cluster)
	e.mu.Lock()
	defer e.mu.Unlock()
	if op := st.decom; op != nil && op.pod == n.Pod && !closed(op.done) {
		return op
	}
	ctx, cancel := context.WithCancel(e.bg)
	op := &decommission{pod: n.Pod, cancel: cancel, done: make(chan struct{})}
	st.decom = op
	e.ops.Add(1)
	go func() {
		defer e.ops.Done()
		defer cancel()
		err := e.decom.Decommission(ctx, n)
		e.mu.Lock()
		op.err = err
		close(op.done)
		if st.decom == op {
			st.decom = nil
		}
		report := err != nil && op.background && !op.over
		e.mu.Unlock()
		if report && e.bg.Err() == nil {
			e.emit(Event{Kind: OperationFailed, At: e.clock.Now(), Cluster: cluster, Pod: n.Pod,
				Step: plan.Step{Action: plan.Decommission, Context: n.Context, Pod: n.Pod}, Err: op.err})
		}
	}()
	return op
}

// decommissioned stops watching the decommission of pod, which the
// planner saw end (DECOMMISSIONED, its replica removed): the watch would
// only fail to reach a node that is gone.
func (e *Engine) decommissioned(cluster, pod string) {
	st := e.state(cluster)
	e.mu.Lock()
	defer e.mu.Unlock()
	if op := st.decom; op != nil && op.pod == pod {
		op.over = true
		op.cancel()
	}
}

// handOver leaves op to the background, unless it has ended already.
func (e *Engine) handOver(op *decommission) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if closed(op.done) {
		return op.err
	}
	op.background = true
	return nil
}

func closed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// awaitLeaving waits until n is no longer NORMAL (the decommission has
// started), the decommission ended, or DecommissionStartTimeout passed.
func (e *Engine) awaitLeaving(ctx context.Context, n ring.Node, op *decommission) error {
	deadline := e.clock.Now().Add(e.opts.DecommissionStartTimeout)
	for {
		select {
		case <-op.done:
			return op.err
		case <-ctx.Done():
			return ctx.Err()
		case <-e.clock.After(e.opts.RingPollInterval):
		}
		if v, err := e.ring.ReadView(ctx, n); err == nil && v.Mode != ring.ModeNormal {
			return e.handOver(op)
		}
		if e.clock.Now().After(deadline) {
			return fmt.Errorf("decommission %s: %w: still NORMAL after %s", n.Pod, ErrNotStarted,
				e.opts.DecommissionStartTimeout.Round(time.Second))
		}
	}
}
