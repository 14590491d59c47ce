package render

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ringops/ringops/schemas"
)

// Volume names of the pod template, besides the claim "data".
const (
	volumeConfig             = "config"              // emptyDir: /etc/cassandra with the overrides
	volumeOverrides          = "overrides"           // the ConfigMap <cluster>-config
	volumeJolokia            = "jolokia-agent"       // emptyDir: the Jolokia agent jar and its options
	volumeJolokiaCredentials = "jolokia-credentials" // the Secret spec.jolokia.credentialsSecret, for the agent's options
)

// configScript (init container "config") copies the image's /etc/cassandra
// into the emptyDir, drops from cassandra.yaml the top-level keys the
// overrides set (with their indented or list lines), then appends the
// overrides, so that every key appears once.
const configScript = `set -eu
cp -a /etc/cassandra/. /config/
awk 'NR == FNR { if (match($0, /^[A-Za-z0-9_]+:/)) drop[substr($0, 1, RLENGTH - 1)] = 1; next }
/^[A-Za-z0-9_]+:/ { key = $0; sub(/:.*/, "", key); skip = (key in drop) }
/^[^ \t#-]/ && !/^[A-Za-z0-9_]+:/ { skip = 0 }
!skip' /overrides/` + OverridesKey + ` /config/cassandra.yaml > /config/cassandra.yaml.ringops
cat /overrides/` + OverridesKey + ` >> /config/cassandra.yaml.ringops
mv /config/cassandra.yaml.ringops /config/cassandra.yaml
`

func (b *base) podTemplate(dc *schemas.Datacenter, rack *schemas.Rack) (corev1.PodTemplateSpec, error) {
	res, err := b.resources(dc)
	if err != nil {
		return corev1.PodTemplateSpec{}, err
	}
	ps := b.c.Spec.Pod
	if ps == nil {
		ps = &schemas.PodSettings{}
	}
	grace := schemas.DefaultTerminationGracePeriod
	if ps.TerminationGracePeriodSeconds != nil {
		grace = *ps.TerminationGracePeriodSeconds
	}
	main := b.cassandraContainer(dc, rack, res)
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels:      b.podLabels(dc, rack, ps),
			Annotations: maps.Clone(ps.Annotations),
		},
		Spec: corev1.PodSpec{
			ServiceAccountName:            ps.ServiceAccountName,
			TerminationGracePeriodSeconds: &grace,
			Affinity:                      b.affinity(ps.HardAntiAffinity),
			InitContainers:                b.initContainers(b.c.StatefulSetName(dc.Name, rack.Name)),
			Containers:                    []corev1.Container{main},
			Volumes:                       b.volumes(),
		},
	}, nil
}

// podLabels: metadata.labels, then spec.pod.labels, then the contract's.
func (b *base) podLabels(dc *schemas.Datacenter, rack *schemas.Rack, ps *schemas.PodSettings) map[string]string {
	l := b.labels(ps.Labels)
	l[LabelDatacenter] = dc.Name
	l[LabelRack] = rack.Name
	return l
}

func (b *base) cassandraContainer(dc *schemas.Datacenter, rack *schemas.Rack, res corev1.ResourceRequirements) corev1.Container {
	mounts := []corev1.VolumeMount{
		{Name: VolumeData, MountPath: dataPath},
		{Name: volumeConfig, MountPath: configPath},
	}
	if b.agentImage() != "" {
		mounts = append(mounts, corev1.VolumeMount{Name: volumeJolokia, MountPath: jolokiaAgentDir, ReadOnly: true})
	}
	return corev1.Container{
		Name:            ContainerCassandra,
		Image:           b.c.Spec.Image,
		ImagePullPolicy: b.pullPolicy(),
		Ports:           b.ports(),
		Env:             b.env(dc, rack),
		Resources:       res,
		VolumeMounts:    mounts,
		ReadinessProbe:  b.readinessProbe(),
		LivenessProbe: &corev1.Probe{
			ProbeHandler:        corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString(PortJolokia)}},
			InitialDelaySeconds: 90,
			PeriodSeconds:       20,
			TimeoutSeconds:      5,
			FailureThreshold:    6,
		},
		Lifecycle: &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{
			Exec: &corev1.ExecAction{Command: []string{"bash", "-c", "nodetool drain"}},
		}},
	}
}

