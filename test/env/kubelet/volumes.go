package kubelet

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Provisioner is the value of the pv.kubernetes.io/provisioned-by
// annotation on the volumes the kubelet provisions.
const Provisioner = "sim.ringops.dev"

const annProvisionedBy = "pv.kubernetes.io/provisioned-by"

// syncClaim provisions a volume for a pending claim: a PersistentVolume
// pre-bound to it, which the persistentvolume-binder controller binds.
func (k *Kubelet) syncClaim(namespace, name string) error {
	pvc, err := k.claims.PersistentVolumeClaims(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if pvc.DeletionTimestamp != nil || pvc.Spec.VolumeName != "" || pvc.Status.Phase != corev1.ClaimPending {
		return nil
	}
	pvName := "pvc-" + string(pvc.UID)
	if _, err := k.volumes.Get(pvName); err == nil {
		return nil
	}
	_, err = k.client.CoreV1().PersistentVolumes().Create(k.ctx, volumeFor(pvc, pvName), metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("claim %s/%s: provision: %w", namespace, name, err)
	}
	k.opts.Logf("kubelet %s: claim %s/%s: provisioned %s", k.opts.Region, namespace, name, pvName)
	return nil
}

func volumeFor(pvc *corev1.PersistentVolumeClaim, name string) *corev1.PersistentVolume {
	size, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		size = resource.MustParse("1Gi")
	}
	modes := pvc.Spec.AccessModes
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{annProvisionedBy: Provisioner}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   modes,
			StorageClassName:              class,
			VolumeMode:                    pvc.Spec.VolumeMode,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			ClaimRef: &corev1.ObjectReference{
				APIVersion: "v1", Kind: "PersistentVolumeClaim",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/ringops-sim/" + name},
			},
		},
	}
}

// syncVolume deletes a volume it provisioned once its claim is gone
// (reclaim policy Delete).
func (k *Kubelet) syncVolume(name string) error {
	pv, err := k.volumes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if pv.Annotations[annProvisionedBy] != Provisioner || pv.DeletionTimestamp != nil ||
		pv.Status.Phase != corev1.VolumeReleased ||
		pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		return nil
	}
	err = k.client.CoreV1().PersistentVolumes().Delete(k.ctx, name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &pv.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("volume %s: delete: %w", name, err)
	}
	k.forgetClaimVolume(name)
	k.opts.Logf("kubelet %s: volume %s: deleted (released)", k.opts.Region, name)
	return nil
}
