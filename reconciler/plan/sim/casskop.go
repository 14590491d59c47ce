package sim

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/internal/jsontree"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// A ring CassKop made (#20, plan/adopt.go). SeedCassKop starts a world
// with one: in the regions of some datacenters of a spec, CassKop's
// StatefulSets <cluster>-<dc>-<rack> (its labels, selector and claim
// templates; a pod template of its own: CASSANDRA_SEEDS in the env of its
// bootstrap init container, none in the cassandra container), their pods
// running NORMAL nodes and their claims data-<pod>, all labelled only
// with CassKop's labels, CassKop's headless Service <cluster> and its
// PodDisruptionBudget <cluster>, and, optionally, CassKop's operator
// running until StopCassKop. The planner sees them as kube.Observe shows
// them with Query.Adopt (spec.adopt): what lacks ringops' managed-by label
// in Context.Foreign and ForeignPods, the operators in Context.Operators;
// ringops' observation proper (pods and claims selected by
// ringops.dev/cluster) does not see them. AdoptStatefulSet does what
// kube.AdoptStatefulSet does, DeleteCassKopObject what
// kube.DeleteCassKopObject does, and an apply over CassKop's Service takes
// it over (its labels merged, as server-side apply leaves another
// manager's; its selector, atomic, replaced).
//
// The invariants of an adoption, checked as the steps run:
//
//   - no pod CassKop made is restarted (deleted for a roll or by
//     RestartPod) while the revision renders the pod template it was
//     adopted with, and no write changes such a rack's template while
//     such a pod runs it;
//   - nothing writes an object CassKop made while its operator runs there;
//   - the Service <cluster> selects every pod whose container runs;
//   - an adoption keeps the pod template but for labels, the replicas and
//     a partition at them;
//   - only an object CassKop made is deleted as CassKop's, and its
//     PodDisruptionBudget only once every StatefulSet of its region is
//     adopted and their pods labelled;
//   - at convergence, nothing of CassKop's is left unadopted: every pod
//     and claim of the cluster carries ringops' labels.

// CassKop labels besides contract's: the datacenter and rack of a pod.
const (
	cassKopLabelDC   = "cassandraclusters.db.orange.com.dc"
	cassKopLabelRack = "cassandraclusters.db.orange.com.rack"
	cassKopOwnerUID  = "uid-casskop-cassandracluster"
	cassKopOperator  = "orangeopensource/casskop:v1.1.5-release"
)

// CassKop is a ring CassKop made (SeedCassKop).
type CassKop struct {
	// Cluster is the spec whose datacenters, racks, node counts, image
	// and storage size CassKop's ring has.
	Cluster *schemas.CassandraCluster
	// Datacenters are the datacenters of Cluster CassKop made (nil: all).
	Datacenters []string
	// Operator: CassKop's operator runs in each of their regions until
	// StopCassKop.
	Operator bool
}

// cassKopState is what the world knows of CassKop's ring.
type cassKopState struct {
	operators map[string]bool   // regions where CassKop's operator runs
	seeded    map[string]string // region/pod -> uid: the pods CassKop made
	// pins are the racks CassKop made whose rendered template has not
	// changed since the seeding (region/sts -> plan.TemplateHash of it;
	// "" until a revision renders it): their pods may not restart.
	pins map[string]string
}

