package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/render"
)

// Lost volumes (replace, #16). A pod whose recorded node (nodes.go) now
// has a new data volume lost that node: its init container holds it
// (render/gate.go) while the ring keeps the dead node, down. The planner
// then, one node at a time and gated like a bootstrap (a replacement is a
// range movement):
//
//	dead node down, its data held elsewhere   ReplaceNode: replace=<old address> in the record, the pod
//	                                          restarted; it streams the dead node's ranges (JOINING), then
//	                                          NORMAL: the record takes its new volume and host ID
//	dead node down, its data held nowhere     Blocked, with the choices (restore the volume; or ask in
//	  else (a keyspace's only replicas)       spec.operations for removenode of its host ID, removenode.go)
//	dead node gone from the ring (removed)    ReplaceNode: join=new, the pod bootstraps as a new node
//	dead node up                              wait: the ring disagrees with the record
//
// A pod that would start in its own seed list (a seed) gets, with the
// step, a template whose seed list is the effective one (without it), and
// the StatefulSet the update strategy OnDelete until the deleted pod is
// back on that template: Cassandra never replaces, nor bootstraps, a node
// in its own seed list (it would join with no data; "Replacing a node
// without bootstrapping risks invalidating consistency guarantees"), and
// OnDelete restarts no other pod of the rack meanwhile (they take the new
// list at their restart, later, as after a rack's seed list change).

// lostNode is a pod whose recorded node lost its volume.
type lostNode struct {
	r    *rack
	ord  int32
	pod  string
	line *nodeLine
	// dead is the dead node in the ring (host ID, address, state), found
	// by its host ID; inRing false when the ring no longer has it.
	dead   RingEndpoint
	inRing bool
}

func (l *lostNode) down() bool { return l.dead.State.Down() }

// lostNodes lists the pods whose recorded node lost its volume, in
// rollout order: a line for an ordinal below the replicas whose PVC is
// another (or gone), not going away.
func (v *view) lostNodes() []*lostNode {
	var out []*lostNode
	for _, r := range v.racks {
		if r.live == nil || !r.reachable {
			continue
		}
		lines := v.record(r.ctx).racks[r.name]
		for _, ord := range sortedOrdinals(lines) {
			l := lines[ord]
			c := r.pvcs[ord]
			if ord >= r.live.replicas || (c != nil && (string(c.UID) == l.pvc || c.DeletionTimestamp != nil)) {
				continue
			}
			ln := &lostNode{r: r, ord: ord, pod: r.podName(ord), line: l}
			_, ln.dead, ln.inRing = v.findHost(l.host, "")
			if ln.dead.Address == "" {
				ln.dead.Address, ln.dead.HostID = l.address, l.host
			}
			out = append(out, ln)
		}
	}
	return out
}

// replaceWork is the next step about lost volumes, or why there is none:
// a removal of spec.operations in flight or due (removenode.go), a
// replacement or a new join in flight, then the first lost volume.
func (v *view) replaceWork() (*candidate, *Wait) {
	if !v.o.Ring.Assessed {
		return nil, nil
	}
	lost := v.lostNodes()
	if c, w := v.removals(lost); c != nil || w != nil {
		return c, w
	}
	for _, l := range lost {
		if l.line.replace != "" || l.line.joinNew {
			if w := v.behindNewJoin(l, lost); w != nil {
				return nil, w
			}
			return v.instructed(l)
		}
	}
	for _, l := range lost {
		if !l.inRing || v.requested(l.line.host) {
			continue // rejoined below, after every replacement; or removenode asked for: removals() carries it out
		}
		switch {
		case !l.down():
			return nil, &Wait{Reason: RingUnhealthy, Context: l.r.ctx, Message: fmt.Sprintf(
				"%s has a new data volume, but the ring has its recorded node, host ID %s at %s, up (%s): waiting for the ring to say it is down",
				l.pod, l.line.host, l.dead.Address, l.dead.State)}
		}
		if why := v.unreplaceable(lost); why != "" {
			return nil, &Wait{Reason: Blocked, Context: l.r.ctx, Message: v.choices(l, why)}
		}
		if w := v.behindNewJoin(l, lost); w != nil {
			return nil, w
		}
		return v.replace(l)
	}
	for _, l := range lost {
		if !l.inRing {
			return v.rejoin(l)
		}
	}
	return nil, nil
}

