package plan

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/internal/jsontree"
	"github.com/ringops/ringops/reconciler/ring"
)

// Datacenters added and removed with their data (#15): the work of each
// datacenter around its topology change (package documentation,
// "Keyspaces and datacenters"), the rebuilds and cleanups its nodes owe
// (contract.AnnotationRebuild, contract.AnnotationCleanup) and their following.

// The operations of contract.AnnotationAttempt for #15. A cleanup of the
// keyspaces whose replication shrank is the same Cleanup step as the
// cleanup after growth (opCleanup, cleanup.go), scoped to its keyspaces;
// its attempt is named apart, so that each is followed and recorded its
// own way (here: RingNode.Tasks, contract.AnnotationCleaned; there: the record of
// the nodes), and neither is taken for the other.
const (
	opRebuild          = "rebuild"
	opCleanupKeyspaces = "cleanup-keyspaces"
)

// OperationAttempts is how many times a rebuild or a cleanup of a node is
// sent before the planner asks a human. Their answer comes only when they
// end (minutes to hours), past the call's timeout: a try that ended
// unanswered is sent again to learn how it went (Cassandra then streams,
// or cleans, only what is left, and answers at once when nothing is), so
// these take a try more than the other operations.
const OperationAttempts = 5

// Stream and compaction names of RingNode.Tasks (StreamOperation.REBUILD's
// description, OperationType.CLEANUP's task type: the same in 3.11, 4.x
// and 5.0).
const (
	TaskRebuild = "Rebuild"
	TaskCleanup = "Cleanup"
)

// beforeShrink is the replication work of the datacenter at index i of
// the spec (or of every removed one, at len(datacenters)) once its nodes
// have joined and before any leaves: keyspaces gaining it or growing
// there, the rebuild of its nodes, keyspaces lowered or leaving before its
// decommissions; then what would stop those decommissions.
func (v *view) beforeShrink(i int) (*candidate, *Wait) {
	if v.o.Keyspaces == nil {
		return nil, nil
	}
	for _, name := range v.dcNames(i) {
		d := v.dc(name)
		if v.unjoinedNext(d) {
			continue // its removal needs no replication change, and may be what heals the ring
		}
		if w := v.keyspacesWait(v.dcContext(d), "the replication of "+name); w != nil {
			return nil, w
		}
		if c := v.raise(d); c != nil {
			return c, nil
		}
		if c := v.rebuild(d); c != nil {
			return c, nil
		}
		if c := v.lower(d); c != nil {
			return c, nil
		}
		if w := v.shrinkBlocked(d); w != nil {
			return nil, w
		}
	}
	return nil, nil
}

// afterShrink is the cleanup the datacenter's nodes owe once its
// topology is settled.
func (v *view) afterShrink(i int) *candidate {
	if v.o.Keyspaces == nil {
		return nil
	}
	for _, name := range v.dcNames(i) {
		if c := v.cleanup(v.dc(name)); c != nil {
			return c
		}
	}
	return nil
}

// lastReplication is the replication work left once every datacenter's
// topology is settled: datacenters gone from the spec and the ring, still
// in a managed keyspace's replication.
func (v *view) lastReplication() (*candidate, *Wait) {
	if v.o.Keyspaces == nil {
		return nil, nil
	}
	if w := v.keyspacesWait("", "the replication of the keyspaces"); w != nil {
		return nil, w
	}
	return v.strays(), nil
}

// dcNames are the datacenters at index i of the topology: the spec's
// i-th, or every removed one.
func (v *view) dcNames(i int) []string {
	if i < len(v.c.Spec.Datacenters) {
		return []string{v.c.Spec.Datacenters[i].Name}
	}
	return v.orphanDCs()
}

// shrinkBlocked: a decommission of datacenter d is due, and Cassandra
// would refuse it (a keyspace keeping as many replicas there as d has
// nodes), or it would take away replicas of keyspaces ringops does not
// manage.
func (v *view) shrinkBlocked(d *dcState) *Wait {
	if d.nodes <= d.target {
		return nil
	}
	if d.target == 0 {
		if w := v.unmanagedIn(d); w != nil {
			return w
		}
	}
	refused, _ := v.decommissionRefusal(d)
	if refused == "" {
		return nil
	}
	return &Wait{Reason: Blocked, Context: v.dcContext(d), Message: fmt.Sprintf(
		"%s should shrink from %d to %d nodes, but Cassandra refuses to decommission a node while a keyspace keeps as many replicas as there are nodes: %s; lower their replication (spec.keyspaces, or ALTER KEYSPACE for a keyspace ringops does not manage)",
		d.name, d.nodes, d.target, refused)}
}