// SeedCassKop adds to the world the ring CassKop made (see CassKop).
func (w *World) SeedCassKop(k CassKop) {
	c := k.Cluster
	if w.cassKop == nil {
		w.cassKop = &cassKopState{operators: map[string]bool{}, seeded: map[string]string{}, pins: map[string]string{}}
	}
	seeds := cassKopSeeds(c)
	for i := range c.Spec.Datacenters {
		dc := &c.Spec.Datacenters[i]
		if k.Datacenters != nil && !slices.Contains(k.Datacenters, dc.Name) {
			continue
		}
		rg := w.region(dc.Context)
		for _, r := range dc.Racks {
			w.seedCassKopRack(rg, c, dc, r, seeds)
		}
		if rg.objects[plan.ObjectKey(cassKopService(c))] == nil {
			for _, u := range []*unstructured.Unstructured{cassKopService(c), cassKopBudget(c)} {
				rg.rv++
				u.SetUID(types.UID("uid-casskop-" + strings.ToLower(u.GetKind())))
				u.SetResourceVersion(itoa(int(rg.rv)))
				rg.objects[plan.ObjectKey(u)] = u
			}
		}
		if k.Operator {
			w.cassKop.operators[rg.name] = true
		}
	}
	w.pinRendered()
	w.logf("CassKop's ring seeded: %d pods", len(w.cassKop.seeded))
}

// StopCassKop stops CassKop's operators (kubectl scale --replicas=0).
func (w *World) StopCassKop() {
	if w.cassKop != nil && len(w.cassKop.operators) > 0 {
		w.cassKop.operators = map[string]bool{}
		w.logf("CassKop's operators stopped")
	}
}

// CassKopPods names the pods CassKop made (SeedCassKop), sorted.
func (w *World) CassKopPods() []string {
	var out []string
	if w.cassKop != nil {
		for k := range w.cassKop.seeded {
			_, pod, _ := strings.Cut(k, "/")
			out = append(out, pod)
		}
	}
	slices.Sort(out)
	return out
}

// Restarts counts, per pod name, the restarts of pods by a roll or a
// RestartPod since the world began (not scale-downs, nor faults).
func (w *World) Restarts() map[string]int { return maps.Clone(w.restarts) }

// cassKopLabels are CassKop's labels of a cluster, and with dc and rack
// those of a rack (its StatefulSet, selector, pods and claims).
func cassKopLabels(cluster, dc, rack string) map[string]any {
	l := map[string]any{contract.CassKopLabelApp: contract.CassKopApp, contract.CassKopLabelCluster: cluster}
	if dc != "" {
		l[cassKopLabelDC], l[cassKopLabelRack] = dc, rack
	}
	return l
}

func cassKopOwners(c *schemas.CassandraCluster) []any {
	return []any{map[string]any{"apiVersion": "db.orange.com/v2", "kind": "CassandraCluster", "name": c.Metadata.Name,
		"uid": cassKopOwnerUID, "controller": true, "blockOwnerDeletion": true}}
}

func cassKopMeta(c *schemas.CassandraCluster, name string, labels map[string]any) map[string]any {
	return map[string]any{"name": name, "namespace": c.Metadata.Namespace, "labels": labels, "ownerReferences": cassKopOwners(c)}
}

// cassKopSeeds is the seed list CassKop writes: the first pod of each
// rack, at most three per datacenter, as <pod>.<cluster>.<namespace>.
func cassKopSeeds(c *schemas.CassandraCluster) string {
	var out []string
	for _, dc := range c.Spec.Datacenters {
		n := 0
		for _, r := range dc.Racks {
			if n < 3 && r.Nodes != nil && *r.Nodes > 0 {
				out = append(out, c.StatefulSetName(dc.Name, r.Name)+"-0."+c.Metadata.Name+"."+c.Metadata.Namespace)
				n++
			}
		}
	}
	return strings.Join(out, ",")
}

