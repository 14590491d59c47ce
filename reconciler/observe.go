package reconciler

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
)

// Observe reads what the planner needs: the cluster's objects, pods and
// PVCs in every context of the target (a context that cannot be read has
// its error, and the others are still read), then every expected node's
// view of the ring, judged by ring.Assess. An invalid target is not
// observed at all. The error is only the context's.
func (e *Engine) Observe(ctx context.Context, t *Target) (*plan.Observed, error) {
	o := &plan.Observed{Now: e.clock.Now(), Contexts: map[string]*plan.Context{}}
	if t.Desired.Invalid != nil || t.Desired.Cluster == nil {
		return o, nil
	}
	q := kube.Query{Cluster: t.Name(), Namespace: t.Namespace, Contexts: t.Contexts, Kinds: t.Kinds, Adopt: t.Desired.Cluster.Spec.Adopt}
	for kc, obs := range e.kube.Observe(ctx, q) {
		o.Contexts[kc] = (*plan.Context)(obs)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st := e.state(t.Name())
	e.mu.Lock()
	st.target, st.observed = t, o
	e.mu.Unlock()
	var snap *ring.Snapshot
	o.Ring, snap = e.assessRing(ctx, t, o)
	e.readProgress(ctx, t.Name(), snap, &o.Ring, plan.OperationPods(t.Name(), o))
	e.readDowntime(ctx, snap, &o.Ring) // replace (#16)
	if e.schema != nil {
		o.Keyspaces = e.readKeyspaces(ctx, t, o) // #15
	}
	return o, ctx.Err()
}

// readRing reads and judges the ring against the members of an
// observation, and keeps the start of the current verdict.
func (e *Engine) readRing(ctx context.Context, t *Target, o *plan.Observed) plan.Ring {
	rg, _ := e.assessRing(ctx, t, o)
	return rg
}

// assessRing is readRing, with the snapshot it judged. A ring whose only
// problem is the schema skew of an upgrade across release series
// (ring.UpgradeSkew) is healthy for the verdict's streak (the settle time
// of the roll that ends it counts from it), and the planner is told
// (plan.Ring.UpgradeSkew).
func (e *Engine) assessRing(ctx context.Context, t *Target, o *plan.Observed) (plan.Ring, *ring.Snapshot) {
	exp := plan.RingExpected(t.Name(), o, t.JolokiaPort)
	exp.Partial = partial(t, o)
	snap := ring.Take(ctx, e.ring, exp.Nodes, e.opts.Snapshot)
	res := ring.Assess(snap, exp)
	skew, skewed := ring.UpgradeSkew(snap, res)
	healthy := res.Healthy || skewed
	now := e.clock.Now()
	st := e.state(t.Name())
	e.mu.Lock()
	defer e.mu.Unlock()
	v := st.verdict
	if !v.known || v.healthy != healthy {
		v = verdict{known: true, healthy: healthy, since: now}
	}
	if len(exp.Nodes) == 0 {
		v.since = time.Time{} // an empty ring has nothing to settle
	}
	st.verdict = v
	rg := plan.FromResult(res, v.since)
	rg.UpgradeSkew = skew
	st.ringSig = ringSignature(rg)
	return rg, snap
}

// partial: some context of the target could not be read, so endpoints
// of its nodes are not judged as unknown.
func partial(t *Target, o *plan.Observed) bool {
	for _, kc := range t.Contexts {
		if c := o.Contexts[kc]; c == nil || c.Err != nil {
			return true
		}
	}
	return false
}

// ringSignature sums up a verdict: what a wait watches for a change.
func ringSignature(rg plan.Ring) string {
	var b strings.Builder
	if rg.Assessed && rg.Healthy {
		b.WriteString("healthy")
	} else {
		b.WriteString("unhealthy")
	}
	pods := make([]string, 0, len(rg.Nodes))
	for pod := range rg.Nodes {
		pods = append(pods, pod)
	}
	sort.Strings(pods)
	for _, pod := range pods {
		n := rg.Nodes[pod]
		b.WriteString(";" + pod + "=" + string(n.Mode) + "/" + n.State.String())
	}
	for _, p := range rg.Problems {
		b.WriteString(";" + p.Kind + ":" + strings.Join(p.Nodes, ","))
	}
	return b.String()
}

// addressless reports whether an expected node has no pod IP yet: the
// ring cannot tell when it is up, only a new observation can.
func addressless(t *Target, o *plan.Observed) bool {
	return slices.ContainsFunc(plan.Members(t.Name(), o), func(m plan.Member) bool { return m.IP == "" })
}