// unjoinedNext: the next node shrink takes from datacenter d never
// joined the ring: it goes without decommission.
func (v *view) unjoinedNext(d *dcState) bool {
	r := shrinkPick(d.racks)
	if r == nil {
		return false
	}
	ord := r.live.replicas - 1
	return v.neverJoined(r.podName(ord), r.pods[ord], false)
}

// sourceOf is the datacenter the nodes of dc are rebuilt from: its
// rebuildFrom, else the seed datacenter.
func (v *view) sourceOf(dc string) string { return v.c.RebuildSource(dc) }

// rebuildMark reads a rack's contract.AnnotationRebuild: the source datacenter and
// the keyspaces, all of them when the rack's nodes joined without
// bootstrap.
func (r *rack) rebuildMark() (src string, keyspaces []string, all, ok bool) {
	if r.live == nil {
		return "", nil, false, false
	}
	f := strings.Fields(r.live.annotations[contract.AnnotationRebuild])
	if len(f) != 2 {
		return "", nil, false, false
	}
	if f[1] == "*" {
		return f[0], nil, true, true
	}
	return f[0], splitList(f[1]), false, true
}

// rebuildsAll: the rack joined a running ring with a new datacenter.
func (r *rack) rebuildsAll() bool {
	_, _, all, ok := r.rebuildMark()
	return ok && all
}

// ordinals reads a list of ordinals (contract.AnnotationRebuilt, contract.AnnotationCleaned).
func (r *rack) ordinals(key string) map[int32]bool {
	out := map[int32]bool{}
	if r.live == nil {
		return out
	}
	for _, s := range splitList(r.live.annotations[key]) {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			out[int32(n)] = true
		}
	}
	return out
}

// owed is the first node of the rack that owes the work of marker
// (contract.AnnotationRebuild or contract.AnnotationCleanup), done recording the ordinals
// done; -1 when none. A rack still growing towards its node count owes
// the work of its next nodes too.
func (r *rack) owed(marker, done string) int32 {
	if r.live == nil || r.live.annotations[marker] == "" {
		return -1
	}
	have := r.ordinals(done)
	for ord := int32(0); ord < r.live.replicas; ord++ {
		if !have[ord] {
			return ord
		}
	}
	return -1
}

// workDone: the rack has a marker whose work every node did, and it is
// at its node count: the marker can go.
func (r *rack) workDone(marker, done string) bool {
	return r.live != nil && r.live.annotations[marker] != "" && r.owed(marker, done) < 0 &&
		(r.orphan() || r.live.replicas >= r.target)
}

// joinsWithoutBootstrap: the nodes of rack r join without bootstrap
// (JoinWithoutBootstrap in its template). For a rack created now: its
// datacenter joins a running ring (another datacenter has nodes) and has
// no node yet, or its racks are joining that way already. For a live
// rack: it is marked so, and not every node is rebuilt yet.
func (v *view) joinsWithoutBootstrap(r *rack) bool {
	if v.o.Keyspaces == nil || r.orphan() {
		return false
	}
	if r.live != nil {
		return r.rebuildsAll() && !v.dcRebuilt(r.dc)
	}
	if r.dcIndex == 0 {
		return false
	}
	running := false
	for _, o := range v.racks {
		switch {
		case o.live == nil:
		case o.dc != r.dc:
			running = running || o.live.replicas > 0
		case len(o.pods) > 0 || o.live.replicas > 0:
			if !o.rebuildsAll() {
				return false
			}
		}
	}
	return running
}

// createMarks are the annotations of a rack's StatefulSet at its
// creation: contract.AnnotationRebuild "<source> *" when its nodes join without
// bootstrap.
func (v *view) createMarks(r *rack) map[string]string {
	if !v.joinsWithoutBootstrap(r) {
		return nil
	}
	return map[string]string{contract.AnnotationRebuild: v.sourceOf(r.dc) + " *"}
}