// cassKopTemplate is the pod template CassKop writes for a rack.
func cassKopTemplate(c *schemas.CassandraCluster, dc, rack, seeds string) map[string]any {
	env := func(kv ...string) []any {
		var out []any
		for i := 0; i < len(kv); i += 2 {
			out = append(out, map[string]any{"name": kv[i], "value": kv[i+1]})
		}
		return out
	}
	port := func(name string, n int64) any {
		return map[string]any{"name": name, "containerPort": n, "protocol": "TCP"}
	}
	return map[string]any{
		"metadata": map[string]any{"labels": cassKopLabels(c.Metadata.Name, dc, rack)},
		"spec": map[string]any{
			"initContainers": []any{
				map[string]any{"name": "init-config", "image": c.Spec.Image, "command": []any{"sh", "-c", "cp -vr /etc/cassandra/* /bootstrap"}},
				map[string]any{"name": "bootstrap", "image": "orangeopensource/cassandra-bootstrap:0.1.9",
					"env": env("CASSANDRA_SEEDS", seeds, "CASSANDRA_CLUSTER_NAME", c.Metadata.Name, "CASSANDRA_DC", dc, "CASSANDRA_RACK", rack,
						"CASSANDRA_MAX_HEAP", "2048M")},
			},
			"containers": []any{map[string]any{"name": render.ContainerCassandra, "image": c.Spec.Image,
				"env": env("CASSANDRA_MAX_HEAP", "2048M"),
				"ports": []any{port("intra-node", 7000), port("tls-intra-node", 7001), port("jmx-port", 7199), port("cql", 9042),
					port(render.PortJolokia, 8778)},
				"volumeMounts": []any{map[string]any{"name": render.VolumeData, "mountPath": "/var/lib/cassandra"}}}},
			"restartPolicy":                 "Always",
			"terminationGracePeriodSeconds": int64(1800),
		},
	}
}

// seedCassKopRack makes a rack's StatefulSet, running pods and claims.
func (w *World) seedCassKopRack(rg *kubeRegion, c *schemas.CassandraCluster, dc *schemas.Datacenter, r schemas.Rack, seeds string) {
	name := c.StatefulSetName(dc.Name, r.Name)
	n := int32(0)
	if r.Nodes != nil {
		n = *r.Nodes
	}
	labels := cassKopLabels(c.Metadata.Name, dc.Name, r.Name)
	tmpl := cassKopTemplate(c, dc.Name, r.Name, seeds)
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "StatefulSet",
		"metadata": cassKopMeta(c, name, labels),
		"spec": map[string]any{
			"replicas": int64(n), "serviceName": c.Metadata.Name, "podManagementPolicy": "OrderedReady", "revisionHistoryLimit": int64(10),
			"selector":       map[string]any{"matchLabels": maps.Clone(labels)},
			"updateStrategy": map[string]any{"type": "RollingUpdate", "rollingUpdate": map[string]any{"partition": int64(0)}},
			"template":       tmpl,
			"volumeClaimTemplates": []any{map[string]any{
				"metadata": map[string]any{"name": render.VolumeData, "labels": maps.Clone(labels)},
				"spec": map[string]any{"accessModes": []any{"ReadWriteOnce"},
					"resources": map[string]any{"requests": map[string]any{"storage": c.Spec.Storage.Size}}}}},
		},
	}}
	rg.rv++
	rev := revisionOf(name, tmpl)
	rg.sts[name] = &statefulSet{obj: obj, uid: w.nextUID(), rv: rg.rv, generation: 1, observedGen: 1, revGen: 1,
		revisions: map[string]any{rev: jsontree.Copy(tmpl)}, currentRev: rev, updateRev: rev, allowRestart: -1}
	var spec corev1.PodSpec
	_ = runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl["spec"].(map[string]any), &spec)
	for ord := int32(0); ord < n; ord++ {
		p := &podState{name: name + "-" + itoa(int(ord)), sts: name, ord: ord, uid: w.nextUID(), rev: rev, created: w.now.Add(-30 * 24 * time.Hour),
			tmpl: rg.sts[name].revisions[rev], spec: spec, dc: dc.Name, rack: r.Name, labels: podLabelsOf(tmpl, rev)}
		p.ip = fmt.Sprintf("127.%d.%d.%d", len(rg.name)%200, w.uid/250%250, w.uid%250+1)
		p.node = &cassNode{mode: "NORMAL", release: releaseOf(tmpl), startedAt: w.now.Add(-24 * time.Hour)}
		rg.pods[p.name] = p
		rg.rv++
		cl := &claim{name: render.VolumeData + "-" + p.name, dc: dc.Name, rack: r.Name, uid: w.nextUID(), rv: rg.rv, size: c.Spec.Storage.Size,
			annotations: map[string]string{}, labels: claimLabelsOf(obj), joined: true, bootstrapped: true, joinedAs: "bootstrap",
			format: formatOf(p.node.release)}
		w.bootstrapped(cl)
		rg.pvcs[cl.name] = cl
		w.cassKop.seeded[rg.name+"/"+p.name] = p.uid
	}
	w.cassKop.pins[rg.name+"/"+name] = ""
}

