package plan

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/render"
)

// #14 item 7: a Cassandra 5.0 node stuck LEAVING.
//
// 5.0 leaves LEAVING for DECOMMISSION_FAILED whenever its decommission
// fails (5.0.1 StorageService.java:5347-5364), and a decommission sent
// while one runs returns at once, doing nothing ("This node is still
// decommissioning.", :5256-5260; the flag is only cleared in the finally
// after the mode moved on, :5366-5369). A 5.0 node that shows LEAVING with
// no data streamed for StallTimeout therefore still runs its decommission,
// hung (a stream to a target that is gone without a reset: it waits for
// the streaming keep-alive and TCP to give up): sending it again is no
// retry. The planner says so at once, Blocked, with the node, the nodes
// down and the fix, instead of spending its attempts (3.11 and 4.x, which
// accept decommission again on a LEAVING node, are retried as before).

// stuckLeaving is the Blocked message for the pod of an attempt whose
// decommission hangs on Cassandra 5.0+, "" when it is not such a case.
func (v *view) stuckLeaving(r *rack, a attempt, failure string) string {
	if a.op != opDecommission || v.o.Ring.Nodes[a.pod].Mode != ring.ModeLeaving {
		return ""
	}
	ord, ok := ordinalOf(a.pod, r.name)
	if !ok || !seriesAtLeast(releaseSeries(podImage(r.pods[ord])), 5) {
		return ""
	}
	var down []string
	for _, p := range v.o.Ring.Problems {
		if p.Kind == "NodeDown" {
			down = append(down, p.Nodes...)
		}
	}
	slices.Sort(down)
	downWords := "no node is down now: one of its stream targets may be unreachable"
	if down = slices.Compact(down); len(down) > 0 {
		downWords = "down now: " + strings.Join(down, ", ")
	}
	kubectl := fmt.Sprintf("kubectl --context %s -n %s", r.ctx, r.live.obj.GetNamespace())
	return fmt.Sprintf("%s (%s) is stuck leaving: %s; Cassandra 5.0 ignores another decommission while one runs, so ringops does not send it again (%s). "+
		"See its streams (%s exec %s -c %s -- nodetool netstats) and log (%s logs %s -c %s); bring the nodes it streams to back, "+
		"or restart it (%s delete pod %s), which ends the decommission: ringops then sends it again",
		a.pod, r.ctx, failure, downWords, kubectl, a.pod, render.ContainerCassandra, kubectl, a.pod, render.ContainerCassandra, kubectl, a.pod)
}

// seriesAtLeast reports whether a release series ("5.0") is of major
// version major or later; false when unknown.
func seriesAtLeast(series string, major int) bool {
	m, _, _ := strings.Cut(series, ".")
	n, err := strconv.Atoi(m)
	return err == nil && n >= major
}
