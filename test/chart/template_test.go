package chart

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/ringops/ringops/internal/testkit/golden"
)

// remoteRBACFile is the ready-to-apply remote-region RBAC: remoteRBACHeader
// followed by the render of testdata/remote-values.yaml.
const remoteRBACFile = chartDir + "/remote-rbac.yaml"

const remoteRBACHeader = `# The RBAC ringops needs in a REMOTE region, for the Cassandra namespace
# "cassandra", the Jolokia credentials Secret "jolokia-auth" and the one
# ringops keeps for the cluster "orders" ("orders-jolokia"): the
# ServiceAccount ringops/ringops, its long-lived token Secret
# ringops/ringops-token, the Role and RoleBinding ringops-cassandra in the
# namespace cassandra, and the ClusterRole and ClusterRoleBinding
# ringops-ringops-namespaces (get of the namespace cassandra).
#
#   kubectl --context <region> create namespace ringops
#   kubectl --context <region> apply -f remote-rbac.yaml
#
# Then build the region's kubeconfig context from the Secret ringops-token
# (README.md, "Connect regions"). For other namespaces or Secret names, render
# your own: helm template ringops charts/ringops -n ringops \
#   --set remote.rbacOnly=true --set 'cassandra.namespaces={...}' \
#   --set 'cassandra.jolokia.credentialsSecrets={...}' \
#   --set 'cassandra.clusters={...}'
#
# Generated from test/chart/testdata/remote-values.yaml by
# go test ./test/chart -run TestTemplateGolden -update; do not edit.
`

// TestTemplateGolden: helm template of each values file is the golden file,
// and remote-rbac.yaml is the remote render.
func TestTemplateGolden(t *testing.T) {
	for name, r := range map[string]release{"minimal": minimal, "full": full, "inline": inline, "remote": remote, "shards": shards} {
		t.Run(name, func(t *testing.T) {
			got := r.template(t)
			golden.AssertString(t, filepath.Join("testdata", name+".golden.yaml"), got)
			if name == "remote" {
				golden.AssertString(t, remoteRBACFile, remoteRBACHeader+got)
			}
		})
	}
}

// objects decodes a multi-document render.
func objects(t *testing.T, rendered string) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(rendered), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decode render: %v", err)
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
}

// find returns the one object of kind, failing if there are none or several.
func find(t *testing.T, objs []*unstructured.Unstructured, kind string, into any) {
	t.Helper()
	var found []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d objects of kind %s, want 1", len(found), kind)
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(found[0].Object, into); err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
}

func kinds(objs []*unstructured.Unstructured) []string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.GetKind())
	}
	slices.Sort(ks)
	return slices.Compact(ks)
}

// TestDaemonContract checks, on every render that runs the daemon, what
// README.md promises the daemon and the operator: every *_FILE variable and
// the kubeconfig flag point at a file a Secret volume provides, no secret is
// an environment value, the security context and probes are as documented.
func TestDaemonContract(t *testing.T) {
	for name, r := range map[string]release{"minimal": minimal, "full": full, "inline": inline, "shards": shards} {
		t.Run(name, func(t *testing.T) {
			objs := objects(t, r.template(t))
			w := daemonWorkload(t, objs)
			pod := w.pod.Spec
			if len(pod.Containers) != 1 {
				t.Fatalf("%d containers, want 1", len(pod.Containers))
			}
			c := pod.Containers[0]
			checkFilesProvided(t, pod, c)
			checkNoSecretValues(t, r, c)
			checkSecurity(t, pod, c)
			checkProbesAndPort(t, c)
			if w.sts != nil {
				checkShards(t, *w.sts, c)
			} else {
				checkLeaderElection(t, *w.deploy, c)
			}
		})
	}
}

// workload is the daemon's Deployment (shards: 1) or StatefulSet (shards > 1).
type workload struct {
	deploy          *appsv1.Deployment
	sts             *appsv1.StatefulSet
	name, namespace string
	pod             corev1.PodTemplateSpec
}

// daemonWorkload returns the one workload of a render: a Deployment or a
// StatefulSet, never both.
func daemonWorkload(t *testing.T, objs []*unstructured.Unstructured) workload {
	t.Helper()
	ks := kinds(objs)
	switch {
	case slices.Contains(ks, "Deployment") && slices.Contains(ks, "StatefulSet"):
		t.Fatal("the render holds a Deployment and a StatefulSet: two sets of daemons")
	case slices.Contains(ks, "StatefulSet"):
		var s appsv1.StatefulSet
		find(t, objs, "StatefulSet", &s)
		return workload{sts: &s, name: s.Name, namespace: s.Namespace, pod: s.Spec.Template}
	}
	var d appsv1.Deployment
	find(t, objs, "Deployment", &d)
	return workload{deploy: &d, name: d.Name, namespace: d.Namespace, pod: d.Spec.Template}
}

