package sim

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/internal/jsontree"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
)

// Tick is how far the world's clock moves in one tick.
const Tick = 10 * time.Second

// World is the simulated clusters of one Cassandra cluster. See the
// package documentation.
type World struct {
	rng     *rand.Rand
	ops     *rand.Rand // the draws of the long operations' scenarios (series, faults), apart from rng's
	now     time.Time
	began   time.Time // the clock at the start
	cluster string
	// contexts are the regions the planner is told of besides the spec's.
	contexts      []string
	hideKeyspaces bool
	planner       Planner

	regions map[string]*kubeRegion

	spec    *schemas.CassandraCluster // the revision rolled out (valid)
	desired *plan.Desired             // what the planner is given (the revision, or an invalid one)

	jolokiaDown int
	ringHealthy bool
	ringSince   time.Time

	faults     bool
	crashProb  float64
	crashAt    crashPoint  // CrashIn
	stepAction plan.Action // the step being executed
	stuckNext  int         // the next pod created stays Pending this many ticks
	failDecom  bool        // the next decommission fails
	failBoot   bool        // the next bootstrap fails
	failUp     bool        // the next upgradesstables stops half way
	skewed     bool        // the last observation showed an upgrade skew
	// replace (#16), replace.go: the dead nodes the ring keeps,
	// the host IDs removenode was sent for.
	ghosts     []*deadNode
	removed    map[string]bool
	hostIDs    map[string]string // by pod: SetHostID
	uid        int
	violations []string
	log        []string
	ks         *schemaState // #15: keyspaces.go
	// #20, casskop.go: the ring CassKop made; the restarts per pod
	cassKop  *cassKopState
	restarts map[string]int
}

type kubeRegion struct {
	name    string
	down    int // ticks the API server stays unreachable
	rv      int64
	objects map[string]*unstructured.Unstructured
	sts     map[string]*statefulSet
	pods    map[string]*podState
	pvcs    map[string]*claim
	// shownPods and shownPVCs are the last observation's (observePods,
	// observePVCs).
	shownPods shown[podShown, corev1.Pod]
	shownPVCs shown[pvcShown, corev1.PersistentVolumeClaim]
}

type statefulSet struct {
	obj                     *unstructured.Unstructured // metadata and spec as applied
	uid                     string
	rv                      int64
	generation, observedGen int64
	lag                     int
	revisions               map[string]any
	currentRev, updateRev   string
	allowRestart            int32  // the ordinal a plan.RestartPod sanctioned, -1 for none
	revGen                  int64  // the generation updateRev was computed for
	tmplRev                 string // templateRevision, for generation tmplRevGen
	tmplRevGen              int64
}

type podState struct {
	name, sts, dc, rack string
	ord                 int32
	created             time.Time
	uid                 string
	rev                 string
	tmpl                any
	spec                corev1.PodSpec // of tmpl, converted once
	pending             int            // ticks before the container starts
	stuck               int            // ticks the pod stays Pending (fault)
	deleting            int            // ticks left terminating; 0 when not terminating
	node                *cassNode
	ip                  string
	labels              map[string]string // as the API server holds them: the template's and the revision
	labelsV             int               // bumped when labels change in place (#20), for observePods
}

type cassNode struct {
	mode    string // STARTING, JOINING, NORMAL, LEAVING, DECOMMISSIONED, CRASHED, JOINING_FAILED, DECOMMISSION_FAILED
	release string // the Cassandra series its image runs: 3.11, 4.1, 5.0
	ticks   int
	killed  int  // ticks the process stays down (fault)
	fail    bool // the running decommission, bootstrap or upgradesstables fails
	// idle: the node's bootstrap or decommission failed and nothing runs
	// since stalled.
	idle    bool
	stalled time.Time
	// upgrading is the ticks left of an upgradesstables.
	upgrading int
	startedAt time.Time // when the process last started
	// probeLag is how many more ticks the pod stays Ready after a kill.
	probeLag int
	// partitioned is how many ticks the other nodes cannot reach this one
	// (fault); it stays Ready.
	partitioned int
	// op is the rebuild or the cleanup of keyspaces running (#15).
	op *longOp
	// cleaning is the ticks left of a cleanup (replace, #16); replacing
	// the address of the dead node it replaces (replace_address_first_boot).
	cleaning  int
	replacing string
}