func cassKopService(c *schemas.CassandraCluster) *unstructured.Unstructured {
	l := cassKopLabels(c.Metadata.Name, "", "")
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": cassKopMeta(c, c.Metadata.Name, l),
		"spec": map[string]any{"clusterIP": "None", "type": "ClusterIP", "publishNotReadyAddresses": true, "selector": maps.Clone(l),
			"ports": []any{map[string]any{"name": "cql", "port": int64(9042), "protocol": "TCP"}}}}}
}

func cassKopBudget(c *schemas.CassandraCluster) *unstructured.Unstructured {
	l := cassKopLabels(c.Metadata.Name, "", "")
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
		"metadata": cassKopMeta(c, c.Metadata.Name, l),
		"spec":     map[string]any{"maxUnavailable": int64(1), "selector": map[string]any{"matchLabels": maps.Clone(l)}}}}
}

// ---- labels

// podLabelsOf is the labels of a pod the StatefulSet controller makes
// from a template at revision rev.
func podLabelsOf(tmpl any, rev string) map[string]string {
	out := map[string]string{contract.LabelRevision: rev}
	for k, v := range asMap(nested(asMap(tmpl), "metadata", "labels")) {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// claimLabelsOf is the labels of a claim the StatefulSet controller makes
// for the "data" claim template of sts: the template's and the
// selector's (as the real controller: getPersistentVolumeClaims).
func claimLabelsOf(sts *unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	claims, _ := nested(sts.Object, "spec", "volumeClaimTemplates").([]any)
	for _, c := range claims {
		if nested(asMap(c), "metadata", "name") != render.VolumeData {
			continue
		}
		for k, v := range asMap(nested(asMap(c), "metadata", "labels")) {
			if s, ok := v.(string); ok {
				out[k] = s
			}
		}
	}
	for k, v := range asMap(nested(sts.Object, "spec", "selector", "matchLabels")) {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// ours: labels ringops' observation selects (kube.ClusterSelector).
func (w *World) ours(labels map[string]string) bool {
	return labels[contract.LabelCluster] == w.cluster
}

// managed: an object's labels as kube.ObjectSelector selects them.
func (w *World) managed(labels map[string]string) bool {
	return w.ours(labels) && labels[contract.LabelManagedBy] == contract.ManagedBy
}

// cassKops: labels kube.CassKopSelector selects: CassKop's, for the
// cluster, not ringops'.
func (w *World) cassKops(labels map[string]string) bool {
	return labels[contract.CassKopLabelApp] == contract.CassKopApp && labels[contract.CassKopLabelCluster] == w.cluster &&
		labels[contract.LabelManagedBy] != contract.ManagedBy
}

// adopting reports whether the planner is given what CassKop made
// (Query.Adopt: spec.adopt).
func (w *World) adopting() bool {
	return w.desired != nil && w.desired.Cluster != nil && w.desired.Cluster.Spec.Adopt
}

// observeCassKop fills a context's Foreign, ForeignPods and Operators as
// kube.Observe does with Query.Adopt.
func (w *World) observeCassKop(rg *kubeRegion, oc *plan.Context) {
	if !w.adopting() {
		return
	}
	for _, k := range sortedKeys(rg.objects) {
		if u := rg.objects[k]; w.cassKops(u.GetLabels()) && u.GetKind() != "StatefulSet" {
			oc.Foreign = append(oc.Foreign, u)
		}
	}
	for _, name := range sortedKeys(rg.sts) {
		if s := rg.sts[name]; w.cassKops(s.obj.GetLabels()) {
			oc.Foreign = append(oc.Foreign, w.stsObject(rg, name, s))
		}
	}
	for _, name := range sortedKeys(rg.pods) {
		if p := rg.pods[name]; w.cassKops(p.labels) {
			oc.ForeignPods = append(oc.ForeignPods, w.podObject(rg, p))
		}
	}
	if (len(oc.Foreign) > 0 || len(oc.ForeignPods) > 0) && w.cassKop != nil && w.cassKop.operators[rg.name] {
		oc.Operators = []string{fmt.Sprintf("deployment cassandra/casskop runs %s (1 replicas); stop it: kubectl --context %s -n cassandra scale deployment casskop --replicas=0",
			cassKopOperator, rg.name)}
	}
}

// ---- the pins: which racks may not restart

// pinRendered records, for each rack CassKop made, the hash of the
// template the revision renders for it, and lets go of those whose
// rendered template changed since: their pods may roll from then on.
func (w *World) pinRendered() {
	if w.cassKop == nil || w.desired == nil || w.desired.Invalid != nil {
		return
	}
	rendered := map[string]string{}
	for _, m := range w.desired.Manifests {
		for _, u := range m.Objects {
			if u.GetKind() == "StatefulSet" {
				rendered[m.Context+"/"+u.GetName()] = plan.TemplateHash(nested(u.Object, "spec", "template"))
			}
		}
	}
	for _, k := range sortedKeys(w.cassKop.pins) {
		switch h, pin := rendered[k], w.cassKop.pins[k]; {
		case pin == "" && h != "":
			w.cassKop.pins[k] = h
		case pin != "" && h != pin:
			delete(w.cassKop.pins, k)
			w.logf("%s: the revision renders another pod template: its pods may restart", k)
		}
	}
}

// pinned reports whether a rack CassKop made may not restart its pods.
func (w *World) pinned(rg *kubeRegion, sts string) bool {
	if w.cassKop == nil {
		return false
	}
	_, ok := w.cassKop.pins[rg.name+"/"+sts]
	return ok
}

// seededPods names the pods CassKop made that still run in a rack.
func (w *World) seededPods(rg *kubeRegion, sts string) []string {
	var out []string
	for _, p := range w.podsOf(rg, sts) {
		if w.cassKop != nil && w.cassKop.seeded[rg.name+"/"+p.name] == p.uid {
			out = append(out, p.name)
		}
	}
	slices.Sort(out)
	return out
}

// restarted: a pod is deleted for a roll or by a RestartPod step.
func (w *World) restarted(rg *kubeRegion, p *podState, by string) {
	if w.restarts == nil {
		w.restarts = map[string]int{}
	}
	w.restarts[p.name]++
	if w.pinned(rg, p.sts) && slices.Contains(w.seededPods(rg, p.sts), p.name) {
		w.violate("%s: %s restarts %s, which CassKop made, although the revision renders the pod template %s was adopted with (an adoption restarts no pod)",
			rg.name, by, p.name, p.sts)
	}
}

// checkPinnedTemplate: a write to a rack CassKop made keeps the pod
// template its pods run while the revision renders the template it was
// adopted with (they would restart on another).
func (w *World) checkPinnedTemplate(rg *kubeRegion, name string, old, new *unstructured.Unstructured, s plan.Step) {
	if !w.pinned(rg, name) || sameJSON(nested(old.Object, "spec", "template"), nested(new.Object, "spec", "template")) {
		return
	}
	if pods := w.seededPods(rg, name); len(pods) > 0 {
		w.violate("%s: %s changes the adopted pod template of %s (%s), although the revision renders the template it was adopted with: %s would restart on it",
			rg.name, s.Action, name, firstDiff(nested(new.Object, "spec", "template"), nested(old.Object, "spec", "template")), strings.Join(pods, ", "))
	}
}

// ---- the steps

var errNotOwned = errors.New("not owned: made by CassKop (label app=cassandracluster); spec.adopt takes it over")

// checkOperator: nothing writes what CassKop made while its operator runs
// in the region.
func (w *World) checkOperator(rg *kubeRegion, s plan.Step, what string) {
	if w.cassKop != nil && w.cassKop.operators[rg.name] {
		w.violate("%s: %s writes %s, which CassKop made, while CassKop's operator runs there", rg.name, s.Action, what)
	}
}

// execAdopt is kube.AdoptStatefulSet: the apply (CassKop's owner
// references dropped first), the controller's update revision awaited,
// then the pods on the current or update revision labelled in place with
// the template's labels and that revision, and their claims with
// ringops' claim labels.
func (w *World) execAdopt(rg *kubeRegion, s plan.Step) error {
	u := s.Objects[0]
	name := u.GetName()
	cur := rg.sts[name]
	switch {
	case cur == nil:
		return fmt.Errorf("statefulset %s: conflict: it no longer exists", name)
	case u.GetResourceVersion() != "" && itoa(int(cur.rv)) != u.GetResourceVersion():
		return fmt.Errorf("statefulset %s: conflict", name)
	}
	theirs := !w.managed(cur.obj.GetLabels())
	if theirs {
		w.checkOperator(rg, s, "StatefulSet "+name)
	}
	w.checkAdoption(rg, cur, u)
	if len(cur.obj.GetOwnerReferences()) > 0 {
		cur.obj = cur.obj.DeepCopy()
		cur.obj.SetOwnerReferences(nil)
		rg.rv++
		cur.rv = rg.rv
		if w.crash() {
			return errCrash
		}
	}
	if f := immutableChange(cur.obj, u); f != "" {
		return fmt.Errorf("statefulset %s: dry-run apply: spec.%s: field is immutable", name, f)
	}
	obj := takeOver(cur.obj, u)
	if !sameJSON(cur.obj.Object["spec"], obj.Object["spec"]) {
		cur.generation++
		cur.lag = w.lag()
	}
	rg.rv++
	cur.obj, cur.rv, cur.allowRestart = obj, rg.rv, -1
	if w.crash() {
		return errCrash // applied, not waited for: no pod labelled
	}
	tmpl := nested(obj.Object, "spec", "template")
	update := revisionOf(name, tmpl)
	claimLabels := map[string]string{}
	podLabels := podLabelsOf(tmpl, update)
	for _, k := range []string{contract.LabelName, contract.LabelInstance, contract.LabelManagedBy, contract.LabelCluster, contract.LabelDatacenter, contract.LabelRack} {
		if v, ok := podLabels[k]; ok {
			claimLabels[k] = v
		}
	}
	pods := w.podsOf(rg, name)
	for _, ord := range sortedKeys(pods) {
		p := pods[ord]
		if p.rev != cur.currentRev && p.rev != update {
			continue
		}
		if !sameJSON(asMap(p.tmpl)["spec"], asMap(tmpl)["spec"]) {
			w.violate("%s: AdoptStatefulSet labels %s with the update revision %s, whose pod spec it does not run (%s): it will never restart on it",
				rg.name, p.name, update, firstDiff(asMap(tmpl)["spec"], asMap(p.tmpl)["spec"]))
		}
		p.labels = merged(p.labels, podLabels)
		p.rev = update
		p.labelsV++
		if c := w.pvcOf(rg, p); c != nil {
			c.labels = merged(c.labels, claimLabels)
			rg.rv++
			c.rv, c.shown = rg.rv, nil
		}
		if w.crash() {
			return errCrash
		}
	}
	w.logf("%s: %s adopted, %d pods labelled", rg.name, name, len(pods))
	return nil
}

// checkAdoption: an adoption keeps the pod template but for labels, the
// replicas, and, when it adds labels to the template, a partition at
// them: nothing restarts.
func (w *World) checkAdoption(rg *kubeRegion, cur *statefulSet, u *unstructured.Unstructured) {
	name := u.GetName()
	lt, nt := asMap(nested(cur.obj.Object, "spec", "template")), asMap(nested(u.Object, "spec", "template"))
	if !sameJSON(lt["spec"], nt["spec"]) {
		w.violate("%s: AdoptStatefulSet changes the pod spec of %s (%s): its pods would restart on it", rg.name, name, firstDiff(nt, lt))
	}
	for k, v := range asMap(nested(lt, "metadata", "labels")) {
		if nested(nt, "metadata", "labels", k) != v {
			w.violate("%s: AdoptStatefulSet drops the pod label %s=%v of %s's template", rg.name, k, v, name)
		}
	}
	had, _ := nestedInt(cur.obj.Object, "spec", "replicas")
	replicas, _ := nestedInt(u.Object, "spec", "replicas")
	partition, _ := nestedInt(u.Object, "spec", "updateStrategy", "rollingUpdate", "partition")
	if replicas != had || (partition < replicas && !sameJSON(lt, nt)) {
		w.violate("%s: AdoptStatefulSet writes %s at %d replicas (it had %d), partition %d", rg.name, name, replicas, had, partition)
	}
}

// immutableChange is the first immutable field of a StatefulSet's spec
// an apply of u over live would change, "" if none.
func immutableChange(live, u *unstructured.Unstructured) string {
	for _, f := range []string{"selector", "serviceName", "podManagementPolicy"} {
		if !sameJSON(nested(live.Object, "spec", f), nested(u.Object, "spec", f)) {
			return f
		}
	}
	strip := func(v any) any {
		claims, _ := jsontree.Copy(v).([]any)
		for _, c := range claims {
			delete(asMap(c), "status")
		}
		return claims
	}
	if !sameJSON(strip(nested(live.Object, "spec", "volumeClaimTemplates")), strip(nested(u.Object, "spec", "volumeClaimTemplates"))) {
		return "volumeClaimTemplates"
	}
	return ""
}

// takeOver is the object a server-side apply of u over live, made by
// another manager, leaves: u, with live's labels and annotations that u
// does not set (another manager's fields stay), no owner reference.
func takeOver(live, u *unstructured.Unstructured) *unstructured.Unstructured {
	obj := u.DeepCopy()
	obj.SetResourceVersion("")
	obj.SetOwnerReferences(nil)
	obj.SetLabels(merged(live.GetLabels(), obj.GetLabels()))
	obj.SetAnnotations(merged(live.GetAnnotations(), obj.GetAnnotations()))
	return obj
}

// merged is a copy of a with b's entries set.
func merged(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}

// execDeleteCassKop is kube.DeleteCassKopObject: only an object CassKop
// made (never a StatefulSet, pod or claim), precondition its UID.
func (w *World) execDeleteCassKop(rg *kubeRegion, s plan.Step) error {
	switch s.Target.Kind {
	case "StatefulSet", "Pod", "PersistentVolumeClaim":
		w.violate("%s: DeleteCassKopObject of %s %s: adopted, never deleted", rg.name, s.Target.Kind, s.Target.Name)
		return errors.New("not prunable")
	}
	key := ""
	for k, u := range rg.objects {
		if u.GetKind() == s.Target.Kind && u.GetName() == s.Target.Name {
			key = k
		}
	}
	live := rg.objects[key]
	switch {
	case live == nil:
		return nil // gone already: skipped
	case string(live.GetUID()) != s.Target.UID:
		return errors.New("precondition failed: uid")
	case w.managed(live.GetLabels()) || live.GetLabels()[contract.CassKopLabelApp] != contract.CassKopApp:
		w.violate("%s: DeleteCassKopObject of %s %s, which CassKop did not make or ringops took over", rg.name, s.Target.Kind, s.Target.Name)
		return errors.New("not prunable: not CassKop's")
	}
	w.checkOperator(rg, s, s.Target.Kind+" "+s.Target.Name)
	if s.Target.Kind == "PodDisruptionBudget" {
		if left := w.unadopted(rg); len(left) > 0 {
			w.violate("%s: CassKop's PodDisruptionBudget %s deleted while %s", rg.name, s.Target.Name, strings.Join(left, "; "))
		}
	}
	delete(rg.objects, key)
	return nil
}

// unadopted says what of a region's StatefulSets CassKop made ringops has
// not adopted: the StatefulSet, or pods of it not labelled for ringops.
func (w *World) unadopted(rg *kubeRegion) []string {
	var out []string
	for _, name := range sortedKeys(rg.sts) {
		s := rg.sts[name]
		if w.cassKops(s.obj.GetLabels()) {
			out = append(out, "StatefulSet "+name+" is CassKop's")
			continue
		}
		if s.obj.GetAnnotations()[contract.AnnotationAdopted] == "" {
			continue
		}
		for _, ord := range sortedKeys(w.podsOf(rg, name)) {
			if p := w.podsOf(rg, name)[ord]; !w.ours(p.labels) {
				out = append(out, "pod "+p.name+" is not labelled for ringops")
			}
		}
	}
	return out
}

// checkService: the Service <cluster> selects every pod whose container
// runs (its selector is atomic: an apply replaces it, so the pods must
// carry ringops' labels before ringops' Service is applied).
func (w *World) checkService(rg *kubeRegion) {
	svc := rg.objects["/Service/cassandra/"+w.cluster]
	if svc == nil {
		return
	}
	sel := asMap(nested(svc.Object, "spec", "selector"))
	for _, name := range sortedKeys(rg.pods) {
		p := rg.pods[name]
		if p.node == nil || p.deleting > 0 {
			continue
		}
		for k, v := range sel {
			if p.labels[k] != v {
				w.violate("%s: Service %s (%s) does not select %s, whose node runs (labels %v)", rg.name, w.cluster, selectorString(sel), name, p.labels)
				return
			}
		}
	}
}

func selectorString(sel map[string]any) string {
	var out []string
	for _, k := range sortedKeys(sel) {
		out = append(out, fmt.Sprintf("%s=%v", k, sel[k]))
	}
	return strings.Join(out, ",")
}

// ---- convergence

// cassKopConverged: nothing CassKop made is left to adopt, every pod and
// claim of the cluster is labelled for ringops.
func (w *World) cassKopConverged() []string {
	var out []string
	for _, rn := range w.regionNames() {
		rg := w.regions[rn]
		for _, name := range sortedKeys(rg.pods) {
			if p := rg.pods[name]; !w.ours(p.labels) {
				out = append(out, rn+": pod "+name+" not labelled for ringops")
			}
		}
		for _, name := range sortedKeys(rg.pvcs) {
			if c := rg.pvcs[name]; c.labels != nil && !w.ours(c.labels) {
				out = append(out, rn+": claim "+name+" not labelled for ringops (ringops does not see it)")
			}
		}
		for _, name := range sortedKeys(rg.sts) {
			if w.cassKops(rg.sts[name].obj.GetLabels()) {
				out = append(out, rn+": StatefulSet "+name+" still CassKop's")
			}
		}
		if w.cassKop != nil && w.cassKop.operators[rn] {
			out = append(out, rn+": CassKop's operator runs")
		}
	}
	return out
}

// expectedTemplate is the pod template a rendered StatefulSet u should
// have live: for one adopted from CassKop, plan.AdoptedStatefulSet's
// (its template while the pin holds).
func expectedTemplate(u, live *unstructured.Unstructured) any {
	if live.GetAnnotations()[contract.AnnotationAdopted] == "" {
		return nested(u.Object, "spec", "template")
	}
	want, _ := plan.AdoptedStatefulSet(u, live)
	return nested(want.Object, "spec", "template")
}

// podSeeds is the seed list a pod template's node starts with
// (plan.NodeSeeds), "" when none.
func podSeeds(tmpl any) string {
	s, _ := plan.NodeSeeds(tmpl)
	return s
}
