package plan

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/render"
)

// The bounds of the long operations (decommission, bootstrap resume,
// upgradesstables). The planner takes no options and reads no clock: these
// are its policy, applied to Observed.Now and the stamps of the steps.
const (
	// MaxAttempts is how many times a long operation of a node is tried
	// (a decommission's first try included; a failed bootstrap is resumed
	// that many times) before the planner asks a human (Blocked).
	MaxAttempts = 3
	// StallTimeout: a node JOINING or LEAVING, or rewriting its sstables,
	// whose progress has not moved for that long (RingNode.NoProgressSince,
	// counted from the last try at the earliest) has failed: nothing runs
	// any more. It is long on purpose: Cassandra pauses without a stream
	// (RING_DELAY, batchlog replay, hints), a retry while a decommission
	// still runs starts a second one on 3.11 (it does not refuse), and a
	// second bootstrap resume streams everything twice.
	StallTimeout = 10 * time.Minute
	// RetryBackoff is the least time between the first try of an operation
	// and the second; it doubles for each further try.
	RetryBackoff = time.Minute
	// StartGrace: a decommission sent that long ago to a node that still
	// answers NORMAL, and that no view has leaving, did not start (its call
	// was lost, or the node restarted since).
	StartGrace = 30 * time.Second
)

// The operations of contract.AnnotationAttempt.
const (
	opDecommission = "decommission"
	opResume       = "resume-bootstrap"
	opUpgrade      = "upgradesstables"
	opCleanup      = "cleanup" // replace (#16), cleanup.go: a cleanup of every keyspace
)

// attempt is what contract.AnnotationAttempt says of a rack: operation op of pod was
// tried n times, the last try at at (the rack's step stamp).
type attempt struct {
	op, pod string
	n       int
	at      time.Time
}

// attemptOf reads a rack's contract.AnnotationAttempt; zero when absent or garbled.
func (r *rack) attemptOf() attempt {
	if r.live == nil {
		return attempt{}
	}
	f := strings.Fields(r.live.annotations[contract.AnnotationAttempt])
	if len(f) != 3 {
		return attempt{}
	}
	n, err := strconv.Atoi(f[2])
	if err != nil || n < 1 {
		return attempt{}
	}
	return attempt{op: f[0], pod: f[1], n: n, at: r.stepAt()}
}

// tries is how many times op of pod was tried, 0 when the rack's
// annotation is about something else.
func (r *rack) tries(op, pod string) attempt {
	if a := r.attemptOf(); a.op == op && a.pod == pod {
		return a
	}
	return attempt{op: op, pod: pod, at: r.stepAt()}
}

// tried is the stamp of try n of op on pod.
func (v *view) tried(op, pod string, n int, what string) map[string]string {
	set := v.stamp(what)
	set[contract.AnnotationAttempt] = fmt.Sprintf("%s %s %d", op, pod, n)
	return set
}

// stalled reports whether a node's progress has not moved for StallTimeout,
// counted from from at the earliest.
func (v *view) stalled(n RingNode, from time.Time) bool {
	if n.NoProgressSince.IsZero() {
		return false
	}
	since := n.NoProgressSince
	if from.After(since) {
		since = from
	}
	return v.now.Sub(since) >= StallTimeout
}

// backoff is the least time between try n and try n+1.
func backoff(n int) time.Duration {
	if n < 1 {
		return 0
	}
	return RetryBackoff << min(n-1, 10)
}

