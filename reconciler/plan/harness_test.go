package plan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// The golden cases: testdata/plan/<case>/ holds
//
//	desired.yaml   the cluster spec of the revision (may be invalid)
//	previous.yaml  optional: the spec rolled out before (change validation,
//	               and what live objects with from: previous were rendered from)
//	observed.yaml  the world, in the compact form of obsFile
//	want.txt       describe(plan)

// obsFile is observed.yaml.
type obsFile struct {
	Now      string              `json:"now"`
	Ring     ringSpec            `json:"ring"`
	Contexts map[string]*ctxSpec `json:"contexts"`
	// Keyspaces is Observed.Keyspaces (keyspaces_harness_test.go);
	// omitted: the managed keyspaces of desired.yaml as it wants them.
	Keyspaces *ksSpec `json:"keyspaces"`
}

type ringSpec struct {
	Healthy  *bool                    `json:"healthy"`
	Assessed *bool                    `json:"assessed"`
	Since    string                   `json:"since"`
	Summary  string                   `json:"summary"`
	Problems []RingProblem            `json:"problems"`
	Nodes    map[string]*ringNodeSpec `json:"nodes"`
	// HostIDs gives every member the host ID host-<pod> and its pod IP.
	HostIDs bool `json:"hostIDs"`
	// UpgradeSkew is Ring.UpgradeSkew.
	UpgradeSkew string `json:"upgradeSkew"`
	// Others are Ring.Others (replace, #16).
	Others []ringEndpointSpec `json:"others"`
}

// ringEndpointSpec is a RingEndpoint; downSince is RFC 3339.
type ringEndpointSpec struct {
	Address   string `json:"address"`
	HostID    string `json:"hostID"`
	State     string `json:"state"`
	DownSince string `json:"downSince"`
}

type ringNodeSpec struct {
	Mode   *string `json:"mode"`
	State  string  `json:"state"`
	InRing *bool   `json:"inRing"`
	// NoProgressSince (RFC 3339) and OldSSTables are the node's progress.
	NoProgressSince string `json:"noProgressSince"`
	OldSSTables     *int64 `json:"oldSSTables"`
	// Tasks is RingNode.Tasks.
	Tasks []string `json:"tasks"`
	// replace (#16): the node's host ID and address (hostIDs: true in
	// the ring spec gives every member host-<pod> at its pod IP; none
	// clears them), since
	// when it is down, its cleanup (cleanupSeen RFC 3339).
	HostID         string `json:"hostID"`
	Address        string `json:"address"`
	DownSince      string `json:"downSince"`
	CleanupRunning bool   `json:"cleanupRunning"`
	CleanupSeen    string `json:"cleanupSeen"`
}

// ctxSpec is one context: unreachable, or its live objects. Objects other
// than StatefulSets default to the rendered ones of desired.yaml
// (objects: previous, none).
type ctxSpec struct {
	Unreachable  string                    `json:"unreachable"`
	Objects      string                    `json:"objects"`
	Missing      []string                  `json:"missing"`
	Drift        map[string]map[string]any `json:"drift"`
	Extra        []map[string]any          `json:"extra"`
	StatefulSets map[string]*stsSpec       `json:"statefulsets"`
	// Record is the data of the record <cluster>-nodes (replace, #16).
	Record map[string]string `json:"record"`
	// #20: CassKop's Service and PodDisruptionBudget <cluster> in
	// Context.Foreign (the rendered Service then missing from Objects),
	// and the CassKop operators running (Context.Operators).
	CassKopObjects bool     `json:"casskopObjects"`
	Operators      []string `json:"operators"`
}

