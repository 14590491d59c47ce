package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/ringops/ringops/internal/testkit/wait"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/test/env"
	"github.com/ringops/ringops/test/env/kubelet"
)

// statusSpec is a cluster of three datacenters, one per region of the
// world, three racks of one node each; its agents require credentials.
const statusSpec = `apiVersion: ringops.dev/v1alpha1
kind: CassandraCluster
metadata: {name: orders, namespace: cassandra}
spec:
  image: cassandra:4.1.5
  nodesPerRack: 1
  seedsPerDatacenter: 3
  storage: {size: 1Gi}
  jolokia: {port: 8778, credentialsSecret: jolokia-auth}
  datacenters:
    - {name: dc1, context: eu-west, dnsDomain: dc1.orders.db.example.com, racks: [{name: r1}, {name: r2}, {name: r3}]}
    - {name: dc2, context: us-east, dnsDomain: dc2.orders.db.example.com, racks: [{name: r1}, {name: r2}, {name: r3}]}
    - {name: dc3, context: ap-south, dnsDomain: dc3.orders.db.example.com, racks: [{name: r1}, {name: r2}, {name: r3}]}
`

// statusDomains are statusSpec's dnsDomains, by region: the world's
// external-DNS publishes them (seed names resolve in every region only so).
var statusDomains = map[string]string{"eu-west": "dc1.orders.db.example.com", "us-east": "dc2.orders.db.example.com", "ap-south": "dc3.orders.db.example.com"}