// retry is the next try of an operation that failed (failure says how, in
// words): the step, the wait for the backoff, or Blocked once MaxAttempts
// are spent.
func (v *view) retry(r *rack, ord int32, a attempt, failure string) (*candidate, *Wait) {
	if msg := v.stuckLeaving(r, a, failure); msg != "" { // #14 item 7: 5.0 cannot retry a hung decommission
		return nil, &Wait{Reason: Blocked, Context: r.ctx, Message: msg}
	}
	if a.n >= maxAttempts(a.op) {
		return nil, &Wait{Reason: Blocked, Context: r.ctx, Message: v.giveUp(r, a, failure)}
	}
	if next := a.at.Add(backoff(a.n)); a.n > 0 && v.now.Before(next) {
		w := v.timed(Wait{Reason: RolloutInProgress, Context: r.ctx, Message: fmt.Sprintf(
			"%s: %s of %s: %s; %s %d of %d at %s", r.label(), opWords[a.op].what, a.pod, failure, opWords[a.op].try, a.n+1, maxAttempts(a.op),
			next.UTC().Format(time.RFC3339))}, a.at)
		return nil, &w
	}
	why := fmt.Sprintf("%s of %s: %s; %s %d of %d", opWords[a.op].what, a.pod, failure, opWords[a.op].try, a.n+1, maxAttempts(a.op))
	var c *candidate
	switch a.op {
	case opDecommission:
		c = v.decommission(r, why, a.n+1)
	case opResume:
		c = v.operation(r, ord, ResumeBootstrap, v.tried(opResume, a.pod, a.n+1, "resume bootstrap of "+a.pod), why)
	case opCleanup: // replace (#16): every keyspace (cleanup.go)
		c = v.operation(r, ord, Cleanup, v.tried(opCleanup, a.pod, a.n+1, "cleanup "+a.pod), why)
		c.step.Jobs = v.c.CleanupJobs()
	case opRebuild: // #15 (datacenters.go)
		c = v.rebuildTry(r, ord, a.n+1, why)
	case opCleanupKeyspaces: // #15: the keyspaces whose replication shrank (datacenters.go)
		c = v.cleanupTry(r, ord, a.n+1, why)
	default:
		c = v.operation(r, ord, UpgradeSSTables, v.tried(opUpgrade, a.pod, a.n+1, "upgradesstables "+a.pod), why)
	}
	c.except = ord
	return c, nil
}

// operation is a step running a long operation on the pod at ord.
func (v *view) operation(r *rack, ord int32, action Action, set map[string]string, why string) *candidate {
	pod := r.podName(ord)
	u := v.write(r, r.live.replicas, r.live.partition, set)
	return &candidate{r: r, except: -1, desc: r.label() + " " + set[contract.AnnotationStep],
		step: Step{Action: action, Context: r.ctx, Target: refOf(r.live.obj), Objects: objs(u), Pod: pod, Reason: why}}
}

// opWords name the operations for humans: what runs, what a try is, what
// failed when the tries are spent, and the nodetool command that does it.
var opWords = map[string]struct{ what, try, failed, nodetool string }{
	opDecommission: {"decommission", "attempt", "could not be decommissioned", "nodetool decommission"},
	opResume:       {"bootstrap", "resume", "could not finish its bootstrap", "nodetool bootstrap resume"},
	opUpgrade:      {"upgradesstables", "attempt", "could not upgrade its sstables", "nodetool upgradesstables"},
	opCleanup:      {"cleanup", "attempt", "could not be cleaned up", "nodetool cleanup"},
	opRebuild:      {"rebuild", "attempt", "could not be rebuilt", "nodetool rebuild -- <source datacenter>"},
	// #15: the same Cleanup action as opCleanup, of some keyspaces only
	opCleanupKeyspaces: {"cleanup", "attempt", "could not be cleaned up", "nodetool cleanup"},
}

// maxAttempts is how many tries of op the planner sends.
func maxAttempts(op string) int {
	if op == opRebuild || op == opCleanupKeyspaces {
		return OperationAttempts
	}
	return MaxAttempts
}

// giveUp says which node failed, how, and what a human does about it.
func (v *view) giveUp(r *rack, a attempt, failure string) string {
	w := opWords[a.op]
	kubectl := fmt.Sprintf("kubectl --context %s -n %s", r.ctx, r.live.obj.GetNamespace())
	return fmt.Sprintf("%s (%s) %s: %s, after %s; read its log (%s logs %s -c %s), fix the cause (a node down, a disk full), then run %q on it (%s exec %s -c %s -- %s), or let ringops try %d more times (%s annotate statefulset %s %s-)",
		a.pod, r.ctx, w.failed, failure, plural(a.n, w.try), kubectl, a.pod, render.ContainerCassandra, w.nodetool,
		kubectl, a.pod, render.ContainerCassandra, w.nodetool, maxAttempts(a.op), kubectl, r.name, contract.AnnotationAttempt)
}

// stallWords is StallTimeout for humans ("10m").
var stallWords = strings.TrimSuffix(StallTimeout.String(), "0s")