// stsSpec is a live StatefulSet: rendered from desired.yaml or
// previous.yaml (from), with replicas (default: the rendered count),
// partition, the number of pods on the update revision (default all,
// highest ordinals first), a status behind its generation (stale), its
// pods (all Ready by default) and PVCs (one per pod by default).
type stsSpec struct {
	From        string              `json:"from"`
	Replicas    *int32              `json:"replicas"`
	Partition   *int32              `json:"partition"`
	Updated     *int32              `json:"updated"`
	Stale       bool                `json:"stale"`
	Annotations map[string]string   `json:"annotations"`
	Drift       map[string]any      `json:"drift"`
	Pods        map[string]*podSpec `json:"pods"`
	ExtraPods   []int32             `json:"extraPods"`
	OrphanPods  []int32             `json:"orphanPods"`
	PVCs        map[string]*pvcSpec `json:"pvcs"`
	NoPVCs      bool                `json:"noPVCs"`
	Absent      bool                `json:"absent"`
	// PodImage is the image of the pods not on the update revision
	// (those on it run the live template's).
	PodImage string `json:"podImage"`
	// Seeds replaces the live CASSANDRA_SEEDS: pod names, given the
	// domain of the rendered list's first seed.
	Seeds []string `json:"seeds"`
	// NoBootstrap puts JoinWithoutBootstrap into the live template (#15).
	NoBootstrap bool `json:"noBootstrap"`
	// CassKop (#20): "theirs", the StatefulSet as CassKop made it
	// (Context.Foreign; its pods ForeignPods, its claims unlabelled);
	// "pinned", as ringops adopted it, pinned to the template it is
	// rendered from (from).
	CassKop string `json:"casskop"`
}

type podSpec struct {
	Age      string `json:"age"` // default 240h
	Ready    *bool  `json:"ready"`
	Deleting bool   `json:"deleting"`
	Missing  bool   `json:"missing"`
	Revision string `json:"revision"` // "current" or "update"
}

func (ps *podSpec) age() time.Duration {
	if d, err := time.ParseDuration(ps.Age); err == nil {
		return d
	}
	return 240 * time.Hour
}

type pvcSpec struct {
	Decommissioned bool   `json:"decommissioned"`
	Size           string `json:"size"`
	Missing        bool   `json:"missing"`
	// UID replaces the default uid-pvc-<ordinal> (a new volume).
	UID string `json:"uid"`
}

var defaultNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// goldenInput reads a case directory into the planner's inputs.
func goldenInput(t testing.TB, dir string) (*Desired, *Observed) {
	t.Helper()
	d := &Desired{Name: "orders", Revision: "rev2"}
	c, err := schemas.Parse("desired.yaml", readFile(t, filepath.Join(dir, "desired.yaml")))
	if err != nil {
		d.Invalid = err
	}
	d.Cluster = c
	var prev *schemas.CassandraCluster
	if data, err := os.ReadFile(filepath.Join(dir, "previous.yaml")); err == nil {
		prev, err = schemas.Parse("previous.yaml", data)
		require.NoError(t, err)
	}
	if c != nil && prev != nil && d.Invalid == nil {
		d.Invalid = schemas.ValidateChange(prev, c).Err()
	}
	specs := map[string]*schemas.CassandraCluster{"desired": c, "previous": prev}
	rendered := map[string]map[string]*render.Manifests{}
	for from, spec := range specs {
		if spec != nil {
			rendered[from] = renderAll(t, spec)
		}
	}
	if c != nil && d.Invalid == nil {
		for _, kc := range c.Contexts() {
			d.Manifests = append(d.Manifests, rendered["desired"][kc])
		}
	}
	var of obsFile
	require.NoError(t, yaml.UnmarshalStrict(readFile(t, filepath.Join(dir, "observed.yaml")), &of))
	name := "orders"
	if c != nil {
		name = c.Metadata.Name
	}
	o := buildObserved(t, name, &of, rendered)
	o.Keyspaces = buildKeyspaces(t, c, of.Keyspaces) // #15
	return d, o
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

func renderAll(t testing.TB, c *schemas.CassandraCluster) map[string]*render.Manifests {
	t.Helper()
	all, err := render.New(render.DefaultOptions()).RenderAll(context.Background(), fstest.MapFS{}, ".", c)
	require.NoError(t, err)
	out := map[string]*render.Manifests{}
	for _, m := range all {
		out[m.Context] = m
	}
	return out
}

func buildObserved(t testing.TB, cluster string, of *obsFile, rendered map[string]map[string]*render.Manifests) *Observed {
	t.Helper()
	o := &Observed{Now: defaultNow, Contexts: map[string]*Context{}}
	if of.Now != "" {
		now, err := time.Parse(time.RFC3339, of.Now)
		require.NoError(t, err)
		o.Now = now
	}
	for kc, cs := range of.Contexts {
		o.Contexts[kc] = buildContext(t, cluster, kc, cs, rendered)
	}
	o.Ring = buildRing(t, cluster, o, &of.Ring)
	return o
}

func buildContext(t testing.TB, cluster, kc string, cs *ctxSpec, rendered map[string]map[string]*render.Manifests) *Context {
	if cs == nil {
		cs = &ctxSpec{}
	}
	if cs.Unreachable != "" {
		return &Context{Err: errors.New(cs.Unreachable)}
	}
	oc := &Context{}
	from := cs.Objects
	if from == "" {
		from = "desired"
	}
	if m := rendered[from][kc]; m != nil && from != "none" {
		for _, u := range m.Objects {
			if !isStatefulSet(u) && !contains(cs.Missing, u.GetKind()+"/"+u.GetName()) {
				live := serverCopy(u)
				for path, val := range cs.Drift[u.GetKind()+"/"+u.GetName()] {
					setPath(t, live.Object, path, val)
				}
				oc.Objects = append(oc.Objects, live)
			}
		}
	}
	for _, e := range cs.Extra {
		u := &unstructured.Unstructured{Object: map[string]any{}}
		for k, v := range e {
			u.Object[k] = v
		}
		u.SetNamespace("cassandra")
		u.SetLabels(map[string]string{contract.LabelCluster: cluster, contract.LabelManagedBy: contract.ManagedBy})
		oc.Objects = append(oc.Objects, serverCopy(u))
	}
	if cs.CassKopObjects {
		buildCassKopObjects(oc, cluster)
	}
	oc.Operators = cs.Operators
	for _, name := range sortedKeys(cs.StatefulSets) {
		buildSTS(t, oc, kc, name, cs.StatefulSets[name], rendered)
	}
	if cs.Record != nil {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "data": map[string]any{}}}
		for k, v := range cs.Record {
			u.Object["data"].(map[string]any)[k] = v
		}
		u.SetName(render.NodesConfigMap(cluster))
		u.SetNamespace("cassandra")
		u.SetLabels(map[string]string{contract.LabelCluster: cluster, contract.LabelManagedBy: contract.ManagedBy})
		oc.Objects = append(oc.Objects, serverCopy(u))
	}
	return oc
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// serverCopy is a rendered object as the API server returns it: with
// identity, a creation time and a few defaults.
func serverCopy(u *unstructured.Unstructured) *unstructured.Unstructured {
	live := u.DeepCopy()
	live.SetUID(types.UID("uid-" + u.GetName()))
	live.SetResourceVersion("1234")
	live.SetGeneration(5)
	live.SetCreationTimestamp(metav1.NewTime(defaultNow.Add(-240 * time.Hour)))
	live.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: "ringops", Operation: metav1.ManagedFieldsOperationApply}})
	switch u.GetKind() {
	case "Service":
		spec := live.Object["spec"].(map[string]any)
		spec["sessionAffinity"] = "None"
		spec["type"] = "ClusterIP"
		spec["clusterIPs"] = []any{"None"}
		spec["ipFamilies"] = []any{"IPv4"}
	case "PodDisruptionBudget":
		live.Object["status"] = map[string]any{"disruptionsAllowed": int64(1)}
	case "StatefulSet":
		spec := live.Object["spec"].(map[string]any)
		spec["revisionHistoryLimit"] = int64(10)
		spec["persistentVolumeClaimRetentionPolicy"] = map[string]any{"whenDeleted": "Retain", "whenScaled": "Retain"}
		podSpec := spec["template"].(map[string]any)["spec"].(map[string]any)
		podSpec["dnsPolicy"] = "ClusterFirst"
		podSpec["restartPolicy"] = "Always"
		podSpec["schedulerName"] = "default-scheduler"
		podSpec["securityContext"] = map[string]any{}
		for _, c := range podSpec["containers"].([]any) {
			c.(map[string]any)["terminationMessagePath"] = "/dev/termination-log"
		}
		for _, c := range spec["volumeClaimTemplates"].([]any) {
			claim := c.(map[string]any)
			claim["spec"].(map[string]any)["volumeMode"] = "Filesystem"
			claim["status"] = map[string]any{"phase": "Pending"}
		}
	}
	return live
}