// fileProvided says whether file is a file of a Secret volume mounted in c.
func fileProvided(pod corev1.PodSpec, c corev1.Container, file string) bool {
	dir, base := path.Split(file)
	for _, m := range c.VolumeMounts {
		if path.Clean(m.MountPath) != path.Clean(dir) {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			return len(v.Secret.Items) == 0 || slices.ContainsFunc(v.Secret.Items, func(k corev1.KeyToPath) bool { return k.Path == base })
		}
	}
	return false
}

func checkFilesProvided(t *testing.T, pod corev1.PodSpec, c corev1.Container) {
	t.Helper()
	for _, e := range c.Env {
		if strings.HasSuffix(e.Name, "_FILE") && !fileProvided(pod, c, e.Value) {
			t.Errorf("%s=%s: no Secret volume provides that file", e.Name, e.Value)
		}
	}
	for _, a := range c.Args {
		if f, ok := strings.CutPrefix(a, "--kubeconfig="); ok && !fileProvided(pod, c, f) {
			t.Errorf("%s: no Secret volume provides that file", a)
		}
	}
}

// secretValues are the inline credentials of a values file.
func secretValues(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Git struct {
			Auth struct{ SSHPrivateKey, SSHPassphrase, Token string }
		}
		Regions struct{ Kubeconfig struct{ Content string } }
		Forge   struct{ Token string }
		Webhook struct{ Secret string }
		API     struct{ Token struct{ Value string } }
	}
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range []string{v.Git.Auth.SSHPrivateKey, v.Git.Auth.SSHPassphrase, v.Git.Auth.Token,
		v.Regions.Kubeconfig.Content, v.Forge.Token, v.Webhook.Secret, v.API.Token.Value} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// checkNoSecretValues: the inline credentials of the values file appear
// nowhere in the container (they are in Secrets, mounted as files), and no
// RINGOPS_ variable but a *_FILE one names a token or secret.
func checkNoSecretValues(t *testing.T, r release, c corev1.Container) {
	t.Helper()
	spec := fmt.Sprintf("%v %v %v", c.Args, c.Env, c.Command)
	for _, s := range secretValues(t, r.values) {
		if strings.Contains(spec, s) {
			t.Errorf("an inline credential (%d bytes) is in the container's args or environment", len(s))
		}
	}
	for _, e := range c.Env {
		if strings.HasPrefix(e.Name, "RINGOPS_") && (strings.Contains(e.Name, "TOKEN") || strings.Contains(e.Name, "SECRET")) &&
			!strings.HasSuffix(e.Name, "_FILE") {
			t.Errorf("%s: a secret passed as a value, not a file", e.Name)
		}
	}
}

func checkSecurity(t *testing.T, pod corev1.PodSpec, c corev1.Container) {
	t.Helper()
	sc, psc := c.SecurityContext, pod.SecurityContext
	switch {
	case sc == nil || psc == nil:
		t.Fatal("no security context")
	case psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65532:
		t.Error("the pod does not run as the non-root user 65532")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("the root filesystem is writable")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("privilege escalation is allowed")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Error("capabilities are not all dropped")
	case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Error("seccomp is not RuntimeDefault")
	}
	tmp := slices.IndexFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/tmp" })
	if tmp < 0 {
		t.Fatal("/tmp is not mounted")
	}
	v := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == c.VolumeMounts[tmp].Name })
	if v < 0 || pod.Volumes[v].EmptyDir == nil {
		t.Error("/tmp is not an emptyDir")
	}
	for _, m := range c.VolumeMounts {
		if m.MountPath != "/tmp" && !m.ReadOnly {
			t.Errorf("%s is mounted writable", m.MountPath)
		}
	}
}

func checkProbesAndPort(t *testing.T, c corev1.Container) {
	t.Helper()
	if len(c.Ports) != 2 || c.Ports[0].ContainerPort != 8080 || c.Ports[0].Name != "http" || c.Ports[1].Name != "api" {
		t.Errorf("ports %v, want http 8080 and api", c.Ports)
	}
	if !slices.Contains(c.Args, "--http-address=:8080") {
		t.Error("the daemon is not told to listen on :8080")
	}
	if len(c.Ports) == 2 && !slices.Contains(c.Args, fmt.Sprintf("--api-address=:%d", c.Ports[1].ContainerPort)) {
		t.Error("the daemon is not told to serve the API and page on the api port")
	}
	for probe, want := range map[*corev1.Probe]string{c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz", c.StartupProbe: "/healthz"} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != want || probe.HTTPGet.Port.String() != "http" {
			t.Errorf("a probe is not GET %s on port http: %+v", want, probe)
		}
	}
}

