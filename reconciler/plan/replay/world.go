package replay

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/render"
)

// Node modes of the world's Cassandra nodes (OperationMode).
const (
	modeNormal         = "NORMAL"
	modeDecommissioned = "DECOMMISSIONED"
)

// World is the simulated clusters of one Cassandra cluster: its regions'
// API servers, StatefulSet controllers, pods, PVCs and ring.
type World struct {
	// Now is the world's clock; Run moves it on.
	Now time.Time
	// ManageKeyspaces: Observe reads the keyspaces' replication (see
	// Options.ManageKeyspaces); false, the planner is given none.
	ManageKeyspaces bool

	cluster   string
	regions   map[string]*region
	keyspaces map[string]plan.Replication
	healthy   bool
	since     time.Time
	uid       int
}

type region struct {
	name    string
	rv      int64
	objects map[string]*unstructured.Unstructured // by kind/name, StatefulSets apart
	sts     map[string]*statefulSet
	pods    map[string]*pod
	pvcs    map[string]*pvc
}

type statefulSet struct {
	obj                   *unstructured.Unstructured
	uid                   string
	rv, generation        int64
	revisions             map[string]any
	currentRev, updateRev string
	revGen                int64 // the generation updateRev was computed for
}

type pod struct {
	name, sts, dc, rack string
	ord                 int32
	uid, rev, ip        string
	tmpl                any
	spec                corev1.PodSpec // of tmpl, converted once
	created             time.Time
	mode                string // "" until the node started
	deleted             bool
}

type pvc struct {
	name, dc, rack, uid, size string
	rv                        int64
	annotations               map[string]string
	joined, decommissioned    bool
	cleanupSeen               time.Time
}

// NewWorld is an empty world for the cluster named cluster: no object,
// and the keyspaces of a new ring.
func NewWorld(cluster string, now time.Time) *World {
	return &World{Now: now, cluster: cluster, regions: map[string]*region{}, keyspaces: map[string]plan.Replication{
		"system_auth":        {Strategy: plan.Simple, Factor: 1},
		"system_distributed": {Strategy: plan.Simple, Factor: 3},
		"system_traces":      {Strategy: plan.Simple, Factor: 2},
	}}
}

func (w *World) region(name string) *region {
	rg := w.regions[name]
	if rg == nil {
		rg = &region{name: name, objects: map[string]*unstructured.Unstructured{}, sts: map[string]*statefulSet{},
			pods: map[string]*pod{}, pvcs: map[string]*pvc{}}
		w.regions[name] = rg
	}
	return rg
}

func (w *World) nextUID() string {
	w.uid++
	return "uid-" + strconv.Itoa(w.uid)
}

// ---- the StatefulSet controller and the nodes

// settle runs the controllers and the nodes until nothing changes.
func (w *World) settle() {
	for range 10000 {
		changed := false
		for _, rn := range slices.Sorted(maps.Keys(w.regions)) {
			rg := w.regions[rn]
			for _, name := range slices.Sorted(maps.Keys(rg.pods)) {
				changed = w.advancePod(rg, rg.pods[name]) || changed
			}
			for _, name := range slices.Sorted(maps.Keys(rg.sts)) {
				changed = w.control(rg, name, rg.sts[name]) || changed
			}
		}
		if !changed {
			return
		}
	}
}

// advancePod: a deleted pod goes, a new pod's node starts and joins.
func (w *World) advancePod(rg *region, p *pod) bool {
	switch {
	case p.deleted:
		delete(rg.pods, p.name)
		return true
	case p.mode == "":
		c := rg.pvcs[render.VolumeData+"-"+p.name]
		if c.decommissioned {
			return false // "This node was decommissioned and will not rejoin the ring"
		}
		p.mode, c.joined = modeNormal, true
		return true
	}
	return false
}

func (p *pod) ready() bool { return !p.deleted && p.mode == modeNormal }

func (rg *region) podsOf(sts string) map[int32]*pod {
	out := map[int32]*pod{}
	for _, p := range rg.pods {
		if p.sts == sts {
			out[p.ord] = p
		}
	}
	return out
}