// setPath sets a dotted path ("spec.template.spec.containers.0.image").
func setPath(t testing.TB, obj map[string]any, path string, val any) {
	t.Helper()
	parts := strings.Split(path, ".")
	var cur any = obj
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[p] = val
				return
			}
			if c[p] == nil {
				c[p] = map[string]any{}
			}
			cur = c[p]
		case []any:
			n, err := strconv.Atoi(p)
			require.NoError(t, err, path)
			if last {
				c[n] = val
				return
			}
			cur = c[n]
		default:
			t.Fatalf("path %s: %s is not a map or list", path, p)
		}
	}
}

func findObject(m *render.Manifests, kind, name string) *unstructured.Unstructured {
	if m == nil {
		return nil
	}
	for _, u := range m.Objects {
		if u.GetKind() == kind && u.GetName() == name {
			return u
		}
	}
	return nil
}

func buildSTS(t testing.TB, oc *Context, kc, name string, ss *stsSpec, rendered map[string]map[string]*render.Manifests) {
	t.Helper()
	if ss == nil {
		ss = &stsSpec{}
	}
	from := ss.From
	if from == "" {
		from = "desired"
	}
	src := findObject(rendered[from][kc], "StatefulSet", name)
	require.NotNil(t, src, "StatefulSet %s not rendered from %s in %s", name, from, kc)
	live := serverCopy(src)
	replicas, _ := nestedInt(live.Object, "spec", "replicas")
	if ss.Replicas != nil {
		replicas = int64(*ss.Replicas)
	}
	setPath(t, live.Object, "spec.replicas", replicas)
	if ss.Partition != nil {
		setPath(t, live.Object, "spec.updateStrategy.rollingUpdate", map[string]any{"partition": int64(*ss.Partition)})
	}
	ann := live.GetAnnotations()
	for k, v := range ss.Annotations {
		ann[k] = v
	}
	live.SetAnnotations(ann)
	for path, val := range ss.Drift {
		setPath(t, live.Object, path, val)
	}
	if ss.Seeds != nil {
		tmpl := nested(live.Object, "spec", "template")
		rendered, _ := SeedsOf(tmpl)
		_, domain, _ := strings.Cut(rendered, ".")
		domain, _, _ = strings.Cut(domain, ",")
		var list []string
		for _, pod := range ss.Seeds {
			list = append(list, pod+"."+domain)
		}
		setSeeds(tmpl, strings.Join(list, ","))
	}
	if ss.NoBootstrap {
		setBootstrapOption(nested(live.Object, "spec", "template"), true)
	}
	if ss.CassKop != "" {
		live = cassKopSTS(t, src, live, ss.CassKop)
	}
	n := int32(replicas)
	updated := n
	if ss.Updated != nil {
		updated = *ss.Updated
	}
	updateRev := name + "-" + hashOf(nested(live.Object, "spec", "template"))[:10]
	currentRev := updateRev
	if updated < n {
		currentRev = name + "-previous"
	}
	pods := buildPods(t, oc, live, n, updated, currentRev, updateRev, ss)
	buildPVCs(oc, live, n, ss)
	ready := int32(0)
	var upd int32
	for _, p := range pods {
		if podReady(p) {
			ready++
		}
		if p.Labels[contract.LabelRevision] == updateRev {
			upd++
		}
	}
	gen := live.GetGeneration()
	if ss.Stale {
		gen--
	}
	live.Object["status"] = map[string]any{
		"observedGeneration": gen, "replicas": int64(len(pods)), "readyReplicas": int64(ready),
		"updatedReplicas": int64(upd), "currentRevision": currentRev, "updateRevision": updateRev,
		"availableReplicas": int64(ready),
	}
	switch {
	case ss.CassKop == "theirs":
		oc.Foreign = append(oc.Foreign, live)
		foreignPods(oc, name)
	case !ss.Absent:
		oc.Objects = append(oc.Objects, live)
	}
}

