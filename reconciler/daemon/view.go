package daemon

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ringops/ringops/reconciler"
	"github.com/ringops/ringops/reconciler/plan"
)

// What the status page shows besides the statuses, kept in memory and
// bounded: the rollout's timeline (the last maxTimeline steps of the
// revision rolled out), the last maxHistory revisions, the steps still to
// come (at most maxToCome). Nothing of it is read back to decide: it is
// lost on a restart, the clusters keep the state (DESIGN, rule 8).
const (
	maxTimeline = 200
	maxHistory  = 10
	maxToCome   = 200
	maxSubjects = 32
)

// NodeView is one node of the ring as the status page draws it.
type NodeView struct {
	Context    string `json:"context"`
	Datacenter string `json:"datacenter"`
	Rack       string `json:"rack"`
	Pod        string `json:"pod"`
	Ordinal    int32  `json:"ordinal"`
	// State is as nodetool prints it (UN, UJ, UL, DN, ...; "??" when no
	// view has the node).
	State string `json:"state"`
	// Mode is the node's own operation mode ("" when it did not answer).
	Mode    string `json:"mode,omitempty"`
	Load    string `json:"load,omitempty"`
	Address string `json:"address,omitempty"`
	HostID  string `json:"hostID,omitempty"`
	// Disagreement says, in words, that the nodes see this one
	// differently (down in some views and up in others, missing from some
	// rings, two host IDs).
	Disagreement string `json:"disagreement,omitempty"`
	// InFlight: a step of the current plan is about this node.
	InFlight bool `json:"inFlight,omitempty"`
}

// TimelineEntry is one step of the rollout of the current revision.
type TimelineEntry struct {
	At      time.Time `json:"at"`
	Context string    `json:"context"`
	Step    string    `json:"step"`
	// Pod is the node the step is about, "" for none.
	Pod string `json:"pod,omitempty"`
	// key tells the step from others without its words (stepKey).
	key string
	// Result: ok, unchanged or failed.
	Result string `json:"result"`
	// Waited is how long, in seconds, the step waited for its gate: from
	// the end of the step before it (or the start of the rollout) to its
	// own end.
	Waited float64 `json:"waited"`
	Error  string  `json:"error,omitempty"`
}