// behindNewJoin blocks the replacement of l when its pod cannot be
// created: the StatefulSet controller creates pods in order, and a lower
// ordinal of its rack is held on a lost volume whose dead node left the
// ring (removed): that pod must bootstrap as a new node first, which
// Cassandra refuses while l's dead node, down, still owns ranges ("A node
// required to move the data consistently is down"). Nothing moves until
// a human asks for the removal of l's dead node too; nil when l's pod
// exists or nothing holds it back.
func (v *view) behindNewJoin(l *lostNode, lost []*lostNode) *Wait {
	if l.r.pods[l.ord] != nil || !l.inRing || !l.down() {
		return nil
	}
	for _, o := range lost {
		if o.r != l.r || o.ord >= l.ord || o.inRing {
			continue
		}
		if p := o.r.pods[o.ord]; p != nil && podReady(p) {
			continue
		}
		return &Wait{Reason: Blocked, Context: l.r.ctx, Message: fmt.Sprintf(
			"%s lost its data volume and its dead node (%s) cannot be replaced: its pod is not created while %s is not Ready (the StatefulSet starts its pods in order), "+
				"and %s, whose dead node was removed, can only bootstrap as a new node once no dead node owns ranges (Cassandra refuses a bootstrap while a node it must stream from is down). "+
				"Choice: add {removeNode: %s, hostID: %s, reason: ...} to spec.operations: ringops runs nodetool removenode %s (its ranges are re-replicated from their other replicas), then both pods bootstrap as new nodes",
			l.pod, v.deadWords(l), o.pod, o.pod, l.pod, l.line.host, l.line.host)}
	}
	return nil
}

// deadWords names a dead node for humans: "host ID …, 10.0.0.7, down for 12m0s".
func (v *view) deadWords(l *lostNode) string {
	return fmt.Sprintf("host ID %s at %s, %s", l.line.host, l.dead.Address, v.downFor(l.dead))
}

// downFor says how long a node has been down.
func (v *view) downFor(e RingEndpoint) string {
	if e.DownSince.IsZero() || v.now.Before(e.DownSince) {
		return "down"
	}
	return "down for " + v.now.Sub(e.DownSince).Round(time.Second).String()
}

// replace is the step replacing a lost node's dead node.
func (v *view) replace(l *lostNode) (*candidate, *Wait) {
	why := fmt.Sprintf("%s lost its data volume; its dead node (%s) is replaced: the pod starts with replace_address_first_boot=%s and streams that node's ranges from their other replicas",
		l.pod, v.deadWords(l), l.dead.Address)
	c, w := v.instruct(l, "replace "+l.pod, why, func(n *nodeLine) { n.replace, n.joinNew = l.dead.Address, false })
	if c != nil {
		v.tolerateLost(c, l.pod, false)
	}
	return c, w
}

// rejoin is the step letting a lost node's pod bootstrap as a new node:
// its dead node left the ring (removed).
func (v *view) rejoin(l *lostNode) (*candidate, *Wait) {
	why := fmt.Sprintf("%s lost its data volume and its dead node (host ID %s) is no longer in the ring: it bootstraps as a new node", l.pod, l.line.host)
	c, w := v.instruct(l, "join "+l.pod, why, func(n *nodeLine) { n.replace, n.joinNew = "", true })
	if c != nil {
		v.tolerateLost(c, l.pod, true)
	}
	return c, w
}

// instruct is a ReplaceNode step: the pod's StatefulSet stamped (and, for
// a seed, the template it must start from, OnDelete), the record with the
// instruction, then the pod deleted so that it starts at once.
func (v *view) instruct(l *lostNode, what, why string, set func(*nodeLine)) (*candidate, *Wait) {
	u, w := v.replaceObject(l, what)
	if w != nil {
		return nil, w
	}
	rec := v.record(l.r.ctx).clone()
	set(rec.racks[l.r.name][l.ord])
	s := Step{Action: ReplaceNode, Context: l.r.ctx, Target: refOf(l.r.live.obj), Objects: objs(u, v.recordObject(rec)),
		Pod: l.pod, Reason: why}
	if p := l.r.pods[l.ord]; p != nil && p.DeletionTimestamp == nil {
		s.DeletePod = string(p.UID)
	}
	desc := fmt.Sprintf("%s %s (its dead node: %s)", l.r.label(), what, v.deadWords(l))
	return &candidate{r: l.r, except: l.ord, also: []string{l.dead.Address, l.line.host}, desc: desc, step: s}, nil
}

