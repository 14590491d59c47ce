package plan

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/render"
)

// activity is something in flight on a rack: why it is not at rest.
type activity struct {
	pod  string // the node concerned, "" for the StatefulSet itself
	what string // for humans: "orders-dc1-r2-2 not Ready"
}

// busy says what is in flight on a rack, nil when it is at rest: the
// StatefulSet controller caught up with the last write, every pod below
// the replicas exists, is Ready and, from the partition up, runs the
// update revision, and no pod above the replicas is left. Pod except (an
// ordinal, -1 for none) is the target of the next step: it need not be
// Ready (it is down already), nor be free of a decommission marker (the
// step starts that decommission again).
func (v *view) busy(r *rack, except int32) *activity {
	return v.busyBut(r, except, nil)
}

// busyBut is busy, but the pods named in lost (replace, #16: other pods
// held on a lost volume) may be down or missing.
func (v *view) busyBut(r *rack, except int32, lost []string) *activity {
	s := r.live
	switch {
	case !r.reachable:
		return &activity{what: r.ctx + " cannot be read"}
	case s == nil:
		if r.orphan() || r.target == 0 {
			return nil
		}
		return &activity{what: "StatefulSet " + r.name + " not created yet"}
	case s.observedGen < s.generation:
		return &activity{what: fmt.Sprintf("StatefulSet %s: the controller has not acted on generation %d yet", r.name, s.generation)}
	}
	if m := s.annotations[contract.AnnotationDecommission]; m != "" && m != r.podName(except) {
		return &activity{pod: m, what: "decommission of " + m + " in flight (" + v.modeOf(m) + ")"}
	}
	for ord := int32(0); ord < s.replicas; ord++ {
		if slices.Contains(lost, r.podName(ord)) {
			continue
		}
		if a := v.podBusy(r, ord, ord == except); a != nil {
			return a
		}
	}
	for ord, p := range r.pods {
		if ord >= s.replicas {
			return &activity{pod: p.Name, what: p.Name + " being removed"}
		}
	}
	return nil
}

func (v *view) podBusy(r *rack, ord int32, excepted bool) *activity {
	name := r.podName(ord)
	p := r.pods[ord]
	switch {
	case p == nil && !excepted:
		return &activity{pod: name, what: name + " not created yet"}
	case p == nil:
		return nil // the step's own node, dead: its pod may wait behind a held one (replace, #16)
	case p.DeletionTimestamp != nil:
		return &activity{pod: name, what: name + " restarting (pod terminating)"}
	case ord >= r.live.partition && !r.updated(ord):
		return &activity{pod: name, what: name + " restarting on the new template"}
	case !excepted && !podReady(p):
		return &activity{pod: name, what: name + " not Ready" + v.modeSuffix(name) + crashSuffix(p)}
	}
	return nil
}

// crashSuffix says, for a pod whose Cassandra container has crashed, how
// often and how it last ended: the exit code and the termination message,
// which names the cause when the container left one (a start refused by
// Cassandra: "The seed provider lists no seeds.", a decommissioned node,
// a changed datacenter ...; #14 item 10). "" when it never crashed.
func crashSuffix(p *corev1.Pod) string {
	for _, c := range p.Status.ContainerStatuses {
		t := c.LastTerminationState.Terminated
		if c.Name != render.ContainerCassandra || c.RestartCount == 0 || t == nil {
			continue
		}
		out := fmt.Sprintf("; its %s container exited %d times, last with code %d", c.Name, c.RestartCount, t.ExitCode)
		if c.RestartCount == 1 {
			out = fmt.Sprintf("; its %s container exited once, with code %d", c.Name, t.ExitCode)
		}
		if msg := lastLines(t.Message, 300); msg != "" {
			out += ": " + msg
		}
		return out
	}
	return ""
}

// lastLines is the end of a termination message on one line, at most max
// bytes (the cause is at the end of a log tail).
func lastLines(msg string, max int) string {
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > max {
		msg = "..." + msg[len(msg)-max:]
	}
	return msg
}

// modeOf is a node's OperationMode for messages.
func (v *view) modeOf(pod string) string {
	if m := v.o.Ring.Nodes[pod].Mode; m != "" {
		return string(m)
	}
	return "mode unknown"
}

func (v *view) modeSuffix(pod string) string {
	if m := v.o.Ring.Nodes[pod].Mode; m != "" && m != ring.ModeNormal {
		return " (" + string(m) + ")"
	}
	return ""
}

// updated reports whether the pod at ord runs the StatefulSet's update
// revision.
func (r *rack) updated(ord int32) bool {
	p := r.pods[ord]
	return p != nil && r.live.updateRev != "" && p.Labels[contract.LabelRevision] == r.live.updateRev
}

// nextRestart is the ordinal of the next pod to restart on the staged
// template: the highest one below the partition not on the update
// revision; -1 when none.
func (r *rack) nextRestart() int32 {
	s := r.live
	if s == nil || s.observedGen < s.generation || s.updateRev == "" {
		return -1
	}
	for ord := min(s.partition, s.replicas) - 1; ord >= 0; ord-- {
		if p := r.pods[ord]; p != nil && !r.updated(ord) {
			return ord
		}
	}
	return -1
}

// rollDone: a partition is left although every pod runs the update
// revision; it can go back to 0 without restarting anything.
func (r *rack) rollDone() bool {
	s := r.live
	if s == nil || s.partition == 0 || s.observedGen < s.generation || s.updateRev == "" {
		return false
	}
	for ord := int32(0); ord < s.replicas; ord++ {
		if !r.updated(ord) {
			return false
		}
	}
	return true
}

// neverJoined reports whether a node provably never joined the ring (or
// left it): its pod is not Ready, no view has it, nothing else is wrong
// with the ring (an unknown endpoint could be this node under another
// address), and its pod is older than spec.rollout.healthTimeout: a
// younger one may still be starting, and could join just as its replica
// goes. With started (a decommission was started on the node, so it had
// joined), a node out of the ring left it: its pod's age does not matter.
func (v *view) neverJoined(pod string, p *corev1.Pod, started bool) bool {
	rg := v.o.Ring
	if !rg.Assessed || podReady(p) || rg.Nodes[pod].InRing {
		return false
	}
	if !started && p != nil && v.now.Sub(p.CreationTimestamp.Time) <= v.healthTimeout {
		return false
	}
	switch rg.Nodes[pod].Mode {
	case ring.ModeNormal, ring.ModeJoining, ring.ModeLeaving, ring.ModeMoving:
		return false
	}
	return v.onlyAbout(pod)
}

// onlyAbout reports whether every ring problem is about pod alone (or
// about also: a dead node's address, replace #16).
func (v *view) onlyAbout(pod string, also ...string) bool {
	for _, p := range v.o.Ring.Problems {
		if len(p.Nodes) == 0 {
			return false
		}
		for _, n := range p.Nodes {
			if n != pod && !slices.Contains(also, n) {
				return false
			}
		}
	}
	return true
}
