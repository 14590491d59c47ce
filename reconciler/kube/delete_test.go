package kube_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/kube"
)

// testPrune: prune deletes what ringops created and refuses everything
// that holds data or is not ringops'.
func testPrune(t *testing.T, f *fixture, client kubernetes.Interface) {
	const ns = "prune"
	results, err := f.manager.Apply(t.Context(), region, object(t, configMap(ns, "16")), object(t, statefulSet(ns, 1, "1Gi")))
	if err != nil {
		t.Fatal(err)
	}
	cm, sts := results[1].Ref, results[2].Ref
	pod, pvc := waitPodAndClaim(t, client, ns, "orders-dc1-r1-0", "data-orders-dc1-r1-0")
	nsObj, err := client.CoreV1().Namespaces().Get(t.Context(), ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	refused := []kube.Ref{
		sts,
		{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: pod.Name, UID: string(pod.UID)},
		{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: ns, Name: pvc.Name, UID: string(pvc.UID)},
		{APIVersion: "v1", Kind: "Namespace", Name: ns, UID: string(nsObj.UID)},
	}
	for _, ref := range refused {
		if _, err := f.manager.Prune(t.Context(), region, ref); !errors.Is(err, kube.ErrNotPrunable) {
			t.Errorf("prune %s: %v, want ErrNotPrunable", ref, err)
		}
	}
	assertExists(t, client, ns, pod, pvc)
	if _, err := client.AppsV1().StatefulSets(ns).Get(t.Context(), sts.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("the StatefulSet after the refused prune: %v", err)
	}

	foreign, err := client.CoreV1().ConfigMaps(ns).Create(t.Context(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "someone-elses", Labels: map[string]string{"ringops.dev/cluster": "orders"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	foreignRef := kube.Ref{APIVersion: "v1", Kind: "ConfigMap", Namespace: ns, Name: foreign.Name, UID: string(foreign.UID)}
	if _, err := f.manager.Prune(t.Context(), region, foreignRef); !errors.Is(err, kube.ErrNotPrunable) {
		t.Errorf("prune of an object not managed by ringops: %v", err)
	}

	stale := cm
	stale.UID = "00000000-0000-0000-0000-000000000000"
	if _, err := f.manager.Prune(t.Context(), region, stale); !errors.Is(err, kube.ErrConflict) {
		t.Errorf("prune with another uid: %v, want ErrConflict", err)
	}
	if r, err := f.manager.Prune(t.Context(), region, cm); err != nil || r.Action != kube.Deleted {
		t.Fatalf("prune: %v, %v", r, err)
	}
	if _, err := client.CoreV1().ConfigMaps(ns).Get(t.Context(), cm.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the pruned ConfigMap: %v", err)
	}
	if r, err := f.manager.Prune(t.Context(), region, cm); err != nil || r.Action != kube.Skipped {
		t.Errorf("prune again: %v, %v", r, err)
	}
}

func assertExists(t *testing.T, client kubernetes.Interface, ns string, pod *corev1.Pod, pvc *corev1.PersistentVolumeClaim) {
	t.Helper()
	if p, err := client.CoreV1().Pods(ns).Get(t.Context(), pod.Name, metav1.GetOptions{}); err != nil || p.UID != pod.UID || p.DeletionTimestamp != nil {
		t.Errorf("pod %s: %v", pod.Name, err)
	}
	if c, err := client.CoreV1().PersistentVolumeClaims(ns).Get(t.Context(), pvc.Name, metav1.GetOptions{}); err != nil || c.UID != pvc.UID || c.DeletionTimestamp != nil {
		t.Errorf("pvc %s: %v", pvc.Name, err)
	}
}

// testPVCs: a PVC is deleted only once marked decommissioned, and only
// at the observed version; marking and expanding write only when needed.
func testPVCs(t *testing.T, f *fixture, client kubernetes.Interface) {
	const ns = "claims"
	if _, err := f.manager.Apply(t.Context(), region, object(t, configMap(ns, "16"))); err != nil {
		t.Fatal(err)
	}
	pvc := createClaim(t, client, ns, "data-orders-dc1-r1-2")
	ref := kube.Ref{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: ns, Name: pvc.Name,
		UID: string(pvc.UID), ResourceVersion: pvc.ResourceVersion}
	if _, err := f.manager.DeletePVC(t.Context(), region, ref); !errors.Is(err, kube.ErrNotDecommissioned) {
		t.Errorf("delete of a PVC not marked: %v, want ErrNotDecommissioned", err)
	}
	if _, err := client.CoreV1().PersistentVolumeClaims(ns).Get(t.Context(), pvc.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("the PVC after the refused delete: %v", err)
	}

	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	if r, err := f.manager.MarkPVCDecommissioned(t.Context(), region, ns, pvc.Name, at); err != nil || r.Action != kube.Configured {
		t.Fatalf("mark: %v, %v", r, err)
	}
	before := f.counter.Counts(region)
	if r, err := f.manager.MarkPVCDecommissioned(t.Context(), region, ns, pvc.Name, at.Add(time.Hour)); err != nil || r.Action != kube.Unchanged {
		t.Errorf("mark again: %v, %v", r, err)
	}
	if spent := f.counter.Counts(region).Sub(before); spent.Writes() != 0 {
		t.Errorf("marking a marked PVC wrote: %s", spent)
	}
	if r, err := f.manager.MarkPVCDecommissioned(t.Context(), region, ns, "no-such-claim", at); err != nil || r.Action != kube.Skipped {
		t.Errorf("mark a missing PVC: %v, %v", r, err)
	}
	marked, err := client.CoreV1().PersistentVolumeClaims(ns).Get(t.Context(), pvc.Name, metav1.GetOptions{})
	if err != nil || marked.Annotations[contract.AnnotationDecommissioned] != "2026-05-01T10:00:00Z" {
		t.Fatalf("annotation after marking twice: %v, %v", marked.Annotations, err)
	}

	testExpand(t, f, client, marked)
	marked, _ = client.CoreV1().PersistentVolumeClaims(ns).Get(t.Context(), pvc.Name, metav1.GetOptions{})

	if _, err := f.manager.DeletePVC(t.Context(), region, ref); !errors.Is(err, kube.ErrConflict) {
		t.Errorf("delete at a stale resourceVersion: %v, want ErrConflict", err)
	}
	ref.ResourceVersion = marked.ResourceVersion
	if r, err := f.manager.DeletePVC(t.Context(), region, ref); err != nil || r.Action != kube.Deleted {
		t.Errorf("delete of a marked PVC: %v, %v", r, err)
	}
	if r, err := f.manager.DeletePVC(t.Context(), region, ref); err != nil || r.Action != kube.Skipped {
		t.Errorf("delete again: %v, %v", r, err)
	}
}

// testExpand grows a bound PVC of an expandable StorageClass.
func testExpand(t *testing.T, f *fixture, client kubernetes.Interface, pvc *corev1.PersistentVolumeClaim) {
	t.Helper()
	ref := kube.Ref{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: pvc.Namespace, Name: pvc.Name,
		UID: string(pvc.UID), ResourceVersion: pvc.ResourceVersion}
	if r, err := f.manager.ExpandPVC(t.Context(), region, ref, "1Gi"); err != nil || r.Action != kube.Unchanged {
		t.Errorf("expand to the same size: %v, %v", r, err)
	}
	if _, err := f.manager.ExpandPVC(t.Context(), region, ref, "512Mi"); !errors.Is(err, kube.ErrInvalidRequest) {
		t.Errorf("shrink: %v, want ErrInvalidRequest", err)
	}
	r, err := f.manager.ExpandPVC(t.Context(), region, ref, "2Gi")
	if err != nil || r.Action != kube.Configured {
		t.Fatalf("expand: %v, %v", r, err)
	}
	live, err := client.CoreV1().PersistentVolumeClaims(pvc.Namespace).Get(t.Context(), pvc.Name, metav1.GetOptions{})
	if err != nil || live.Spec.Resources.Requests.Storage().String() != "2Gi" {
		t.Errorf("request after expand: %v, %v", live.Spec.Resources.Requests, err)
	}
	if _, err := f.manager.ExpandPVC(t.Context(), region, ref, "3Gi"); !errors.Is(err, kube.ErrConflict) {
		t.Errorf("expand at a stale resourceVersion: %v, want ErrConflict", err)
	}
}

// createClaim creates a bound PVC of an expandable StorageClass, as a
// StatefulSet's volumeClaimTemplate would.
func createClaim(t *testing.T, client kubernetes.Interface, ns, name string) *corev1.PersistentVolumeClaim {
	t.Helper()
	expand := true
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "expandable"}, Provisioner: "ringops.dev/sim", AllowVolumeExpansion: &expand}
	if _, err := client.StorageV1().StorageClasses().Create(t.Context(), sc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	class := sc.Name
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"ringops.dev/cluster": "orders"}},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: &class,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	if _, err := client.CoreV1().PersistentVolumeClaims(ns).Create(t.Context(), pvc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var bound *corev1.PersistentVolumeClaim
	eventually(t, time.Minute, "the claim is bound", func(ctx context.Context) (bool, string) {
		var err error
		if bound, err = client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
			return false, err.Error()
		}
		return bound.Status.Phase == corev1.ClaimBound, string(bound.Status.Phase)
	})
	return bound
}

// testDeleteStatefulSet: a StatefulSet is deleted only at 0 replicas with
// no pod left, and its PVCs stay; a pod is deleted only by its UID.
func testDeleteStatefulSet(t *testing.T, f *fixture, client kubernetes.Interface) {
	const ns = "removed-dc"
	results, err := f.manager.Apply(t.Context(), region, object(t, statefulSet(ns, 1, "1Gi")))
	if err != nil {
		t.Fatal(err)
	}
	pod, pvc := waitPodAndClaim(t, client, ns, "orders-dc1-r1-0", "data-orders-dc1-r1-0")
	sts := results[len(results)-1].Ref
	if _, err := f.manager.DeleteStatefulSet(t.Context(), region, sts); !errors.Is(err, kube.ErrHoldsData) {
		t.Errorf("delete at 1 replica: %v, want ErrHoldsData", err)
	}
	// At 0 replicas, a pod matching the selector (here a stray one, not the
	// StatefulSet's) still refuses the delete.
	r, err := f.manager.ApplyObject(t.Context(), region, object(t, statefulSet(ns, 0, "1Gi")))
	if err != nil {
		t.Fatal(err)
	}
	stray := strayPod(t, client, ns)
	eventually(t, time.Minute, "the StatefulSet's pod is gone", func(ctx context.Context) (bool, string) {
		_, err := client.CoreV1().Pods(ns).Get(ctx, pod.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	if _, err := f.manager.DeleteStatefulSet(t.Context(), region, r.Ref); !errors.Is(err, kube.ErrHoldsData) {
		t.Errorf("delete with a pod left: %v, want ErrHoldsData", err)
	}
	if _, err := f.manager.DeletePod(t.Context(), region, ns, stray.Name, "00000000-0000-0000-0000-000000000000"); !errors.Is(err, kube.ErrConflict) {
		t.Errorf("delete of a pod by another uid: %v, want ErrConflict", err)
	}
	if r, err := f.manager.DeletePod(t.Context(), region, ns, stray.Name, string(stray.UID)); err != nil || r.Action != kube.Deleted {
		t.Errorf("delete pod: %v, %v", r, err)
	}
	eventually(t, time.Minute, "the stray pod is gone", func(ctx context.Context) (bool, string) {
		_, err := client.CoreV1().Pods(ns).Get(ctx, stray.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	// The StatefulSet controller wrote its status since: delete at the
	// version observed now, as the planner does.
	live, err := client.AppsV1().StatefulSets(ns).Get(t.Context(), r.Ref.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	current := r.Ref
	current.ResourceVersion = live.ResourceVersion
	if res, err := f.manager.DeleteStatefulSet(t.Context(), region, current); err != nil || res.Action != kube.Deleted {
		t.Fatalf("delete at 0 replicas with no pod: %v, %v", res, err)
	}
	if c, err := client.CoreV1().PersistentVolumeClaims(ns).Get(t.Context(), pvc.Name, metav1.GetOptions{}); err != nil || c.DeletionTimestamp != nil {
		t.Errorf("the PVC after the StatefulSet's delete: %v", err)
	}
}

func strayPod(t *testing.T, client kubernetes.Interface, ns string) *corev1.Pod {
	t.Helper()
	grace := int64(1)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "stray", Labels: map[string]string{"ringops.dev/cluster": "orders", "ringops.dev/rack": "r1"}},
		Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{{Name: "cassandra", Image: "cassandra:4.1.5"}}},
	}
	created, err := client.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return created
}