// claim is a node's volume: the node's identity and data.
type claim struct {
	name, dc, rack string
	uid            string
	rv             int64
	size           string
	annotations    map[string]string
	joined         bool   // the node on it took part in the ring (from JOINING on)
	bootstrapped   bool   // it finished joining: it owns ranges and holds their data
	joinedAs       string // how it joined: "bootstrap", or "seed" (in its own seed list: nothing streamed)
	decommissioned bool
	format         string          // the sstable format the node writes: "me" (3.11), "nb" (4.x, and 5.0 by default)
	old            int             // sstables on an older format
	data           map[string]bool // #15: the keyspaces whose data of its ranges the node holds
	cleanedAt      int             // #15: the ALTER count at its last cleanup
	// cleanupSeen: the last time a cleanup of the node was seen running
	// (what the executor remembers, reconciler/progress.go).
	cleanupSeen time.Time
	// hostID is the node's host ID when SetHostID chose it.
	hostID string
	// labels are the claim's as the controller made them (its claim
	// template's and the selector's); nil: ringops' (#20: CassKop's claims
	// lack them, and ringops does not see them).
	labels map[string]string
	// shown is the claim as observed, made for shownSize (pvcObject).
	shown     *corev1.PersistentVolumeClaim
	shownSize string
}

// releaseOf is the Cassandra series of a pod template's image.
func releaseOf(tmpl any) string {
	img := plan.ImageOf(tmpl)
	i := strings.LastIndexByte(img, ':')
	if i < 0 {
		return "4.1"
	}
	parts := strings.SplitN(img[i+1:], ".", 3)
	if len(parts) < 2 {
		return "4.1"
	}
	return parts[0] + "." + parts[1]
}

// formatOf is the sstable format a series writes.
func formatOf(release string) string {
	if strings.HasPrefix(release, "3.") {
		return "me"
	}
	return "nb"
}

// Options are how a world starts.
type Options struct {
	// Cluster is the Cassandra cluster's name.
	Cluster string
	// Start is the world's clock at its start.
	Start time.Time
	// Seed seeds the world's draws: the faults InjectFault arms, how long
	// rebuilds and cleanups run. The same seed and the same calls give the
	// same world.
	Seed int64
	// Keyspaces is the ring's schema at the start (NewRingKeyspaces when
	// nil); a keyspace is created by the application, never by ringops.
	Keyspaces map[string]plan.Replication
	// HideKeyspaces: the planner is given no keyspaces, as ringops
	// without --manage-keyspaces.
	HideKeyspaces bool
	// Contexts are regions the planner is told of besides the revision's
	// (a region a change removes).
	Contexts []string
	// Planner plans each tick; nil: plan.Next.
	Planner Planner
}

// Planner is plan.Next's signature: what a world runs each tick.
type Planner func(d *plan.Desired, o *plan.Observed) plan.Plan

// NewRingKeyspaces is the schema of a new ring: its system keyspaces with
// SimpleStrategy 1, 3 and 2.
func NewRingKeyspaces() map[string]plan.Replication {
	return map[string]plan.Replication{
		"system_auth":        {Strategy: plan.Simple, Factor: 1},
		"system_distributed": {Strategy: plan.Simple, Factor: 3},
		"system_traces":      {Strategy: plan.Simple, Factor: 2},
	}
}

// New is an empty world: no object, no node, faults off.
func New(opts Options) *World {
	schema := opts.Keyspaces
	if schema == nil {
		schema = NewRingKeyspaces()
	}
	planner := opts.Planner
	if planner == nil {
		planner = plan.Next
	}
	return &World{planner: planner,
		rng: rand.New(rand.NewSource(opts.Seed)), ops: rand.New(rand.NewSource(opts.Seed + 1<<32)), now: opts.Start, began: opts.Start,
		cluster: opts.Cluster, contexts: opts.Contexts, hideKeyspaces: opts.HideKeyspaces, regions: map[string]*kubeRegion{},
		ks:      newSchemaState(opts.Seed, schema),
		removed: map[string]bool{}, hostIDs: map[string]string{},
	}
}

func (w *World) region(name string) *kubeRegion {
	rg := w.regions[name]
	if rg == nil {
		rg = &kubeRegion{name: name, objects: map[string]*unstructured.Unstructured{}, sts: map[string]*statefulSet{},
			pods: map[string]*podState{}, pvcs: map[string]*claim{}}
		w.regions[name] = rg
	}
	return rg
}

func (w *World) logf(format string, args ...any) {
	w.log = append(w.log, fmt.Sprintf("t%04d ", int(w.now.Sub(w.began)/Tick))+fmt.Sprintf(format, args...))
	if len(w.log) > 400 {
		w.log = w.log[len(w.log)-300:]
	}
}

func (w *World) violate(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	w.logf("VIOLATION %s", msg)
	w.violations = append(w.violations, msg)
}