// cassKopLabels are CassKop's labels of a rack's StatefulSet, selector
// and pods.
func cassKopLabels(cluster, dc, rack string) map[string]string {
	return map[string]string{contract.CassKopLabelApp: contract.CassKopApp, contract.CassKopLabelCluster: cluster,
		"dc-rack": dc + "-" + rack, "cassandraclusters.db.orange.com.dc": dc, "cassandraclusters.db.orange.com.rack": rack}
}

// cassKopSTS is a live StatefulSet (from rendered) made CassKop's (how is
// stsSpec.CassKop): CassKop's labels and selector, its seeds in the
// bootstrap init container, no ringops annotation; then, but for
// "theirs", as ringops adopts it.
func cassKopSTS(t testing.TB, rendered, live *unstructured.Unstructured, how string) *unstructured.Unstructured {
	t.Helper()
	l := live.GetLabels()
	theirs := live.DeepCopy()
	ck := cassKopLabels(l[contract.LabelCluster], l[contract.LabelDatacenter], l[contract.LabelRack])
	anyLabels := map[string]any{}
	for k, v := range ck {
		anyLabels[k] = v
	}
	theirs.SetLabels(ck)
	theirs.SetAnnotations(map[string]string{"banzaicloud.com/last-applied": "{}"})
	setPath(t, theirs.Object, "spec.selector", map[string]any{"matchLabels": anyLabels})
	tmpl := asMap(nested(theirs.Object, "spec", "template"))
	seeds, _ := SeedsOf(tmpl)
	setPath(t, tmpl, "metadata", map[string]any{"labels": anyLabels})
	ctr := cassandraContainer(tmpl)
	var env []any
	for _, e := range ctr["env"].([]any) {
		if e.(map[string]any)["name"] != seedsEnv {
			env = append(env, e)
		}
	}
	ctr["env"] = env
	setPath(t, tmpl, "spec.initContainers", []any{map[string]any{"name": "bootstrap", "image": "orangeopensource/cassandra-bootstrap:0.1.9",
		"env": []any{map[string]any{"name": seedsEnv, "value": seeds}}}})
	for _, c := range nested(theirs.Object, "spec", "volumeClaimTemplates").([]any) {
		setPath(t, c.(map[string]any), "metadata.labels", anyLabels)
	}
	if how == "theirs" {
		return theirs
	}
	adopted, pinned := AdoptedStatefulSet(rendered, theirs)
	require.True(t, pinned)
	out := serverCopy(adopted)
	out.Object["spec"].(map[string]any)["replicas"] = nested(live.Object, "spec", "replicas")
	if up := nested(live.Object, "spec", "updateStrategy"); up != nil {
		out.Object["spec"].(map[string]any)["updateStrategy"] = up
	}
	return out
}

// foreignPods moves the pods and claims of StatefulSet name to
// ForeignPods (with CassKop's labels only) and out of PVCs.
func foreignPods(oc *Context, name string) {
	var pods []corev1.Pod
	for _, p := range oc.Pods {
		if _, ok := ordinalOf(p.Name, name); !ok {
			pods = append(pods, p)
			continue
		}
		ck := cassKopLabels(p.Labels[contract.LabelCluster], p.Labels[contract.LabelDatacenter], p.Labels[contract.LabelRack])
		ck[contract.LabelRevision] = p.Labels[contract.LabelRevision]
		p.Labels = ck
		oc.ForeignPods = append(oc.ForeignPods, p)
	}
	oc.Pods = pods
	var pvcs []corev1.PersistentVolumeClaim
	for _, c := range oc.PVCs {
		if _, ok := ordinalOf(c.Name, render.VolumeData+"-"+name); !ok {
			pvcs = append(pvcs, c)
		}
	}
	oc.PVCs = pvcs
}