func checkLeaderElection(t *testing.T, d appsv1.Deployment, c corev1.Container) {
	t.Helper()
	elect := slices.Contains(c.Args, "--leader-elect=true")
	switch {
	case *d.Spec.Replicas > 1 && !elect:
		t.Error("two replicas without leader election")
	case !elect && d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType:
		t.Error("without leader election a rolling update would run two daemons at once")
	case !slices.Contains(c.Args, "--leader-election-namespace="+d.Namespace):
		t.Error("the Lease is not in the release namespace")
	case !slices.Contains(c.Args, "--leader-election-id="+d.Name):
		t.Error("the Lease is not named after the Deployment (<fullname>)")
	}
}

// checkShards: with shards > 1 the daemons are a StatefulSet of one pod per
// shard (pod i's home shard is its ordinal, from $POD_NAME), each told
// --shards and not --leader-elect (the daemon refuses both), the Leases in
// the release namespace named after the StatefulSet, and spread by the
// StatefulSet's own revision label (it has no pod-template-hash).
func checkShards(t *testing.T, s appsv1.StatefulSet, c corev1.Container) {
	t.Helper()
	pod := s.Spec.Template.Spec
	podName := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "POD_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name"
	})
	switch {
	case s.Spec.Replicas == nil || *s.Spec.Replicas != 3:
		t.Errorf("replicas %v, want one per shard (3)", s.Spec.Replicas)
	case !slices.Contains(c.Args, "--shards=3"):
		t.Errorf("the daemons are not told --shards=3: %v", c.Args)
	case slices.Contains(c.Args, "--leader-elect=true"):
		t.Error("--leader-elect with --shards: the daemon refuses both")
	case podName < 0:
		t.Error("POD_NAME is not the pod's name (downward API): no replica would find its home shard")
	case !slices.Contains(c.Args, "--leader-election-namespace="+s.Namespace):
		t.Error("the shard Leases are not in the release namespace")
	case !slices.Contains(c.Args, "--leader-election-id="+s.Name):
		t.Error("the shard Leases are not named after the StatefulSet (<fullname>-shard-<i>)")
	case s.Spec.PodManagementPolicy != appsv1.ParallelPodManagement:
		t.Error("the pods start one by one: a dead pod-0 would hold up the others' start")
	case len(pod.TopologySpreadConstraints) != 1 || !slices.Equal(pod.TopologySpreadConstraints[0].MatchLabelKeys, []string{"controller-revision-hash"}):
		t.Errorf("topology spread %+v, want one constraint on controller-revision-hash", pod.TopologySpreadConstraints)
	}
}

// TestOptionalObjects: the Ingress, ServiceMonitor and PodDisruptionBudget
// appear only when asked for, the Ingress exposes only /hooks/, and the
// remote render holds RBAC and nothing that runs.
func TestOptionalObjects(t *testing.T) {
	got := map[string][]string{}
	for name, r := range map[string]release{"minimal": minimal, "full": full, "inline": inline, "remote": remote, "shards": shards} {
		got[name] = kinds(objects(t, r.template(t)))
	}
	want := map[string][]string{
		"minimal": {"ClusterRole", "ClusterRoleBinding", "Deployment", "PodDisruptionBudget", "Role", "RoleBinding", "Service", "ServiceAccount"},
		"full": {"ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "Ingress", "PodDisruptionBudget", "PrometheusRule", "Role", "RoleBinding",
			"Service", "ServiceAccount", "ServiceMonitor"},
		"inline": {"Deployment", "Role", "RoleBinding", "Secret", "Service", "ServiceAccount"},
		"remote": {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Secret", "ServiceAccount"},
		"shards": {"ClusterRole", "ClusterRoleBinding", "PodDisruptionBudget", "Role", "RoleBinding", "Service", "ServiceAccount", "StatefulSet"},
	}
	for name := range want {
		if !slices.Equal(got[name], want[name]) {
			t.Errorf("%s: kinds %v, want %v", name, got[name], want[name])
		}
	}
	var ing networkingv1.Ingress
	find(t, objects(t, full.template(t)), "Ingress", &ing)
	for _, rule := range ing.Spec.Rules {
		for _, p := range rule.HTTP.Paths {
			if p.Path != "/hooks/" {
				t.Errorf("the Ingress exposes %s", p.Path)
			}
		}
	}
}