// tolerateLost lets a replacement go while other pods are held on a lost
// volume, their dead nodes down: they move no range (one range movement
// at a time still holds: a replacement in flight goes first, instructed),
// and the StatefulSet controller (OrderedReady) creates no pod above a
// held one, so each waiting for the others would wait forever. A
// replacement streams from any live replica (unreplaceable checked that
// one is left), a removal re-replicates from them too; a new join
// (rejoin, bootstrap) lets only held pods with no node in the ring be: it
// comes after every replacement, and waits for no dead node to be left.
func (v *view) tolerateLost(c *candidate, pod string, bootstrap bool) {
	for _, o := range v.lostNodes() {
		if o.pod == pod || (o.inRing && (bootstrap || !o.down())) {
			continue
		}
		if p := o.r.pods[o.ord]; p != nil && podReady(p) {
			continue
		}
		c.lost = append(c.lost, o.pod)
		c.also = append(c.also, o.pod)
		if o.inRing {
			c.also = append(c.also, o.dead.Address, o.line.host)
		}
	}
}

// replaceObject is the StatefulSet of a ReplaceNode step: stamped, and,
// when the pod would start in its own seed list, with the effective seed
// list and the update strategy OnDelete.
func (v *view) replaceObject(l *lostNode, what string) (*unstructured.Unstructured, *Wait) {
	r := l.r
	set := v.stamp(what)
	own := v.ownSeed(r, l.ord)
	if !own && v.namesJoined(v.liveSeeds(r), l.pod) {
		return v.write(r, r.live.replicas, r.live.partition, set), nil
	}
	e := v.effectiveList()
	if e == "" || !v.seedsFit(e, l.pod) {
		msg := "%s is a seed and must not start in its own seed list, but no other node that has joined the ring is up to be its seed"
		if !own {
			msg = "%s must reach a seed to replace its dead node, but no node that has joined the ring is up to be its seed"
		}
		return nil, &Wait{Reason: RingUnhealthy, Context: r.ctx, Message: fmt.Sprintf(msg, l.pod)}
	}
	change := r.live.annotations[contract.AnnotationChange]
	switch {
	case strings.Contains(change, "seed list"):
	case own:
		set[contract.AnnotationChange] = strings.TrimPrefix(change+", seed list without "+l.pod+" (it starts as a new node)", ", ")
	default:
		set[contract.AnnotationChange] = strings.TrimPrefix(change+", seed list of nodes up (every seed of "+l.pod+" is down)", ", ")
	}
	u := v.writeTemplate(r, WithSeeds(v.templateFor(r), e), r.live.replicas, r.live.partition, set)
	specOf(u)["updateStrategy"] = map[string]any{"type": "OnDelete"}
	return u, nil
}

// ownSeed reports whether the pod at ord would start in its own seed
// list: its pod's, or its StatefulSet's template's.
func (v *view) ownSeed(r *rack, ord int32) bool {
	pod := r.podName(ord)
	names := func(list string) bool {
		return slices.ContainsFunc(SplitSeeds(list), func(s string) bool { return render.SeedPod(s) == pod })
	}
	if p := r.pods[ord]; p != nil {
		if list, ok := podSeeds(p); ok && names(list) {
			return true
		}
	}
	return names(v.liveSeeds(r))
}

// seedsUnfit reports whether the pod at ord, not started yet, must be
// given its replacement step again: it still runs its old template in its
// own seed list (the step was cut short), or its seed list names no node
// that has joined the ring and is up (its seeds died, or are held on lost
// volumes too): it would wait for a seed forever.
func (v *view) seedsUnfit(r *rack, ord int32) bool {
	if v.ownSeed(r, ord) {
		return !r.updated(ord)
	}
	list, ok := podSeeds(r.pods[ord])
	if !ok {
		list = v.liveSeeds(r)
	}
	return !v.namesJoined(list, r.podName(ord)) && v.effectiveList() != ""
}

// podSeeds is a pod's CASSANDRA_SEEDS.
func podSeeds(p *corev1.Pod) (string, bool) {
	for _, c := range p.Spec.Containers {
		if c.Name != render.ContainerCassandra {
			continue
		}
		for _, e := range c.Env {
			if e.Name == seedsEnv && e.ValueFrom == nil {
				return e.Value, true
			}
		}
	}
	return "", false
}

