package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/render"
)

// errCrash: the executor died half way through a step (fault).
var errCrash = errors.New("executor crashed")

// Execute runs a plan's steps as the kube edge would, checking the
// invariants before each; it stops at the first error, which it returns.
func (w *World) Execute(p plan.Plan) error {
	w.checkPlanShape(p)
	for _, s := range p.Steps {
		w.logf("step %s", s)
		err := w.exec(s)
		if rg := w.regions[s.Context]; rg != nil {
			w.checkService(rg) // #20
		}
		if err != nil {
			w.logf("  failed: %v", err)
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

func (w *World) checkPlanShape(p plan.Plan) {
	if w.desired != nil && w.desired.Invalid != nil && len(p.Steps) > 0 {
		w.violate("an invalid revision applies %d steps: %s", len(p.Steps), p)
	}
	disruptive := 0
	for _, s := range p.Steps {
		if s.Disruptive() {
			disruptive++
		}
	}
	if disruptive > 0 && len(p.Steps) > 1 {
		w.violate("a disruptive step comes with others: %s", p)
	}
}

func (w *World) crash() bool {
	if c := &w.crashAt; c.n > 0 && c.action == w.stepAction {
		if c.n--; c.n == 0 {
			w.logf("  crash (asked)")
			return true
		}
	}
	return w.crashProb > 0 && w.rng.Float64() < w.crashProb
}

// crashPoint: the step of action crashes at its n-th crash point.
type crashPoint struct {
	action plan.Action
	n      int
}

// CrashIn makes the next step of action a crash half way, at its n-th
// point where the executor may crash (1 for the first), whether or not
// faults are on.
func (w *World) CrashIn(a plan.Action, n int) { w.crashAt = crashPoint{action: a, n: n} }

func (w *World) exec(s plan.Step) error {
	rg := w.regions[s.Context]
	if rg == nil {
		rg = w.region(s.Context)
	}
	if rg.down > 0 {
		return fmt.Errorf("%s unreachable", s.Context)
	}
	w.stepAction = s.Action
	if s.Disruptive() {
		w.checkDisruptive(s)
	}
	switch s.Action {
	case plan.ApplyObjects:
		for _, u := range s.Objects {
			if err := w.applyObject(rg, u, s); err != nil {
				return err
			}
		}
	case plan.AdoptStatefulSet: // #20, casskop.go
		return w.execAdopt(rg, s)
	case plan.DeleteCassKopObject:
		return w.execDeleteCassKop(rg, s)
	case plan.CreateStatefulSet, plan.UpdateStatefulSet, plan.ScaleStatefulSet, plan.RestartPod, plan.Decommission, plan.ResumeBootstrap, plan.UpgradeSSTables,
		plan.Cleanup, plan.Rebuild:
		return w.execSTS(rg, s)
	case plan.AlterKeyspace: // #15
		return w.alter(rg, s)
	case plan.ReplaceNode: // replace (#16), replace.go
		return w.execReplace(rg, s)
	case plan.RemoveNode:
		return w.execRemove(rg, s)
	case plan.RecreateStatefulSet:
		return w.recreate(rg, s)
	case plan.DeleteStatefulSet:
		return w.deleteSTS(rg, s)
	case plan.DeletePVC:
		return w.deletePVC(rg, s)
	case plan.ExpandPVC:
		c := rg.pvcs[s.Target.Name]
		if c == nil || itoa(int(c.rv)) != s.Target.ResourceVersion {
			return errors.New("conflict")
		}
		rg.rv++
		c.size, c.rv = s.Size, rg.rv
	case plan.Prune:
		switch s.Target.Kind {
		case "StatefulSet", "Pod", "PersistentVolumeClaim":
			w.violate("prune of %s %s", s.Target.Kind, s.Target.Name)
		}
		for k, u := range rg.objects {
			if u.GetName() == s.Target.Name && u.GetKind() == s.Target.Kind {
				delete(rg.objects, k)
			}
		}
	}
	return nil
}

// applyObject is a server-side apply of an object other than a
// StatefulSet. One ringops did not make is taken over only with
// spec.adopt (#20): its labels and annotations merged, its owner
// references dropped, its UID kept.
func (w *World) applyObject(rg *kubeRegion, u *unstructured.Unstructured, s plan.Step) error {
	key := plan.ObjectKey(u)
	live := u.DeepCopy()
	uid := types.UID("uid-" + live.GetName())
	if old := rg.objects[key]; old != nil && !w.managed(old.GetLabels()) {
		if u.GetAnnotations()[contract.AnnotationAdopt] != "true" {
			return fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), errNotOwned)
		}
		if w.cassKops(old.GetLabels()) {
			w.checkOperator(rg, s, u.GetKind()+" "+u.GetName())
		}
		live, uid = takeOver(old, u), old.GetUID()
	}
	rg.rv++
	live.SetUID(uid)
	live.SetResourceVersion(itoa(int(rg.rv)))
	rg.objects[key] = live
	return nil
}

func (w *World) execSTS(rg *kubeRegion, s plan.Step) error {
	if s.MarkPVC != "" {
		if c := rg.pvcs[s.MarkPVC]; c != nil {
			c.annotations[contract.AnnotationDecommissioned] = w.now.Format("2006-01-02T15:04:05Z07:00")
			rg.rv++
			c.rv = rg.rv
		}
		if w.crash() {
			return errCrash
		}
	}
	if err := w.applySTS(rg, s.Objects[0], s); err != nil {
		return err
	}
	switch s.Action {
	case plan.RestartPod:
		if s.DeletePod != "" {
			return w.deletePod(rg, s)
		}
	case plan.Decommission:
		if w.crash() {
			return errCrash
		}
		w.startDecommission(rg, s.Pod, s.Force)
	case plan.ResumeBootstrap:
		if w.crash() {
			return errCrash
		}
		w.resumeBootstrap(rg, s.Pod)
	case plan.UpgradeSSTables:
		if w.crash() {
			return errCrash
		}
		w.upgradeSSTables(rg, s.Pod)
	case plan.Rebuild: // #15
		if w.crash() {
			return errCrash
		}
		return w.startOp(rg, s)
	case plan.Cleanup: // one action: of every keyspace (#16), or of some (#15)
		if w.crash() {
			return errCrash
		}
		return w.cleanup(rg, s)
	}
	return nil
}

// cleanup is the one Cleanup step (jolokia.Operations.Cleanup and
// Cassandra's forceKeyspaceCleanup), whichever work asks it: never twice
// at once (nor with a rebuild), never with jobs outside 1..the spec's
// bound. A cleanup of every keyspace (replace, #16: the growth of a
// datacenter) runs a few ticks, seen running (CleanupSeen); one of some
// keyspaces (#15: a lower factor) runs as startOp's operations do, and
// may answer within the call. Both show as a running cleanup
// (cassNode.cleaningUp: RingNode.CleanupRunning and Tasks).
func (w *World) cleanup(rg *kubeRegion, s plan.Step) error {
	p := rg.pods[s.Pod]
	if !w.reachable(p) || p.node.mode != "NORMAL" {
		w.logf("  cleanup of %s not sent", s.Pod)
		return nil
	}
	if p.node.cleaningUp() {
		w.violate("%s: a second cleanup sent while one runs", s.Pod)
	}
	if s.Jobs < 1 || (w.desired != nil && w.desired.Cluster != nil && s.Jobs > w.desired.Cluster.CleanupJobs()) {
		w.violate("%s: cleanup with %d jobs", s.Pod, s.Jobs)
	}
	if len(s.Keyspaces) > 0 {
		return w.startOp(rg, s)
	}
	p.node.cleaning = 1 + w.ops.Intn(3)
	if c := w.pvcOf(rg, p); c != nil {
		c.cleanupSeen = w.now
	}
	return nil
}

// cleaningUp: a cleanup runs on the node, whichever step asked it.
func (n *cassNode) cleaningUp() bool {
	return n.cleaning > 0 || (n.op != nil && n.op.kind == plan.TaskCleanup)
}

func (w *World) deletePod(rg *kubeRegion, s plan.Step) error {
	p := rg.pods[s.Pod]
	if p == nil || p.uid != s.DeletePod {
		return errors.New("pod precondition failed")
	}
	if p.ready() {
		w.violate("RestartPod deletes %s, which is Ready", p.name)
	}
	p.deleting = 1
	w.restarted(rg, p, "RestartPod") // #20
	return nil
}

// reachable: the node's agent answers the operation.
func (w *World) reachable(p *podState) bool {
	return p != nil && p.running() && p.node.mode != "CRASHED" && p.node.mode != "STARTING" && w.jolokiaDown == 0
}

// busyElsewhere: another node joins or leaves (its view shows it).
func (w *World) busyElsewhere(p *podState) bool {
	for _, r := range w.regions {
		for _, q := range r.pods {
			if q != p && q.running() {
				switch q.node.mode {
				case "JOINING", "LEAVING", "JOINING_FAILED", "DECOMMISSION_FAILED":
					return true
				}
			}
		}
	}
	return false
}

// startDecommission is jolokia.Operations.Decommission and Cassandra: a
// NORMAL node, or a failed decommission retried as the version allows
// (LEAVING on 3.11 and 4.1, DECOMMISSION_FAILED on 5.0), only when its
// view shows nobody else joining, leaving or down. Asked while its
// decommission runs, 4.1 refuses and 5.0 returns; 3.11 would start a
// second one: the planner must never ask then.
func (w *World) startDecommission(rg *kubeRegion, pod string, force bool) {
	p := rg.pods[pod]
	if !w.reachable(p) {
		w.logf("  decommission of %s not started", pod)
		return
	}
	n := p.node
	switch {
	case n.mode == "LEAVING" && !n.idle:
		if n.release == "3.11" {
			w.violate("%s: a second decommission sent while one runs (3.11 would run both)", pod)
		}
		return
	case n.mode == "NORMAL", n.mode == "LEAVING", n.mode == "DECOMMISSION_FAILED":
	default:
		w.logf("  decommission of %s refused: node %s", pod, n.mode)
		return
	}
	if w.busyElsewhere(p) {
		w.logf("  decommission of %s refused: ring busy", pod)
		return
	}
	if n.mode == "NORMAL" && w.decommissionRefused(p, force) { // #15: the replication check
		return
	}
	n.mode, n.ticks, n.fail, n.idle, n.stalled = "LEAVING", 2, w.failDecom, false, time.Time{}
	w.failDecom = false
}

// resumeBootstrap is jolokia.Operations.ResumeBootstrap and Cassandra's
// resumeBootstrap: it streams again (5.0 stays JOINING_FAILED meanwhile),
// whether or not a bootstrap streams already: the planner must never ask
// while one does (everything would stream twice).
func (w *World) resumeBootstrap(rg *kubeRegion, pod string) {
	p := rg.pods[pod]
	if !w.reachable(p) || w.busyElsewhere(p) {
		w.logf("  resume of %s not sent", pod)
		return
	}
	n := p.node
	if n.mode != "JOINING" && n.mode != "JOINING_FAILED" {
		w.logf("  resume of %s refused: node %s", pod, n.mode)
		return
	}
	if !n.idle {
		w.violate("%s: bootstrap resumed while it streams", pod)
	}
	n.ticks, n.fail, n.idle, n.stalled = 2, w.failBoot, false, time.Time{}
	w.failBoot = false
}

// upgradeSSTables is jolokia.Operations.UpgradeSSTables: a NORMAL node
// rewrites its old sstables.
func (w *World) upgradeSSTables(rg *kubeRegion, pod string) {
	p := rg.pods[pod]
	if !w.reachable(p) || p.node.mode != "NORMAL" {
		w.logf("  upgradesstables of %s not sent", pod)
		return
	}
	n := p.node
	if n.upgrading > 0 {
		w.violate("%s: a second upgradesstables sent while one runs", pod)
	}
	n.upgrading, n.fail, n.stalled = 2, w.failUp, time.Time{}
	w.failUp = false
}

// applySTS is a server-side apply of a whole StatefulSet, with the
// resourceVersion precondition the planner sets.
func (w *World) applySTS(rg *kubeRegion, u *unstructured.Unstructured, step plan.Step) error {
	name := u.GetName()
	cur := rg.sts[name]
	if rv := u.GetResourceVersion(); rv != "" && (cur == nil || itoa(int(cur.rv)) != rv) {
		return fmt.Errorf("statefulset %s: conflict", name)
	}
	obj := u.DeepCopy()
	obj.SetResourceVersion("")
	newReplicas, _ := nestedInt(obj.Object, "spec", "replicas")
	if cur != nil && !w.managed(cur.obj.GetLabels()) { // #20: only AdoptStatefulSet takes CassKop's over
		return fmt.Errorf("statefulset %s: %w", name, errNotOwned)
	}
	rg.rv++
	if cur == nil {
		w.checkCreate(rg, name, int32(newReplicas))
		if step.Action != plan.RecreateStatefulSet {
			w.checkSeedsWritten(rg, name, obj)
		}
		rg.sts[name] = &statefulSet{obj: obj, uid: w.nextUID(), rv: rg.rv, generation: 1, lag: w.lag(),
			revisions: map[string]any{}, allowRestart: -1}
		return nil
	}
	oldReplicas, _ := nestedInt(cur.obj.Object, "spec", "replicas")
	w.checkReplicas(rg, name, int32(oldReplicas), int32(newReplicas))
	w.checkSeedChange(rg, name, cur.obj, obj, step)
	w.checkPinnedTemplate(rg, name, cur.obj, obj, step) // #20
	if !sameJSON(cur.obj.Object["spec"], obj.Object["spec"]) {
		cur.generation++
		cur.lag = w.lag()
	}
	cur.obj, cur.rv = obj, rg.rv
	cur.allowRestart = -1
	if step.Action == plan.RestartPod {
		cur.allowRestart = step.To
	}
	return nil
}

func (w *World) lag() int {
	if !w.faults {
		return 0
	}
	return w.rng.Intn(3)
}

func (w *World) recreate(rg *kubeRegion, s plan.Step) error {
	cur := rg.sts[s.Target.Name]
	if cur == nil || cur.uid != s.Target.UID || itoa(int(cur.rv)) != s.Target.ResourceVersion {
		return errors.New("precondition failed")
	}
	w.checkSeedChange(rg, s.Target.Name, cur.obj, s.Objects[0], s)
	w.checkPinnedTemplate(rg, s.Target.Name, cur.obj, s.Objects[0], s) // #20
	delete(rg.sts, s.Target.Name)                                      // orphan: pods and PVCs stay
	if w.crash() {
		return errCrash
	}
	if err := w.applySTS(rg, s.Objects[0], s); err != nil {
		return err
	}
	// A restart a RestartPod step sanctioned and the controller has not
	// made yet is still sanctioned: the re-created StatefulSet keeps the
	// partition.
	rg.sts[s.Target.Name].allowRestart = cur.allowRestart
	return nil
}

func (w *World) deleteSTS(rg *kubeRegion, s plan.Step) error {
	cur := rg.sts[s.Target.Name]
	if cur == nil || cur.uid != s.Target.UID {
		return errors.New("precondition failed")
	}
	replicas, _ := nestedInt(cur.obj.Object, "spec", "replicas")
	if replicas != 0 || len(w.podsOf(rg, s.Target.Name)) > 0 {
		w.violate("delete of StatefulSet %s with %d replicas and %d pods", s.Target.Name, replicas, len(w.podsOf(rg, s.Target.Name)))
	}
	delete(rg.sts, s.Target.Name)
	return nil
}

func (w *World) deletePVC(rg *kubeRegion, s plan.Step) error {
	c := rg.pvcs[s.Target.Name]
	if c == nil || c.uid != s.Target.UID {
		return errors.New("precondition failed")
	}
	if inRing(c, rg.pods[strings.TrimPrefix(c.name, render.VolumeData+"-")]) {
		w.violate("delete of PVC %s whose node is in the ring", c.name)
	}
	if rg.pods[strings.TrimPrefix(c.name, render.VolumeData+"-")] != nil {
		w.violate("delete of PVC %s while its pod exists", c.name)
	}
	delete(rg.pvcs, s.Target.Name)
	return nil
}

// ---- invariants

// checkCreate: a StatefulSet created over orphaned pods must adopt them
// all (else the controller deletes the nodes above its replicas).
func (w *World) checkCreate(rg *kubeRegion, name string, replicas int32) {
	for ord, p := range w.podsOf(rg, name) {
		if ord >= replicas {
			if c := w.pvcOf(rg, p); c != nil && c.bootstrapped && !c.decommissioned {
				w.violate("StatefulSet %s created at %d replicas over its running pod %s", name, replicas, p.name)
			}
		}
	}
}

// checkReplicas: replicas move by one; down only once the highest pod is
// decommissioned or never joined.
func (w *World) checkReplicas(rg *kubeRegion, name string, from, to int32) {
	switch {
	case to == from:
	case to > from+1 || to < from-1:
		w.violate("StatefulSet %s: replicas %d -> %d", name, from, to)
	case to < from:
		pod := name + "-" + itoa(int(to))
		c := rg.pvcs[render.VolumeData+"-"+pod]
		if c != nil && c.bootstrapped && !c.decommissioned {
			w.violate("StatefulSet %s: replicas %d -> %d before %s was decommissioned", name, from, to, pod)
		}
		if c != nil && c.decommissioned && c.annotations[contract.AnnotationDecommissioned] == "" {
			w.violate("StatefulSet %s: replicas %d -> %d, and the claim %s of the decommissioned node is not marked: a node started on it later would crash", name, from, to, c.name)
		}
	}
}

// checkSeedStart: a node starts for the first time on new data while it
// is in its own seed list, so it joins without bootstrapping (design rule
// 10): only the first node of a ring that has no other node may.
func (w *World) checkSeedStart(rg *kubeRegion, p *podState) {
	if others := w.ringMembers(p.name); len(others) > 0 {
		seeds := podSeeds(p.tmpl)
		w.violate("%s: %s starts on an empty volume with itself in its seed list %s, so it skips its bootstrap and joins owning ranges without their data (the ring has %s)",
			rg.name, p.name, seedPods(seeds), strings.Join(others, ", "))
	}
}

// ringMembers lists the nodes in the ring (joined, not decommissioned),
// but pod.
func (w *World) ringMembers(but string) []string {
	var out []string
	for _, rn := range w.regionNames() {
		for _, name := range sortedKeys(w.regions[rn].pvcs) {
			c := w.regions[rn].pvcs[name]
			if pod := strings.TrimPrefix(c.name, render.VolumeData+"-"); c.bootstrapped && !c.decommissioned && pod != but {
				out = append(out, pod)
			}
		}
	}
	return out
}

// checkSeedsWritten: a seed list written into a StatefulSet is never
// empty (the image then makes each node its own seed) and names no pod of
// that StatefulSet whose node has not joined, unless the ring has no
// node yet (the first node is its own seed).
func (w *World) checkSeedsWritten(rg *kubeRegion, name string, obj *unstructured.Unstructured) {
	seeds, _ := plan.SeedsOf(nested(obj.Object, "spec", "template"))
	if seeds == "" {
		w.violate("StatefulSet %s written with an empty seed list", name)
		return
	}
	if len(w.ringMembers("")) == 0 {
		return
	}
	for _, s := range plan.SplitSeeds(seeds) {
		pod := render.SeedPod(s)
		if !strings.HasPrefix(pod, name+"-") {
			continue
		}
		if c := rg.pvcs[render.VolumeData+"-"+pod]; c == nil || !c.bootstrapped || c.decommissioned {
			w.violate("StatefulSet %s written with its own pod %s in its seed list, and %s has not joined the ring", name, pod, pod)
		}
	}
}

// checkSeedChange: a seed list costs no restart of its own. When it
// changes on an existing StatefulSet, the rest of the template changes
// too, or the old list named no healthy node, or it named the node the
// step makes join.
func (w *World) checkSeedChange(rg *kubeRegion, name string, old, new *unstructured.Unstructured, step plan.Step) {
	ot, nt := nested(old.Object, "spec", "template"), nested(new.Object, "spec", "template")
	was, _ := plan.SeedsOf(ot)
	is, _ := plan.SeedsOf(nt)
	if was == is {
		return
	}
	w.checkSeedsWritten(rg, name, new)
	if !sameJSON(plan.WithSeeds(ot, is), nt) {
		return // written for another change
	}
	if step.Action == plan.ReplaceNode && nested(new.Object, "spec", "updateStrategy", "type") == "OnDelete" {
		return // replace (#16): only the replaced pod, deleted, takes it now
	}
	joining := ""
	if step.Action == plan.ScaleStatefulSet && step.To > step.From {
		joining = step.Pod
	}
	if joining != "" && slices.ContainsFunc(plan.SplitSeeds(was), func(s string) bool { return render.SeedPod(s) == joining }) {
		return
	}
	for _, s := range plan.SplitSeeds(was) {
		pod := render.SeedPod(s)
		if p := w.podNamed(pod); p != nil && p.healthy() {
			if c := w.pvcOf(w.regionOf(pod), p); c != nil && c.bootstrapped {
				w.violate("StatefulSet %s: seed list %s -> %s alone, which costs its pods a restart, although %s is up",
					name, seedPods(was), seedPods(is), pod)
				return
			}
		}
	}
}

func (w *World) podNamed(name string) *podState {
	for _, rg := range w.regions {
		if p := rg.pods[name]; p != nil {
			return p
		}
	}
	return nil
}

func (w *World) regionOf(pod string) *kubeRegion {
	for _, rg := range w.regions {
		if rg.pods[pod] != nil {
			return rg
		}
	}
	return nil
}

// checkDisruptive checks, against the ground truth, that a disruptive
// step starts alone on a healthy ring (the step's own pod may be down when
// the step restarts it), in rollout order.
func (w *World) checkDisruptive(s plan.Step) {
	except := ""
	switch s.Action {
	case plan.RestartPod, plan.ResumeBootstrap, plan.Decommission:
		if p := w.regions[s.Context].pods[s.Pod]; p != nil && !p.healthy() {
			except = s.Pod // restarted, resumed or decommissioned again
		}
	case plan.ReplaceNode, plan.RemoveNode: // replace (#16): the lost pod and its dead node
		except = s.Pod
	}
	excepts := []string{except}
	switch {
	case s.Action == plan.RemoveNode || (s.Action == plan.ReplaceNode && strings.Contains(s.Reason, "replace_address_first_boot")):
		excepts = append(excepts, w.heldPods(true)...) // pods held on a lost volume move no range
	case s.Action == plan.ReplaceNode, s.Action == plan.ResumeBootstrap: // a bootstrap: only held pods with no node in the ring
		excepts = append(excepts, w.heldPods(false)...)
	}
	if busy := w.groundBusy(excepts...); len(busy) > 0 {
		w.violate("disruptive step %q while: %s", s.String(), strings.Join(busy, "; "))
	}
	if series := w.groundSeries(); len(series) > 1 && s.Action != plan.RestartPod {
		w.violate("disruptive step %q while the ring runs %s: only the roll may go on", s.String(), strings.Join(series, " and "))
	}
	switch s.Action {
	case plan.ScaleStatefulSet:
		w.checkGrowthOrder(s)
	case plan.RestartPod:
		w.checkRollOrder(s)
	}
	w.checkKeyspaceStep(s) // #15
}

// groundBusy lists what is in flight or unhealthy in the whole cluster.
func (w *World) groundBusy(excepts ...string) []string {
	except := ""
	if len(excepts) > 0 {
		except = excepts[0]
	}
	var out []string
	members := map[string]bool{}
	for _, rn := range w.regionNames() {
		rg := w.regions[rn]
		for _, name := range sortedKeys(rg.sts) {
			s := rg.sts[name]
			replicas, _ := nestedInt(s.obj.Object, "spec", "replicas")
			partition, _ := nestedInt(s.obj.Object, "spec", "updateStrategy", "rollingUpdate", "partition")
			if s.observedGen < s.generation {
				out = append(out, name+": controller behind")
			}
			for ord, p := range w.podsOf(rg, name) {
				switch {
				case slices.Contains(excepts, p.name):
				case int64(ord) >= replicas:
					out = append(out, p.name+" being removed")
				case !p.healthy():
					out = append(out, p.name+" not healthy")
				case p.node.op != nil: // #15: one operation at a time
					out = append(out, p.name+" "+p.node.op.kind+" running")
				case int64(ord) >= partition && p.rev != s.updateRev:
					out = append(out, p.name+" outdated above the partition")
				case p.node.cleaning > 0: // replace (#16): cleanup never overlaps a range movement
					out = append(out, p.name+" cleaning up")
				}
			}
			for ord := int32(0); int64(ord) < replicas; ord++ {
				pod := name + "-" + itoa(int(ord))
				members[pod] = true
				if rg.pods[pod] == nil && !slices.Contains(excepts, pod) {
					out = append(out, pod+" missing")
				}
			}
		}
	}
	for _, g := range w.groundGhosts(except) { // replace (#16)
		if !slices.ContainsFunc(excepts, func(e string) bool { return strings.Contains(g, " of "+e+" ") }) {
			out = append(out, g)
		}
	}
	for _, rn := range w.regionNames() {
		for _, c := range w.regions[rn].pvcs {
			pod := strings.TrimPrefix(c.name, render.VolumeData+"-")
			if inRing(c, w.regions[rn].pods[pod]) && !members[pod] {
				out = append(out, pod+" in the ring without a member pod")
			}
		}
	}
	return out
}

// groundSeries lists the release series the running nodes run.
func (w *World) groundSeries() []string {
	seen := map[string]bool{}
	for _, rn := range w.regionNames() {
		for _, p := range w.regions[rn].pods {
			if p.running() && p.node.mode != "CRASHED" && p.node.mode != "DECOMMISSIONED" {
				seen[p.node.release] = true
			}
		}
	}
	return sortedKeys(seen)
}

// checkGrowthOrder: a node joins a datacenter only once every earlier
// datacenter has all its nodes, and a rack grows to n+1 only once every
// rack of the datacenter that should have n nodes has them.
func (w *World) checkGrowthOrder(s plan.Step) {
	dcs := w.spec.Spec.Datacenters
	for i := range dcs {
		dc := &dcs[i]
		mine := false
		for _, r := range dc.Racks {
			mine = mine || w.spec.StatefulSetName(dc.Name, r.Name) == s.Target.Name
		}
		for _, r := range dc.Racks {
			name := w.spec.StatefulSetName(dc.Name, r.Name)
			have := w.liveReplicas(dc.Context, name)
			switch {
			case !mine && have < *r.Nodes:
				w.violate("%s grows while earlier datacenter %s is not complete (%s at %d of %d)", s.Target.Name, dc.Name, name, have, *r.Nodes)
			case mine && name != s.Target.Name && have < min(*r.Nodes, s.From):
				w.violate("%s grows to %d while %s has %d", s.Target.Name, s.To, name, have)
			}
		}
		if mine {
			return
		}
	}
}

func (w *World) liveReplicas(kc, name string) int32 {
	rg := w.regions[kc]
	if rg == nil || rg.sts[name] == nil {
		return 0
	}
	n, _ := nestedInt(rg.sts[name].obj.Object, "spec", "replicas")
	return int32(n)
}

// checkRollOrder: a rack restarts only once every rack before it (seed
// datacenter first) runs its staged template on every pod.
func (w *World) checkRollOrder(s plan.Step) {
	for _, dc := range w.spec.Spec.Datacenters {
		for _, r := range dc.Racks {
			name := w.spec.StatefulSetName(dc.Name, r.Name)
			if name == s.Target.Name {
				return
			}
			rg := w.regions[dc.Context]
			st := rg.sts[name]
			if st == nil {
				continue
			}
			for _, p := range w.podsOf(rg, name) {
				if p.rev != st.templateRevision(name) {
					w.violate("%s restarts while earlier rack %s still has %s on an old template", s.Target.Name, name, p.name)
				}
			}
		}
	}
}

// ---- convergence

// Converged checks the world against the revision: every rack at its
// node count on the rendered template, every node NORMAL, nothing else.
func (w *World) Converged() []string {
	var out []string
	want := map[string]bool{}
	for _, m := range w.desired.Manifests {
		rg := w.regions[m.Context]
		for _, u := range m.Objects {
			want[m.Context+"/"+plan.ObjectKey(u)] = true
			if u.GetKind() != "StatefulSet" {
				if live := rg.objects[plan.ObjectKey(u)]; live == nil || !plan.CoversObject(u, live) {
					out = append(out, m.Context+": "+u.GetName()+" not as rendered")
				}
				continue
			}
			out = append(out, w.rackConverged(rg, u)...)
		}
	}
	for _, rn := range w.regionNames() {
		rg := w.regions[rn]
		for k := range rg.objects {
			if !want[rn+"/"+k] && k != plan.RecordKey("cassandra", w.cluster) { // the record is kept (replace, #16)
				out = append(out, rn+": "+k+" left over")
			}
		}
		for name := range rg.sts {
			if !want[rn+"/apps/StatefulSet/cassandra/"+name] {
				out = append(out, rn+": StatefulSet "+name+" left over")
			}
		}
	}
	if busy := w.groundBusy(""); len(busy) > 0 {
		out = append(out, busy...)
	}
	out = append(out, w.keyspacesConverged()...) // #15
	out = append(out, w.cassKopConverged()...)   // #20
	for _, rn := range w.regionNames() {
		rg := w.regions[rn]
		for _, name := range sortedKeys(rg.pods) {
			p := rg.pods[name]
			if c := w.pvcOf(rg, p); c != nil && c.old > 0 && p.running() {
				out = append(out, fmt.Sprintf("%s holds %d old sstables", name, c.old))
			}
		}
	}
	return out
}

func (w *World) rackConverged(rg *kubeRegion, u *unstructured.Unstructured) []string {
	s := rg.sts[u.GetName()]
	if s == nil {
		return []string{u.GetName() + " missing"}
	}
	var out []string
	want, _ := nestedInt(u.Object, "spec", "replicas")
	if have, _ := nestedInt(s.obj.Object, "spec", "replicas"); have != want {
		out = append(out, fmt.Sprintf("%s at %d replicas, not %d", u.GetName(), have, want))
	}
	// The seed list is the planner's: compare the rest, then check that
	// the list names a node that is up.
	lt := nested(s.obj.Object, "spec", "template")
	seeds, _ := plan.SeedsOf(lt)
	if !plan.Covers(plan.WithSeeds(expectedTemplate(u, s.obj), seeds), lt) { // #20: or as adopted
		out = append(out, u.GetName()+": template not as rendered")
	}
	seeds = podSeeds(lt) // #20: CassKop's template has them elsewhere
	up := false
	for _, e := range plan.SplitSeeds(seeds) {
		if p := w.podNamed(render.SeedPod(e)); p != nil && p.healthy() {
			up = true
		}
	}
	if !up {
		out = append(out, fmt.Sprintf("%s: its seed list [%s] names no node that is up", u.GetName(), seedPods(seeds)))
	}
	size := plan.DataClaimSize(u)
	for _, p := range w.podsOf(rg, u.GetName()) {
		if p.rev != s.templateRevision(u.GetName()) {
			out = append(out, p.name+" on an old template")
		}
		if c := w.pvcOf(rg, p); c != nil && size != nil {
			if have := resource.MustParse(c.size); have.Cmp(*size) < 0 {
				out = append(out, fmt.Sprintf("%s: a volume of %s, not %s", c.name, c.size, size))
			}
		}
	}
	return out
}

// Dump is the world's state and its recent log, for a failure's message.
func (w *World) Dump() string {
	var b strings.Builder
	for _, rn := range w.regionNames() {
		rg := w.regions[rn]
		fmt.Fprintf(&b, "region %s down=%d\n", rn, rg.down)
		for _, name := range sortedKeys(rg.sts) {
			s := rg.sts[name]
			data, _ := json.Marshal(map[string]any{"replicas": nested(s.obj.Object, "spec", "replicas"),
				"partition": nested(s.obj.Object, "spec", "updateStrategy", "rollingUpdate", "partition"),
				"gen":       s.generation, "obs": s.observedGen, "cur": s.currentRev, "upd": s.updateRev,
				"ann":     s.obj.GetAnnotations()[contract.AnnotationDecommission],
				"adopted": s.obj.GetAnnotations()[contract.AnnotationAdopted], "pin": s.obj.GetAnnotations()[contract.AnnotationAdoptedTemplate],
				"casskop": w.cassKops(s.obj.GetLabels())})
			fmt.Fprintf(&b, "  sts %s %s\n", name, data)
		}
		for _, name := range sortedKeys(rg.pods) {
			p := rg.pods[name]
			mode := "-"
			if p.node != nil {
				mode = fmt.Sprintf("%s killed=%d", p.node.mode, p.node.killed)
			}
			if !w.ours(p.labels) {
				mode += " (CassKop's labels only)"
			}
			fmt.Fprintf(&b, "  pod %s rev=%s pending=%d stuck=%d deleting=%d %s\n", name, p.rev, p.pending, p.stuck, p.deleting, mode)
		}
		for _, name := range sortedKeys(rg.pvcs) {
			c := rg.pvcs[name]
			theirs := ""
			if c.labels != nil && !w.ours(c.labels) {
				theirs = " (CassKop's labels only)"
			}
			fmt.Fprintf(&b, "  pvc %s joined=%v bootstrapped=%v as=%s decom=%v %v%s\n", name, c.joined, c.bootstrapped, c.joinedAs, c.decommissioned, c.annotations, theirs)
		}
	}
	b.WriteString(strings.Join(w.log, "\n"))
	return b.String()
}
