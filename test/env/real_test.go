package env_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
	"github.com/ringops/ringops/test/env"
	"github.com/ringops/ringops/test/env/internal/proc"
)

// realSpec is a one-datacenter, two-rack cluster as ringops renders it.
// Its CQL authentication is None: these tests apply the rendered objects
// without ringops' engine, which would create its CQL role (the tests
// read and write rows without credentials; authentication has its own
// tests: test/env/cassandra cqlroles_test.go, test/e2e cql_test.go,
// test/e2e/realnodes real_auth_test.go).
const realSpec = `apiVersion: ringops.dev/v1alpha1
kind: CassandraCluster
metadata: {name: tiny, namespace: cassandra}
spec:
  image: cassandra:5.0.9
  nodesPerRack: 1
  seedsPerDatacenter: 1
  storage: {size: 1Gi}
  cql: {authentication: None}
  pod: {terminationGracePeriodSeconds: 60}
  datacenters:
    - name: dc1
      context: eu-west
      racks: [{name: r1}, {name: r2}]
`

// TestRealCassandra runs the rendered pods of a two-rack datacenter as real
// Cassandra 5.0 JVMs, with the Jolokia agent ringops injects by default
// (the image has none): the first node starts as the seed, the second
// bootstraps from it; both are UN in each other's views (over the real
// Jolokia agent) and in nodetool status; a pod deleted gracefully (preStop
// nodetool drain, SIGTERM) comes back on its volume with the same host ID;
// every JVM is gone when the world stops.
func TestRealCassandra(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real Cassandra JVMs")
	}
	t.Parallel() // after the package's other tests: realcassandra.Exclusive serialises the real ones
	var pids []int
	t.Cleanup(func() {
		for _, pid := range pids {
			if proc.Alive(pid) {
				t.Errorf("Cassandra JVM %d still runs after the world stopped", pid)
			}
		}
	})
	opts := env.RealOptions()
	opts.Regions = []string{"eu-west"}
	w := env.Start(t, opts)
	r := w.Region("eu-west")
	objs := renderReal(t, realSpec, "eu-west")
	ctx := t.Context()
	if _, err := r.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cassandra"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(r.Config)
	for _, o := range objs {
		if o.GetKind() == "StatefulSet" {
			_ = unstructured.SetNestedField(o.Object, int64(0), "spec", "replicas")
		}
		applyObject(t, dyn, o)
	}
	start := time.Now()
	scaleTo(t, r, "tiny-dc1-r1", 1)
	waitReady(t, r, "tiny-dc1-r1-0", 3*time.Minute)
	t.Logf("seed tiny-dc1-r1-0 Ready after %s", time.Since(start).Round(time.Second))
	start = time.Now()
	scaleTo(t, r, "tiny-dc1-r2", 1)
	waitReady(t, r, "tiny-dc1-r2-0", 3*time.Minute)
	t.Logf("tiny-dc1-r2-0 bootstrapped, Ready after %s", time.Since(start).Round(time.Second))

	seed := w.Real.Node("eu-west", "cassandra", "tiny-dc1-r1-0")
	second := w.Real.Node("eu-west", "cassandra", "tiny-dc1-r2-0")
	if seed == nil || second == nil {
		t.Fatal("the real runtime does not list both nodes")
	}
	pids = append(pids, seed.Pid(), second.Pid())
	for _, n := range []interface {
		Read(context.Context, string, string) (json.RawMessage, error)
		Pod() string
	}{seed, second} {
		raw, err := n.Read(ctx, "org.apache.cassandra.db:type=StorageService", "EndpointToHostId")
		if err != nil {
			t.Fatalf("%s: %v", n.Pod(), err)
		}
		var ids map[string]string
		_ = json.Unmarshal(raw, &ids)
		if len(ids) != 2 {
			t.Errorf("%s's EndpointToHostId = %v, want both nodes", n.Pod(), ids)
		}
	}
	out, err := second.Nodetool(ctx, "status")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out, "\nUN "); got != 2 {
		t.Errorf("nodetool status shows %d UN nodes, want 2:\n%s", got, out)
	}
	hostID, err := second.Nodetool(ctx, "info")
	if err != nil {
		t.Fatal(err)
	}

	// A graceful delete: preStop drains, the pod comes back on its volume.
	old, err := r.Client.CoreV1().Pods("cassandra").Get(ctx, "tiny-dc1-r2-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Client.CoreV1().Pods("cassandra").Delete(ctx, "tiny-dc1-r2-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, second)
	eventually(t, time.Minute, "a new pod tiny-dc1-r2-0", func() (bool, string) {
		p, err := r.Client.CoreV1().Pods("cassandra").Get(ctx, "tiny-dc1-r2-0", metav1.GetOptions{})
		return err == nil && p.UID != old.UID, fmt.Sprint(err)
	})
	if !strings.Contains(readFile(t, second.Log()), "DRAINED") {
		t.Errorf("the node was not drained by the preStop hook before it stopped (log %s)", second.Log())
	}
	waitReady(t, r, "tiny-dc1-r2-0", 3*time.Minute)
	again := w.Real.Node("eu-west", "cassandra", "tiny-dc1-r2-0")
	pids = append(pids, again.Pid())
	info, err := again.Nodetool(ctx, "info")
	if err != nil {
		t.Fatal(err)
	}
	if idLine(hostID) == "" || idLine(info) != idLine(hostID) {
		t.Errorf("host ID after the restart: %q, before: %q (the volume's data should have survived)", idLine(info), idLine(hostID))
	}
}

