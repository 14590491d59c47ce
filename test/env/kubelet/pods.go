package kubelet

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
)

// syncPod schedules a pending pod, or starts, stops or finalises the
// container of a pod bound to one of this kubelet's nodes.
func (k *Kubelet) syncPod(namespace, name string) error {
	key := namespace + "/" + name
	pod, err := k.pods.Pods(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		k.abandon(key, "")
		return nil
	}
	if err != nil {
		return err
	}
	if pod.Spec.NodeName == "" {
		if pod.DeletionTimestamp != nil {
			return k.deletePod(pod.Namespace, pod.Name, pod.UID)
		}
		return k.schedule(pod)
	}
	if !isMine(k, pod) {
		return nil
	}
	k.abandon(key, pod.UID) // an earlier pod of that name, if any
	k.mu.Lock()
	r := k.runners[key]
	k.mu.Unlock()
	switch {
	case pod.DeletionTimestamp != nil && r == nil:
		return k.deletePod(pod.Namespace, pod.Name, pod.UID)
	case pod.DeletionTimestamp != nil:
		r.terminate()
	case r == nil && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed:
		k.startRunner(pod)
	}
	return nil
}

// abandon kills the container of a pod that is gone, unless it is the pod
// with UID keep, and waits for its runner to end.
func (k *Kubelet) abandon(key string, keep types.UID) {
	k.mu.Lock()
	r := k.runners[key]
	k.mu.Unlock()
	if r == nil || r.uid == keep {
		return
	}
	r.abandon()
	<-r.done
}

func (k *Kubelet) startRunner(pod *corev1.Pod) {
	r := newRunner(k, pod)
	k.mu.Lock()
	k.runners[r.key] = r
	k.mu.Unlock()
	k.opts.Logf("kubelet %s: pod %s on %s: starting", k.opts.Region, r.key, r.node)
	go r.run()
}

// forget drops a finished runner.
func (k *Kubelet) forget(r *runner) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.runners[r.key] == r {
		delete(k.runners, r.key)
	}
}

// deletePod removes a pod for good (grace period 0), if it is still the pod
// with that UID: the kubelet's last word on a terminated pod.
func (k *Kubelet) deletePod(namespace, name string, uid types.UID) error {
	zero := int64(0)
	err := k.client.CoreV1().Pods(namespace).Delete(k.ctx, name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero,
		Preconditions:      &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("pod %s/%s: delete: %w", namespace, name, err)
	}
	k.opts.Logf("kubelet %s: pod %s/%s: deleted", k.opts.Region, namespace, name)
	return nil
}

// updatePodStatus applies mutate to the status of the pod with that UID
// and writes it when it changed.
func (k *Kubelet) updatePodStatus(ctx context.Context, namespace, name string, uid types.UID, mutate func(*corev1.PodStatus)) error {
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		pod, err := k.client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("pod %s/%s: get: %w", namespace, name, err)
		}
		if pod.UID != uid {
			return nil
		}
		st := pod.Status.DeepCopy()
		mutate(st)
		if equality.Semantic.DeepEqual(st, &pod.Status) {
			return nil
		}
		pod.Status = *st
		if _, err := k.client.CoreV1().Pods(namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("pod %s/%s: update status: %w", namespace, name, err)
		}
		return nil
	})
}

// setCondition sets a condition, keeping its transition time when its status
// does not change.
func setCondition(conds *[]corev1.PodCondition, c corev1.PodCondition) {
	now := metav1.Now()
	for i := range *conds {
		old := &(*conds)[i]
		if old.Type != c.Type {
			continue
		}
		c.LastTransitionTime = old.LastTransitionTime
		if old.Status != c.Status {
			c.LastTransitionTime = now
		}
		c.LastProbeTime = old.LastProbeTime
		*old = c
		return
	}
	c.LastTransitionTime = now
	*conds = append(*conds, c)
}