// withBootstrapOption is the template of rack r with JoinWithoutBootstrap
// in JVM_EXTRA_OPTS while its nodes join without bootstrap, and without
// it otherwise: once every node is rebuilt, the option leaves the
// template, and the rack rolls (no node joins with it later).
func (v *view) withBootstrapOption(r *rack, tmpl any) any {
	if r.desired == nil {
		return tmpl
	}
	want := v.joinsWithoutBootstrap(r)
	if HasBootstrapOption(tmpl) == want {
		return tmpl
	}
	c := jsontree.Copy(tmpl)
	setBootstrapOption(c, want)
	return c
}

const jvmEnv = "JVM_EXTRA_OPTS"

// HasBootstrapOption reports whether a pod template's JVM_EXTRA_OPTS
// makes its nodes join without bootstrap (JoinWithoutBootstrap).
func HasBootstrapOption(tmpl any) bool {
	for _, e := range envOf(tmpl) {
		if m, ok := e.(map[string]any); ok && m["name"] == jvmEnv {
			s, _ := m["value"].(string)
			return slices.Contains(strings.Fields(s), JoinWithoutBootstrap)
		}
	}
	return false
}

func envOf(tmpl any) []any {
	env, _ := cassandraContainer(tmpl)["env"].([]any)
	return env
}

// setBootstrapOption adds JoinWithoutBootstrap to JVM_EXTRA_OPTS (the
// variable created, in name order, when missing), or takes it out.
func setBootstrapOption(tmpl any, on bool) {
	ctr := cassandraContainer(tmpl)
	if ctr == nil {
		return
	}
	env := envOf(tmpl)
	for i, e := range env {
		m, ok := e.(map[string]any)
		if !ok || m["name"] != jvmEnv {
			continue
		}
		s, _ := m["value"].(string)
		opts := slices.DeleteFunc(strings.Fields(s), func(o string) bool { return o == JoinWithoutBootstrap })
		if on {
			opts = append(opts, JoinWithoutBootstrap)
		}
		if len(opts) == 0 {
			ctr["env"] = slices.Delete(slices.Clone(env), i, i+1)
			return
		}
		m["value"] = strings.Join(opts, " ")
		return
	}
	if !on {
		return
	}
	at := len(env)
	for i, e := range env {
		if m, ok := e.(map[string]any); ok {
			if name, _ := m["name"].(string); name > jvmEnv {
				at = i
				break
			}
		}
	}
	ctr["env"] = slices.Insert(slices.Clone(env), at, any(map[string]any{"name": jvmEnv, "value": JoinWithoutBootstrap}))
}

// rebuildMarks are the annotations of the racks of datacenter d whose
// nodes hold none of the keyspaces it gains: contract.AnnotationRebuild names them
// (the racks that rebuild everything already keep their mark).
func (v *view) rebuildMarks(d *dcState, gained []string) map[*rack]map[string]string {
	if len(gained) == 0 {
		return nil
	}
	out := map[*rack]map[string]string{}
	for _, r := range d.racks {
		if r.live.replicas == 0 {
			continue
		}
		if r.rebuildsAll() {
			if r.live.annotations[contract.AnnotationRebuilt] != "" {
				out[r] = map[string]string{contract.AnnotationRebuilt: ""} // its rebuilt nodes lack the new keyspaces: all again
			}
			continue
		}
		src, have, _, ok := r.rebuildMark()
		if !ok {
			src = v.sourceOf(d.name)
		}
		out[r] = map[string]string{contract.AnnotationRebuild: src + " " + joinList(append(have, gained...)), contract.AnnotationRebuilt: ""}
	}
	return out
}

// rebuild is the next node of datacenter d to rebuild, in rack order,
// once every managed keyspace replicates to d (raise is done).
func (v *view) rebuild(d *dcState) *candidate {
	if d.target == 0 || d.nodes < d.target || !v.replicatesAll(d) {
		return nil
	}
	for _, r := range d.racks {
		ord := r.owed(contract.AnnotationRebuild, contract.AnnotationRebuilt)
		if ord < 0 {
			continue
		}
		src, _, _, _ := r.rebuildMark()
		why := fmt.Sprintf("%s holds none of the data of its ranges: rebuild from %s (StorageService.rebuild), one node at a time", r.podName(ord), src)
		if r.rebuildsAll() {
			why = fmt.Sprintf("%s joined without bootstrap, as every node of the new datacenter %s, and every keyspace now replicates there: rebuild from %s (StorageService.rebuild), one node at a time",
				r.podName(ord), d.name, src)
		}
		return v.rebuildTry(r, ord, 1, why)
	}
	return nil
}

