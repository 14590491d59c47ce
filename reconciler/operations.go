package reconciler

import (
	"context"
	"errors"
	"fmt"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
)

// ErrNotObserved: a step names a node the last observation does not hold
// (no pod, or no pod IP).
var ErrNotObserved = errors.New("not in the last observation")

// operate applies the StatefulSet of a long operation's step (its marker
// and stamps first, so that a restarted daemon knows what was started),
// then starts the operation on the step's node and returns: the operation
// is fire-and-forget, its call never held open (the Jolokia agent may
// serve one request at a time), and the planner follows it from the ring.
// An error is the step's: the node refused, or could not be asked. A
// rebuild or cleanup that answered in time that it is done has its
// Step.OnSuccess applied (#15), and a cleanup is remembered as seen
// (plan.RingNode.CleanupSeen, #16); the planner learns of one that did not
// from the node's progress.
func (e *Engine) operate(ctx context.Context, cluster string, s plan.Step) ([]kube.Result, error) {
	results, err := one(e.kube.ApplyObject(ctx, s.Context, s.Objects[0]))
	if err != nil {
		return results, err
	}
	n, err := e.node(cluster, s.Context, s.Pod)
	if err != nil {
		return results, err
	}
	done := false
	switch s.Action {
	case plan.Decommission:
		if s.Force {
			err = e.nodeOps.ForceDecommission(ctx, n)
		} else {
			err = e.nodeOps.Decommission(ctx, n)
		}
	case plan.ResumeBootstrap:
		err = e.nodeOps.ResumeBootstrap(ctx, n)
	case plan.UpgradeSSTables:
		err = e.nodeOps.UpgradeSSTables(ctx, n)
	case plan.Rebuild:
		done, err = e.nodeOps.Rebuild(ctx, n, s.Datacenter, stepKeyspaces(s))
	case plan.Cleanup:
		// one cleanup: every keyspace (#16, after growth) or the step's
		// (#15, after a lower factor), Jobs tables at once
		done, err = e.nodeOps.Cleanup(ctx, n, int(s.Jobs), stepKeyspaces(s))
		if done {
			e.sawCleanup(cluster, s.Pod, e.clock.Now())
		}
	default:
		err = fmt.Errorf("step %s: %w: not a node operation", s.Action, ErrBadStep)
	}
	if err != nil || !done {
		return results, err
	}
	for _, u := range s.OnSuccess { // the durable record of an operation that answered done
		r, err := one(e.kube.ApplyObject(ctx, s.Context, u))
		results = append(results, r...)
		if err != nil {
			return results, err
		}
	}
	return results, nil
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

// stepKeyspaces are the keyspaces a Rebuild or Cleanup step names (none:
// every keyspace).
func stepKeyspaces(s plan.Step) []string {
	var out []string
	for _, k := range s.Keyspaces {
		out = append(out, k.Keyspace)
	}
	return out
}