// leavingSeen: some view has the node leaving (nodetool's UL or DL).
func leavingSeen(n RingNode) bool { return n.State == ring.UL || n.State == ring.DL }

// decommissionFailure says how the decommission of pod failed, "" while
// it may still run: not started StartGrace after it was sent (the node
// NORMAL, no view has it leaving), stopped (LEAVING, no progress for
// StallTimeout: 3.11 and 4.x after a failed stream), or DECOMMISSION_FAILED
// (5.0).
func (v *view) decommissionFailure(r *rack, pod string, a attempt) string {
	n := v.o.Ring.Nodes[pod]
	switch n.Mode {
	case ring.ModeNormal:
		if leavingSeen(n) || v.now.Sub(r.stepAt()) < StartGrace {
			return ""
		}
		return "it did not start, or was aborted (node NORMAL)"
	case ring.ModeLeaving:
		if v.stalled(n, a.at) {
			return "it stopped (node LEAVING, no data streamed for " + stallWords + ")"
		}
	case ring.ModeDecommissionFailed:
		return "it failed (node DECOMMISSION_FAILED)"
	}
	return ""
}

// decommissionState is what is known of a decommission in flight, for
// messages.
func (v *view) decommissionState(r *rack, pod string) string {
	n := v.o.Ring.Nodes[pod]
	switch {
	case n.Mode == ring.ModeNormal && !leavingSeen(n):
		return "sent at " + r.stepAt().UTC().Format(time.RFC3339) + ", node still NORMAL"
	case n.Mode != "":
		return string(n.Mode)
	case leavingSeen(n):
		return "leaving according to the other nodes; the node itself does not answer (its agent may be busy with the decommission)"
	}
	return "mode unknown"
}

// leavingAlready: the node is leaving, or its decommission failed, as its
// own mode or another view says.
func (v *view) leavingAlready(pod string) bool {
	n := v.o.Ring.Nodes[pod]
	return n.Mode == ring.ModeLeaving || n.Mode == ring.ModeDecommissionFailed || (n.Mode == "" && leavingSeen(n))
}

// unmarkedDecommission: the pod to decommission leaves already, although
// its StatefulSet has no marker (lost with a StatefulSet re-created after
// a crash, or a decommission started by hand). It is followed as any
// decommission, and tried again only once it failed.
func (v *view) unmarkedDecommission(r *rack, pod string) (*candidate, *Wait) {
	ord := r.live.replicas - 1
	a := r.tries(opDecommission, pod)
	if failure := v.decommissionFailure(r, pod, a); failure != "" {
		return v.retry(r, ord, a, failure)
	}
	w := v.timed(Wait{Reason: RolloutInProgress, Context: r.ctx,
		Message: r.label() + ": " + pod + " is leaving, unmarked (" + v.decommissionState(r, pod) + ")"}, r.stepAt())
	return nil, &w
}

// failedBootstrap finds the first node, in rollout order, whose bootstrap
// failed: JOINING_FAILED (5.0, before any resume), or JOINING or
// JOINING_FAILED with no progress for StallTimeout (4.x stays JOINING
// after "Some data streaming failed"; 5.0 stays JOINING_FAILED while a
// resume streams). It is resumed, or a human is asked.
func (v *view) failedBootstrap() (*candidate, *Wait) {
	for _, r := range v.racks {
		if r.live == nil || !r.reachable {
			continue
		}
		for ord := int32(0); ord < r.live.replicas; ord++ {
			pod := r.podName(ord)
			a := r.tries(opResume, pod)
			if failure := v.bootstrapFailure(v.o.Ring.Nodes[pod], a); failure != "" {
				return v.retry(r, ord, a, failure)
			}
		}
	}
	return nil, nil
}

func (v *view) bootstrapFailure(n RingNode, a attempt) string {
	var from time.Time
	if a.n > 0 {
		from = a.at
	}
	switch {
	case n.Mode == ring.ModeJoiningFailed && a.n == 0:
		return "it failed (node JOINING_FAILED)"
	case (n.Mode == ring.ModeJoining || n.Mode == ring.ModeJoiningFailed) && v.stalled(n, from):
		return "it stopped (node " + string(n.Mode) + ", no data streamed for " + stallWords + ")"
	}
	return ""
}