// replicatesAll: every managed keyspace that should replicate to d
// (and exists) does.
func (v *view) replicatesAll(d *dcState) bool {
	for name, k := range v.managed() {
		if obs, ok := v.observed(name); ok && k.Replication[d.name] > 0 && obs.factor(d.name) == 0 && obs.Strategy != Simple {
			return false
		}
	}
	return true
}

// rebuildTry is try n of the rebuild of the node at ord.
func (v *view) rebuildTry(r *rack, ord int32, n int, why string) *candidate {
	pod := r.podName(ord)
	src, keyspaces, _, _ := r.rebuildMark()
	set := v.tried(opRebuild, pod, n, "rebuild "+pod+" from "+src)
	c := v.operation(r, ord, Rebuild, set, why)
	c.step.Datacenter = src
	for _, k := range keyspaces {
		c.step.Keyspaces = append(c.step.Keyspaces, KeyspaceChange{Keyspace: k})
	}
	c.step.OnSuccess = objs(v.recordDone(r, set, contract.AnnotationRebuilt, ord))
	return c
}

// cleanup is the next node of datacenter d to clean up, in rack order.
func (v *view) cleanup(d *dcState) *candidate {
	for _, r := range d.racks {
		ord := r.owed(contract.AnnotationCleanup, contract.AnnotationCleaned)
		if ord < 0 {
			continue
		}
		why := fmt.Sprintf("the replication of %s shrank in %s: %s drops the data of the ranges it no longer replicates (StorageService.forceKeyspaceCleanup), one node at a time",
			strings.ReplaceAll(r.live.annotations[contract.AnnotationCleanup], ",", ", "), d.name, r.podName(ord))
		return v.cleanupTry(r, ord, 1, why)
	}
	return nil
}

// cleanupTry is try n of the cleanup of the node at ord.
func (v *view) cleanupTry(r *rack, ord int32, n int, why string) *candidate {
	pod := r.podName(ord)
	set := v.tried(opCleanupKeyspaces, pod, n, "cleanup "+pod)
	c := v.operation(r, ord, Cleanup, set, why)
	c.step.Jobs = v.c.CleanupJobs() // spec.rollout.cleanupJobs bounds every cleanup
	for _, k := range splitList(r.live.annotations[contract.AnnotationCleanup]) {
		c.step.Keyspaces = append(c.step.Keyspaces, KeyspaceChange{Keyspace: k})
	}
	c.step.OnSuccess = objs(v.recordDone(r, set, contract.AnnotationCleaned, ord))
	return c
}

// recordDone is the StatefulSet of a step on r (stamped with set) with
// ord added to the list under key, and the attempt over: the record
// applied once Cassandra answered the operation is done. It carries no
// resourceVersion: it is applied right after the step's own write.
func (v *view) recordDone(r *rack, set map[string]string, key string, ord int32) *unstructured.Unstructured {
	done := maps.Clone(set)
	have := splitList(r.live.annotations[key])
	done[key] = joinList(append(have, strconv.Itoa(int(ord))))
	done[contract.AnnotationAttempt] = ""
	u := v.write(r, r.live.replicas, r.live.partition, done)
	u.SetResourceVersion("")
	return u
}

// opInFlight follows a rebuild or a cleanup tried on a rack's node and
// not recorded as done: it runs (the node's streams or compactions show
// it), or stopped making progress, or ended without an answer; the last
// two are tried again, but a rebuild whose datacenter gained a keyspace
// since: that ALTER goes first, and the rebuild starts over (rebuild).
func (v *view) opInFlight() (*candidate, *Wait) {
	for _, r := range v.racks {
		a := r.attemptOf()
		marker, done, task := contract.AnnotationRebuild, contract.AnnotationRebuilt, TaskRebuild
		switch a.op {
		case opRebuild:
		case opCleanupKeyspaces:
			marker, done, task = contract.AnnotationCleanup, contract.AnnotationCleaned, TaskCleanup
		default:
			continue
		}
		ord, ok := ordinalOf(a.pod, r.name)
		if !ok || ord >= r.live.replicas || r.live.annotations[marker] == "" || r.ordinals(done)[ord] {
			continue
		}
		c, w := v.follow(r, ord, a, task)
		if c != nil && a.op == opRebuild && !v.replicatesAll(v.dc(r.dc)) {
			continue
		}
		return c, w
	}
	return nil, nil
}

