package kubelet

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// JolokiaAgent is one Jolokia JVM agent the cassandra container loads:
// a -javaagent:<jar>=<args> of JVM_EXTRA_OPTS whose jar path names
// jolokia.
type JolokiaAgent struct {
	// Options are the agent's options as Jolokia's JvmAgentConfig merges
	// them: the properties of its config=<file>, overridden by the other
	// arguments.
	Options map[string]string
	// Files holds what the container would read at the paths the options
	// name (serverCert, serverKey, caCert, keystore), when the pod holds
	// them.
	Files map[string][]byte
}

// jolokiaAgents reads the agents of the container's JVM_EXTRA_OPTS, and
// their files, as the pod would hold them once its init containers ran
// (podFiles). An agent whose config file the pod does not hold is an
// error: the JVM would refuse its -javaagent and not start.
func (k *Kubelet) jolokiaAgents(ctx context.Context, pod *corev1.Pod, c *corev1.Container, env map[string]string) ([]JolokiaAgent, error) {
	var args []string
	for _, a := range strings.Fields(env["JVM_EXTRA_OPTS"]) {
		if jar, opts, ok := strings.Cut(strings.TrimPrefix(a, "-javaagent:"), "="); ok && strings.HasPrefix(a, "-javaagent:") && strings.Contains(jar, "jolokia") {
			args = append(args, opts)
		}
	}
	if len(args) == 0 {
		return nil, nil
	}
	files, lookup, err := k.podFiles(ctx, pod, c)
	if err != nil {
		return nil, err
	}
	var out []JolokiaAgent
	for _, a := range args {
		inline := map[string]string{}
		for _, kv := range strings.Split(a, ",") {
			key, v, _ := strings.Cut(kv, "=")
			inline[key] = v
		}
		opts := map[string]string{}
		if f := inline["config"]; f != "" {
			b, ok := files[f]
			if !ok {
				return nil, fmt.Errorf("%w: -javaagent: jolokia: Can not find configuration file %s (no init container writes it)", errConfig, f)
			}
			opts = readProperties(string(b))
		}
		for key, v := range inline {
			opts[key] = v
		}
		agent := JolokiaAgent{Options: opts, Files: map[string][]byte{}}
		for _, key := range []string{"serverCert", "serverKey", "caCert", "keystore"} {
			p := opts[key]
			b, ok := files[p]
			if !ok && p != "" {
				if b, ok, err = lookup(p); err != nil {
					return nil, err
				}
			}
			if ok {
				agent.Files[p] = b
			}
		}
		out = append(out, agent)
	}
	return out, nil
}

// podFiles are the files the container sees that the simulator can know:
// those the init containers' sh -c scripts write into the pod's volumes
// with the three commands render's scripts use for the agent
// (render/pod.go, agentScript): cat > / >> <file> <<'EOF' (a heredoc,
// taken literally), cp <from> <to> (from a file written before or one of
// the init container's Secret and ConfigMap volumes), mv <from> <to>. Any
// other line (the user and password the script appends, the jar it
// copies) is not run: the kubelet reads the credentials from their Secret
// itself. lookup reads the container's own Secret and ConfigMap volumes,
// for the paths the agents' options name.
func (k *Kubelet) podFiles(ctx context.Context, pod *corev1.Pod, c *corev1.Container) (files map[string][]byte, lookup func(string) ([]byte, bool, error), err error) {
	files = map[string][]byte{}
	for i := range pod.Spec.InitContainers {
		ic := &pod.Spec.InitContainers[i]
		if len(ic.Command) >= 3 && (ic.Command[0] == "sh" || ic.Command[0] == "bash") && ic.Command[1] == "-c" {
			if err := runFileCommands(ic.Command[2], files, k.mountLookup(ctx, pod, ic.VolumeMounts)); err != nil {
				return nil, nil, fmt.Errorf("init container %s: %w", ic.Name, err)
			}
		}
	}
	return files, k.mountLookup(ctx, pod, c.VolumeMounts), nil
}

