package kubelet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Names of the pod contract (render/doc.go).
const (
	ContainerCassandra = "cassandra"
	PortJolokia        = "jolokia"
	VolumeData         = "data"

	envClusterName     = "CASSANDRA_CLUSTER_NAME"
	envDC              = "CASSANDRA_DC"
	envRack            = "CASSANDRA_RACK"
	envSeeds           = "CASSANDRA_SEEDS"
	envJolokiaUser     = "JOLOKIA_USER"
	envJolokiaPassword = "JOLOKIA_PASSWORD"

	// volumeJolokiaCredentials is the Secret volume the injected agent's
	// init container reads its credentials from (keys username, password).
	volumeJolokiaCredentials = "jolokia-credentials"
)

// errConfig marks a container that cannot be configured
// (CreateContainerConfigError): a missing Secret, ConfigMap or key.
var errConfig = errors.New("create container config")

// cassandraContainer returns the pod's "cassandra" container, or nil.
func cassandraContainer(pod *corev1.Pod) *corev1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == ContainerCassandra {
			return &pod.Spec.Containers[i]
		}
	}
	return nil
}

// spec reads the container's start configuration from the pod.
func (k *Kubelet) spec(ctx context.Context, pod *corev1.Pod, c *corev1.Container, ip string) (Spec, error) {
	env, err := k.environment(ctx, pod, c, ip)
	if err != nil {
		return Spec{}, err
	}
	key, err := k.dataKey(pod)
	if err != nil {
		return Spec{}, err
	}
	user, password := env[envJolokiaUser], env[envJolokiaPassword]
	if user == "" {
		if user, password, err = k.agentCredentials(ctx, pod); err != nil {
			return Spec{}, err
		}
	}
	s := Spec{
		Key: key, Pod: pod.Name, Namespace: pod.Namespace, Region: k.opts.Region, IP: ip,
		Object: pod, Env: env, GracePeriod: gracePeriod(pod),
		ClusterName: valueOr(env[envClusterName], "Test Cluster"),
		DC:          valueOr(env[envDC], "dc1"),
		Rack:        valueOr(env[envRack], "rack1"),
		JolokiaUser: user, JolokiaPassword: password,
		Image: c.Image,
	}
	if s.JolokiaAgents, err = k.jolokiaAgents(ctx, pod, c, env); err != nil {
		return Spec{}, err
	}
	if s.Authenticator, err = k.authenticator(ctx, pod); err != nil {
		return Spec{}, err
	}
	for _, seed := range strings.Split(env[envSeeds], ",") {
		if seed = strings.TrimSpace(seed); seed != "" {
			s.Seeds = append(s.Seeds, seed)
		}
	}
	for _, p := range c.Ports {
		if p.Name == PortJolokia {
			s.JolokiaPort = int(p.ContainerPort)
		}
	}
	if k.opts.VolumeRoot != "" {
		if s.Volumes, err = k.materialize(ctx, pod); err != nil {
			return Spec{}, err
		}
		s.InitEnv = map[string]map[string]string{}
		for i := range pod.Spec.InitContainers {
			ic := &pod.Spec.InitContainers[i]
			if s.InitEnv[ic.Name], err = k.environment(ctx, pod, ic, ip); err != nil {
				return Spec{}, fmt.Errorf("init container %s: %w", ic.Name, err)
			}
		}
	}
	return s, nil
}

// agentCredentials are those the injected agent asks for: the keys
// username and password of the Secret of the pod's volume
// jolokia-credentials, which its init container writes into the agent's
// options (render/doc.go); none without that volume. A missing Secret or
// key fails the pod's start, as the volume's mount would.
func (k *Kubelet) agentCredentials(ctx context.Context, pod *corev1.Pod) (string, string, error) {
	for _, v := range pod.Spec.Volumes {
		if v.Name != volumeJolokiaCredentials || v.Secret == nil {
			continue
		}
		s, err := k.client.CoreV1().Secrets(pod.Namespace).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
		if err != nil {
			return "", "", fmt.Errorf("%w: volume %s: secret %q: %w", errConfig, v.Name, v.Secret.SecretName, err)
		}
		user, password := s.Data["username"], s.Data["password"]
		if len(user) == 0 || len(password) == 0 {
			return "", "", fmt.Errorf("%w: volume %s: secret %q lacks username or password", errConfig, v.Name, v.Secret.SecretName)
		}
		return string(user), string(password), nil
	}
	return "", "", nil
}

// hostIP is the IP of the node named node (its InternalIP), "" for a
// node that is not one of this kubelet's.
func (k *Kubelet) hostIP(node string) string {
	for i := range k.opts.Nodes {
		if k.nodeName(i) == node {
			return k.opts.NodeIPs.IP(i)
		}
	}
	return ""
}

// gracePeriod is the pod's terminationGracePeriodSeconds (30 s when unset,
// as in Kubernetes).
func gracePeriod(pod *corev1.Pod) time.Duration {
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	return 30 * time.Second
}

func valueOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// dataKey is the UID of the claim behind the "data" volume, or the pod UID.
func (k *Kubelet) dataKey(pod *corev1.Pod) (string, error) {
	for _, v := range pod.Spec.Volumes {
		if v.Name != VolumeData || v.PersistentVolumeClaim == nil {
			continue
		}
		pvc, err := k.claims.PersistentVolumeClaims(pod.Namespace).Get(v.PersistentVolumeClaim.ClaimName)
		if err != nil {
			return "", fmt.Errorf("%w: volume %s: %w", errConfig, v.Name, err)
		}
		return string(pvc.UID), nil
	}
	return string(pod.UID), nil
}

// environment resolves the container's env as the kubelet does: envFrom,
// then env (value, secretKeyRef, configMapKeyRef, fieldRef).
func (k *Kubelet) environment(ctx context.Context, pod *corev1.Pod, c *corev1.Container, ip string) (map[string]string, error) {
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		data, err := k.envFromData(ctx, pod.Namespace, from)
		if err != nil {
			return nil, err
		}
		for key, v := range data {
			env[from.Prefix+key] = v
		}
	}
	for _, e := range c.Env {
		v, err := k.envValue(ctx, pod, e, ip)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		if e.ValueFrom == nil {
			v = expand(v, env)
		}
		env[e.Name] = v
	}
	return env, nil
}

// expand replaces $(NAME) by the value of a variable defined before, as the
// kubelet does; $$ is a literal $, and an unknown $(NAME) stays as written.
func expand(v string, env map[string]string) string {
	if !strings.Contains(v, "$") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '$' || i+1 == len(v) {
			b.WriteByte(v[i])
			continue
		}
		switch next := v[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i++
		case next == '(':
			end := strings.IndexByte(v[i+2:], ')')
			if end < 0 {
				b.WriteString(v[i:])
				return b.String()
			}
			name := v[i+2 : i+2+end]
			if val, ok := env[name]; ok {
				b.WriteString(val)
			} else {
				b.WriteString(v[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

func (k *Kubelet) envFromData(ctx context.Context, ns string, from corev1.EnvFromSource) (map[string]string, error) {
	switch {
	case from.SecretRef != nil:
		s, err := k.client.CoreV1().Secrets(ns).Get(ctx, from.SecretRef.Name, metav1.GetOptions{})
		if err != nil {
			return nil, optional(from.SecretRef.Optional, fmt.Errorf("%w: secret %q: %w", errConfig, from.SecretRef.Name, err))
		}
		out := map[string]string{}
		for key, v := range s.Data {
			out[key] = string(v)
		}
		return out, nil
	case from.ConfigMapRef != nil:
		cm, err := k.client.CoreV1().ConfigMaps(ns).Get(ctx, from.ConfigMapRef.Name, metav1.GetOptions{})
		if err != nil {
			return nil, optional(from.ConfigMapRef.Optional, fmt.Errorf("%w: configmap %q: %w", errConfig, from.ConfigMapRef.Name, err))
		}
		return cm.Data, nil
	}
	return nil, nil
}

func (k *Kubelet) envValue(ctx context.Context, pod *corev1.Pod, e corev1.EnvVar, ip string) (string, error) {
	from := e.ValueFrom
	switch {
	case from == nil:
		return e.Value, nil
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		s, err := k.client.CoreV1().Secrets(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return "", optional(ref.Optional, fmt.Errorf("%w: secret %q: %w", errConfig, ref.Name, err))
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			return "", optional(ref.Optional, fmt.Errorf("%w: secret %q has no key %q", errConfig, ref.Name, ref.Key))
		}
		return string(v), nil
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		cm, err := k.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return "", optional(ref.Optional, fmt.Errorf("%w: configmap %q: %w", errConfig, ref.Name, err))
		}
		v, ok := cm.Data[ref.Key]
		if !ok {
			return "", optional(ref.Optional, fmt.Errorf("%w: configmap %q has no key %q", errConfig, ref.Name, ref.Key))
		}
		return v, nil
	case from.FieldRef != nil:
		return fieldValue(pod, from.FieldRef.FieldPath, ip, k.hostIP(pod.Spec.NodeName))
	}
	return "", nil
}

// optional drops err when the reference is optional.
func optional(opt *bool, err error) error {
	if opt != nil && *opt {
		return nil
	}
	return err
}

// fieldValue is a downward-API field of the pod, whose IP is ip on the
// node of IP hostIP.
func fieldValue(pod *corev1.Pod, path, ip, hostIP string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP", "status.podIPs":
		return ip, nil
	case "status.hostIP", "status.hostIPs":
		return hostIP, nil
	}
	if label, ok := strings.CutPrefix(path, "metadata.labels['"); ok {
		return pod.Labels[strings.TrimSuffix(label, "']")], nil
	}
	if ann, ok := strings.CutPrefix(path, "metadata.annotations['"); ok {
		return pod.Annotations[strings.TrimSuffix(ann, "']")], nil
	}
	return "", fmt.Errorf("%w: unsupported fieldRef %q", errConfig, path)
}