// upgradeInFlight: an upgradesstables tried on a rack's pod that still has
// old sstables runs, or stopped and is tried again.
func (v *view) upgradeInFlight() (*candidate, *Wait) {
	for _, r := range v.racks {
		a := r.attemptOf()
		if a.op != opUpgrade {
			continue
		}
		ord, ok := ordinalOf(a.pod, r.name)
		n := v.o.Ring.Nodes[a.pod]
		if !ok || ord >= r.live.replicas || n.OldSSTables == 0 {
			continue
		}
		if n.Mode == ring.ModeNormal && n.OldSSTables > 0 && v.stalled(n, a.at) {
			return v.retry(r, ord, a, fmt.Sprintf("it stopped (%s left on the old format, no progress for %s)", plural(int(n.OldSSTables), "sstable"), stallWords))
		}
		left := "its agent does not answer: it may be busy with the operation"
		if n.OldSSTables > 0 {
			left = plural(int(n.OldSSTables), "sstable") + " left on the old format"
		}
		w := v.timed(Wait{Reason: RolloutInProgress, Context: r.ctx, Message: fmt.Sprintf("%s: upgradesstables of %s in flight (%s)", r.label(), a.pod, left)}, r.stepAt())
		return nil, &w
	}
	return nil, nil
}

// upgradeSSTables is the first node, in rollout order, whose sstables are
// on an older format than its release writes (after an upgrade across
// versions, once no roll is left): one upgradesstables at a time.
func (v *view) upgradeSSTables() *candidate {
	for _, r := range v.racks {
		if r.live == nil || r.orphan() {
			continue
		}
		for ord := int32(0); ord < r.live.replicas; ord++ {
			pod := r.podName(ord)
			if n := v.o.Ring.Nodes[pod]; n.OldSSTables > 0 && n.Mode == ring.ModeNormal {
				why := fmt.Sprintf("%s holds %s on an older format than its Cassandra release writes: upgradesstables, one node at a time",
					pod, plural(int(n.OldSSTables), "sstable"))
				return v.operation(r, ord, UpgradeSSTables, v.tried(opUpgrade, pod, 1, "upgradesstables "+pod), why)
			}
		}
	}
	return nil
}

// skewTolerated: the ring's only problem is the schema disagreement of an
// upgrade across release series (Ring.UpgradeSkew), and the step restarts
// a node of the roll that ends it.
func (v *view) skewTolerated(c *candidate) bool {
	return c.step.Action == RestartPod && v.o.Ring.Assessed && v.o.Ring.UpgradeSkew != ""
}

// upgradeAcrossSeries reports whether a staged template moves some pod to
// another Cassandra release series (4.1 to 5.0): such a roll goes before
// any topology change, so that no node joins or leaves a ring of two
// versions (streaming between release series is not supported) and no
// node bootstraps on another version than the ring's.
func (v *view) upgradeAcrossSeries() bool {
	for _, r := range v.racks {
		if r.live == nil || r.orphan() || r.nextRestart() < 0 {
			continue
		}
		want := releaseSeries(ImageOf(nested(r.live.obj.Object, "spec", "template")))
		for ord, p := range r.pods {
			if ord < r.live.replicas && !r.updated(ord) {
				if have := releaseSeries(podImage(p)); want != "" && have != "" && have != want {
					return true
				}
			}
		}
	}
	return false
}

// releaseSeries is the major.minor of an image's tag ("cassandra:4.1.5"
// gives "4.1"), "" when the tag names no version.
func releaseSeries(image string) string {
	if i := strings.LastIndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	i := strings.LastIndexByte(image, ':')
	if i < 0 || strings.Contains(image[i:], "/") {
		return ""
	}
	parts := strings.SplitN(image[i+1:], ".", 3)
	if len(parts) < 2 {
		return ""
	}
	minor := parts[1]
	if j := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); j >= 0 {
		minor = minor[:j]
	}
	if _, err := strconv.Atoi(parts[0]); err != nil || minor == "" {
		return ""
	}
	return parts[0] + "." + minor
}

// podImage is the image of a pod's cassandra container.
func podImage(p *corev1.Pod) string {
	if p == nil {
		return ""
	}
	for _, c := range p.Spec.Containers {
		if c.Name == render.ContainerCassandra {
			return c.Image
		}
	}
	return ""
}