// control is one pass of the StatefulSet controller (OrderedReady,
// RollingUpdate with partition, or OnDelete).
func (w *World) control(rg *region, name string, s *statefulSet) bool {
	tmpl := nested(s.obj.Object, "spec", "template")
	if s.updateRev == "" || s.revGen != s.generation {
		s.updateRev, s.revGen = name+"-"+hashOf(tmpl)[:10], s.generation
	}
	if s.revisions[s.updateRev] == nil {
		s.revisions[s.updateRev] = runtime.DeepCopyJSONValue(tmpl)
	}
	if s.currentRev == "" {
		s.currentRev = s.updateRev
	}
	replicas := nestedInt(s.obj.Object, "spec", "replicas")
	partition := nestedInt(s.obj.Object, "spec", "updateStrategy", "rollingUpdate", "partition")
	pods := rg.podsOf(name)
	defer completeRollingUpdate(s, replicas, pods)
	for ord := int64(0); ord < replicas; ord++ {
		p := pods[int32(ord)]
		switch {
		case p == nil:
			rev := s.updateRev
			if ord < partition {
				rev = s.currentRev
			}
			w.createPod(rg, name, s, int32(ord), rev)
			return true
		case !p.ready():
			return false
		}
	}
	for _, ord := range slices.Backward(slices.Sorted(maps.Keys(pods))) {
		if int64(ord) < replicas {
			break
		}
		pods[ord].deleted = true // scale down, highest first
		return true
	}
	if nested(s.obj.Object, "spec", "updateStrategy", "type") == "OnDelete" {
		return false
	}
	for ord := replicas - 1; ord >= partition && ord >= 0; ord-- {
		if p := pods[int32(ord)]; p.rev != s.updateRev {
			p.deleted = true // restarted on the update revision
			return true
		}
	}
	return false
}

func completeRollingUpdate(s *statefulSet, replicas int64, pods map[int32]*pod) {
	if int64(len(pods)) != replicas {
		return
	}
	for _, p := range pods {
		if p.rev != s.updateRev || !p.ready() {
			return
		}
	}
	s.currentRev = s.updateRev
}

func (w *World) createPod(rg *region, sts string, s *statefulSet, ord int32, rev string) {
	labels := s.obj.GetLabels()
	p := &pod{name: sts + "-" + strconv.Itoa(int(ord)), sts: sts, ord: ord, uid: w.nextUID(), rev: rev, created: w.Now,
		tmpl: s.revisions[rev], dc: labels[contract.LabelDatacenter], rack: labels[contract.LabelRack]}
	p.ip = fmt.Sprintf("10.%d.%d.%d", len(rg.name)%200, w.uid/250%250, w.uid%250+1)
	if m, ok := nested(p.tmpl.(map[string]any), "spec").(map[string]any); ok {
		_ = runtime.DefaultUnstructuredConverter.FromUnstructured(m, &p.spec)
	}
	rg.pods[p.name] = p
	name := render.VolumeData + "-" + p.name
	if rg.pvcs[name] == nil {
		rg.rv++
		rg.pvcs[name] = &pvc{name: name, dc: p.dc, rack: p.rack, uid: w.nextUID(), rv: rg.rv, size: claimSize(s.obj),
			annotations: map[string]string{}}
	}
}

// claimSize is the storage request of the "data" claim template.
func claimSize(sts *unstructured.Unstructured) string {
	vcts, _ := nested(sts.Object, "spec", "volumeClaimTemplates").([]any)
	for _, v := range vcts {
		m, _ := v.(map[string]any)
		if nested(m, "metadata", "name") == render.VolumeData {
			if s, ok := nested(m, "spec", "resources", "requests", "storage").(string); ok {
				return s
			}
		}
	}
	return "1Gi"
}

// ---- observation, as the kube edge, the ring reader and the CQL edge make it

// Observe is the world as the planner is given it.
func (w *World) Observe(contexts []string) *plan.Observed {
	o := &plan.Observed{Now: w.Now, Contexts: map[string]*plan.Context{}}
	for _, kc := range contexts {
		o.Contexts[kc] = &plan.Context{}
	}
	for name, rg := range w.regions {
		o.Contexts[name] = w.observeRegion(rg)
	}
	o.Ring = w.observeRing(o)
	if w.ManageKeyspaces {
		o.Keyspaces = w.observeKeyspaces()
	}
	return o
}

func (w *World) observeRegion(rg *region) *plan.Context {
	oc := &plan.Context{}
	for _, k := range slices.Sorted(maps.Keys(rg.objects)) {
		oc.Objects = append(oc.Objects, rg.objects[k])
	}
	for _, name := range slices.Sorted(maps.Keys(rg.sts)) {
		oc.Objects = append(oc.Objects, stsObject(rg, rg.sts[name]))
	}
	for _, name := range slices.Sorted(maps.Keys(rg.pods)) {
		oc.Pods = append(oc.Pods, w.podObject(rg.pods[name]))
	}
	for _, name := range slices.Sorted(maps.Keys(rg.pvcs)) {
		c := rg.pvcs[name]
		oc.PVCs = append(oc.PVCs, corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: c.name, UID: types.UID(c.uid), ResourceVersion: strconv.FormatInt(c.rv, 10),
				Annotations: maps.Clone(c.annotations), Labels: map[string]string{contract.LabelCluster: w.cluster,
					contract.LabelDatacenter: c.dc, contract.LabelRack: c.rack}},
			Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(c.size)}}},
		})
	}
	return oc
}