// instructed follows a replacement (or new join) in flight: the pod
// streams (JOINING; a failed one is resumed by failedBootstrap), then
// is NORMAL and the record takes its volume (nodes.go). A pod that
// still runs its old template in its own seed list (the step was cut
// short) is given the step again.
func (v *view) instructed(l *lostNode) (*candidate, *Wait) {
	r := l.r
	n := v.o.Ring.Nodes[l.pod]
	what := "replacement of the dead node (" + v.deadWords(l) + ") by " + l.pod
	if l.line.joinNew {
		what = "new join of " + l.pod + " (its dead node, host ID " + l.line.host + ", was removed)"
	}
	p := r.pods[l.ord]
	if p != nil && p.DeletionTimestamp == nil && !podReady(p) && n.Mode == "" && v.seedsUnfit(r, l.ord) {
		if l.line.joinNew {
			return v.rejoin(l)
		}
		return v.replace(l)
	}
	state := "the pod starts"
	switch {
	case n.Mode == ring.ModeJoining || n.Mode == ring.ModeJoiningFailed:
		state = "it streams its data (" + string(n.Mode) + ")"
	case n.Mode == ring.ModeNormal:
		state = "it is NORMAL; waiting for the ring to agree"
	case n.Mode != "":
		state = "it is " + string(n.Mode)
	}
	w := v.timed(Wait{Reason: RolloutInProgress, Context: r.ctx, Message: r.label() + ": " + what + " in flight: " + state}, r.stepAt())
	return nil, &w
}

// unreplaceable names a managed keyspace whose every replica of some
// range the lost nodes whose dead node is down may hold, "" when each has
// a replica left to stream from: a replacement streams each range from a
// live replica in any datacenter (strict consistency does not apply to a
// replacement, 5.0.1 StorageService.java:2217), and a keyspace with none
// left would be replaced with nothing. Keyspaces the spec does not manage
// are not known to ringops.
func (v *view) unreplaceable(lost []*lostNode) string {
	down := map[string]int32{}
	for _, l := range lost {
		if l.inRing && l.down() {
			down[l.r.dc]++
		}
	}
	for _, ks := range v.c.ManagedKeyspaces() {
		var total, gone int32
		hit := false
		for dc, rf := range ks.Replication {
			total += rf
			if n := down[dc]; n > 0 && rf > 0 {
				hit = true
				gone += min(n, rf)
			}
		}
		if hit && total-gone < 1 {
			return fmt.Sprintf("keyspace %s has %s", ks.Name, replicationWords(ks.Replication))
		}
	}
	return ""
}

func replicationWords(r map[string]int32) string {
	var parts []string
	for _, dc := range sortedKeys(r) {
		parts = append(parts, fmt.Sprintf("RF %d in %s", r[dc], dc))
	}
	if len(parts) == 1 {
		return parts[0] + " and no replica elsewhere"
	}
	return strings.Join(parts, ", ")
}

// choices says why a lost node cannot be replaced, and what a human can
// do about it.
func (v *view) choices(l *lostNode, why string) string {
	kubectl := fmt.Sprintf("kubectl --context %s -n %s", l.r.ctx, l.r.live.obj.GetNamespace())
	return fmt.Sprintf("%s lost its data volume and its dead node (%s) cannot be replaced: no other replica holds all of its data (%s), so a replacement would stream nothing for those ranges. "+
		"Choices: restore the node's data (its host ID %s) onto the pod's new volume (data-%s) from a backup, and ringops sees it come back; "+
		"or accept the loss: add {removeNode: %s, hostID: %s, reason: ...} to spec.operations, and ringops runs nodetool removenode %s (the other keyspaces are re-replicated) and %s bootstraps as a new node; "+
		"meanwhile %s stays held by its init container (%s logs %s -c config)",
		l.pod, v.deadWords(l), why, l.line.host, l.pod, l.pod, l.line.host, l.line.host, l.pod, l.pod, kubectl, l.pod)
}

// holdStrategy: a rack's StatefulSet keeps the update strategy OnDelete
// while a pod it restarts for a replacement or a new join is not back on
// its template yet (rackWrite would put back RollingUpdate, and the
// controller would then bring the pod back on its old template).
func (v *view) holdStrategy(r *rack) bool {
	if r.live == nil || nested(r.live.obj.Object, "spec", "updateStrategy", "type") != "OnDelete" || !r.reachable {
		return false
	}
	for ord, l := range v.record(r.ctx).racks[r.name] {
		if (l.replace != "" || l.joinNew) && ord < r.live.replicas && !r.updated(ord) {
			return true
		}
	}
	return false
}