// RevisionOutcome is one revision a cluster was given.
type RevisionOutcome struct {
	Revision string `json:"revision"`
	Subject  string `json:"subject,omitempty"`
	// Outcome: rolling (still), success, failure, superseded (a newer
	// revision came first) or invalid.
	Outcome  string    `json:"outcome"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
	// Seconds is Finished - Started (0 while rolling).
	Seconds float64 `json:"seconds,omitempty"`
}

// disagreements are the ring problems in which the nodes' views differ.
var disagreements = []string{"Unreachable", "NotInRing", "HostIDConflict"}

// ringView draws the ring of an observation: the nodes the StatefulSets
// hold (plan.Members), sorted by context, datacenter, rack and ordinal.
// The nodes of the plan's steps are in flight; while the plan waits for a
// step in progress (a node joining, leaving, restarting), so is the node
// of the last step of the timeline.
func ringView(cluster string, o *plan.Observed, p plan.Plan, tl []TimelineEntry) []NodeView {
	inFlight := map[string]bool{}
	for _, s := range p.Steps {
		if s.Pod != "" {
			inFlight[s.Pod] = true
		}
	}
	if len(p.Steps) == 0 && p.Wait.Reason == plan.RolloutInProgress {
		for i := len(tl) - 1; i >= 0; i-- {
			if tl[i].Pod != "" {
				inFlight[tl[i].Pod] = true
				break
			}
		}
	}
	differ := map[string]string{}
	for _, pr := range o.Ring.Problems {
		if slices.Contains(disagreements, pr.Kind) {
			for _, n := range pr.Nodes {
				differ[n] = pr.Text
			}
		}
	}
	members := plan.Members(cluster, o)
	out := make([]NodeView, 0, len(members))
	for _, m := range members {
		rn := o.Ring.Nodes[m.Pod]
		addr := rn.Address
		if addr == "" {
			addr = m.IP
		}
		out = append(out, NodeView{Context: m.Context, Datacenter: m.Datacenter, Rack: m.Rack, Pod: m.Pod, Ordinal: m.Ordinal,
			State: rn.State.String(), Mode: string(rn.Mode), Load: rn.Load, Address: addr, HostID: rn.HostID,
			Disagreement: differ[m.Pod], InFlight: inFlight[m.Pod]})
	}
	slices.SortStableFunc(out, func(a, b NodeView) int {
		switch {
		case a.Context != b.Context:
			return strings.Compare(a.Context, b.Context)
		case a.Datacenter != b.Datacenter:
			return strings.Compare(a.Datacenter, b.Datacenter)
		case a.Rack != b.Rack:
			return strings.Compare(a.Rack, b.Rack)
		}
		return int(a.Ordinal) - int(b.Ordinal)
	})
	return out
}

// timeline appends the steps of events to tl, each with the time since
// the previous one (last), and keeps the last maxTimeline.
func timeline(tl []TimelineEntry, last time.Time, events []reconciler.Event) ([]TimelineEntry, time.Time) {
	for _, ev := range events {
		if ev.Kind != reconciler.StepDone && ev.Kind != reconciler.StepFailed {
			continue
		}
		e := TimelineEntry{At: ev.At, Context: ev.Step.Context, Step: ev.Step.String(), Pod: ev.Step.Pod, Result: stepResult(ev),
			key: stepKey(ev.Step)}
		if !last.IsZero() && ev.At.After(last) {
			e.Waited = ev.At.Sub(last).Seconds()
		}
		if ev.Err != nil {
			e.Error = ev.Err.Error()
		}
		tl = append(tl, e)
		last = ev.At
	}
	if n := len(tl) - maxTimeline; n > 0 {
		tl = slices.Delete(tl, 0, n)
	}
	return tl, last
}

// stepResult is ok, unchanged (a StepDone that wrote nothing) or failed.
func stepResult(ev reconciler.Event) string {
	switch {
	case ev.Kind == reconciler.StepFailed:
		return "failed"
	case len(ev.Results) > 0 && !ev.Wrote():
		return "unchanged"
	}
	return "ok"
}

// replayedStep is a step of the replay of a revision: its words and key.
type replayedStep struct{ words, key string }

// stepKey tells a step from others by what it does and to what, not by
// its words (a reason names times and host IDs, which differ between the
// replay and the rollout).
func stepKey(s plan.Step) string {
	return fmt.Sprintf("%s|%s|%s/%s|%s|%d|%d|%s", s.Action, s.Context, s.Target.Kind, s.Target.Name, s.Pod, s.From, s.To, s.HostID)
}

// toCome is what the replay of the revision (review's replay of the
// planner) has after the last step of the timeline that it has too: all
// of it when none matches. replayed holds no ApplyObjects step (the
// replay's records carry its simulated host IDs).
func toCome(replayed []replayedStep, tl []TimelineEntry) []string {
	from := 0
	for i := len(tl) - 1; i >= 0 && from == 0; i-- {
		if j := slices.IndexFunc(replayed, func(r replayedStep) bool { return r.key == tl[i].key }); j >= 0 {
			from = j + 1
		}
	}
	rest := replayed[from:]
	out := make([]string, 0, min(len(rest), maxToCome))
	for _, r := range rest[:min(len(rest), maxToCome)] {
		out = append(out, r.words)
	}
	return out
}

// begin records a new revision in a history: the one rolling before it
// is superseded.
func beginRevision(h []RevisionOutcome, rev, subject string, now time.Time) []RevisionOutcome {
	if n := len(h); n > 0 && h[n-1].Outcome == "rolling" {
		h[n-1].Outcome, h[n-1].Finished = "superseded", now
		h[n-1].Seconds = now.Sub(h[n-1].Started).Seconds()
	}
	h = append(h, RevisionOutcome{Revision: rev, Subject: subject, Outcome: "rolling", Started: now})
	if n := len(h) - maxHistory; n > 0 {
		h = slices.Delete(h, 0, n)
	}
	return h
}

// endRevision records the outcome of the current revision the first
// time it reaches one (success or failure; a failure that recovers
// becomes a success). It reports whether the history changed.
func endRevision(h []RevisionOutcome, rev, outcome string, now time.Time) bool {
	n := len(h)
	if n == 0 || h[n-1].Revision != rev || h[n-1].Outcome == outcome || h[n-1].Outcome == "success" {
		return false
	}
	h[n-1].Outcome, h[n-1].Finished = outcome, now
	h[n-1].Seconds = now.Sub(h[n-1].Started).Seconds()
	return true
}

// subjects remembers the commit subjects of the last revisions.
type subjects struct {
	order []string
	by    map[string]string
}

func (s *subjects) add(rev, subject string) {
	if s.by == nil {
		s.by = map[string]string{}
	}
	if _, ok := s.by[rev]; ok {
		return
	}
	s.by[rev] = subject
	s.order = append(s.order, rev)
	if len(s.order) > maxSubjects {
		delete(s.by, s.order[0])
		s.order = s.order[1:]
	}
}
