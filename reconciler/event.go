package reconciler

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
)

// EventKind is what an Event reports.
type EventKind uint8

// The kinds of events.
const (
	// StepStarted: the executor starts a step of a plan.
	StepStarted EventKind = iota + 1
	// StepDone: the step was carried out; Results say what was written.
	StepDone
	// StepFailed: the step failed (Err); the rest of the plan was not
	// executed and the next Step plans again.
	StepFailed
	// Waiting: the plan has no step; Wait says why (Converged included).
	Waiting
	// OperationFailed: an operation ended in an error (Err) after its
	// step was done. The engine no longer emits it: long operations are
	// sent and followed from the ring, and their failures are the
	// planner's retries and Blocked waits. Kept for the daemon's
	// consumers.
	OperationFailed
)

var eventNames = [...]string{"", "StepStarted", "StepDone", "StepFailed", "Waiting", "OperationFailed"}

func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one thing the engine did or waits for: what `ringops apply`
// prints and the daemon turns into commit statuses. Its text is for
// humans; code branches on Kind, Step.Action and Wait.Reason.
type Event struct {
	Kind EventKind
	// At is when it happened (the engine's clock).
	At time.Time
	// Cluster and Revision name the rollout.
	Cluster  string
	Revision string
	// Step is the step of StepStarted, StepDone and StepFailed.
	Step plan.Step
	// Wait is the wait of Waiting.
	Wait plan.Wait
	// Results are what StepDone did to each object (Created,
	// Configured, Unchanged, Deleted, ...), in order.
	Results []kube.Result
	// Pod names the node of OperationFailed.
	Pod string
	// Err is why a step or an operation failed.
	Err error
}

// Context is the region the event is about, "" when cluster-wide.
func (e Event) Context() string {
	switch e.Kind {
	case Waiting:
		return e.Wait.Context
	case OperationFailed:
		return e.Step.Context
	}
	return e.Step.Context
}

// Wrote reports whether a StepDone wrote to an API server.
func (e Event) Wrote() bool {
	for _, r := range e.Results {
		switch r.Action {
		case kube.Created, kube.Configured, kube.Recreated, kube.Deleted:
			return true
		}
	}
	return false
}

// String is the event in one line, the region first:
//
//	[eu-west] ScaleStatefulSet orders-dc1-r2 0 -> 1 (orders-dc1-r2-0): bootstrap of ...
//	[us-east] waiting: RolloutInProgress: us-east: dc2/r1 scale 0 -> 1: orders-dc2-r1-0 not Ready (JOINING)
//	[orders] converged: 7 nodes in 7 racks, every StatefulSet at its replicas and template, ring healthy
func (e Event) String() string {
	where := e.Context()
	if where == "" {
		where = e.Cluster
	}
	var b strings.Builder
	b.WriteString("[" + where + "] ")
	switch e.Kind {
	case StepStarted, StepDone, StepFailed:
		b.WriteString(stepText(e.Step))
		if e.Kind == StepStarted {
			b.WriteString(" (started)")
		}
		if e.Kind == StepDone && len(e.Results) > 0 && !e.Wrote() {
			b.WriteString(" (unchanged)")
		}
		switch {
		case e.Kind == StepFailed && errors.Is(e.Err, kube.ErrConflict):
			b.WriteString(": conflict, planning again: " + oneLine(errText(e.Err)))
		case e.Kind == StepFailed:
			b.WriteString(": FAILED: " + oneLine(errText(e.Err)))
		}
	case Waiting:
		b.WriteString(waitText(e.Wait))
	case OperationFailed:
		b.WriteString("operation on " + e.Pod + " failed: " + oneLine(errText(e.Err)))
	default:
		b.WriteString(e.Kind.String())
	}
	return b.String()
}

// stepText is plan.Step.String without its "<context>: " prefix.
func stepText(s plan.Step) string {
	return strings.TrimPrefix(s.String(), s.Context+": ")
}

func waitText(w plan.Wait) string {
	if w.Reason == plan.Converged {
		return "converged: " + w.Message
	}
	s := "waiting: " + w.Reason.String()
	if w.Message != "" {
		s += ": " + w.Message
	}
	return s
}

func errText(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

func oneLine(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ")
}