func (w *World) nextUID() string {
	w.uid++
	return fmt.Sprintf("uid-%d", w.uid)
}

func (w *World) regionNames() []string { return sortedKeys(w.regions) }

// ---- the Cassandra side

// ready is the pod's Ready condition as the kubelet reports it: the
// readiness probe notices a killed node only after a few periods.
func (p *podState) ready() bool {
	if p.deleting > 0 || p.node == nil || p.node.mode != "NORMAL" {
		return false
	}
	return p.node.killed == 0 || p.node.probeLag > 0
}

// healthy is the truth: the node runs, NORMAL, and every other node sees
// it.
func (p *podState) healthy() bool {
	return p.deleting == 0 && p.node != nil && p.node.killed == 0 && p.node.mode == "NORMAL" && p.node.partitioned == 0
}

func (p *podState) running() bool { return p.deleting == 0 && p.node != nil && p.node.killed == 0 }

// inRing reports whether the ring has the node of a volume: it finished
// joining and did not leave, or it is joining and runs (a bootstrapping
// node that dies owns nothing and is forgotten, as a fat client).
func inRing(c *claim, p *podState) bool {
	return !c.decommissioned && (c.bootstrapped || (c.joined && p != nil && p.running()))
}

func (w *World) pvcOf(rg *kubeRegion, p *podState) *claim {
	return rg.pvcs[render.VolumeData+"-"+p.name]
}

// seedUp reports whether the pod is in its own seed list (the image's
// entrypoint makes an empty list the node's own address) and whether a
// seed of its template answers.
func (w *World) seedUp(p *podState) (self, up bool) {
	seeds := podSeeds(p.tmpl) // #20: CassKop's template has them in an init container
	if seeds == "" {
		return true, false
	}
	for _, s := range strings.Split(seeds, ",") {
		name := render.SeedPod(s)
		if name == p.name {
			self = true
		}
		for _, rg := range w.regions {
			if sp := rg.pods[name]; sp != nil && sp != p && sp.healthy() {
				up = true
			}
		}
	}
	return self, up
}

// advancePod moves a pod and its node one tick on.
func (w *World) advancePod(rg *kubeRegion, p *podState) {
	if p.deleting > 0 {
		p.deleting--
		if p.deleting == 0 {
			delete(rg.pods, p.name)
			w.logf("%s: pod %s gone", rg.name, p.name)
		}
		return
	}
	if p.node == nil {
		if p.stuck > 0 {
			p.stuck--
			return
		}
		if p.pending > 0 {
			p.pending--
			return
		}
		replace, hold := w.gate(rg, p) // replace (#16): the init container
		if hold {
			return
		}
		p.node = &cassNode{mode: "STARTING", ticks: 1, release: releaseOf(p.tmpl), replacing: replace}
		return
	}
	w.advanceNode(rg, p)
}

// start is a node's process start on its volume: a newer sstable format
// than the volume's leaves old sstables to upgrade.
func (w *World) start(n *cassNode, pvc *claim) {
	n.idle, n.stalled, n.upgrading, n.fail, n.startedAt = false, time.Time{}, 0, false, w.now
	f := formatOf(n.release)
	if pvc.format != "" && pvc.format < f {
		pvc.old += 6
	}
	pvc.format = f
}

// failOp ends the node's failed bootstrap or decommission: nothing runs;
// 5.0 says so in its mode.
func (w *World) failOp(rg *kubeRegion, p *podState, failedMode string) {
	n := p.node
	n.fail, n.idle, n.stalled = false, true, w.now
	if n.release == "5.0" {
		n.mode = failedMode
	}
	w.logf("%s: %s of %s failed (%s)", rg.name, map[string]string{"JOINING_FAILED": "bootstrap", "DECOMMISSION_FAILED": "decommission"}[failedMode], p.name, n.mode)
}

// advanceUpgrade moves an upgradesstables on.
func (w *World) advanceUpgrade(rg *kubeRegion, p *podState, pvc *claim) {
	n := p.node
	if n.upgrading == 0 || n.killed > 0 {
		return
	}
	if n.upgrading--; n.upgrading > 0 {
		return
	}
	if n.fail {
		n.fail, n.stalled = false, w.now
		w.logf("%s: upgradesstables of %s stopped", rg.name, p.name)
		return
	}
	pvc.old = 0
	w.logf("%s: %s sstables upgraded", rg.name, p.name)
}

