package kube_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/ringops/ringops/reconciler/kube"
)

const region = "eu-west"

func configMap(ns, value string) string {
	return fmt.Sprintf(`
apiVersion: v1
kind: ConfigMap
metadata:
  name: orders-config
  namespace: %s
  labels: {app.kubernetes.io/managed-by: ringops, ringops.dev/cluster: orders}
data: {num_tokens: "%s"}
`, ns, value)
}

func service(ns string) string {
	return fmt.Sprintf(`
apiVersion: v1
kind: Service
metadata:
  name: orders
  namespace: %s
  labels: {app.kubernetes.io/managed-by: ringops, ringops.dev/cluster: orders}
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector: {ringops.dev/cluster: orders}
  ports: [{name: cql, port: 9042}]
`, ns)
}

func podDisruptionBudget(ns string) string {
	return fmt.Sprintf(`
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: orders-dc1
  namespace: %s
  labels: {app.kubernetes.io/managed-by: ringops, ringops.dev/cluster: orders}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {ringops.dev/cluster: orders}}
`, ns)
}

// statefulSet is a one-rack StatefulSet with a data volume of size.
func statefulSet(ns string, replicas int, size string) string {
	return fmt.Sprintf(`
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: orders-dc1-r1
  namespace: %[1]s
  labels: {app.kubernetes.io/managed-by: ringops, ringops.dev/cluster: orders, ringops.dev/rack: r1}
spec:
  replicas: %[2]d
  serviceName: orders
  podManagementPolicy: OrderedReady
  selector: {matchLabels: {ringops.dev/cluster: orders, ringops.dev/rack: r1}}
  template:
    metadata:
      labels: {app.kubernetes.io/managed-by: ringops, ringops.dev/cluster: orders, ringops.dev/rack: r1}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: cassandra
        image: cassandra:4.1.5
        env:
        - {name: CASSANDRA_CLUSTER_NAME, value: orders-%[1]s}
        - {name: CASSANDRA_DC, value: dc1}
        - {name: CASSANDRA_RACK, value: r1}
        - {name: CASSANDRA_SEEDS, value: orders-dc1-r1-0.dc1.example.com}
        volumeMounts: [{name: data, mountPath: /var/lib/cassandra}]
  volumeClaimTemplates:
  - metadata:
      name: data
      labels: {ringops.dev/cluster: orders, ringops.dev/rack: r1}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: %[3]s}}
`, ns, replicas, size)
}