// buildCassKopObjects puts CassKop's Service and PodDisruptionBudget
// <cluster> into Foreign, and takes the rendered Service out of Objects.
func buildCassKopObjects(oc *Context, cluster string) {
	var objs []*unstructured.Unstructured
	for _, u := range oc.Objects {
		if u.GetKind() != "Service" || u.GetName() != cluster {
			objs = append(objs, u)
		}
	}
	oc.Objects = objs
	labels := map[string]any{contract.CassKopLabelApp: contract.CassKopApp, contract.CassKopLabelCluster: cluster}
	svc := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": cluster, "namespace": "cassandra", "labels": labels},
		"spec":     map[string]any{"clusterIP": "None", "selector": labels}}}
	pdb := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
		"metadata": map[string]any{"name": cluster, "namespace": "cassandra", "labels": labels},
		"spec":     map[string]any{"maxUnavailable": int64(1), "selector": map[string]any{"matchLabels": labels}}}}
	oc.Foreign = append(oc.Foreign, serverCopy(svc), serverCopy(pdb))
}

func hashOf(v any) string {
	data, _ := json.Marshal(v)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func buildPods(t testing.TB, oc *Context, sts *unstructured.Unstructured, n, updated int32, currentRev, updateRev string, ss *stsSpec) []*corev1.Pod {
	t.Helper()
	ords := append([]int32{}, ss.ExtraPods...)
	ords = append(ords, ss.OrphanPods...)
	for o := int32(0); o < n; o++ {
		ords = append(ords, o)
	}
	sort.Slice(ords, func(i, j int) bool { return ords[i] < ords[j] })
	labels := sts.GetLabels()
	seeds, _ := SeedsOf(nested(sts.Object, "spec", "template"))
	var out []*corev1.Pod
	for _, ord := range ords {
		ps := ss.Pods[itoa(int(ord))]
		if ps == nil {
			ps = &podSpec{}
		}
		if ps.Missing {
			continue
		}
		rev := currentRev
		if ord >= n-updated {
			rev = updateRev
		}
		switch ps.Revision {
		case "current":
			rev = currentRev
		case "update":
			rev = updateRev
		}
		ready := corev1.ConditionTrue
		if ps.Ready != nil && !*ps.Ready {
			ready = corev1.ConditionFalse
		}
		p := corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: sts.GetName() + "-" + itoa(int(ord)), Namespace: sts.GetNamespace(),
				CreationTimestamp: metav1.NewTime(defaultNow.Add(-ps.age())),
				UID:               types.UID("uid-pod-" + sts.GetName() + "-" + itoa(int(ord))),
				Labels: map[string]string{
					contract.LabelCluster: labels[contract.LabelCluster], contract.LabelManagedBy: contract.ManagedBy,
					contract.LabelDatacenter: labels[contract.LabelDatacenter], contract.LabelRack: labels[contract.LabelRack],
					contract.LabelRevision: rev,
				}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: render.ContainerCassandra, Image: podImageOf(sts, rev == updateRev, ss),
				Ports: []corev1.ContainerPort{{Name: render.PortJolokia, ContainerPort: 8778}},
				Env:   []corev1.EnvVar{{Name: seedsEnv, Value: seeds}}}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: fmt.Sprintf("10.0.%d.%d", len(oc.Pods)/200, len(oc.Pods)%200+1),
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: ready}}},
		}
		if ps.Deleting {
			now := metav1.NewTime(defaultNow)
			p.DeletionTimestamp = &now
		}
		oc.Pods = append(oc.Pods, p)
		out = append(out, &oc.Pods[len(oc.Pods)-1])
	}
	return out
}

// podImageOf is the image of a pod: the live template's on the update
// revision, stsSpec.PodImage otherwise.
func podImageOf(sts *unstructured.Unstructured, updated bool, ss *stsSpec) string {
	if updated {
		return ImageOf(nested(sts.Object, "spec", "template"))
	}
	return ss.PodImage
}