func (w *World) advanceNode(rg *kubeRegion, p *podState) {
	n, pvc := p.node, w.pvcOf(rg, p)
	if n.partitioned > 0 {
		n.partitioned--
	}
	if n.probeLag > 0 {
		n.probeLag--
	}
	if n.killed > 0 {
		n.cleaning = 0 // a cleanup stops with its process
		n.killed--
		if n.killed == 0 {
			n.mode, n.ticks = "STARTING", 1
		}
		return
	}
	w.advanceUpgrade(rg, p, pvc)
	w.advanceOp(rg, p) // #15
	if n.cleaning > 0 {
		if n.cleaning--; n.cleaning == 0 {
			w.logf("%s: %s cleaned up", rg.name, p.name)
		}
	}
	if n.ticks > 0 {
		n.ticks--
		return
	}
	switch n.mode {
	case "STARTING":
		self, up := w.seedUp(p)
		switch {
		case pvc == nil:
			n.mode = "CRASHED"
		case pvc.decommissioned:
			n.mode = "CRASHED" // "This node was decommissioned and will not rejoin the ring"
		case pvc.bootstrapped:
			n.mode = "NORMAL"
			w.start(n, pvc)
		case n.replacing != "":
			w.startReplace(rg, p, pvc, self, up)
		case !self && up && plan.HasBootstrapOption(p.tmpl): // #15: auto_bootstrap=false
			w.joinWithoutBootstrap(rg, p, pvc)
		case self:
			w.checkSeedStart(rg, p)
			n.mode, pvc.joined, pvc.bootstrapped, pvc.joinedAs = "NORMAL", true, true, "seed"
			w.bootstrapped(pvc) // #15: the ring's first node: nothing was written before it
			w.logf("%s: %s joins as its own seed, without bootstrap", rg.name, p.name)
			w.start(n, pvc)
		case up:
			n.mode, n.ticks, pvc.joined, pvc.joinedAs = "JOINING", 2, true, "bootstrap"
			w.start(n, pvc)
			n.fail, w.failBoot = w.failBoot, false
		}
	case "JOINING", "JOINING_FAILED":
		switch {
		case n.idle:
		case n.fail:
			w.failOp(rg, p, "JOINING_FAILED")
		default:
			n.mode, pvc.bootstrapped = "NORMAL", true
			w.bootstrapped(pvc) // #15: its data
			if n.replacing != "" {
				w.replaced(p)
			}
		}
	case "LEAVING":
		switch {
		case n.idle:
		case n.fail:
			w.failOp(rg, p, "DECOMMISSION_FAILED")
		default:
			n.mode, pvc.decommissioned = "DECOMMISSIONED", true
			w.logf("%s: %s DECOMMISSIONED", rg.name, p.name)
		}
	}
}

// ---- the StatefulSet controller

func (w *World) podsOf(rg *kubeRegion, sts string) map[int32]*podState {
	out := map[int32]*podState{}
	for _, p := range rg.pods {
		if p.sts == sts {
			out[p.ord] = p
		}
	}
	return out
}

func revisionOf(name string, tmpl any) string { return name + "-" + hashOf(tmpl)[:10] }

// templateRevision is revisionOf the StatefulSet's template, as it is
// now: computed once a generation (its spec, template included, changes
// only with a new generation).
func (s *statefulSet) templateRevision(name string) string {
	if s.tmplRev == "" || s.tmplRevGen != s.generation {
		s.tmplRev, s.tmplRevGen = revisionOf(name, nested(s.obj.Object, "spec", "template")), s.generation
	}
	return s.tmplRev
}