// follow judges a rebuild or a cleanup in flight.
func (v *view) follow(r *rack, ord int32, a attempt, task string) (*candidate, *Wait) {
	n := v.o.Ring.Nodes[a.pod]
	what := opWords[a.op].what + " of " + a.pod
	wait := func(state string, timed bool) (*candidate, *Wait) {
		w := Wait{Reason: RolloutInProgress, Context: r.ctx, Since: a.at, Message: r.label() + ": " + what + " in flight (" + state + ")"}
		if timed {
			w = v.timed(w, a.at)
		}
		return nil, &w
	}
	running := slices.Contains(n.Tasks, task)
	switch {
	case running && v.stalled(n, a.at):
		return v.retry(r, ord, a, "it stopped ("+task+" running, no progress for "+stallWords+")")
	case running:
		return wait(strings.ToLower(task)+" running", false) // followed by its progress, not timed out
	case n.Mode != ring.ModeNormal:
		return wait("node "+orUnknown(n.Mode), true)
	case n.Tasks == nil && v.now.Sub(a.at) < StallTimeout:
		return wait("its progress cannot be read", true)
	case v.now.Sub(a.at) < StartGrace:
		return wait("sent at "+a.at.UTC().Format(time.RFC3339)+", nothing running yet", true)
	}
	return v.retry(r, ord, a, "it ended without an answer (nothing runs on the node): sent again, Cassandra only does what is left and answers at once when nothing is")
}

func orUnknown(mode ring.OperationMode) string {
	if mode == "" {
		return "mode unknown"
	}
	return string(mode)
}

// finishMarks removes the markers of work every node of the rack did
// (with the template then without JoinWithoutBootstrap: the rack rolls).
func (v *view) finishMarks(r *rack) (Step, bool) {
	set := map[string]string{}
	var what []string
	if v.dcRebuilt(r.dc) {
		set[contract.AnnotationRebuild], set[contract.AnnotationRebuilt] = "", ""
		what = append(what, "rebuild")
	}
	if r.workDone(contract.AnnotationCleanup, contract.AnnotationCleaned) {
		set[contract.AnnotationCleanup], set[contract.AnnotationCleaned] = "", ""
		what = append(what, "cleanup")
	}
	if len(what) == 0 {
		return Step{}, false
	}
	why := fmt.Sprintf("every node of %s is done with its %s: markers removed", r.label(), strings.Join(what, " and "))
	if !r.orphan() && HasBootstrapOption(nested(r.live.obj.Object, "spec", "template")) {
		set[contract.AnnotationChange] = strings.TrimPrefix(r.live.annotations[contract.AnnotationChange]+", auto_bootstrap=false dropped", ", ")
		why += "; " + JoinWithoutBootstrap + " leaves the template (staged: the rack rolls, so that no node joins without bootstrap later)"
	}
	u := v.write(r, r.live.replicas, r.live.partition, set)
	return Step{Action: UpdateStatefulSet, Context: r.ctx, Target: refOf(r.live.obj), Objects: objs(u),
		From: r.live.partition, To: partitionOf(u), Reason: why}, true
}

// dcRebuilt: every rack of datacenter dc marked for a rebuild is done
// with it, and one is. The markers go together: a node joining the
// datacenter later bootstraps from its nodes, which must hold their data.
func (v *view) dcRebuilt(dc string) bool {
	some := false
	for _, r := range v.racks {
		if r.dc != dc || r.live == nil || r.live.annotations[contract.AnnotationRebuild] == "" {
			continue
		}
		if !r.workDone(contract.AnnotationRebuild, contract.AnnotationRebuilt) {
			return false
		}
		some = true
	}
	return some
}

// owesWork: a rack whose nodes owe a rebuild or a cleanup is not at rest.
func (r *rack) owesWork() bool {
	return r.live != nil && (r.live.annotations[contract.AnnotationRebuild] != "" || r.live.annotations[contract.AnnotationCleanup] != "")
}
