package plan

import (
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// view is Desired and Observed indexed for planning: the racks in rollout
// order, each with its desired and live StatefulSet, pods and PVCs.
type view struct {
	d    *Desired
	o    *Observed
	c    *schemas.CassandraCluster
	name string
	now  time.Time

	// contexts are the desired contexts in datacenter order, then the other
	// observed contexts, sorted.
	contexts []string
	desired  map[string]bool // context -> the revision has datacenters there
	seedCtx  string

	// objects are the desired objects other than StatefulSets, per context,
	// in render order.
	objects map[string][]*unstructured.Unstructured
	live    map[string]*liveContext // reachable contexts only

	// racks are the desired racks (datacenter order, rack order), then the
	// StatefulSets of removed datacenters (orphans), by context and name.
	racks []*rack

	healthTimeout, settle time.Duration

	seedCache *seedState    // computed once, by seeds
	tmplCache map[*rack]any // computed once per rack, by templateFor
	// tmplLive: templateFor found that its template covers the rack's
	// live one (Covers), which diffSTS needs to know again.
	tmplLive map[*rack]bool
	records  map[string]*record // replace (#16): parsed once per context, by record
}

// liveContext is one reachable context's live state, indexed.
type liveContext struct {
	objects []*unstructured.Unstructured // other than StatefulSets, sorted by key
	byKey   map[string]*unstructured.Unstructured
	sts     map[string]*unstructured.Unstructured
	pods    map[string]*corev1.Pod
	pvcs    map[string]*corev1.PersistentVolumeClaim
	// #20 (adopt.go): what CassKop made and ringops has not adopted yet
	foreign     map[string]*unstructured.Unstructured // by ObjectKey, StatefulSets aside
	foreignSTS  map[string]*unstructured.Unstructured // by name
	foreignPods []corev1.Pod
	operators   []string
}

// rack is one StatefulSet: a desired rack, or a live StatefulSet of a
// removed datacenter.
type rack struct {
	ctx       string
	reachable bool
	dcIndex   int // position of the datacenter in the spec; len(datacenters) for orphans
	dc, rack  string
	name      string // the StatefulSet
	target    int32  // nodes the revision asks for (0 for orphans)
	desired   *unstructured.Unstructured
	live      *liveSTS
	foreign   *unstructured.Unstructured // #20: CassKop's StatefulSet, while live is nil
	// unlabelled is a pod of an adopted live StatefulSet left to label
	// (#20, leftToLabel).
	unlabelled string
	// rendered is the desired StatefulSet as rendered, when desired is
	// the one that fits an adopted live one (#20, adoptDesired).
	rendered *unstructured.Unstructured
	pods     map[int32]*corev1.Pod
	pvcs     map[int32]*corev1.PersistentVolumeClaim
}

func (r *rack) orphan() bool { return r.desired == nil }

func (r *rack) label() string {
	if r.orphan() {
		return r.dc + "/" + r.rack + " (removed)"
	}
	return r.dc + "/" + r.rack
}

func (r *rack) podName(ordinal int32) string { return r.name + "-" + itoa(int(ordinal)) }

// liveSTS is what the planner reads of a live StatefulSet.
type liveSTS struct {
	obj                     *unstructured.Unstructured
	replicas, partition     int32
	generation, observedGen int64
	statusReplicas, ready   int32
	updated                 int32
	currentRev, updateRev   string
	annotations             map[string]string
}

func newView(d *Desired, o *Observed) *view {
	c := d.Cluster
	v := &view{
		d: d, o: o, c: c, name: c.Metadata.Name, now: o.Now,
		desired: map[string]bool{},
		objects: map[string][]*unstructured.Unstructured{},
		live:    map[string]*liveContext{},
	}
	if c.Spec.Rollout != nil {
		v.healthTimeout, v.settle = c.Spec.Rollout.Durations()
	}
	v.seedCtx = c.Spec.Datacenters[0].Context
	for _, kc := range c.Contexts() {
		v.contexts = append(v.contexts, kc)
		v.desired[kc] = true
	}
	var others []string
	for kc := range o.Contexts {
		if !v.desired[kc] {
			others = append(others, kc)
		}
	}
	slices.Sort(others)
	v.contexts = append(v.contexts, others...)
	for _, kc := range v.contexts {
		if oc := o.Contexts[kc]; oc != nil && oc.Err == nil {
			v.live[kc] = indexContext(oc, v.name)
		}
	}
	stsDesired := v.indexManifests()
	v.buildRacks(stsDesired)
	return v
}

// reachable reports whether a context's API server was read.
func (v *view) reachable(kc string) bool { return v.live[kc] != nil }

// unreachable lists the contexts that could not be read, in order.
func (v *view) unreachable() []string {
	var out []string
	for _, kc := range v.contexts {
		if !v.reachable(kc) {
			out = append(out, kc)
		}
	}
	return out
}

func (v *view) contextErr(kc string) string {
	if oc := v.o.Contexts[kc]; oc != nil && oc.Err != nil {
		return oc.Err.Error()
	}
	return "not observed"
}

// indexManifests splits the rendered objects: StatefulSets by context and
// name (returned), the others kept in order.
func (v *view) indexManifests() map[string]*unstructured.Unstructured {
	sts := map[string]*unstructured.Unstructured{}
	for _, m := range v.d.Manifests {
		if m == nil {
			continue
		}
		for _, u := range m.Objects {
			if isStatefulSet(u) {
				sts[m.Context+"/"+u.GetName()] = u
				continue
			}
			v.objects[m.Context] = append(v.objects[m.Context], u)
		}
	}
	return sts
}

func (v *view) buildRacks(stsDesired map[string]*unstructured.Unstructured) {
	seen := map[string]bool{}
	dcs := v.c.Spec.Datacenters
	for i := range dcs {
		dc := &dcs[i]
		for _, rk := range dc.Racks {
			name := v.c.StatefulSetName(dc.Name, rk.Name)
			r := &rack{ctx: dc.Context, dcIndex: i, dc: dc.Name, rack: rk.Name, name: name,
				desired: stsDesired[dc.Context+"/"+name]}
			if rk.Nodes != nil {
				r.target = *rk.Nodes
			}
			v.attach(r)
			if r.desired != nil {
				v.adoptDesired(r)
			}
			seen[dc.Context+"/"+name] = true
			v.racks = append(v.racks, r)
		}
	}
	for _, kc := range v.contexts {
		lc := v.live[kc]
		if lc == nil {
			continue
		}
		for _, name := range sortedKeys(lc.sts) {
			if seen[kc+"/"+name] {
				continue
			}
			u := lc.sts[name]
			labels := u.GetLabels()
			r := &rack{ctx: kc, dcIndex: len(dcs), dc: labels[contract.LabelDatacenter], rack: labels[contract.LabelRack], name: name}
			v.attach(r)
			v.racks = append(v.racks, r)
		}
	}
}

// attach fills a rack's live state from its context.
func (v *view) attach(r *rack) {
	lc := v.live[r.ctx]
	if lc == nil {
		return
	}
	r.reachable = true
	if u := lc.sts[r.name]; u != nil {
		r.live = readSTS(u)
	} else if !r.orphan() {
		r.foreign = lc.foreignSTS[r.name]
	}
	r.pods = map[int32]*corev1.Pod{}
	for name, p := range lc.pods {
		if ord, ok := ordinalOf(name, r.name); ok {
			r.pods[ord] = p
		}
	}
	r.pvcs = map[int32]*corev1.PersistentVolumeClaim{}
	for name, pvc := range lc.pvcs {
		if ord, ok := ordinalOf(name, render.VolumeData+"-"+r.name); ok {
			r.pvcs[ord] = pvc
		}
	}
	r.unlabelled = r.leftToLabel(lc) // #20
}

// ordinalOf parses "<prefix>-<ordinal>".
func ordinalOf(name, prefix string) (int32, bool) {
	rest, ok := strings.CutPrefix(name, prefix+"-")
	if !ok || rest == "" || len(rest) > 9 {
		return 0, false
	}
	for _, ch := range rest {
		if ch < '0' || ch > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(rest)
	if err != nil || (len(rest) > 1 && rest[0] == '0') {
		return 0, false
	}
	return int32(n), true
}

// indexContext keeps the objects of cluster name, by kind.
func indexContext(oc *Context, name string) *liveContext {
	lc := &liveContext{
		byKey: map[string]*unstructured.Unstructured{},
		sts:   map[string]*unstructured.Unstructured{},
		pods:  map[string]*corev1.Pod{},
		pvcs:  map[string]*corev1.PersistentVolumeClaim{},
	}
	for _, u := range oc.Objects {
		if u == nil || metaString(asMap(nested(u.Object, "metadata", "labels")), contract.LabelCluster) != name {
			continue
		}
		if isStatefulSet(u) {
			lc.sts[u.GetName()] = u
			continue
		}
		if protectedKind(u) {
			continue
		}
		lc.byKey[ObjectKey(u)] = u
	}
	for _, k := range sortedKeys(lc.byKey) {
		lc.objects = append(lc.objects, lc.byKey[k])
	}
	for i := range oc.Pods {
		p := &oc.Pods[i]
		if p.Labels[contract.LabelCluster] == name {
			lc.pods[p.Name] = p
		}
	}
	for i := range oc.PVCs {
		pvc := &oc.PVCs[i]
		if pvc.Labels[contract.LabelCluster] == name {
			lc.pvcs[pvc.Name] = pvc
		}
	}
	indexForeign(lc, oc)
	return lc
}

// protectedKind: objects that hold data or run nodes are never pruned;
// they leave through the decommission path only.
func protectedKind(u *unstructured.Unstructured) bool {
	switch u.GetKind() {
	case "Pod", "PersistentVolumeClaim", "PersistentVolume", "StatefulSet":
		return true
	}
	return false
}

func isStatefulSet(u *unstructured.Unstructured) bool {
	return u.GetKind() == "StatefulSet" && strings.HasPrefix(u.GetAPIVersion(), "apps/")
}

// ObjectKey identifies an object in a context: group, kind, namespace, name.
func ObjectKey(u *unstructured.Unstructured) string {
	group, _, _ := strings.Cut(u.GetAPIVersion(), "/")
	if !strings.Contains(u.GetAPIVersion(), "/") {
		group = ""
	}
	return group + "/" + u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
}

func readSTS(u *unstructured.Unstructured) *liveSTS {
	s := &liveSTS{obj: u, replicas: 1, annotations: u.GetAnnotations()}
	if n, ok := nestedInt(u.Object, "spec", "replicas"); ok {
		s.replicas = int32(n)
	}
	if n, ok := nestedInt(u.Object, "spec", "updateStrategy", "rollingUpdate", "partition"); ok {
		s.partition = int32(n)
	}
	if nested(u.Object, "spec", "updateStrategy", "type") == "OnDelete" {
		s.partition = s.replicas // replace (#16): the controller restarts nothing, as behind a partition at the replicas
	}
	s.generation = u.GetGeneration()
	if n, ok := nestedInt(u.Object, "status", "observedGeneration"); ok {
		s.observedGen = n
	}
	if n, ok := nestedInt(u.Object, "status", "replicas"); ok {
		s.statusReplicas = int32(n)
	}
	if n, ok := nestedInt(u.Object, "status", "readyReplicas"); ok {
		s.ready = int32(n)
	}
	if n, ok := nestedInt(u.Object, "status", "updatedReplicas"); ok {
		s.updated = int32(n)
	}
	s.currentRev, _ = nested(u.Object, "status", "currentRevision").(string)
	s.updateRev, _ = nested(u.Object, "status", "updateRevision").(string)
	return s
}

// nested returns the value at a path of maps, nil if absent.
func nested(obj map[string]any, path ...string) any {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func nestedInt(obj map[string]any, path ...string) (int64, bool) {
	n, ok := number(nested(obj, path...))
	return int64(n), ok
}

func podReady(p *corev1.Pod) bool {
	if p == nil || p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func itoa(i int) string { return strconv.Itoa(i) }