// control is one pass of the StatefulSet controller (OrderedReady,
// RollingUpdate with partition), as kube-controller-manager runs it.
func (w *World) control(rg *kubeRegion, name string, s *statefulSet) {
	if s.lag > 0 {
		s.lag--
		return
	}
	tmpl := nested(s.obj.Object, "spec", "template")
	if s.revGen != s.generation || s.updateRev == "" {
		s.updateRev, s.revGen = revisionOf(name, tmpl), s.generation
	}
	if s.revisions[s.updateRev] == nil {
		s.revisions[s.updateRev] = jsontree.Copy(tmpl)
	}
	if s.currentRev == "" {
		s.currentRev = s.updateRev
	}
	s.observedGen = s.generation
	replicas, _ := nestedInt(s.obj.Object, "spec", "replicas")
	partition, _ := nestedInt(s.obj.Object, "spec", "updateStrategy", "rollingUpdate", "partition")
	pods := w.podsOf(rg, name)
	defer w.completeRollingUpdate(s, int32(replicas), pods)
	for ord := int32(0); ord < int32(replicas); ord++ {
		p := pods[ord]
		switch {
		case p == nil:
			rev := s.updateRev
			if int64(ord) < partition {
				rev = s.currentRev
			}
			w.createPod(rg, name, s, ord, rev)
			return
		case p.deleting > 0 || !p.ready():
			return
		}
	}
	for _, ord := range slices.Backward(sortedKeys(pods)) {
		if ord < int32(replicas) {
			break
		}
		p := pods[ord]
		if p.deleting == 0 {
			w.checkRemoval(rg, p)
			p.deleting = 1
			w.logf("%s: controller deletes %s (scale down)", rg.name, p.name)
		}
		return
	}
	if nested(s.obj.Object, "spec", "updateStrategy", "type") == "OnDelete" {
		return // replace (#16): only a deleted pod takes the new template
	}
	for ord := int32(replicas) - 1; int64(ord) >= partition; ord-- {
		p := pods[ord]
		if p.rev != s.updateRev {
			if s.allowRestart != ord {
				w.violate("%s: the controller restarts %s although no plan.RestartPod step sanctioned it (partition %d)", rg.name, p.name, partition)
			}
			s.allowRestart = -1
			p.deleting = 1
			w.restarted(rg, p, "the controller's rolling update") // #20
			w.logf("%s: controller restarts %s for the update", rg.name, p.name)
			return
		}
		if !p.ready() {
			return
		}
	}
}

func (w *World) completeRollingUpdate(s *statefulSet, replicas int32, pods map[int32]*podState) {
	if int32(len(pods)) != replicas {
		return
	}
	for _, p := range pods {
		if p.rev != s.updateRev || !p.ready() {
			return
		}
	}
	s.currentRev = s.updateRev
}

// checkRemoval: the controller only removes a node that left the ring or
// never joined it.
func (w *World) checkRemoval(rg *kubeRegion, p *podState) {
	if pvc := w.pvcOf(rg, p); pvc != nil && pvc.bootstrapped && !pvc.decommissioned {
		w.violate("%s: pod %s removed by a scale-down while its node holds data in the ring (not decommissioned)", rg.name, p.name)
	}
}

func (w *World) createPod(rg *kubeRegion, sts string, s *statefulSet, ord int32, rev string) {
	labels := podLabelsOf(s.revisions[rev], rev)
	dc, rack := labels[contract.LabelDatacenter], labels[contract.LabelRack]
	if dc == "" { // #20: a template CassKop made
		dc, rack = labels[cassKopLabelDC], labels[cassKopLabelRack]
	}
	p := &podState{name: sts + "-" + itoa(int(ord)), sts: sts, ord: ord, uid: w.nextUID(), rev: rev, created: w.now,
		tmpl: s.revisions[rev], pending: 1, dc: dc, rack: rack, labels: labels}
	p.ip = fmt.Sprintf("127.%d.%d.%d", len(rg.name)%200, w.uid/250%250, w.uid%250+1)
	if m, ok := nested(asMap(p.tmpl), "spec").(map[string]any); ok {
		_ = runtime.DefaultUnstructuredConverter.FromUnstructured(m, &p.spec)
	}
	if w.stuckNext > 0 {
		p.stuck, w.stuckNext = w.stuckNext, 0
		w.logf("%s: pod %s will stay Pending %d ticks", rg.name, p.name, p.stuck)
	}
	rg.pods[p.name] = p
	pvcName := render.VolumeData + "-" + p.name
	if rg.pvcs[pvcName] == nil {
		size := "1Gi"
		if q := plan.DataClaimSize(s.obj); q != nil {
			size = q.String()
		}
		rg.rv++
		rg.pvcs[pvcName] = &claim{name: pvcName, dc: p.dc, rack: p.rack, uid: w.nextUID(), rv: rg.rv, size: size,
			annotations: map[string]string{}, hostID: w.hostIDs[p.name], labels: claimLabelsOf(s.obj)}
		delete(w.hostIDs, p.name)
	}
	w.logf("%s: controller creates %s at %s", rg.name, p.name, rev)
}

// advance moves the world one tick on.
func (w *World) advance() {
	w.now = w.now.Add(Tick)
	w.tickKeyspaces() // #15
	w.advanceGhosts()
	if w.jolokiaDown > 0 {
		w.jolokiaDown--
	}
	for _, rn := range w.regionNames() {
		rg := w.regions[rn]
		if rg.down > 0 {
			rg.down--
		}
		for _, name := range sortedKeys(rg.pods) {
			w.advancePod(rg, rg.pods[name])
		}
		for _, name := range sortedKeys(rg.sts) {
			w.control(rg, name, rg.sts[name])
		}
		w.checkService(rg) // #20: the pods the controller made
	}
}