// mountLookup reads a path of a Secret or ConfigMap volume among mounts
// (false: no such volume or key). A Secret or ConfigMap that cannot be
// read fails the pod's start, as its mount would.
func (k *Kubelet) mountLookup(ctx context.Context, pod *corev1.Pod, mounts []corev1.VolumeMount) func(string) ([]byte, bool, error) {
	return func(p string) ([]byte, bool, error) {
		for _, m := range mounts {
			rel, ok := strings.CutPrefix(p, strings.TrimSuffix(m.MountPath, "/")+"/")
			if !ok {
				continue
			}
			for _, v := range pod.Spec.Volumes {
				if v.Name != m.Name {
					continue
				}
				data, items, err := k.volumeData(ctx, pod.Namespace, v)
				if err != nil {
					return nil, false, err
				}
				for key, b := range data {
					at := key
					if len(items) > 0 {
						at = items[key]
					}
					if at == rel {
						return b, true, nil
					}
				}
			}
		}
		return nil, false, nil
	}
}

// volumeData is the content of a Secret or ConfigMap volume, with its
// items (key to path; none: every key at its name).
func (k *Kubelet) volumeData(ctx context.Context, ns string, v corev1.Volume) (map[string][]byte, map[string]string, error) {
	items := func(ks []corev1.KeyToPath) map[string]string {
		m := map[string]string{}
		for _, it := range ks {
			m[it.Key] = it.Path
		}
		return m
	}
	switch {
	case v.Secret != nil:
		s, err := k.client.CoreV1().Secrets(ns).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
		if err != nil {
			return nil, nil, optional(v.Secret.Optional, fmt.Errorf("%w: volume %s: secret %q: %w", errConfig, v.Name, v.Secret.SecretName, err))
		}
		return s.Data, items(v.Secret.Items), nil
	case v.ConfigMap != nil:
		cm, err := k.client.CoreV1().ConfigMaps(ns).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
		if err != nil {
			return nil, nil, optional(v.ConfigMap.Optional, fmt.Errorf("%w: volume %s: configmap %q: %w", errConfig, v.Name, v.ConfigMap.Name, err))
		}
		data := map[string][]byte{}
		for key, s := range cm.Data {
			data[key] = []byte(s)
		}
		return data, items(v.ConfigMap.Items), nil
	}
	return nil, nil, nil
}

// runFileCommands applies the heredoc, cp and mv lines of script to
// files; lookup reads the files the script's container mounts.
func runFileCommands(script string, files map[string][]byte, lookup func(string) ([]byte, bool, error)) error {
	sc := bufio.NewScanner(strings.NewReader(script))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 4 && f[0] == "cat" && (f[1] == ">" || f[1] == ">>") && strings.HasPrefix(f[3], "<<"):
			end := strings.Trim(strings.TrimPrefix(f[3], "<<"), `'"`)
			var body strings.Builder
			for sc.Scan() && sc.Text() != end {
				body.WriteString(sc.Text() + "\n")
			}
			if f[1] == ">" {
				files[f[2]] = nil
			}
			files[f[2]] = append(files[f[2]], body.String()...)
		case len(f) == 3 && f[0] == "cp":
			b, ok := files[f[1]]
			if !ok {
				var err error
				if b, ok, err = lookup(f[1]); err != nil {
					return err
				}
			}
			if ok {
				files[f[2]] = b
			}
		case len(f) == 3 && f[0] == "mv":
			if b, ok := files[f[1]]; ok {
				files[f[2]] = b
				delete(files, f[1])
			}
		}
	}
	return nil
}

// readProperties reads a Java properties file as Properties.load does
// for the lines render writes: key=value or key:value, # and ! comments,
// leading blanks dropped, backslash escapes undone.
func readProperties(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimLeft(line, " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			out[unescapeProperty(line)] = ""
			continue
		}
		out[strings.TrimSpace(unescapeProperty(line[:i]))] = unescapeProperty(strings.TrimLeft(line[i+1:], " \t\f"))
	}
	return out
}

func unescapeProperty(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
