package plan

import (
	"strings"
)

// Next is the planner: the next steps that move the observed world
// towards the desired revision, or why there is none. It is a pure
// function of its arguments (it reads no clock and no cluster), never
// panics on partial observations, and returns the same plan for the same
// inputs. See the package documentation for the order of work and the
// gates.
func Next(d *Desired, o *Observed) Plan {
	if d == nil {
		d = &Desired{}
	}
	if o == nil {
		o = &Observed{}
	}
	if p, blocked := blocked(d); blocked {
		return p
	}
	v := newView(d, o)
	if !v.reachable(v.seedCtx) {
		return v.wait(Wait{Reason: RegionUnreachable, Context: v.seedCtx, Message: "the seed region " + v.seedCtx +
			" cannot be read (" + v.contextErr(v.seedCtx) + "): nothing is applied anywhere until it is back"})
	}
	for _, r := range v.racks {
		if r.orphan() && r.dcIndex < len(v.c.Spec.Datacenters) {
			return v.wait(Wait{Reason: Blocked, Context: r.ctx, Message: "the rendered objects of " + r.ctx + " lack StatefulSet " + r.name})
		}
	}
	if w := v.adoptionWait(); w != nil { // #20: CassKop's operator still runs
		return v.wait(*w)
	}
	if steps := v.batch(); len(steps) > 0 {
		return Plan{Cluster: v.name, Revision: d.Revision, Steps: steps}
	}
	return v.next()
}

// blocked is the plan of a revision that must not be applied.
func blocked(d *Desired) (Plan, bool) {
	name := d.Name
	if d.Cluster != nil {
		name = d.Cluster.Metadata.Name
	}
	p := Plan{Cluster: name, Revision: d.Revision, Wait: Wait{Reason: Blocked}}
	switch {
	case d.Invalid != nil:
		p.Wait.Message = "the revision is invalid, nothing is applied: " + oneLine(d.Invalid.Error())
	case d.Cluster == nil:
		p.Wait.Message = "no cluster spec"
	case len(d.Cluster.Spec.Datacenters) == 0:
		p.Wait.Message = "the cluster has no datacenter"
	default:
		return Plan{}, false
	}
	return p, true
}

func oneLine(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ")
}