// ---- observation, as the kube edge and the ring reader would make it

// Observe is the world as the kube edge, the ring reader and the CQL
// edge show it to the planner.
func (w *World) Observe() *plan.Observed {
	o := &plan.Observed{Now: w.now, Contexts: map[string]*plan.Context{}}
	for _, rn := range w.regionNames() {
		rg := w.regions[rn]
		if rg.down > 0 {
			o.Contexts[rn] = &plan.Context{Err: fmt.Errorf("dial tcp %s: connection refused", rn)}
			continue
		}
		o.Contexts[rn] = w.observeRegion(rg)
	}
	for _, kc := range w.contexts {
		if o.Contexts[kc] == nil {
			o.Contexts[kc] = &plan.Context{}
		}
	}
	if w.spec != nil {
		for _, kc := range w.spec.Contexts() {
			if o.Contexts[kc] == nil {
				o.Contexts[kc] = &plan.Context{}
			}
		}
	}
	o.Ring = w.observeRing(o)
	if !w.hideKeyspaces {
		o.Keyspaces = w.observeKeyspaces() // #15
	}
	return o
}

// observeRegion is a region as kube.Observe reads it: the objects
// labelled for ringops and the cluster (kube.ObjectSelector), the pods and
// claims labelled for the cluster (kube.ClusterSelector), and with
// spec.adopt what CassKop made (observeCassKop).
func (w *World) observeRegion(rg *kubeRegion) *plan.Context {
	oc := &plan.Context{Objects: make([]*unstructured.Unstructured, 0, len(rg.objects)+len(rg.sts))}
	for _, k := range sortedKeys(rg.objects) {
		if u := rg.objects[k]; w.managed(u.GetLabels()) {
			oc.Objects = append(oc.Objects, u)
		}
	}
	for _, name := range sortedKeys(rg.sts) {
		if s := rg.sts[name]; w.managed(s.obj.GetLabels()) {
			oc.Objects = append(oc.Objects, w.stsObject(rg, name, s))
		}
	}
	oc.Pods, oc.PVCs = w.observePods(rg), w.observePVCs(rg)
	w.observeCassKop(rg, oc) // #20
	return oc
}

// shown is the last observation of a region's pods or claims (V), made
// of what each shows (K).
type shown[K comparable, V any] struct {
	key  []K
	vals []V
}

// observe is the observation of key: the last one again when key is the
// same and again allows it (the planner never modifies what it is given),
// else made with build and kept.
func (s *shown[K, V]) observe(key []K, again bool, build func(K) V) []V {
	if again && s.vals != nil && slices.Equal(key, s.key) {
		return s.vals
	}
	s.key, s.vals = key, make([]V, len(key))
	for i, k := range key {
		s.vals[i] = build(k)
	}
	return s.vals
}

// podShown is what a pod's observation is made of (podObject), but the
// clock: a pod being deleted shows it.
type podShown struct {
	pod                      *podState
	ready, running, deleting bool
	labelsV                  int
}

func (w *World) observePods(rg *kubeRegion) []corev1.Pod {
	key := make([]podShown, 0, len(rg.pods))
	deleting := false
	for _, name := range sortedKeys(rg.pods) {
		p := rg.pods[name]
		if !w.ours(p.labels) {
			continue // #20: CassKop's (observeCassKop)
		}
		key = append(key, podShown{pod: p, ready: p.ready(), running: p.node != nil, deleting: p.deleting > 0, labelsV: p.labelsV})
		deleting = deleting || p.deleting > 0
	}
	return rg.shownPods.observe(key, !deleting, func(k podShown) corev1.Pod { return w.podObject(rg, k.pod) })
}

// pvcShown is what a claim's observation is made of (pvcObject).
type pvcShown struct {
	claim *claim
	rv    int64
	size  string
}

func (w *World) observePVCs(rg *kubeRegion) []corev1.PersistentVolumeClaim {
	key := make([]pvcShown, 0, len(rg.pvcs))
	for _, name := range sortedKeys(rg.pvcs) {
		c := rg.pvcs[name]
		if c.labels != nil && !w.ours(c.labels) {
			continue // #20: CassKop's
		}
		key = append(key, pvcShown{claim: c, rv: c.rv, size: c.size})
	}
	return rg.shownPVCs.observe(key, true, func(k pvcShown) corev1.PersistentVolumeClaim { return w.pvcObject(k.claim) })
}