func writeSpec(t *testing.T, spec string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clusters", "orders")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runMain runs ringops with args and returns its exit code and outputs.
func runMain(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := Main(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestStatusUsage(t *testing.T) {
	dir := writeSpec(t, statusSpec)
	// The agents ask for credentials by default; only none opens them.
	byDefault := writeSpec(t, strings.Replace(statusSpec, ", credentialsSecret: jolokia-auth", "", 1))
	open := writeSpec(t, strings.Replace(statusSpec, "credentialsSecret: jolokia-auth", "credentialsSecret: none", 1))
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"status"}, ExitUsage, "accepts 1 arg"},
		{[]string{"status", dir, "-o", "yaml"}, ExitUsage, "--output"},
		{[]string{"status", dir, "--via", "carrier-pigeon"}, ExitUsage, "--via"},
		{[]string{"status", dir, "--context", "mars"}, ExitUsage, "not a context of cluster orders"},
		{[]string{"status", open, "--via", "proxy", "--kubeconfig", filepath.Join(t.TempDir(), "none")}, ExitError, "kubeconfig"},
		{[]string{"status", dir, "--via", "proxy"}, ExitUsage, "--via proxy: the API server's pod proxy cannot carry Jolokia credentials"},
		{[]string{"status", byDefault, "--via", "proxy"}, ExitUsage, "--via proxy"},
		{[]string{"status", writeSpec(t, "kind: Nope\n")}, ExitInvalid, "cluster.yaml"},
	} {
		code, _, stderr := runMain(tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("ringops %v: exit %d, stderr %q; want exit %d mentioning %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}

// TestStatusWorld runs `ringops status` against the local world of three
// regions: all nodes UN; a partition named both ways; a killed node DN in
// every other view, with exit code ExitUnhealthy.
func TestStatusWorld(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the local world")
	}
	w := env.Start(t, env.DefaultOptions())
	dir := writeSpec(t, statusSpec)
	if err := env.PublishExternalDNS(dir, "orders", statusDomains); err != nil {
		t.Fatal(err)
	}
	deploy(t, w, dir)
	args := []string{"status", dir, "--kubeconfig", w.Kubeconfig}

	out := waitStatus(t, args, "every node UN", func(code int, out string) bool { return code == ExitOK })
	if n := strings.Count(out, "\nUN  "); n != 9 || !strings.Contains(out, "Verdict: HEALTHY") {
		t.Fatalf("%d nodes UN, want 9:\n%s", n, out)
	}
	for _, want := range []string{"Datacenter: dc1 (context eu-west)", "Datacenter: dc3 (context ap-south)", "orders-dc2-r3-0"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	t.Run("one region only", func(t *testing.T) {
		code, out, stderr := runMain(append(args, "--context", "us-east")...)
		if code != ExitOK || strings.Count(out, "\nUN  ") != 3 || strings.Contains(out, "dc1") || !strings.Contains(out, "partial") {
			t.Errorf("--context us-east: exit %d\n%s%s", code, out, stderr)
		}
	})

	t.Run("partition", func(t *testing.T) {
		ips := podIPs(t, w)
		var east, west []string
		for pod, ip := range ips {
			if strings.HasPrefix(pod, "orders-dc3-") {
				east = append(east, ip)
			} else {
				west = append(west, ip)
			}
		}
		w.Sim.Partition(east, west)
		wants := []string{
			"Unreachable: orders-dc3-r1-0, orders-dc3-r2-0, orders-dc3-r3-0 cannot see orders-dc1-r1-0 (",
			"Unreachable: orders-dc1-r1-0, orders-dc1-r2-0, orders-dc1-r3-0, orders-dc2-r1-0, orders-dc2-r2-0, orders-dc2-r3-0 cannot see orders-dc3-r1-0 (",
		}
		out := waitStatus(t, args, "each side sees the other down", func(code int, out string) bool {
			return code == ExitUnhealthy && strings.Count(out, "\n  - ") == 2 && strings.Contains(out, wants[0]) && strings.Contains(out, wants[1])
		})
		if strings.Count(out, "\nDN  ") != 9 {
			t.Errorf("every node is DN in some view:\n%s", out)
		}
		w.Sim.Heal()
		waitStatus(t, args, "healed", func(code int, out string) bool { return code == ExitOK })
	})

	t.Run("killed node", func(t *testing.T) {
		const victim = "orders-dc2-r1-0"
		w.Region("us-east").Kubelet.SetFault("cassandra", victim, kubelet.CrashLoop)
		out := waitStatus(t, args, victim+" DN", func(code int, out string) bool {
			return code == ExitUnhealthy && strings.Contains(out, "NodeDown: "+victim)
		})
		line := lineOf(out, victim)
		if !strings.HasPrefix(line, "DN  ") || !strings.Contains(line, "down according to orders-dc1-r1-0") {
			t.Errorf("victim's line %q", line)
		}
		code, js, _ := runMain(append(args, "-o", "json")...)
		var report struct {
			Healthy bool
			Reasons []struct {
				Kind   string
				Nodes  []ring.NodeRef
				SeenBy []string
			}
		}
		if err := json.Unmarshal([]byte(js), &report); err != nil || code != ExitUnhealthy || report.Healthy {
			t.Fatalf("json: exit %d, %v:\n%s", code, err, js)
		}
		i := slices.IndexFunc(report.Reasons, func(r struct {
			Kind   string
			Nodes  []ring.NodeRef
			SeenBy []string
		}) bool {
			return r.Kind == "NodeDown"
		})
		if i < 0 || report.Reasons[i].Nodes[0].Pod != victim || len(report.Reasons[i].SeenBy) != 8 {
			t.Errorf("json reasons %+v", report.Reasons)
		}
	})
}

// waitStatus runs status until cond holds on its exit code and output.
func waitStatus(t *testing.T, args []string, what string, cond func(code int, out string) bool) string {
	t.Helper()
	var out string
	wait.Until(t, 3*time.Minute, what+": never happened", func() (bool, string) {
		code, o, errOut := runMain(args...)
		out = o
		if !cond(code, o) {
			return false, fmt.Sprintf("last exit %d:\n%s\n%s", code, o, errOut)
		}
		t.Logf("ringops %s: exit %d\n%s%s", strings.Join(args, " "), code, o, errOut)
		return true, ""
	})
	return out
}

func lineOf(out, pod string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "  "+pod+"  ") {
			return l
		}
	}
	return ""
}

// deploy renders the cluster and creates its objects and the Jolokia
// credentials Secret in every region.
func deploy(t *testing.T, w *env.World, dir string) {
	t.Helper()
	cd, err := loadClusterDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := render.New(render.DefaultOptions())
	for _, kc := range cd.Cluster.Contexts() {
		reg := w.Region(kc)
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cassandra"}}
		if _, err := reg.Client.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "jolokia-auth", Namespace: "cassandra"},
			StringData: map[string]string{"username": "monitor", "password": "pa55-" + kc}}
		if _, err := reg.Client.CoreV1().Secrets("cassandra").Create(t.Context(), secret, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		m, err := r.Render(t.Context(), cd.FS, ".", cd.Cluster, kc)
		if err != nil {
			t.Fatal(err)
		}
		dyn := dynamic.NewForConfigOrDie(reg.Config)
		for _, obj := range m.Objects {
			gvr, ok := resources[obj.GetKind()]
			if !ok {
				t.Fatalf("no resource for kind %s", obj.GetKind())
			}
			if _, err := dyn.Resource(gvr).Namespace(obj.GetNamespace()).Create(t.Context(), obj, metav1.CreateOptions{}); err != nil {
				t.Fatalf("%s: create %s %s: %v", kc, obj.GetKind(), obj.GetName(), err)
			}
		}
	}
}

var resources = map[string]schema.GroupVersionResource{
	"ConfigMap":           {Version: "v1", Resource: "configmaps"},
	"Service":             {Version: "v1", Resource: "services"},
	"PodDisruptionBudget": {Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
	"StatefulSet":         {Group: "apps", Version: "v1", Resource: "statefulsets"},
	"NetworkPolicy":       {Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
}

// podIPs returns the IP of every pod of the cluster, by name.
func podIPs(t *testing.T, w *env.World) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, reg := range w.Regions() {
		pods, err := reg.Client.CoreV1().Pods("cassandra").List(t.Context(), metav1.ListOptions{LabelSelector: "ringops.dev/cluster=orders"})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			out[p.Name] = p.Status.PodIP
		}
	}
	if len(out) != 9 {
		t.Fatalf("%d pods, want 9: %v", len(out), out)
	}
	return out
}
