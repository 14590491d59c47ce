package review

import (
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/plan/replay"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// change is one cluster's material: both sides, defaulted and rendered,
// and its racks matched by datacenter and rack name.
type change struct {
	base, head *side // base is nil for a new cluster
	now        time.Time
	replay     replay.Options // Options.ManageKeyspaces and Planner
	racks      []*rackChange
	// topology: nodes join or leave somewhere (a rack's count changes,
	// or a rack is new); template changes roll afterwards.
	topology bool
	// seeds: the seed list differs (render.Seeds).
	seeds bool
	// inPlace are the StatefulSets ("<context>/<name>") the planner's
	// replay updates in place and does nothing else to (no scale,
	// restart, re-creation, decommission...): replayOps.
	inPlace map[string]bool
	// steps are the planner's steps in the replay (operations).
	steps []plan.Step
}

// rackChange is one rack on both sides.
type rackChange struct {
	ctx, dc, rack    string
	base, head       int32 // nodes
	inBase, inHead   bool
	newDC, removedDC bool
	baseSTS, headSTS *unstructured.Unstructured
}

// label is "<context> <dc> <rack>".
func (r *rackChange) label() string { return r.ctx + " " + r.dc + " " + r.rack }

func newChange(base, head *side, now time.Time, opts replay.Options) *change {
	ch := &change{base: base, head: head, now: now, replay: opts}
	ch.matchRacks()
	for _, r := range ch.racks {
		if r.inHead && (!r.inBase || r.base != r.head) {
			ch.topology = true
		}
	}
	if base != nil {
		ch.seeds = !slices.Equal(render.Seeds(base.spec), render.Seeds(head.spec))
	}
	return ch
}

// matchRacks lists the racks of head in spec order, then those of the
// datacenters only base has.
func (ch *change) matchRacks() {
	var baseDCs []schemas.Datacenter
	if ch.base != nil {
		baseDCs = ch.base.spec.Spec.Datacenters
	}
	for _, dc := range ch.head.spec.Spec.Datacenters {
		bdc := findDC(baseDCs, dc.Name)
		for _, rk := range dc.Racks {
			r := &rackChange{ctx: dc.Context, dc: dc.Name, rack: rk.Name, head: *rk.Nodes, inHead: true, newDC: bdc == nil}
			r.headSTS = ch.head.statefulSet(dc.Context, dc.Name, rk.Name)
			if bdc != nil {
				if brk := findRack(bdc.Racks, rk.Name); brk != nil {
					r.inBase, r.base = true, *brk.Nodes
					r.baseSTS = ch.base.statefulSet(bdc.Context, dc.Name, rk.Name)
				}
			}
			ch.racks = append(ch.racks, r)
		}
	}
	for _, bdc := range baseDCs {
		if findDC(ch.head.spec.Spec.Datacenters, bdc.Name) != nil {
			continue
		}
		for _, rk := range bdc.Racks {
			ch.racks = append(ch.racks, &rackChange{ctx: bdc.Context, dc: bdc.Name, rack: rk.Name, base: *rk.Nodes,
				inBase: true, removedDC: true, baseSTS: ch.base.statefulSet(bdc.Context, bdc.Name, rk.Name)})
		}
	}
}

// statefulSet is the rendered StatefulSet of a rack, nil if absent.
func (s *side) statefulSet(kc, dc, rack string) *unstructured.Unstructured {
	m := s.manifests[kc]
	if m == nil {
		return nil
	}
	name := s.spec.StatefulSetName(dc, rack)
	for _, u := range m.Objects {
		if u.GetKind() == "StatefulSet" && u.GetName() == name {
			return u
		}
	}
	return nil
}

// racksOf returns the racks of datacenter dc, in order.
func (ch *change) racksOf(dc string) []*rackChange {
	var out []*rackChange
	for _, r := range ch.racks {
		if r.dc == dc {
			out = append(out, r)
		}
	}
	return out
}

// contexts are the regions of head in spec order, then those only base has.
func (ch *change) contexts() []string {
	out := ch.head.spec.Contexts()
	if ch.base != nil {
		for _, kc := range ch.base.spec.Contexts() {
			if !slices.Contains(out, kc) {
				out = append(out, kc)
			}
		}
	}
	return out
}

func findDC(dcs []schemas.Datacenter, name string) *schemas.Datacenter {
	for i := range dcs {
		if dcs[i].Name == name {
			return &dcs[i]
		}
	}
	return nil
}

func findRack(racks []schemas.Rack, name string) *schemas.Rack {
	for i := range racks {
		if racks[i].Name == name {
			return &racks[i]
		}
	}
	return nil
}
