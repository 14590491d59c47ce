package reconciler

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
)

// The executor's part of lost volumes, removals and cleanups (replace,
// #16); the planner decides all of it (reconciler/plan replace.go,
// removenode.go, cleanup.go).

// replaceNode applies a ReplaceNode step's objects in order (the
// StatefulSet, then the record carrying the pod's instruction), then
// deletes the pod (UID precondition) so that it starts at once.
func (e *Engine) replaceNode(ctx context.Context, s plan.Step) ([]kube.Result, error) {
	results, err := e.kube.Apply(ctx, s.Context, s.Objects...)
	if err != nil || s.DeletePod == "" {
		return results, err
	}
	r, err := one(e.kube.DeletePod(ctx, s.Context, s.Target.Namespace, s.Pod, s.DeletePod))
	return append(results, r...), err
}

// removeNode applies a RemoveNode step's objects in order (the record of
// the removal first, so that it is never sent twice), then asks the step's
// Via node to remove the dead node's host ID, fire-and-forget.
func (e *Engine) removeNode(ctx context.Context, cluster string, s plan.Step) ([]kube.Result, error) {
	results, err := e.kube.Apply(ctx, s.Context, s.Objects...)
	if err != nil {
		return results, err
	}
	via, err := e.node(cluster, s.Context, s.Via)
	if err != nil {
		return results, err
	}
	return results, e.nodeOps.RemoveNode(ctx, via, s.HostID)
}

// sawCleanup remembers that a node's cleanup was seen at t.
func (e *Engine) sawCleanup(cluster, pod string, t time.Time) {
	st := e.state(cluster)
	e.mu.Lock()
	defer e.mu.Unlock()
	if st.progress == nil {
		st.progress = map[string]*nodeProgress{}
	}
	p := st.progress[pod]
	if p == nil {
		p = &nodeProgress{old: -1}
		st.progress[pod] = p
	}
	if t.After(p.cleanupSeen) {
		p.cleanupSeen = t
	}
}

// readDowntime asks a NORMAL node how long each node the ring has down
// has been down (Gossiper.getEndpointDowntime), and writes it into the
// ring as DownSince: what the status says of a dead node. Nothing is read
// while nothing is down.
func (e *Engine) readDowntime(ctx context.Context, snap *ring.Snapshot, rg *plan.Ring) {
	type down struct {
		pod, address string
		other        int // index in rg.Others, -1 for a pod
	}
	var todo []down
	for _, pod := range slices.Sorted(maps.Keys(rg.Nodes)) {
		if n := rg.Nodes[pod]; n.State.Down() && n.Address != "" {
			todo = append(todo, down{pod: pod, address: n.Address, other: -1})
		}
	}
	for i, o := range rg.Others {
		if o.State.Down() && o.Address != "" {
			todo = append(todo, down{address: o.Address, other: i})
		}
	}
	if len(todo) == 0 || snap == nil {
		return
	}
	var via *ring.Node
	for _, en := range snap.Entries {
		if en.Err == nil && en.View != nil && en.View.Mode == ring.ModeNormal {
			n := en.Node
			via = &n
			break
		}
	}
	if via == nil {
		return
	}
	now := e.clock.Now()
	for _, d := range todo {
		dt, err := e.nodeOps.Downtime(ctx, *via, d.address)
		if err != nil || dt <= 0 {
			continue
		}
		since := now.Add(-dt)
		if d.other >= 0 {
			rg.Others[d.other].DownSince = since
			continue
		}
		n := rg.Nodes[d.pod]
		n.DownSince = since
		rg.Nodes[d.pod] = n
	}
}

// checkReplaceStep refuses a RemoveNode without its host ID or node.
func checkReplaceStep(s plan.Step) error {
	if s.Action == plan.RemoveNode && (s.HostID == "" || s.Via == "") {
		return fmt.Errorf("step %s %s: %w: no host ID or no node to run it", s.Action, s.Target.Name, ErrBadStep)
	}
	return nil
}