func stsObject(rg *region, s *statefulSet) *unstructured.Unstructured {
	u := s.obj.DeepCopy()
	u.SetUID(types.UID(s.uid))
	u.SetResourceVersion(strconv.FormatInt(s.rv, 10))
	u.SetGeneration(s.generation)
	var ready, updated int64
	pods := rg.podsOf(u.GetName())
	for _, p := range pods {
		if p.ready() {
			ready++
		}
		if p.rev == s.updateRev {
			updated++
		}
	}
	u.Object["status"] = map[string]any{"observedGeneration": s.generation, "replicas": int64(len(pods)),
		"readyReplicas": ready, "updatedReplicas": updated, "currentRevision": s.currentRev, "updateRevision": s.updateRev}
	return u
}

func (w *World) podObject(p *pod) corev1.Pod {
	out := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.name, UID: types.UID(p.uid), CreationTimestamp: metav1.NewTime(p.created),
			Labels: map[string]string{contract.LabelCluster: w.cluster, contract.LabelManagedBy: contract.ManagedBy,
				contract.LabelDatacenter: p.dc, contract.LabelRack: p.rack, contract.LabelRevision: p.rev}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: p.ip,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}},
	}
	out.Spec = *p.spec.DeepCopy()
	if p.ready() {
		out.Status.Conditions[0].Status = corev1.ConditionTrue
	}
	return out
}

// observeRing: every member NORMAL is a healthy ring.
func (w *World) observeRing(o *plan.Observed) plan.Ring {
	r := plan.Ring{Assessed: true, Nodes: map[string]plan.RingNode{}}
	for _, m := range plan.Members(w.cluster, o) {
		if p := w.regions[m.Context].pods[m.Pod]; p == nil || !p.ready() {
			r.Problems = append(r.Problems, plan.RingProblem{Kind: "NotNormal", Nodes: []string{m.Pod}, Text: "NotNormal: " + m.Pod})
		}
	}
	for _, rg := range w.regions {
		for _, p := range rg.pods {
			c := rg.pvcs[render.VolumeData+"-"+p.name]
			n := plan.RingNode{Mode: ring.OperationMode(p.mode), State: ring.StateUnknown, CleanupSeen: c.cleanupSeen}
			if n.InRing = c.joined && !c.decommissioned; n.InRing {
				n.State, n.HostID, n.Address = ring.UN, "host-"+c.uid, p.ip
			}
			r.Nodes[p.name] = n
		}
	}
	r.Healthy = len(r.Problems) == 0
	if r.Healthy != w.healthy || w.since.IsZero() {
		w.healthy, w.since = r.Healthy, w.Now
	}
	r.Since = w.since
	if r.Healthy {
		r.Summary = "every node Up and Normal"
	} else {
		r.Summary = r.Problems[0].Text
	}
	return r
}

// observeKeyspaces is the schema, read from a NORMAL node.
func (w *World) observeKeyspaces() *plan.Keyspaces {
	for _, rn := range slices.Sorted(maps.Keys(w.regions)) {
		rg := w.regions[rn]
		for _, name := range slices.Sorted(maps.Keys(rg.pods)) {
			if p := rg.pods[name]; p.ready() {
				out := &plan.Keyspaces{From: p.dc, Replication: map[string]plan.Replication{}}
				for k, r := range w.keyspaces {
					out.Replication[k] = plan.Replication{Strategy: r.Strategy, Factor: r.Factor, Factors: maps.Clone(r.Factors)}
				}
				return out
			}
		}
	}
	return &plan.Keyspaces{Err: "cql: no node to contact"}
}

// ---- helpers

func nested(obj map[string]any, path ...string) any {
	var cur any = obj
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func nestedInt(obj map[string]any, path ...string) int64 {
	switch v := nested(obj, path...).(type) {
	case int64:
		return v
	case int32:
		return int64(v)
	case int:
		return int64(v)
	case float64:
		return int64(v)
	}
	return 0
}

func hashOf(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