func buildPVCs(oc *Context, sts *unstructured.Unstructured, n int32, ss *stsSpec) {
	size := "1Gi"
	if q := DataClaimSize(sts); q != nil {
		size = q.String()
	}
	want := map[int32]*pvcSpec{}
	if !ss.NoPVCs {
		for o := int32(0); o < n; o++ {
			want[o] = &pvcSpec{}
		}
		for _, o := range append(append([]int32{}, ss.ExtraPods...), ss.OrphanPods...) {
			want[o] = &pvcSpec{}
		}
	}
	for k, v := range ss.PVCs {
		o, err := strconv.Atoi(k)
		if err == nil {
			want[int32(o)] = v
		}
	}
	labels := sts.GetLabels()
	for _, ord := range sortedOrdinals(want) {
		ps := want[ord]
		if ps.Missing {
			continue
		}
		s := size
		if ps.Size != "" {
			s = ps.Size
		}
		pvc := corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: render.VolumeData + "-" + sts.GetName() + "-" + itoa(int(ord)),
				Namespace: sts.GetNamespace(), UID: types.UID(pvcUID(sts.GetName(), ord, ps)), ResourceVersion: "99",
				Labels: map[string]string{contract.LabelCluster: labels[contract.LabelCluster],
					contract.LabelDatacenter: labels[contract.LabelDatacenter], contract.LabelRack: labels[contract.LabelRack]}},
			Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(s)}}},
		}
		if ps.Decommissioned {
			pvc.Annotations = map[string]string{contract.AnnotationDecommissioned: defaultNow.Add(-time.Hour).Format(time.RFC3339)}
		}
		oc.PVCs = append(oc.PVCs, pvc)
	}
}

// pvcUID is a PVC's UID: uid-pvc-<ordinal>, unless given.
func pvcUID(_ string, ord int32, ps *pvcSpec) string {
	if ps.UID != "" {
		return ps.UID
	}
	return "uid-pvc-" + itoa(int(ord))
}

// buildRing: healthy unless told otherwise (or given problems); every
// member NORMAL, UN and in the ring unless overridden.
func buildRing(t testing.TB, cluster string, o *Observed, rs *ringSpec) Ring {
	t.Helper()
	rg := Ring{Assessed: true, Healthy: len(rs.Problems) == 0, Summary: rs.Summary, Problems: rs.Problems,
		Since: o.Now.Add(-time.Hour), Nodes: map[string]RingNode{}, UpgradeSkew: rs.UpgradeSkew}
	if rs.Healthy != nil {
		rg.Healthy = *rs.Healthy
	}
	if rs.Assessed != nil {
		rg.Assessed = *rs.Assessed
	}
	if rs.Since != "" {
		since, err := time.Parse(time.RFC3339, rs.Since)
		require.NoError(t, err)
		rg.Since = since
	}
	for i, p := range rg.Problems {
		if p.Text == "" {
			rg.Problems[i].Text = p.Kind + ": " + strings.Join(p.Nodes, ", ")
		}
	}
	for _, m := range Members(cluster, o) {
		rg.Nodes[m.Pod] = RingNode{Mode: ring.ModeNormal, State: ring.UN, InRing: true}
		if rs.HostIDs {
			rg.Nodes[m.Pod] = RingNode{Mode: ring.ModeNormal, State: ring.UN, InRing: true, HostID: "host-" + m.Pod, Address: m.IP}
		}
	}
	for _, e := range rs.Others {
		rg.Others = append(rg.Others, RingEndpoint{Address: e.Address, HostID: e.HostID, State: nodeState(e.State), DownSince: parseTime(t, e.DownSince)})
	}
	for pod, ns := range rs.Nodes {
		n := rg.Nodes[pod]
		if ns.Mode != nil {
			n.Mode = ring.OperationMode(*ns.Mode)
		}
		if ns.State != "" {
			n.State = nodeState(ns.State)
		}
		if ns.InRing != nil {
			n.InRing = *ns.InRing
		}
		if ns.NoProgressSince != "" {
			since, err := time.Parse(time.RFC3339, ns.NoProgressSince)
			require.NoError(t, err)
			n.NoProgressSince = since
		}
		if ns.OldSSTables != nil {
			n.OldSSTables = *ns.OldSSTables
		}
		if ns.Tasks != nil {
			n.Tasks = ns.Tasks
		}
		switch ns.HostID {
		case "":
		case "none":
			n.HostID, n.Address = "", ""
		default:
			n.HostID = ns.HostID
		}
		if ns.Address != "" {
			n.Address = ns.Address
		}
		n.DownSince, n.CleanupRunning, n.CleanupSeen = parseTime(t, ns.DownSince), ns.CleanupRunning, parseTime(t, ns.CleanupSeen)
		rg.Nodes[pod] = n
	}
	return rg
}