// pvcObject is a claim as the API server shows it. Its labels and size
// are made once (and again when the size changes): the planner never
// modifies what it is given.
func (w *World) pvcObject(c *claim) corev1.PersistentVolumeClaim {
	if c.shown == nil || c.shownSize != c.size {
		labels := c.labels
		if labels == nil {
			labels = map[string]string{contract.LabelCluster: w.cluster, contract.LabelDatacenter: c.dc, contract.LabelRack: c.rack}
		}
		c.shown = &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: c.name, Namespace: "cassandra", UID: types.UID(c.uid), Labels: labels},
			Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(c.size)}}},
		}
		c.shownSize = c.size
	}
	pvc := *c.shown
	pvc.ResourceVersion, pvc.Annotations = itoa(int(c.rv)), c.annotations
	return pvc
}

func (w *World) stsObject(rg *kubeRegion, name string, s *statefulSet) *unstructured.Unstructured {
	// A shallow copy: the planner never modifies what it is given.
	u := &unstructured.Unstructured{Object: map[string]any{}}
	for k, v := range s.obj.Object {
		u.Object[k] = v
	}
	meta := map[string]any{}
	for k, v := range s.obj.Object["metadata"].(map[string]any) {
		meta[k] = v
	}
	u.Object["metadata"] = meta
	u.SetUID(types.UID(s.uid))
	u.SetResourceVersion(itoa(int(s.rv)))
	u.SetGeneration(s.generation)
	var ready, updated int64
	pods := w.podsOf(rg, name)
	for _, p := range pods {
		if p.ready() {
			ready++
		}
		if p.rev == s.updateRev {
			updated++
		}
	}
	u.Object["status"] = map[string]any{"observedGeneration": s.observedGen, "replicas": int64(len(pods)),
		"readyReplicas": ready, "updatedReplicas": updated, "currentRevision": s.currentRev, "updateRevision": s.updateRev}
	return u
}

func (w *World) podObject(rg *kubeRegion, p *podState) corev1.Pod {
	ready := corev1.ConditionFalse
	if p.ready() {
		ready = corev1.ConditionTrue
	}
	pod := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.name, Namespace: "cassandra", UID: types.UID(p.uid), CreationTimestamp: metav1.NewTime(p.created),
			Labels: p.labels}, // shared: the planner never modifies what it is given
		Spec:   p.spec, // shared: the planner never modifies what it is given
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: ready}}},
	}
	if p.node != nil {
		pod.Status.Phase, pod.Status.PodIP = corev1.PodRunning, p.ip
	}
	if p.deleting > 0 {
		t := metav1.NewTime(w.now)
		pod.DeletionTimestamp = &t
	}
	return pod
}

// observeRing judges the ring as ring.Assess would over Members: every
// member Up and NORMAL, no other endpoint in the ring.
func (w *World) observeRing(o *plan.Observed) plan.Ring {
	if w.jolokiaDown > 0 {
		return plan.Ring{Summary: "every Jolokia agent timed out"}
	}
	rg := plan.Ring{Assessed: true, Nodes: map[string]plan.RingNode{}}
	down := map[string]bool{}
	members := map[string]bool{}
	for _, m := range plan.Members(w.cluster, o) {
		members[m.Pod] = true
		if prob := w.memberProblem(m); prob != nil {
			rg.Problems = append(rg.Problems, *prob)
			down[m.Pod] = prob.Kind == "NodeDown" || prob.Kind == "Unreachable"
		}
	}
	for _, rn := range w.regionNames() {
		r := w.regions[rn]
		for _, name := range sortedKeys(r.pvcs) {
			c := r.pvcs[name]
			pod := strings.TrimPrefix(c.name, render.VolumeData+"-")
			if !inRing(c, r.pods[pod]) || members[pod] {
				continue
			}
			who := pod
			switch p := r.pods[pod]; {
			case r.down > 0 || p == nil:
				who = "10.9.9." + itoa(len(pod)) // an endpoint no pod explains
			case !w.ours(p.labels):
				who = p.ip // #20: a pod ringops does not see
			}
			rg.Problems = append(rg.Problems, plan.RingProblem{Kind: "UnknownNode", Nodes: []string{who}, Text: "UnknownNode: " + who})
		}
		if r.down > 0 {
			continue
		}
		for _, name := range sortedKeys(r.pods) {
			p := r.pods[name]
			if !w.ours(p.labels) {
				continue // #20: the ring reader knows the pods ringops sees
			}
			n := plan.RingNode{State: ring.StateUnknown, OldSSTables: -1}
			c := w.pvcOf(r, p)
			if p.running() && p.node.mode != "CRASHED" {
				n.Mode = ring.OperationMode(p.node.mode)
				n.NoProgressSince = w.progressSince(p.node, c)
				w.opProgress(p, &n) // #15
				if c != nil && p.node.release != "3.11" {
					n.OldSSTables = int64(c.old) // OldVersionSSTableCount: 4.0 and later
				}
			}
			if c != nil {
				n.InRing = inRing(c, p)
				if n.InRing && p.node != nil { // replace (#16): the record needs them
					n.HostID, n.Address = w.hostID(c), p.ip
				}
				n.CleanupSeen = c.cleanupSeen
				if n.CleanupRunning = p.running() && p.node.cleaningUp(); n.CleanupRunning {
					n.CleanupSeen = w.now
				}
			}
			switch {
			case !n.InRing:
			case down[name] || !p.running():
				n.State = nodeState("D" + gossipState(p.node))
			case n.Mode == "NORMAL", n.Mode == "JOINING", n.Mode == "LEAVING", n.Mode == "JOINING_FAILED", n.Mode == "DECOMMISSION_FAILED":
				n.State = nodeState("U" + gossipState(p.node))
			}
			rg.Nodes[name] = n
		}
	}
	rg.Problems = append(rg.Problems, w.alterLag()...) // #15: an ALTER spreading
	w.ringGhosts(&rg)
	rg.Problems, rg.UpgradeSkew = w.schemaSkew(rg.Problems)
	rg.Healthy = len(rg.Problems) == 0
	if rg.Healthy != w.ringHealthy || w.ringSince.IsZero() {
		w.ringHealthy, w.ringSince = rg.Healthy, w.now
	}
	rg.Since = w.ringSince
	return rg
}