// TestApply proves server-side apply against a real API server: what is
// created, configured or left alone, drift, preconditions, immutable
// fields, and the guarded deletes.
func TestApply(t *testing.T) {
	f := startWorld(t, region)
	client := f.world.Region(region).Client

	t.Run("CreatedUnchangedConfigured", func(t *testing.T) {
		const ns = "apply"
		objs := []*unstructured.Unstructured{
			object(t, statefulSet(ns, 0, "1Gi")), object(t, podDisruptionBudget(ns)),
			object(t, service(ns)), object(t, configMap(ns, "16")),
		}
		results, err := f.manager.Apply(t.Context(), region, objs...)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(results); got != "[eu-west: namespace apply Created eu-west: configmap orders-config Created "+
			"eu-west: service orders Created eu-west: poddisruptionbudget orders-dc1 Created eu-west: statefulset orders-dc1-r1 Created]" {
			t.Errorf("first apply, in stage order: %s", got)
		}

		before := f.counter.Counts(region)
		results, err = f.manager.Apply(t.Context(), region, objs...)
		if err != nil {
			t.Fatal(err)
		}
		spent := f.counter.Counts(region).Sub(before)
		for _, r := range results {
			if r.Action != kube.Unchanged {
				t.Errorf("second apply: %s", r)
			}
		}
		if spent.Writes() != 0 || spent.DryRun != 4 {
			t.Errorf("second apply of 4 unchanged objects: %s, want no write and 4 dry-runs", spent)
		}

		objs[3] = object(t, configMap(ns, "32"))
		results, err = f.manager.Apply(t.Context(), region, objs...)
		if err != nil {
			t.Fatal(err)
		}
		if got := actions(results); got["configmap orders-config"] != "Configured" || got["service orders"] != "Unchanged" ||
			got["statefulset orders-dc1-r1"] != "Unchanged" {
			t.Errorf("after a change of the ConfigMap: %v", got)
		}
		cm, err := client.CoreV1().ConfigMaps(ns).Get(t.Context(), "orders-config", metav1.GetOptions{})
		if err != nil || cm.Data["num_tokens"] != "32" {
			t.Errorf("live ConfigMap %v, %v", cm.Data, err)
		}
	})

	t.Run("DriftIsTakenBack", func(t *testing.T) {
		const ns = "drift"
		want := object(t, configMap(ns, "16"))
		if _, err := f.manager.Apply(t.Context(), region, want); err != nil {
			t.Fatal(err)
		}
		// Someone edits the object by hand: a conflicting value, and a
		// label of their own.
		patch := `{"metadata":{"labels":{"owner":"alice"}},"data":{"num_tokens":"256"}}`
		if _, err := client.CoreV1().ConfigMaps(ns).Patch(t.Context(), "orders-config", types.MergePatchType,
			[]byte(patch), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
			t.Fatal(err)
		}
		r, err := f.manager.ApplyObject(t.Context(), region, want)
		if err != nil || r.Action != kube.Configured {
			t.Fatalf("apply after drift: %v, %v", r, err)
		}
		cm, err := client.CoreV1().ConfigMaps(ns).Get(t.Context(), "orders-config", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if cm.Data["num_tokens"] != "16" || cm.Labels["owner"] != "alice" {
			t.Errorf("after apply: data %v labels %v; want ringops' value back and the other's own label kept", cm.Data, cm.Labels)
		}
		if owners := fieldOwners(cm.ManagedFields, "f:num_tokens"); owners != "ringops" {
			t.Errorf("data.num_tokens is owned by %q, want ringops alone", owners)
		}
		if owners := fieldOwners(cm.ManagedFields, "f:owner"); owners != "kubectl-edit" {
			t.Errorf("the label owner is owned by %q, want kubectl-edit", owners)
		}
		if r, err := f.manager.ApplyObject(t.Context(), region, want); err != nil || r.Action != kube.Unchanged {
			t.Errorf("apply again: %v, %v", r, err)
		}
	})

	t.Run("ResourceVersionPrecondition", func(t *testing.T) {
		const ns = "precondition"
		results, err := f.manager.Apply(t.Context(), region, object(t, configMap(ns, "16")))
		if err != nil {
			t.Fatal(err)
		}
		observed := results[len(results)-1].Ref.ResourceVersion
		patch := `{"data":{"other":"x"}}`
		if _, err := client.CoreV1().ConfigMaps(ns).Patch(t.Context(), "orders-config", types.MergePatchType,
			[]byte(patch), metav1.PatchOptions{FieldManager: "someone"}); err != nil {
			t.Fatal(err)
		}
		stale := object(t, configMap(ns, "32"))
		stale.SetResourceVersion(observed)
		_, err = f.manager.ApplyObject(t.Context(), region, stale)
		if !errors.Is(err, kube.ErrConflict) || !apierrors.IsConflict(err) {
			t.Errorf("apply over a changed object: %v, want ErrConflict (409)", err)
		}
		if !strings.HasPrefix(fmt.Sprint(err), "context eu-west: configmap orders-config: ") {
			t.Errorf("error subject: %v", err)
		}
		cm, _ := client.CoreV1().ConfigMaps(ns).Get(t.Context(), "orders-config", metav1.GetOptions{})
		if cm.Data["num_tokens"] != "16" {
			t.Errorf("the stale apply wrote: %v", cm.Data)
		}
		fresh := object(t, configMap(ns, "32"))
		fresh.SetResourceVersion(cm.ResourceVersion)
		if r, err := f.manager.ApplyObject(t.Context(), region, fresh); err != nil || r.Action != kube.Configured {
			t.Errorf("apply over the current version: %v, %v", r, err)
		}
		gone := object(t, configMap(ns, "32"))
		gone.SetName("never-created")
		gone.SetResourceVersion(cm.ResourceVersion)
		if _, err := f.manager.ApplyObject(t.Context(), region, gone); !errors.Is(err, kube.ErrConflict) {
			t.Errorf("apply with a resourceVersion of an object that does not exist: %v", err)
		}
	})

	t.Run("ImmutableAndRecreate", func(t *testing.T) { testRecreate(t, f, client) })
	t.Run("RecreateDryRunsTheReplacement", func(t *testing.T) { testRecreateInvalid(t, f, client) })
	t.Run("NoTakeoverWithoutAdopt", func(t *testing.T) { testTakeover(t, f, client) })
	t.Run("AdoptCassKop", func(t *testing.T) { testAdoptCassKop(t, f, client) })
	t.Run("Prune", func(t *testing.T) { testPrune(t, f, client) })
	t.Run("PVCs", func(t *testing.T) { testPVCs(t, f, client) })
	t.Run("DeleteStatefulSet", func(t *testing.T) { testDeleteStatefulSet(t, f, client) })
}

// fieldOwners lists the managers whose managedFields mention field.
func fieldOwners(entries []metav1.ManagedFieldsEntry, field string) string {
	var owners []string
	for _, e := range entries {
		if e.FieldsV1 != nil && strings.Contains(e.FieldsV1.GetRawString(), `"`+field+`"`) {
			owners = append(owners, e.Manager)
		}
	}
	return strings.Join(owners, ",")
}

// testRecreate: a change of volumeClaimTemplates fails with ErrImmutable
// and writes nothing; RecreateStatefulSet replaces the StatefulSet and the
// pod and its PVC live on (same UIDs), adopted by the new StatefulSet.
func testRecreate(t *testing.T, f *fixture, client kubernetes.Interface) {
	const ns = "recreate"
	if _, err := f.manager.Apply(t.Context(), region, object(t, statefulSet(ns, 1, "1Gi"))); err != nil {
		t.Fatal(err)
	}
	pod, pvc := waitPodAndClaim(t, client, ns, "orders-dc1-r1-0", "data-orders-dc1-r1-0")
	live, err := client.AppsV1().StatefulSets(ns).Get(t.Context(), "orders-dc1-r1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	bigger := object(t, statefulSet(ns, 1, "2Gi"))
	_, err = f.manager.ApplyObject(t.Context(), region, bigger)
	if !errors.Is(err, kube.ErrImmutable) || !apierrors.IsInvalid(err) {
		t.Fatalf("apply of a new volumeClaimTemplate: %v, want ErrImmutable", err)
	}
	// The controller may write the status meanwhile (the pod turning
	// ready): what ringops would have written is the generation (the
	// spec), the labels, the annotations and its managed fields.
	if again, _ := client.AppsV1().StatefulSets(ns).Get(t.Context(), "orders-dc1-r1", metav1.GetOptions{}); again.Generation != live.Generation ||
		!reflect.DeepEqual(again.Spec, live.Spec) || !reflect.DeepEqual(again.Labels, live.Labels) ||
		!reflect.DeepEqual(again.Annotations, live.Annotations) || fieldOwners(again.ManagedFields, "spec") != fieldOwners(live.ManagedFields, "spec") {
		t.Errorf("the refused apply wrote (generation %d -> %d, resourceVersion %s -> %s)", live.Generation, again.Generation, live.ResourceVersion, again.ResourceVersion)
	}

	target := kube.Ref{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: ns, Name: live.Name,
		UID: string(live.UID), ResourceVersion: "1"}
	if _, err := f.manager.RecreateStatefulSet(t.Context(), region, target, bigger); !errors.Is(err, kube.ErrConflict) {
		t.Errorf("recreate with a stale resourceVersion: %v, want ErrConflict", err)
	}
	// As the executor does, observe again and retry on a conflict: the
	// StatefulSet controller's status writes move the resourceVersion.
	var r kube.Result
	for range 5 {
		cur, gerr := client.AppsV1().StatefulSets(ns).Get(t.Context(), live.Name, metav1.GetOptions{})
		if gerr != nil {
			t.Fatal(gerr)
		}
		target.ResourceVersion = cur.ResourceVersion
		if r, err = f.manager.RecreateStatefulSet(t.Context(), region, target, bigger); !errors.Is(err, kube.ErrConflict) {
			break
		}
	}
	if err != nil || r.Action != kube.Recreated || r.Ref.UID == string(live.UID) {
		t.Fatalf("recreate: %v (uid %s, was %s), %v", r, r.Ref.UID, live.UID, err)
	}
	eventually(t, time.Minute, "the new StatefulSet adopts the pod", func(ctx context.Context) (bool, string) {
		p, err := client.CoreV1().Pods(ns).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if p.UID != pod.UID {
			return false, "the pod was replaced"
		}
		owner := metav1.GetControllerOf(p)
		return owner != nil && string(owner.UID) == r.Ref.UID, fmt.Sprintf("owner %v", owner)
	})
	claim, err := client.CoreV1().PersistentVolumeClaims(ns).Get(t.Context(), pvc.Name, metav1.GetOptions{})
	if err != nil || claim.UID != pvc.UID || claim.DeletionTimestamp != nil || claim.Spec.Resources.Requests.Storage().String() != "1Gi" {
		t.Errorf("the PVC after recreate: %v, %v; want it untouched", claim, err)
	}
	p, err := client.CoreV1().Pods(ns).Get(t.Context(), pod.Name, metav1.GetOptions{})
	if err != nil || p.UID != pod.UID || p.DeletionTimestamp != nil {
		t.Errorf("the pod after recreate: %v, %v; want it untouched", p, err)
	}
	if r, err := f.manager.ApplyObject(t.Context(), region, bigger); err != nil || r.Action != kube.Unchanged {
		t.Errorf("apply after recreate: %v, %v", r, err)
	}
}

// testRecreateInvalid: a replacement the API server would refuse (a
// selector that does not match the pod template: what a Component
// changing selector labels made) is found by a dry run before anything is
// deleted; the live StatefulSet stays (issue 21: it was deleted, then its
// replacement refused).
func testRecreateInvalid(t *testing.T, f *fixture, client kubernetes.Interface) {
	const ns = "recreate-invalid"
	if _, err := f.manager.Apply(t.Context(), region, object(t, statefulSet(ns, 1, "1Gi"))); err != nil {
		t.Fatal(err)
	}
	live, err := client.AppsV1().StatefulSets(ns).Get(t.Context(), "orders-dc1-r1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	broken := object(t, statefulSet(ns, 1, "1Gi"))
	if err := unstructured.SetNestedStringMap(broken.Object, map[string]string{"team": "db"}, "spec", "selector", "matchLabels"); err != nil {
		t.Fatal(err)
	}
	target := kube.Ref{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: ns, Name: live.Name,
		UID: string(live.UID), ResourceVersion: live.ResourceVersion}
	_, err = f.manager.RecreateStatefulSet(t.Context(), region, target, broken)
	if !errors.Is(err, kube.ErrReplacementInvalid) {
		t.Fatalf("recreate with an invalid replacement: %v, want ErrReplacementInvalid", err)
	}
	again, err := client.AppsV1().StatefulSets(ns).Get(t.Context(), live.Name, metav1.GetOptions{})
	if err != nil || again.UID != live.UID || again.DeletionTimestamp != nil {
		t.Errorf("the live StatefulSet after a refused recreate: %v, %v; want it untouched", again, err)
	}
}

// testTakeover: a live object of the same name that ringops did not
// create (issue 21: the planner, which sees only labelled objects,
// "created" it and force-applied over it) is refused with ErrNotOwned
// and left as it is, unless the object applied says to adopt it.
func testTakeover(t *testing.T, f *fixture, client kubernetes.Interface) {
	const ns = "takeover"
	if _, err := client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	theirs := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "orders-config", Namespace: ns, Labels: map[string]string{"app.kubernetes.io/managed-by": "casskop"}},
		Data: map[string]string{"owner": "casskop"}}
	live, err := client.CoreV1().ConfigMaps(ns).Create(t.Context(), theirs, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ours := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "orders-config", "namespace": ns, "labels": map[string]any{"app.kubernetes.io/managed-by": "ringops"}},
		"data":     map[string]any{"owner": "ringops"}}}
	if _, err := f.manager.ApplyObject(t.Context(), region, ours); !errors.Is(err, kube.ErrNotOwned) {
		t.Fatalf("apply over an object ringops did not create: %v, want ErrNotOwned", err)
	}
	again, err := client.CoreV1().ConfigMaps(ns).Get(t.Context(), "orders-config", metav1.GetOptions{})
	if err != nil || again.ResourceVersion != live.ResourceVersion {
		t.Fatalf("the refused apply wrote: %v, %v", again, err)
	}
	ours.SetAnnotations(map[string]string{"ringops.dev/adopt": "true"})
	r, err := f.manager.ApplyObject(t.Context(), region, ours)
	if err != nil || r.Action != kube.Configured || r.Object.GetLabels()["app.kubernetes.io/managed-by"] != "ringops" {
		t.Fatalf("adopt: %v, %v", r, err)
	}

	// CassKop's objects are refused without spec.adopt, and say how to
	// adopt them (#20; testAdoptCassKop adopts them).
	casskop := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "orders-casskop", Namespace: ns,
		Labels: map[string]string{"app": "cassandracluster", "cassandracluster": "orders"}}}
	live, err = client.CoreV1().ConfigMaps(ns).Create(t.Context(), casskop, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ours.SetName("orders-casskop")
	ours.SetAnnotations(nil)
	_, err = f.manager.ApplyObject(t.Context(), region, ours)
	if !errors.Is(err, kube.ErrNotOwned) || !strings.Contains(err.Error(), "made by CassKop (label app=cassandracluster): set spec.adopt: true") {
		t.Fatalf("apply over an object CassKop made: %v, want ErrNotOwned naming CassKop", err)
	}
	if again, err := client.CoreV1().ConfigMaps(ns).Get(t.Context(), "orders-casskop", metav1.GetOptions{}); err != nil || again.ResourceVersion != live.ResourceVersion {
		t.Fatalf("the refused adoption wrote: %v, %v", again, err)
	}
}

func waitPodAndClaim(t *testing.T, client kubernetes.Interface, ns, podName, claimName string) (*corev1.Pod, *corev1.PersistentVolumeClaim) {
	t.Helper()
	var (
		pod *corev1.Pod
		pvc *corev1.PersistentVolumeClaim
	)
	eventually(t, time.Minute, "the StatefulSet's pod and PVC exist", func(ctx context.Context) (bool, string) {
		var err error
		if pod, err = client.CoreV1().Pods(ns).Get(ctx, podName, metav1.GetOptions{}); err != nil {
			return false, err.Error()
		}
		if pvc, err = client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claimName, metav1.GetOptions{}); err != nil {
			return false, err.Error()
		}
		return pvc.Status.Phase == corev1.ClaimBound, "claim " + string(pvc.Status.Phase)
	})
	return pod, pvc
}
