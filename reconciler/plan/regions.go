package plan

import "slices"

// RegionsDone reports, for each context of the revision (the datacenters'
// contexts of d), whether that region's part of the rollout is done: the
// context was read, p (Next(d, o)) has no step in it and does not wait on
// it, every rack in it runs at its node count on the rendered template
// (with the planner's seed list, see seeds.go) with nothing in flight,
// and the ring is healthy. It is what a commit status "success" for the
// region means. An invalid revision has no region done.
func RegionsDone(d *Desired, o *Observed, p Plan) map[string]bool {
	if d == nil || o == nil {
		return nil
	}
	if _, blocked := blocked(d); blocked {
		return nil
	}
	v := newView(d, o)
	out := map[string]bool{}
	healthy := o.Ring.Assessed && o.Ring.Healthy
	for _, kc := range d.Cluster.Contexts() {
		out[kc] = healthy && v.reachable(kc) && !planTouches(p, kc)
	}
	for _, r := range v.racks {
		if out[r.ctx] && !v.atRest(r) {
			out[r.ctx] = false
		}
	}
	return out
}

// planTouches reports whether p has a step in kc or waits on it.
func planTouches(p Plan, kc string) bool {
	if slices.ContainsFunc(p.Steps, func(s Step) bool { return s.Context == kc }) {
		return true
	}
	return len(p.Steps) == 0 && p.Wait.Reason != Converged && p.Wait.Context == kc
}

// atRest: the rack has its node count, the rendered template (with the
// planner's seed list) on every pod, no partition left, and nothing in
// flight. A removed rack is at rest once it holds no node.
func (v *view) atRest(r *rack) bool {
	s := r.live
	switch {
	case s == nil:
		return r.target == 0
	case v.busy(r, -1) != nil, r.owesWork(): // #15: a rebuild or cleanup owed
		return false
	case r.orphan():
		return s.replicas == 0
	case s.replicas != r.target, s.partition != 0, s.ready != s.replicas, s.currentRev != s.updateRev:
		return false
	}
	d := v.diffSTS(r)
	return d.immutable == "" && !d.other && Covers(v.templateFor(r), nested(s.obj.Object, "spec", "template"))
}