// gossipState is the letter nodetool prints for a node's state as the
// others see it: its gossip status, which a failed bootstrap or
// decommission leaves joining or leaving (5.0 as much as 3.11 and 4.1).
func gossipState(n *cassNode) string {
	if n != nil {
		switch n.mode {
		case "JOINING", "JOINING_FAILED":
			return "J"
		case "LEAVING", "DECOMMISSION_FAILED":
			return "L"
		}
	}
	return "N"
}

// progressSince is since when a node's long operation has not moved: the
// failure of a stalled one, now for one that runs (it moves every tick).
func (w *World) progressSince(n *cassNode, c *claim) time.Time {
	switch {
	case n.idle || !n.stalled.IsZero():
		return n.stalled
	case n.mode == "JOINING" || n.mode == "LEAVING" || n.upgrading > 0:
		return w.now
	case c != nil && c.old > 0:
		return n.startedAt // the count has not moved since the start
	}
	return time.Time{}
}

// schemaSkew adds the schema disagreement of a ring running two release
// series (the nodes on the newer one report another schema version until
// every node runs it), and says it is an upgrade skew when it is the only
// problem.
func (w *World) schemaSkew(problems []plan.RingProblem) ([]plan.RingProblem, string) {
	bySeries := map[string][]string{}
	for _, rn := range w.regionNames() {
		for _, p := range w.regions[rn].pods {
			if p.running() && p.node.mode != "STARTING" && p.node.mode != "CRASHED" && p.node.mode != "DECOMMISSIONED" {
				bySeries[p.node.release] = append(bySeries[p.node.release], p.name)
			}
		}
	}
	if len(bySeries) < 2 {
		return problems, ""
	}
	series := sortedKeys(bySeries)
	newest := bySeries[series[len(series)-1]]
	slices.Sort(newest)
	only := len(problems) == 0 && len(series) == 2
	problems = append(problems, plan.RingProblem{Kind: "SchemaDisagreement", Nodes: newest, Text: "SchemaDisagreement: " + strings.Join(series, ", ")})
	if !only {
		return problems, ""
	}
	return problems, strings.Join(series, " and ")
}

func (w *World) memberProblem(m plan.Member) *plan.RingProblem {
	r := w.regions[m.Context]
	p := r.pods[m.Pod]
	prob := func(kind string) *plan.RingProblem {
		return &plan.RingProblem{Kind: kind, Nodes: []string{m.Pod}, Text: kind + ": " + m.Pod}
	}
	switch {
	case p == nil || !p.running():
		if c := r.pvcs[render.VolumeData+"-"+m.Pod]; c != nil && c.joined && !c.decommissioned {
			return prob("NodeDown")
		}
		return prob("NotQueried")
	case p.node.partitioned > 0:
		return prob("Unreachable")
	case p.node.mode == "JOINING":
		return prob("NodeJoining")
	case p.node.mode == "LEAVING":
		return prob("NodeLeaving")
	case p.node.mode != "NORMAL":
		return prob("NotNormal")
	}
	return nil
}
