package kubelet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Volumes as host directories, for runtimes that run pods for real
// (Options.VolumeRoot set):
//
//	<root>/volumes/<pv>         a claim's volume: created at its first use,
//	                            removed when the provisioner deletes its
//	                            PersistentVolume (the data goes with it)
//	<root>/pods/<uid>/<volume>  emptyDir, configMap and secret volumes of one
//	                            pod, removed when the pod is gone

// materialize returns the host directory of every volume of pod.
func (k *Kubelet) materialize(ctx context.Context, pod *corev1.Pod) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		dir, err := k.volumeDir(ctx, pod, v)
		if err != nil {
			return nil, fmt.Errorf("volume %s: %w", v.Name, err)
		}
		if dir != "" {
			out[v.Name] = dir
		}
	}
	return out, nil
}

func (k *Kubelet) volumeDir(ctx context.Context, pod *corev1.Pod, v corev1.Volume) (string, error) {
	podDir := filepath.Join(k.opts.VolumeRoot, "pods", string(pod.UID), v.Name)
	switch {
	case v.PersistentVolumeClaim != nil:
		pvc, err := k.claims.PersistentVolumeClaims(pod.Namespace).Get(v.PersistentVolumeClaim.ClaimName)
		if err != nil {
			return "", fmt.Errorf("%w: %w", errConfig, err)
		}
		name := pvc.Spec.VolumeName
		if name == "" {
			name = "pvc-" + string(pvc.UID)
		}
		dir := k.claimDir(name)
		return dir, os.MkdirAll(dir, 0o755)
	case v.EmptyDir != nil, v.Projected != nil, v.DownwardAPI != nil:
		// Projected (service account token) and downward API volumes are
		// empty here: nothing in a Cassandra pod reads them.
		return podDir, os.MkdirAll(podDir, 0o755)
	case v.ConfigMap != nil:
		cm, err := k.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
		if err != nil {
			return "", optional(v.ConfigMap.Optional, fmt.Errorf("%w: configmap %q: %w", errConfig, v.ConfigMap.Name, err))
		}
		files := map[string][]byte{}
		for key, val := range cm.Data {
			files[key] = []byte(val)
		}
		for key, val := range cm.BinaryData {
			files[key] = val
		}
		return podDir, writeFiles(podDir, files, v.ConfigMap.Items)
	case v.Secret != nil:
		s, err := k.client.CoreV1().Secrets(pod.Namespace).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
		if err != nil {
			return "", optional(v.Secret.Optional, fmt.Errorf("%w: secret %q: %w", errConfig, v.Secret.SecretName, err))
		}
		return podDir, writeFiles(podDir, s.Data, v.Secret.Items)
	}
	return "", nil
}

// writeFiles writes a configMap's or secret's keys (or the items chosen)
// into dir, afresh.
func writeFiles(dir string, data map[string][]byte, items []corev1.KeyToPath) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	paths := map[string]string{}
	for key := range data {
		paths[key] = key
	}
	if len(items) > 0 {
		paths = map[string]string{}
		for _, it := range items {
			paths[it.Key] = it.Path
		}
	}
	for key, rel := range paths {
		val, ok := data[key]
		if !ok {
			return fmt.Errorf("%w: no key %q", errConfig, key)
		}
		p := filepath.Join(dir, filepath.Clean("/"+rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, val, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (k *Kubelet) claimDir(pv string) string {
	return filepath.Join(k.opts.VolumeRoot, "volumes", pv)
}

// forgetPodVolumes removes the pod's own volumes (not its claims').
func (k *Kubelet) forgetPodVolumes(r *runner) {
	if k.opts.VolumeRoot == "" {
		return
	}
	_ = os.RemoveAll(filepath.Join(k.opts.VolumeRoot, "pods", string(r.uid)))
}

// forgetClaimVolume removes the data of a deleted PersistentVolume.
func (k *Kubelet) forgetClaimVolume(pv string) {
	if k.opts.VolumeRoot == "" {
		return
	}
	_ = os.RemoveAll(k.claimDir(pv))
}
