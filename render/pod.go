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

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/schemas"
)

// Volume names of the pod template, besides the claim "data".
const (
	volumeConfig             = "config"              // emptyDir: /etc/cassandra with the overrides
	volumeOverrides          = "overrides"           // the ConfigMap <cluster>-config
	volumeJolokia            = "jolokia-agent"       // emptyDir: the Jolokia agent jar and its options
	volumeJolokiaCredentials = "jolokia-credentials" // the credentials Secret (JolokiaCredentials), for the agent's options
	volumeJolokiaTLS         = "jolokia-tls"         // the Secret spec.jolokia.tls.secret, for the agent's certificate
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
			Annotations: b.podAnnotations(ps),
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

// podAnnotations: spec.pod.annotations, and spec.jolokia.rotate, whose
// change restarts the nodes so that the agents read their new password.
func (b *base) podAnnotations(ps *schemas.PodSettings) map[string]string {
	a := maps.Clone(ps.Annotations)
	if j := b.c.Spec.Jolokia; j != nil && j.Rotate != "" {
		if a == nil {
			a = map[string]string{}
		}
		a[contract.AnnotationRotate] = j.Rotate
	}
	return a
}

// podLabels: metadata.labels, then spec.pod.labels, then the contract's.
func (b *base) podLabels(dc *schemas.Datacenter, rack *schemas.Rack, ps *schemas.PodSettings) map[string]string {
	l := b.labels(ps.Labels)
	l[contract.LabelDatacenter] = dc.Name
	l[contract.LabelRack] = rack.Name
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
		// Why Cassandra refused to start ("The seed provider lists no
		// seeds", a token allocation refused...) is the end of its log:
		// the kubelet puts it into the terminated state's message, which
		// the planner shows with the pod that is not Ready (#14 item 10).
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
}

// readinessProbe reads the node's own StorageService OperationMode and
// NativeTransportRunning in one Jolokia read: ready only when NORMAL and
// serving CQL (a joining or leaving node is not; nor a NORMAL one whose
// native transport has not started yet, which takes 5-15 s after NORMAL).
// Plain bash (/dev/tcp): the image needs no HTTP client. bash speaks no
// TLS: with spec.jolokia.tls the probe reads the agent's plain-HTTP
// listener on the pod's loopback (probePort). The credentials are the
// agent's own (probeAuth).
func (b *base) readinessProbe() *corev1.Probe {
	script := "set -eu\n" +
		b.probeAuth() +
		"exec 3<>/dev/tcp/127.0.0.1/" + strconv.Itoa(int(b.probePort())) + "\n" +
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

// probeAuth sets $auth, the probe's Authorization header line. With the
// injected agent, the user and password are read from the agent's options
// file, as the agent reads them (the init container's escapes undone: a
// leading "\ ", then "\\"): never in the environment nor on a command line
// (printf is a builtin; sed and base64 read them on stdin). With the
// image's own agent (agentImage: none), from JOLOKIA_USER and
// JOLOKIA_PASSWORD.
func (b *base) probeAuth() string {
	switch {
	case b.credentialsSecret() == "":
		return "auth=\n"
	case b.agentImage() != "":
		return `creds=$(sed -n -e 's/^user=//p' -e 's/^password=//p' ` + jolokiaAgentConfig + ` | sed -e 's/^\\ / /' -e 's/\\\\/\\/g')` + "\n" +
			`auth="Authorization: Basic $(printf '%s:%s' "${creds%%$'\n'*}" "${creds#*$'\n'}" | base64 | tr -d '\n')"$'\r\n'` + "\n"
	}
	return `auth="Authorization: Basic $(printf '%s:%s' "$JOLOKIA_USER" "$JOLOKIA_PASSWORD" | base64 | tr -d '\n')"$'\r\n'` + "\n"
}

// probePort is the port the readiness probe reads: the agent's, or with
// spec.jolokia.tls the one above it, where the injected agent also
// listens in plain HTTP on 127.0.0.1 (jvmOptions).
func (b *base) probePort() int32 {
	if b.tls() != nil {
		return b.jolokiaPort() + 1
	}
	return b.jolokiaPort()
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
	if s := b.credentialsSecret(); s != "" && b.agentImage() == "" {
		// For the image's own agent, and the probe: the injected agent and
		// the probe read them from the agent's options file instead.
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

// ResetBootstrapProgress is in every pod's JVM options: see jvmOptions.
const ResetBootstrapProgress = "-Dcassandra.reset_bootstrap_progress=false"

// jvmOptions is JVM_EXTRA_OPTS: config.jvm-options, the bootstrap-progress
// property (ResetBootstrapProgress), then the Jolokia agent,
// whose options are in the file the init container wrote (never on the
// command line, which every process sees and Cassandra logs at start).
// With spec.jolokia.tls, a second agent from the same jar and options
// listens in plain HTTP on 127.0.0.1, one port above, for the readiness
// probe: its arguments override the file's host, port and protocol, and
// it asks for the same credentials. Only the pod's own containers reach
// the pod's loopback.
func (b *base) jvmOptions() string {
	var opts []string
	if b.c.Spec.Config != nil {
		opts = append(opts, b.c.Spec.Config.JVMOptions...)
	}
	// A rebuild (or a bootstrap resumed) sent again streams only what the
	// node does not hold yet, as 3.11 and 4.x do. Without the property,
	// Cassandra 5.0 refuses any rebuild of a node that already streamed
	// some of its ranges ("Discovered existing bootstrap data and
	// cassandra.reset_bootstrap_progress is not configured; aborting",
	// 5.0.1 RangeStreamer.java:733-744), so a rebuild whose answer ringops
	// did not see (it outlasted the call, or ringops restarted) could never
	// be confirmed (#15; seen on real 5.0 nodes by test/e2e/realnodes'
	// TestRealDatacenters). Earlier releases ignore it.
	opts = append(opts, ResetBootstrapProgress)
	if b.agentImage() != "" {
		agent := "-javaagent:" + jolokiaAgentJar + "=config=" + jolokiaAgentConfig
		opts = append(opts, agent)
		if b.tls() != nil {
			opts = append(opts, agent+",host=127.0.0.1,port="+strconv.Itoa(int(b.probePort()))+",protocol=http")
		}
	}
	return strings.Join(opts, " ")
}

// credentialsSecret is the Secret of the agents' credentials, "" for none.
func (b *base) credentialsSecret() string {
	s, _ := JolokiaCredentials(b.c)
	return s
}

// tls is spec.jolokia.tls when the injected agent serves HTTPS.
func (b *base) tls() *schemas.JolokiaTLS {
	if j := b.c.Spec.Jolokia; j != nil && b.agentImage() != "" {
		return j.TLS
	}
	return nil
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
		if b.tls() != nil {
			mounts = append(mounts, corev1.VolumeMount{Name: volumeJolokiaTLS, MountPath: jolokiaTLSDir, ReadOnly: true})
		}
		out = append(out, corev1.Container{
			Name:            volumeJolokia,
			Image:           img,
			ImagePullPolicy: b.pullPolicy(),
			Command:         []string{"sh", "-c", agentScript(b.jolokiaPort(), b.credentialsSecret() != "", b.tls())},
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
// ISO-8859-1; backslashes and a leading space are escaped). With tls, the
// certificate and key are copied next to the jar and the agent serves
// HTTPS (protocol, serverCert, serverKey, serverKeyAlgorithm: Jolokia 2.x
// reads PEM). The files are readable by Cassandra's user, as the Secret
// volumes themselves are.
func agentScript(port int32, credentials bool, tls *schemas.JolokiaTLS) string {
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
	if tls != nil {
		s += `cp ` + jolokiaTLSDir + `/tls.crt ` + jolokiaServerCert + `
cp ` + jolokiaTLSDir + `/tls.key ` + jolokiaServerKey + `
chmod 0644 ` + jolokiaServerCert + ` ` + jolokiaServerKey + `
cat >> ` + jolokiaAgentConfig + `.tmp <<'EOF'
protocol=https
serverCert=` + jolokiaServerCert + `
serverKey=` + jolokiaServerKey + `
serverKeyAlgorithm=` + tls.KeyAlgorithm + `
EOF
`
	}
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
		if t := b.tls(); t != nil {
			out = append(out, corev1.Volume{Name: volumeJolokiaTLS, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName: t.Secret,
				Items:      []corev1.KeyToPath{{Key: "tls.crt", Path: "tls.crt"}, {Key: "tls.key", Path: "tls.key"}},
			}}})
		}
	}
	return out
}

// affinity spreads the cluster's pods over Kubernetes nodes.
func (b *base) affinity(hard bool) *corev1.Affinity {
	term := corev1.PodAffinityTerm{
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{contract.LabelCluster: b.c.Metadata.Name}},
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
