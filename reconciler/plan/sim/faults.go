package sim

import (
	"strings"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/plan"
)

// PodSeries is the release series every pod runs or will run: a node's
// own, or for a pod whose container has not started yet (Pending, killed
// before its first start) its template's. An operator waits for all of
// them before the next series, not only for the running nodes.
func (w *World) PodSeries() []string {
	seen := map[string]bool{}
	for _, rn := range w.regionNames() {
		for _, p := range w.regions[rn].pods {
			switch {
			case p.node == nil:
				seen[releaseOf(p.tmpl)] = true
			case p.node.mode != "DECOMMISSIONED":
				seen[p.node.release] = true
			}
		}
	}
	return sortedKeys(seen)
}

// InjectFault arms one fault, drawn from the world's draws: a node killed
// or partitioned, the next pod stuck Pending, an API server or Jolokia
// down, the next decommission, bootstrap, upgradesstables, rebuild or
// cleanup failing, CQL unreadable.
func (w *World) InjectFault() {
	switch w.rng.Intn(6) {
	case 0:
		var running []*podState
		for _, rn := range w.regionNames() {
			for _, name := range sortedKeys(w.regions[rn].pods) {
				if p := w.regions[rn].pods[name]; p.running() {
					running = append(running, p)
				}
			}
		}
		if len(running) > 0 {
			p := running[w.rng.Intn(len(running))]
			if w.rng.Intn(2) == 0 {
				p.node.partitioned = 2 + w.rng.Intn(6)
				w.logf("fault: %s partitioned for %d ticks", p.name, p.node.partitioned)
				break
			}
			p.node.killed, p.node.probeLag = 2+w.rng.Intn(6), 1+w.rng.Intn(3)
			w.logf("fault: %s killed for %d ticks", p.name, p.node.killed)
		}
	case 1:
		w.stuckNext = 3 + w.rng.Intn(40)
	case 2:
		if names := w.regionNames(); len(names) > 0 {
			rg := w.regions[names[w.rng.Intn(len(names))]]
			rg.down = 2 + w.rng.Intn(10)
			w.logf("fault: %s API down for %d ticks", rg.name, rg.down)
		}
	case 3:
		w.jolokiaDown = 2 + w.rng.Intn(5)
		w.logf("fault: Jolokia down for %d ticks", w.jolokiaDown)
	case 4:
		w.failDecom = true
	case 5:
		switch w.ops.Intn(3) {
		case 0:
			w.failBoot = true
		case 1:
			w.failUp = true
		default:
			w.ksFault() // #15
		}
	}
}

// StuckPod reports whether a pod stays Pending (fault).
func (w *World) StuckPod() bool {
	for _, rg := range w.regions {
		for _, p := range rg.pods {
			if p.stuck > 0 {
				return true
			}
		}
	}
	return false
}

// Heal ends every fault.
func (w *World) Heal() {
	w.faults, w.crashProb, w.stuckNext, w.failDecom, w.failBoot, w.failUp, w.jolokiaDown = false, 0, 0, false, false, false, 0
	for _, rg := range w.regions {
		rg.down = 0
		for _, p := range rg.pods {
			p.stuck = 0
			if p.node != nil {
				p.node.fail = false
			}
		}
	}
	w.ksHeal() // #15
	w.logf("faults healed")
}

// Operator does what the planner asks a human for: delete a PVC that
// holds a decommissioned node in the way of a new one; let ringops try a
// failed long operation again (the faults are healed).
func (w *World) Operator(p plan.Plan) {
	if p.Wait.Reason != plan.Blocked {
		return
	}
	w.ksOperator(p) // #15
	if _, rest, ok := strings.Cut(p.Wait.Message, "annotate statefulset "); ok {
		name, _, _ := strings.Cut(rest, " ")
		for _, rg := range w.regions {
			if st := rg.sts[name]; st != nil {
				ann := st.obj.GetAnnotations()
				delete(ann, contract.AnnotationAttempt)
				st.obj.SetAnnotations(ann)
				rg.rv++
				st.rv = rg.rv
				w.logf("operator removes %s from %s", contract.AnnotationAttempt, name)
			}
		}
		return
	}
	if !strings.Contains(p.Wait.Message, "holds the decommissioned node") {
		return
	}
	for _, rg := range w.regions {
		for name, c := range rg.pvcs {
			if c.decommissioned && strings.Contains(p.Wait.Message, "PVC "+name+" ") {
				delete(rg.pvcs, name)
				w.logf("operator deletes PVC %s", name)
			}
		}
	}
}