func idLine(info string) string {
	for _, l := range strings.Split(info, "\n") {
		if strings.HasPrefix(l, "ID") {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// The agents' credentials of the cluster tiny: the Secret tiny-jolokia,
// which ringops would create (reconciler.JolokiaSecrets) and renderReal
// adds to what it renders.
const (
	realJolokiaUser     = "ringops-test"
	realJolokiaPassword = "pw-real-7Qx2"
)

// renderReal renders spec in kctx, preceded by the agents' credentials
// Secret the reconciler would keep (the pods mount it by default).
func renderReal(t testing.TB, spec, kctx string) []*unstructured.Unstructured {
	t.Helper()
	c, err := schemas.Parse("clusters/tiny/cluster.yaml", []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"clusters/tiny/cluster.yaml": {Data: []byte(spec)}}
	m, err := render.New(render.Options{}).Render(t.Context(), fsys, "clusters/tiny", c, kctx)
	if err != nil {
		t.Fatal(err)
	}
	return append([]*unstructured.Unstructured{jolokiaSecret(c.Metadata.Name, c.Metadata.Namespace, realJolokiaPassword)}, m.Objects...)
}

// jolokiaSecret is the Secret <cluster>-jolokia as ringops keeps it.
func jolokiaSecret(cluster, namespace, password string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{
			"name": render.JolokiaSecretName(cluster), "namespace": namespace,
			"labels": map[string]any{contract.LabelCredentials: contract.CredentialsJolokia},
		},
		"stringData": map[string]any{"username": realJolokiaUser, "password": password},
	}}
}

func applyObject(t testing.TB, dyn dynamic.Interface, o *unstructured.Unstructured) {
	t.Helper()
	gvr := map[string]schema.GroupVersionResource{
		"ConfigMap":           {Version: "v1", Resource: "configmaps"},
		"Service":             {Version: "v1", Resource: "services"},
		"PodDisruptionBudget": {Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
		"StatefulSet":         {Group: "apps", Version: "v1", Resource: "statefulsets"},
		"Secret":              {Version: "v1", Resource: "secrets"},
		"NetworkPolicy":       {Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
	}[o.GetKind()]
	if gvr.Resource == "" {
		t.Fatalf("no resource for kind %s", o.GetKind())
	}
	b, _ := json.Marshal(o.Object)
	force := true
	_, err := dyn.Resource(gvr).Namespace(o.GetNamespace()).Patch(t.Context(), o.GetName(), "application/apply-patch+yaml", b,
		metav1.PatchOptions{FieldManager: "test", Force: &force})
	if err != nil {
		t.Fatalf("apply %s %s: %v", o.GetKind(), o.GetName(), err)
	}
}

// scaleTo is scale in r's namespace cassandra.
func scaleTo(t testing.TB, r *env.Region, sts string, n int32) {
	t.Helper()
	scale(t, r.Client, "cassandra", sts, n)
}

func waitReady(t testing.TB, r *env.Region, pod string, limit time.Duration) {
	t.Helper()
	eventually(t, limit, pod+" Ready", func() (bool, string) {
		p, err := r.Client.CoreV1().Pods("cassandra").Get(t.Context(), pod, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, "no pod yet"
		}
		if err != nil {
			return false, err.Error()
		}
		st := cassandraStatus(p)
		return podReady(p), string(p.Status.Phase) + " " + p.Status.PodIP + " restarts " + itoa(st.RestartCount)
	})
}

func waitGone(t *testing.T, c interface{ Done() <-chan struct{} }) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(2 * time.Minute):
		t.Fatal("the JVM did not stop within 2 minutes of the pod's deletion")
	}
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