// readinessProbe reads the node's own StorageService OperationMode and
// NativeTransportRunning in one Jolokia read: ready only when NORMAL and
// serving CQL (a joining or leaving node is not; nor a NORMAL one whose
// native transport has not started yet, which takes 5-15 s after NORMAL).
// Plain bash (/dev/tcp): the image needs no HTTP client.
func (b *base) readinessProbe() *corev1.Probe {
	auth := ""
	if b.credentialsSecret() != "" {
		auth = `auth="Authorization: Basic $(printf '%s:%s' "$JOLOKIA_USER" "$JOLOKIA_PASSWORD" | base64 | tr -d '\n')"$'\r\n'` + "\n"
	} else {
		auth = "auth=\n"
	}
	script := "set -eu\n" +
		"exec 3<>/dev/tcp/127.0.0.1/" + strconv.Itoa(int(b.jolokiaPort())) + "\n" +
		auth +
		`printf 'GET /jolokia/read/org.apache.cassandra.db:type=StorageService/OperationMode,NativeTransportRunning HTTP/1.0\r\nHost: 127.0.0.1\r\n%s\r\n' "$auth" >&3` + "\n" +
		`answer=$(cat <&3)` + "\n" +
		`grep -Eq '"OperationMode" *: *"NORMAL"' <<<"$answer"` + "\n" +
		`grep -Eq '"NativeTransportRunning" *: *true' <<<"$answer"` + "\n"
	return &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"bash", "-c", script}}},
		InitialDelaySeconds: 20,
		PeriodSeconds:       10,
		TimeoutSeconds:      5,
		FailureThreshold:    3,
		SuccessThreshold:    1,
	}
}

// env is the Cassandra container's environment, sorted by name. The
// contract's variables win over spec.env (which schemas refuses anyway).
func (b *base) env(dc *schemas.Datacenter, rack *schemas.Rack) []corev1.EnvVar {
	value := func(name, v string) corev1.EnvVar { return corev1.EnvVar{Name: name, Value: v} }
	env := []corev1.EnvVar{
		value("CASSANDRA_CLUSTER_NAME", b.clusterName()),
		value("CASSANDRA_DC", dc.Name),
		value("CASSANDRA_RACK", rack.Name),
		value("CASSANDRA_ENDPOINT_SNITCH", "GossipingPropertyFileSnitch"),
		value("CASSANDRA_SEEDS", b.seeds),
		{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"},
		}},
	}
	if n, ok := b.numTokens(); ok {
		env = append(env, value("CASSANDRA_NUM_TOKENS", n))
	}
	if opts := b.jvmOptions(); opts != "" {
		env = append(env, value("JVM_EXTRA_OPTS", opts))
	}
	if s := b.credentialsSecret(); s != "" {
		env = append(env, secretEnv("JOLOKIA_USER", s, "username"), secretEnv("JOLOKIA_PASSWORD", s, "password"))
	}
	for k, v := range b.c.Spec.Env {
		if !slices.ContainsFunc(env, func(e corev1.EnvVar) bool { return e.Name == k }) {
			env = append(env, value(k, v))
		}
	}
	slices.SortFunc(env, func(a, b corev1.EnvVar) int { return strings.Compare(a.Name, b.Name) })
	return env
}

func secretEnv(name, secret, key string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
		SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key},
	}}
}

func (b *base) clusterName() string {
	if n := b.c.Spec.CassandraClusterName; n != "" {
		return n
	}
	return b.c.Metadata.Name
}

