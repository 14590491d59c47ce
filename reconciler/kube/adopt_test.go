package kube_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
)

var cassandraClusters = schema.GroupVersionResource{Group: "db.orange.com", Version: "v2", Resource: "cassandraclusters"}

// cassKopLabels are the labels CassKop puts on rack r1 of dc1 of orders.
var cassKopLabels = map[string]string{"app": "cassandracluster", "cassandracluster": "orders", "dc-rack": "dc1-r1",
	"cassandraclusters.db.orange.com.dc": "dc1", "cassandraclusters.db.orange.com.rack": "r1"}

// testAdoptCassKop: a ring as CassKop makes it (a CassandraCluster owning
// its StatefulSet, Service and PodDisruptionBudget, written with Update
// by CassKop's field manager), observed with Query.Adopt, then adopted:
// the StatefulSet is ringops' with CassKop's selector, no owner left, its
// pods the same pods (UIDs), labelled in place and counted as updated by
// the StatefulSet controller, which restarts none once the partition is
// back at 0; CassKop's PodDisruptionBudget deleted, ringops' objects never.
func testAdoptCassKop(t *testing.T, f *fixture, client kubernetes.Interface) {
	const ns = "adopt"
	dyn := dynamic.NewForConfigOrDie(f.world.Regions()[0].Config)
	installCassKopCRD(t, dyn)
	if _, err := client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	var cc *unstructured.Unstructured
	eventually(t, time.Minute, "CassKop's CassandraCluster created", func(ctx context.Context) (bool, string) {
		var err error
		cc, err = dyn.Resource(cassandraClusters).Namespace(ns).Create(ctx, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "db.orange.com/v2", "kind": "CassandraCluster",
			"metadata": map[string]any{"name": "orders", "namespace": ns},
			"spec":     map[string]any{"nodesPerRacks": int64(2), "cassandraImage": "cassandra:4.1.5"}}}, metav1.CreateOptions{})
		if err != nil {
			return false, err.Error() // the CRD may take a moment to be served
		}
		return true, ""
	})
	owner := []metav1.OwnerReference{{APIVersion: "db.orange.com/v2", Kind: "CassandraCluster", Name: "orders", UID: cc.GetUID(), Controller: new(true)}}
	byCassKop := metav1.CreateOptions{FieldManager: "casskop"}
	sts := cassKopStatefulSet(t, ns, owner)
	if _, err := client.AppsV1().StatefulSets(ns).Create(t.Context(), sts, byCassKop); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: ns, OwnerReferences: owner,
		Labels: map[string]string{"app": "cassandracluster", "cassandracluster": "orders"}},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, PublishNotReadyAddresses: true,
			Selector: map[string]string{"app": "cassandracluster", "cassandracluster": "orders"},
			Ports:    []corev1.ServicePort{{Name: "cql", Port: 9042}}}}
	if _, err := client.CoreV1().Services(ns).Create(t.Context(), svc, byCassKop); err != nil {
		t.Fatal(err)
	}
	pdb := object(t, podDisruptionBudget(ns))
	pdb.SetName("orders") // CassKop's: one per cluster
	pdb.SetLabels(map[string]string{"app": "cassandracluster", "cassandracluster": "orders"})
	pdb.SetOwnerReferences(owner)
	if _, err := dyn.Resource(schema.GroupVersionResource{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"}).Namespace(ns).
		Create(t.Context(), pdb, byCassKop); err != nil {
		t.Fatal(err)
	}
	before := waitPods(t, client, ns, 2, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })

	q := kube.Query{Cluster: "orders", Namespace: ns, Contexts: []string{region}}
	if obs := f.manager.Observe(t.Context(), q)[region]; obs.Err != nil || len(obs.Foreign)+len(obs.ForeignPods) != 0 {
		t.Fatalf("observed without Query.Adopt: %v, %d foreign", obs.Err, len(obs.Foreign)+len(obs.ForeignPods))
	}
	q.Adopt = true
	obs := f.manager.Observe(t.Context(), q)[region]
	if obs.Err != nil || names(obs.Foreign) != "Service/orders PodDisruptionBudget/orders StatefulSet/orders-dc1-r1" ||
		len(obs.ForeignPods) != 2 || len(obs.Operators) != 0 || len(obs.Pods) != 0 {
		t.Fatalf("observed with Query.Adopt: %v, foreign %s, %d foreign pods, %d pods, operators %q",
			obs.Err, names(obs.Foreign), len(obs.ForeignPods), len(obs.Pods), obs.Operators)
	}

	// CassKop's operator running: Observe names it and how to stop it.
	op := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "casskop", Namespace: ns},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"name": "casskop"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"name": "casskop"}},
				Spec: corev1.PodSpec{NodeSelector: map[string]string{"nowhere": "true"}, // never scheduled: no kubelet runs it
					Containers: []corev1.Container{{Name: "casskop", Image: "orangeopensource/casskop:v2.1.0"}}}}}}
	if _, err := client.AppsV1().Deployments(ns).Create(t.Context(), op, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	obs = f.manager.Observe(t.Context(), q)[region]
	if len(obs.Operators) != 1 || !strings.Contains(obs.Operators[0], "kubectl --context eu-west -n adopt scale deployment casskop --replicas=0") {
		t.Fatalf("operators: %q", obs.Operators)
	}
	if _, err := client.AppsV1().Deployments(ns).Patch(t.Context(), "casskop", "application/merge-patch+json", []byte(`{"spec":{"replicas":0}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if obs = f.manager.Observe(t.Context(), q)[region]; len(obs.Operators) != 0 {
		t.Fatalf("operators once scaled to 0: %q", obs.Operators)
	}

	// Without spec.adopt: refused, nothing written.
	var theirs *unstructured.Unstructured
	for _, u := range obs.Foreign {
		if u.GetKind() == "StatefulSet" {
			theirs = u
		}
	}
	rendered := object(t, statefulSet(ns, 2, "1Gi"))
	unstructured.SetNestedField(rendered.Object, "Parallel", "spec", "podManagementPolicy") // as cassKopStatefulSet's
	want, pinned := plan.AdoptedStatefulSet(rendered, theirs)
	if !pinned {
		t.Fatal("CassKop's template is not kept")
	}
	unstructured.SetNestedField(want.Object, map[string]any{"type": "RollingUpdate", "rollingUpdate": map[string]any{"partition": int64(2)}}, "spec", "updateStrategy")
	want.SetResourceVersion(theirs.GetResourceVersion())
	if _, err := f.manager.AdoptStatefulSet(t.Context(), region, want); !errors.Is(err, kube.ErrNotOwned) || !strings.Contains(err.Error(), "set spec.adopt: true") {
		t.Fatalf("adoption without spec.adopt: %v, want ErrNotOwned", err)
	}
	ann := want.GetAnnotations()
	ann[contract.AnnotationAdopt] = "true"
	want.SetAnnotations(ann)
	if _, err := f.manager.AdoptStatefulSet(t.Context(), region, want); err != nil {
		t.Fatal(err)
	}

	live, err := client.AppsV1().StatefulSets(ns).Get(t.Context(), "orders-dc1-r1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if live.Labels[contract.LabelManagedBy] != contract.ManagedBy || len(live.OwnerReferences) != 0 ||
		live.Spec.Selector.MatchLabels["dc-rack"] != "dc1-r1" || live.Annotations[contract.AnnotationAdopted] != contract.AdoptedFromCassKop {
		t.Fatalf("adopted StatefulSet: labels %v, owners %v, selector %v, annotations %v", live.Labels, live.OwnerReferences, live.Spec.Selector, live.Annotations)
	}
	pods := podsByName(t, client, ns)
	for name, p := range before {
		now := pods[name]
		switch {
		case now == nil || now.UID != p.UID:
			t.Fatalf("pod %s replaced by the adoption", name)
		case now.Labels[contract.LabelCluster] != "orders" || now.Labels[contract.LabelRack] != "r1" || now.Labels["dc-rack"] != "dc1-r1":
			t.Errorf("pod %s labels %v", name, now.Labels)
		case now.Labels[contract.LabelRevision] != live.Status.UpdateRevision:
			t.Errorf("pod %s revision %s, update revision %s", name, now.Labels[contract.LabelRevision], live.Status.UpdateRevision)
		}
		claim, err := client.CoreV1().PersistentVolumeClaims(ns).Get(t.Context(), "data-"+name, metav1.GetOptions{})
		if err != nil || claim.Labels[contract.LabelCluster] != "orders" || claim.Labels[contract.LabelManagedBy] != contract.ManagedBy {
			t.Errorf("claim of %s: %v %v", name, claim.Labels, err)
		}
	}
	obs = f.manager.Observe(t.Context(), q)[region]
	if names(obs.Foreign) != "Service/orders PodDisruptionBudget/orders" || len(obs.ForeignPods) != 0 || len(obs.Pods) != 2 || len(obs.PVCs) != 2 {
		t.Fatalf("observed once adopted: foreign %s, %d foreign pods, %d pods, %d claims", names(obs.Foreign), len(obs.ForeignPods), len(obs.Pods), len(obs.PVCs))
	}

	// The partition back at 0: the controller counts both pods updated
	// and restarts neither.
	zero := want.DeepCopy()
	unstructured.SetNestedField(zero.Object, int64(0), "spec", "updateStrategy", "rollingUpdate", "partition")
	zero.SetResourceVersion("")
	if _, err := f.manager.ApplyObject(t.Context(), region, zero); err != nil {
		t.Fatal(err)
	}
	// (Its current revision stays CassKop's here: this world's pods are
	// never Ready, and the controller completes a roll only once they are.
	// With Parallel it deletes a pod off the update revision all the same.)
	eventually(t, time.Minute, "the controller counts both pods updated", func(ctx context.Context) (bool, string) {
		s, err := client.AppsV1().StatefulSets(ns).Get(ctx, "orders-dc1-r1", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		st := s.Status
		return st.ObservedGeneration >= s.Generation && st.UpdatedReplicas == 2, fmt.Sprintf("%d updated", st.UpdatedReplicas)
	})
	time.Sleep(3 * time.Second) // a restart would show as a pod deleted by now
	for name, p := range podsByName(t, client, ns) {
		if p.UID != before[name].UID || p.DeletionTimestamp != nil {
			t.Errorf("pod %s restarted once the partition went back to 0", name)
		}
	}

	// CassKop's PodDisruptionBudget goes; ringops' objects never do.
	var theirPDB *unstructured.Unstructured
	for _, u := range obs.Foreign {
		if u.GetKind() == "PodDisruptionBudget" {
			theirPDB = u
		}
	}
	if r, err := f.manager.DeleteCassKopObject(t.Context(), region, kube.RefOf(theirPDB)); err != nil || r.Action != kube.Deleted {
		t.Fatalf("delete CassKop's PodDisruptionBudget: %v, %v", r, err)
	}
	ours := kube.RefOf(&unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "orders", "namespace": ns}}})
	adoptedSvc, err := client.CoreV1().Services(ns).Get(t.Context(), "orders", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svcObj := object(t, service(ns))
	svcObj.SetAnnotations(map[string]string{contract.AnnotationAdopt: "true"})
	if _, err := f.manager.ApplyObject(t.Context(), region, svcObj); err != nil {
		t.Fatalf("adopt CassKop's Service: %v", err)
	}
	if s, err := client.CoreV1().Services(ns).Get(t.Context(), "orders", metav1.GetOptions{}); err != nil || len(s.OwnerReferences) != 0 || s.UID != adoptedSvc.UID {
		t.Fatalf("adopted Service: %v, %v", s, err)
	}
	ours.UID = string(adoptedSvc.UID)
	if _, err := f.manager.DeleteCassKopObject(t.Context(), region, ours); !errors.Is(err, kube.ErrNotPrunable) {
		t.Fatalf("delete of an adopted Service through DeleteCassKopObject: %v, want ErrNotPrunable", err)
	}
	// A change that needs a restart: the rendered template replaces
	// CassKop's whole (its init container and exec probe, which CassKop's
	// field manager owns, go; an apply alone would keep them beside
	// ringops' TCP probe: invalid), staged behind the partition.
	cur, err := client.AppsV1().StatefulSets(ns).Get(t.Context(), "orders-dc1-r1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	changed := rendered.DeepCopy()
	containers, _, _ := unstructured.NestedSlice(changed.Object, "spec", "template", "spec", "containers")
	c0 := containers[0].(map[string]any)
	c0["image"] = "cassandra:4.1.6"
	c0["livenessProbe"] = map[string]any{"tcpSocket": map[string]any{"port": int64(7000)}}
	unstructured.SetNestedSlice(changed.Object, containers, "spec", "template", "spec", "containers")
	curU := &unstructured.Unstructured{}
	if curU.Object, err = runtimeToUnstructured(cur); err != nil {
		t.Fatal(err)
	}
	moved, pinned := plan.AdoptedStatefulSet(changed, curU)
	if pinned {
		t.Fatal("a new image keeps the adopted template")
	}
	unstructured.SetNestedField(moved.Object, map[string]any{"type": "RollingUpdate", "rollingUpdate": map[string]any{"partition": int64(2)}}, "spec", "updateStrategy")
	moved.SetResourceVersion(cur.ResourceVersion)
	if dry, err := f.manager.DryRun(t.Context(), region, moved); err != nil || dry[0].Action != kube.Configured {
		t.Fatalf("dry run of the move to ringops' template: %v, %v", dry, err)
	}
	if r, err := f.manager.ApplyObject(t.Context(), region, moved); err != nil || r.Action != kube.Configured {
		t.Fatalf("move to ringops' template: %v, %v", r, err)
	}
	cur, err = client.AppsV1().StatefulSets(ns).Get(t.Context(), "orders-dc1-r1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := cur.Spec.Template.Spec
	if len(tmpl.InitContainers) != 0 || tmpl.Containers[0].LivenessProbe == nil || tmpl.Containers[0].LivenessProbe.Exec != nil ||
		tmpl.Containers[0].Image != "cassandra:4.1.6" || cur.Annotations[contract.AnnotationAdoptedTemplate] != "" ||
		cur.Spec.Selector.MatchLabels["dc-rack"] != "dc1-r1" || *cur.Spec.UpdateStrategy.RollingUpdate.Partition != 2 {
		t.Fatalf("after the move to ringops' template: init containers %v, probe %+v, image %s, annotations %v, selector %v",
			tmpl.InitContainers, tmpl.Containers[0].LivenessProbe, tmpl.Containers[0].Image, cur.Annotations, cur.Spec.Selector)
	}
	for name, p := range podsByName(t, client, ns) {
		if p.UID != before[name].UID {
			t.Errorf("pod %s restarted by the staged template", name)
		}
	}

	if _, err := dyn.Resource(cassandraClusters).Namespace(ns).Get(t.Context(), "orders", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	// Deleting the CassandraCluster no longer deletes what ringops adopted.
	if err := dyn.Resource(cassandraClusters).Namespace(ns).Delete(t.Context(), "orders", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // the garbage collector's turn
	if _, err := client.AppsV1().StatefulSets(ns).Get(t.Context(), "orders-dc1-r1", metav1.GetOptions{}); err != nil {
		t.Fatalf("the adopted StatefulSet went with CassKop's CassandraCluster: %v", err)
	}
}

// cassKopStatefulSet is rack r1 of dc1 of orders as CassKop writes it:
// its labels and selector, an owner reference to the CassandraCluster,
// its bootstrap init container holding the seeds.
func cassKopStatefulSet(t *testing.T, ns string, owner []metav1.OwnerReference) *appsv1.StatefulSet {
	t.Helper()
	var s appsv1.StatefulSet
	if err := yaml.Unmarshal([]byte(statefulSet(ns, 2, "1Gi")), &s); err != nil {
		t.Fatal(err)
	}
	s.Labels, s.OwnerReferences = cassKopLabels, owner
	// Both pods at once: this world's simulated nodes are never Ready
	// without a ring to join, and OrderedReady would wait for the first.
	s.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	s.Annotations = map[string]string{"banzaicloud.com/last-applied": "{}"}
	s.Spec.Selector = &metav1.LabelSelector{MatchLabels: cassKopLabels}
	s.Spec.Template.Labels = cassKopLabels
	s.Spec.VolumeClaimTemplates[0].Labels = cassKopLabels
	c := &s.Spec.Template.Spec.Containers[0]
	seeds := c.Env[3]
	c.Env = c.Env[:3]
	s.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "bootstrap", Image: "cassandra:4.1.5", Command: []string{"true"}, Env: []corev1.EnvVar{seeds}}}
	c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/etc/cassandra/liveness-probe.sh"}}},
		InitialDelaySeconds: 120}
	return &s
}

// waitPods waits until ns has n pods that all pass ok, and returns them
// by name.
func waitPods(t *testing.T, client kubernetes.Interface, ns string, n int, ok func(*corev1.Pod) bool) map[string]*corev1.Pod {
	t.Helper()
	var pods map[string]*corev1.Pod
	eventually(t, 2*time.Minute, "the StatefulSet's pods run", func(ctx context.Context) (bool, string) {
		pods = podsByName(t, client, ns)
		good := 0
		for _, p := range pods {
			if ok(p) {
				good++
			}
		}
		return len(pods) == n && good == n, strconv.Itoa(good) + " of " + strconv.Itoa(len(pods))
	})
	return pods
}

func podsByName(t *testing.T, client kubernetes.Interface, ns string) map[string]*corev1.Pod {
	t.Helper()
	list, err := client.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*corev1.Pod{}
	for i := range list.Items {
		out[list.Items[i].Name] = &list.Items[i]
	}
	return out
}

func names(objs []*unstructured.Unstructured) string {
	var out []string
	for _, u := range objs {
		out = append(out, u.GetKind()+"/"+u.GetName())
	}
	return strings.Join(out, " ")
}

// installCassKopCRD creates CassKop's CassandraCluster CRD.
func installCassKopCRD(t *testing.T, dyn dynamic.Interface) {
	t.Helper()
	data, err := os.ReadFile("../../importer/casskop/testdata/crds/db.orange.com_cassandraclusters.yaml")
	if err != nil {
		t.Fatal(err)
	}
	u := object(t, string(data))
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if _, err := dyn.Resource(crds).Create(t.Context(), u, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// runtimeToUnstructured is a typed object as the dynamic client reads it.
func runtimeToUnstructured(obj *appsv1.StatefulSet) (map[string]any, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u["apiVersion"], u["kind"] = "apps/v1", "StatefulSet"
	return u, nil
}
