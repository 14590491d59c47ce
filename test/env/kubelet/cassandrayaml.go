package kubelet

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// overridesPath is where render's init container "config" reads the
// settings it appends to cassandra.yaml (the ConfigMap <cluster>-config,
// key cassandra-overrides.yaml; render/pod.go, configScript).
const overridesPath = "/overrides/cassandra-overrides.yaml"

// authenticator is cassandra.yaml's authenticator as the pod's init
// containers leave it: the class name the overrides set (a string, or
// 5.0's {class_name: ...}), "" when none sets one (the image's
// AllowAllAuthenticator).
func (k *Kubelet) authenticator(ctx context.Context, pod *corev1.Pod) (string, error) {
	for i := range pod.Spec.InitContainers {
		ic := &pod.Spec.InitContainers[i]
		b, ok, err := k.mountLookup(ctx, pod, ic.VolumeMounts)(overridesPath)
		if err != nil || !ok {
			if err != nil {
				return "", fmt.Errorf("init container %s: %w", ic.Name, err)
			}
			continue
		}
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			return "", fmt.Errorf("%w: init container %s: %s: %w", errConfig, ic.Name, overridesPath, err)
		}
		switch a := m["authenticator"].(type) {
		case string:
			return a, nil
		case map[string]any:
			return fmt.Sprint(a["class_name"]), nil
		}
	}
	return "", nil
}