func parseTime(t testing.TB, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	at, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return at
}

// describe renders a plan for want.txt: its String, then what each step
// applies (for a StatefulSet: replicas, partition, image, seed count and
// ringops annotations).
func describe(p Plan) string {
	var b strings.Builder
	b.WriteString(p.String())
	b.WriteString("\n")
	if len(p.Steps) == 0 {
		fmt.Fprintf(&b, "  failed: %v\n", p.Failed())
		if !p.Wait.Since.IsZero() {
			fmt.Fprintf(&b, "  since: %s\n", p.Wait.Since.UTC().Format(time.RFC3339))
		}
	}
	for i, s := range p.Steps {
		fmt.Fprintf(&b, "  step %d: disruptive=%v", i+1, s.Disruptive())
		if s.Target.UID != "" {
			fmt.Fprintf(&b, " precondition uid=%s rv=%s", s.Target.UID, s.Target.ResourceVersion)
		}
		if s.MarkPVC != "" {
			fmt.Fprintf(&b, " mark-pvc=%s", s.MarkPVC)
		}
		if s.DeletePod != "" {
			fmt.Fprintf(&b, " delete-pod-uid=%s", s.DeletePod)
		}
		if s.Jobs != 0 {
			fmt.Fprintf(&b, " jobs=%d", s.Jobs)
		}
		b.WriteString("\n")
		for _, u := range s.Objects {
			b.WriteString("    apply " + describeObject(u) + "\n")
		}
		for _, u := range s.OnSuccess {
			b.WriteString("    on success apply " + describeObject(u) + "\n")
		}
	}
	return b.String()
}

// seedPods is a seed list by pod names: "[orders-dc1-r1-0,orders-dc1-r2-0]".
func seedPods(list string) string {
	var pods []string
	for _, s := range SplitSeeds(list) {
		pods = append(pods, render.SeedPod(s))
	}
	return "[" + strings.Join(pods, ",") + "]"
}

func describeObject(u *unstructured.Unstructured) string {
	s := u.GetKind() + " " + u.GetName()
	if u.GetKind() == "ConfigMap" && u.GetName() == render.NodesConfigMap("orders") {
		data, _ := u.Object["data"].(map[string]any)
		for _, k := range sortedKeys(data) {
			for _, l := range strings.Split(strings.TrimSuffix(data[k].(string), "\n"), "\n") {
				s += "\n      " + k + ": " + l
			}
		}
		return s
	}
	if !isStatefulSet(u) {
		return s
	}
	replicas, _ := nestedInt(u.Object, "spec", "replicas")
	tmpl := nested(u.Object, "spec", "template")
	seeds, _ := SeedsOf(tmpl)
	s += fmt.Sprintf(": replicas=%d partition=%d image=%s seeds=%s", replicas, partitionOf(u), ImageOf(tmpl), seedPods(seeds))
	if HasBootstrapOption(tmpl) {
		s += " " + JoinWithoutBootstrap
	}
	if rv := u.GetResourceVersion(); rv != "" {
		s += " rv=" + rv
	}
	if t := nested(u.Object, "spec", "updateStrategy", "type"); t == "OnDelete" {
		s += " updateStrategy=OnDelete"
	}
	if q := DataClaimSize(u); q != nil {
		s += " storage=" + q.String()
	}
	ann := u.GetAnnotations()
	for _, k := range sortedKeys(ann) {
		if strings.HasPrefix(k, "ringops.dev/") && k != contract.AnnotationSpecHash {
			s += fmt.Sprintf("\n      %s: %s", k, ann[k])
		}
	}
	return s
}

// nodeState parses a state as nodetool prints it ("UN", "DL", "??"); ""
// is StateUnknown.
func nodeState(s string) ring.NodeState {
	var st ring.NodeState
	if s == "" {
		return st
	}
	if err := st.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return st
}