// numTokens is config.cassandra-yaml.num_tokens as a decimal string.
func (b *base) numTokens() (string, bool) {
	if b.c.Spec.Config == nil {
		return "", false
	}
	switch v := b.c.Spec.Config.CassandraYAML["num_tokens"].(type) {
	case float64:
		if v == math.Trunc(v) {
			return strconv.FormatInt(int64(v), 10), true
		}
		return strconv.FormatFloat(v, 'g', -1, 64), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case string:
		return v, v != ""
	case nil:
		return "", false
	default:
		return fmt.Sprint(v), true
	}
}

// jvmOptions is JVM_EXTRA_OPTS: config.jvm-options, then the Jolokia agent,
// whose options are in the file the init container wrote (never on the
// command line, which every process sees and Cassandra logs at start).
func (b *base) jvmOptions() string {
	var opts []string
	if b.c.Spec.Config != nil {
		opts = append(opts, b.c.Spec.Config.JVMOptions...)
	}
	if b.agentImage() != "" {
		opts = append(opts, "-javaagent:"+jolokiaAgentJar+"=config="+jolokiaAgentConfig)
	}
	return strings.Join(opts, " ")
}

func (b *base) credentialsSecret() string {
	if j := b.c.Spec.Jolokia; j != nil {
		return j.CredentialsSecret
	}
	return ""
}

// agentImage is the image of the Jolokia agent ringops injects, "" when
// the Cassandra image runs its own (agentImage: none).
func (b *base) agentImage() string {
	if j := b.c.Spec.Jolokia; j != nil && j.AgentImage != schemas.JolokiaAgentNone {
		return j.AgentImage
	}
	return ""
}

func (b *base) pullPolicy() corev1.PullPolicy {
	if p := b.c.Spec.ImagePullPolicy; p != "" {
		return corev1.PullPolicy(p)
	}
	return corev1.PullPolicy(schemas.DefaultImagePullPolicy)
}

// initContainers: "config" prepares /etc/cassandra and holds a pod whose
// volume was lost (the gate, gate.go); "jolokia-agent", unless
// spec.jolokia.agentImage is none, puts the agent and its options into the
// pod (agentScript).
func (b *base) initContainers(sts string) []corev1.Container {
	out := []corev1.Container{{
		Name:            "config",
		Image:           b.c.Spec.Image,
		ImagePullPolicy: b.pullPolicy(),
		Command:         []string{"bash", "-c", configScript + gateScript},
		Env:             b.gateEnv(sts), // the lost-volume gate, gate.go
		VolumeMounts: []corev1.VolumeMount{
			{Name: volumeConfig, MountPath: "/config"},
			{Name: volumeOverrides, MountPath: "/overrides", ReadOnly: true},
			{Name: VolumeData, MountPath: dataPath, ReadOnly: true},
		},
	}}
	if img := b.agentImage(); img != "" {
		mounts := []corev1.VolumeMount{{Name: volumeJolokia, MountPath: jolokiaAgentDir}}
		if b.credentialsSecret() != "" {
			mounts = append(mounts, corev1.VolumeMount{Name: volumeJolokiaCredentials, MountPath: jolokiaCredentialsDir, ReadOnly: true})
		}
		out = append(out, corev1.Container{
			Name:            volumeJolokia,
			Image:           img,
			ImagePullPolicy: b.pullPolicy(),
			Command:         []string{"sh", "-c", agentScript(b.jolokiaPort(), b.credentialsSecret() != "")},
			VolumeMounts:    mounts,
		})
	}
	return out
}

// agentScript (init container "jolokia-agent", POSIX sh) copies the agent
// jar from the agent image into the emptyDir and writes the agent's options
// next to it, as the Java properties file that
// -javaagent:<jar>=config=<file> reads (Jolokia's JvmAgentConfig, 1.x and
// 2.x): every interface, the port, a fixed pool of threads (the agent's
// default executor=single serves one request at a time), no multicast
// discovery and, with credentials, the user and password read from the
// mounted Secret (printable ASCII only, since the agent reads the file as
// ISO-8859-1; backslashes and a leading space are escaped). The file is
// readable by Cassandra's user, as the Secret volume itself is.
func agentScript(port int32, credentials bool) string {
	s := `set -eu
umask 022
cp ` + jolokiaImageJar + ` ` + jolokiaAgentJar + `
chmod 0644 ` + jolokiaAgentJar + `
cat > ` + jolokiaAgentConfig + `.tmp <<'EOF'
# Options of the Jolokia JVM agent, written by ringops' init container.
host=0.0.0.0
port=` + strconv.Itoa(int(port)) + `
executor=fixed
threadNr=` + strconv.Itoa(jolokiaAgentThreads) + `
discoveryEnabled=false
EOF
`
	if credentials {
		s += `LC_ALL=C
export LC_ALL
prop() {
  v=$(cat "$2")
  case $v in *[![:print:]]*) echo "jolokia-agent: $2 holds more than printable ASCII" >&2; exit 1;; esac
  printf '%s=%s\n' "$1" "$(printf '%s' "$v" | sed -e 's/\\/\\\\/g' -e 's/^ /\\ /')"
}
prop user ` + jolokiaCredentialsDir + `/username >> ` + jolokiaAgentConfig + `.tmp
prop password ` + jolokiaCredentialsDir + `/password >> ` + jolokiaAgentConfig + `.tmp
`
	}
	return s + `mv ` + jolokiaAgentConfig + `.tmp ` + jolokiaAgentConfig + "\n"
}

func (b *base) volumes() []corev1.Volume {
	out := []corev1.Volume{
		{Name: volumeConfig, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: volumeOverrides, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: ConfigMapName(b.c.Metadata.Name)},
		}}},
	}
	if b.agentImage() != "" {
		out = append(out, corev1.Volume{Name: volumeJolokia, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		if s := b.credentialsSecret(); s != "" {
			out = append(out, corev1.Volume{Name: volumeJolokiaCredentials, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName: s,
				Items:      []corev1.KeyToPath{{Key: "username", Path: "username"}, {Key: "password", Path: "password"}},
			}}})
		}
	}
	return out
}

// affinity spreads the cluster's pods over Kubernetes nodes.
func (b *base) affinity(hard bool) *corev1.Affinity {
	term := corev1.PodAffinityTerm{
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelCluster: b.c.Metadata.Name}},
		TopologyKey:   "kubernetes.io/hostname",
	}
	anti := &corev1.PodAntiAffinity{}
	if hard {
		anti.RequiredDuringSchedulingIgnoredDuringExecution = []corev1.PodAffinityTerm{term}
	} else {
		anti.PreferredDuringSchedulingIgnoredDuringExecution = []corev1.WeightedPodAffinityTerm{{Weight: 100, PodAffinityTerm: term}}
	}
	return &corev1.Affinity{PodAntiAffinity: anti}
}

// resources of the Cassandra container: the datacenter's, else the
// cluster's; the memory limit defaults to the memory request.
func (b *base) resources(dc *schemas.Datacenter) (corev1.ResourceRequirements, error) {
	r := dc.Resources
	if r == nil {
		r = b.c.Spec.Resources
	}
	if r == nil {
		return corev1.ResourceRequirements{}, nil
	}
	req, err := resourceList("requests", r.Requests)
	if err != nil {
		return corev1.ResourceRequirements{}, err
	}
	lim, err := resourceList("limits", r.Limits)
	if err != nil {
		return corev1.ResourceRequirements{}, err
	}
	if mem, ok := req[corev1.ResourceMemory]; ok {
		if _, set := lim[corev1.ResourceMemory]; !set {
			if lim == nil {
				lim = corev1.ResourceList{}
			}
			lim[corev1.ResourceMemory] = mem
		}
	}
	return corev1.ResourceRequirements{Requests: req, Limits: lim}, nil
}

func resourceList(field string, in map[string]string) (corev1.ResourceList, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := corev1.ResourceList{}
	for k, v := range in {
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return nil, fmt.Errorf("resources.%s.%s %q: %w", field, k, v, err)
		}
		out[corev1.ResourceName(k)] = q
	}
	return out, nil
}
