package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/ringops/ringops/internal/testkit/wait"
	"github.com/ringops/ringops/test/env"
)

const casskopCRDs = "../../importer/casskop/testdata/crds"

// multiCasskopCRD is MultiCassKop's CRD in apiextensions v1: its own file
// is v1beta1 without a schema, which Kubernetes no longer serves.
const multiCasskopCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: multicasskops.db.orange.com}
spec:
  group: db.orange.com
  names: {kind: MultiCasskop, listKind: MultiCasskopList, plural: multicasskops, singular: multicasskop}
  scope: Namespaced
  versions:
    - name: v2
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`

const fromClusterMulti = `apiVersion: db.orange.com/v2
kind: MultiCasskop
metadata: {name: orders-multi, namespace: cassandra}
spec:
  base:
    apiVersion: db.orange.com/v2
    kind: CassandraCluster
    metadata: {name: orders, namespace: cassandra}
    spec:
      cassandraImage: cassandra:4.1.5
      dataCapacity: 10Gi
      configMapName: orders-config-v1
      autoPilot: true
      service: {annotations: {external-dns.alpha.kubernetes.io/hostname: ring.example.com.}}
    status:
      seedlist: [orders-dc1-r1-0.ring.example.com, orders-dc2-r1-0.ring.example.com]
  override:
    us-east:
      spec:
        dataStorageClass: gp3
        topology: {dc: [{name: dc2, rack: [{name: r1}]}]}
    eu-west:
      spec:
        topology: {dc: [{name: dc1, rack: [{name: r1}]}]}
`

// TestImportFromCluster: ringops import --from-cluster reads a
// MultiCasskop from a real API server (CassKop's CRDs installed), the
// CassandraClusters Multi-CassKop made in both regions and the ConfigMap
// they reference, and writes the repository: the MultiCasskop's own
// region (its local cluster) first. A context the kubeconfig lacks is
// refused. Cost: two control planes with one node each, nothing else.
func TestImportFromCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts control planes")
	}
	w := env.Start(t, env.Options{Regions: []string{"eu-west", "us-east"}, NodesPerRegion: 1})
	for _, r := range w.Regions() {
		dyn, err := dynamic.NewForConfig(r.Config)
		require.NoError(t, err)
		installCRD(t, dyn, mustReadFile(t, filepath.Join(casskopCRDs, "db.orange.com_cassandraclusters.yaml")))
		installCRD(t, dyn, []byte(multiCasskopCRD))
		create(t, dyn, "apiVersion: v1\nkind: Namespace\nmetadata: {name: cassandra}\n")
		create(t, dyn, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: orders-config-v1, namespace: cassandra}\ndata: {pre_run.sh: 'sed -i s/a/b/ /etc/cassandra/cassandra.yaml'}\n")
		dc := map[string]string{"eu-west": "dc1", "us-east": "dc2"}[r.Name]
		// As Multi-CassKop writes it in each region: the base with the override merged.
		create(t, dyn, "apiVersion: db.orange.com/v2\nkind: CassandraCluster\nmetadata: {name: orders, namespace: cassandra}\n"+
			"spec: {cassandraImage: cassandra:4.1.5, dataCapacity: 10Gi, configMapName: orders-config-v1, autoPilot: true, topology: {dc: [{name: "+dc+", rack: [{name: r1}]}]}}\n")
		if r.Name == "eu-west" {
			create(t, dyn, fromClusterMulti)
			// Multi-CassKop's operator, scaled to 0 so that no pod of it
			// starts in the world.
			create(t, dyn, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: multi-casskop, namespace: cassandra}\n"+
				"spec: {replicas: 0, selector: {matchLabels: {app: mc}}, template: {metadata: {labels: {app: mc}}, spec: {containers: [{name: mc, image: orangeopensource/multi-casskop:v2.1.0}]}}}\n")
		}
	}
	out := filepath.Join(t.TempDir(), "repo")
	code, stdout, stderr := runMain("import", "--from-cluster", "--kubeconfig", w.Kubeconfig, "--context", "eu-west", "-n", "cassandra", "-o", out)
	require.Equal(t, ExitChanges, code, "%s%s", stdout, stderr)
	spec := string(mustReadFile(t, filepath.Join(out, "clusters/orders/cluster.yaml")))
	dc1, dc2 := strings.Index(spec, "name: dc1"), strings.Index(spec, "name: dc2")
	assert.True(t, dc1 > 0 && dc2 > dc1, "the MultiCasskop's own region (Multi-CassKop's local cluster) is the seed region:\n%s", spec)
	assert.Contains(t, spec, "context: us-east")
	assert.Contains(t, spec, "dnsDomain: ring.example.com")
	east := string(mustReadFile(t, filepath.Join(out, "clusters/orders/regions/us-east/kustomization.yaml")))
	assert.Contains(t, east, "value: gp3")
	report := string(mustReadFile(t, filepath.Join(out, "clusters/orders/IMPORT.md")))
	assert.Contains(t, report, "pre_run.sh", "the ConfigMap was read and its hook reported")
	assert.Contains(t, report, "made by MultiCasskop orders-multi of the input", "the regions' CassandraClusters were read and recognised")
	assert.Contains(t, report, "the CassKop operator (orangeopensource/multi-casskop:v2.1.0) is scaled to 0", "the operator's Deployment was read")
	code, _, stderr = runMain("validate", out)
	require.Equal(t, ExitOK, code, stderr)

	kc := filepath.Join(t.TempDir(), "kubeconfig")
	cfg, err := clientcmd.LoadFromFile(w.Kubeconfig)
	require.NoError(t, err)
	cfg.Contexts["us-east-renamed"] = cfg.Contexts["us-east"]
	delete(cfg.Contexts, "us-east")
	require.NoError(t, clientcmd.WriteToFile(*cfg, kc))
	code, _, stderr = runMain("import", "--from-cluster", "--kubeconfig", kc, "--context", "eu-west", "-o", filepath.Join(t.TempDir(), "r2"))
	assert.Equal(t, ExitInvalid, code, stderr)
	assert.Contains(t, stderr, "spec.override.us-east: no such context in the kubeconfig")
}

func mustReadFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// installCRD creates a CRD and waits until it is served.
func installCRD(t *testing.T, dyn dynamic.Interface, manifest []byte) {
	t.Helper()
	u := decode(t, manifest)
	_, err := dyn.Resource(crdResource).Create(t.Context(), u, metav1.CreateOptions{})
	require.NoError(t, err)
	wait.Until(t, time.Minute, "CRD "+u.GetName()+" established", func() (bool, string) {
		got, err := dyn.Resource(crdResource).Get(t.Context(), u.GetName(), metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				return true, ""
			}
		}
		return false, "not established"
	})
}

// create creates one object (its resource: the kind's plural, lower case).
func create(t *testing.T, dyn dynamic.Interface, manifest string) {
	t.Helper()
	u := decode(t, []byte(manifest))
	gv, err := schema.ParseGroupVersion(u.GetAPIVersion())
	require.NoError(t, err)
	gvr := gv.WithResource(strings.ToLower(u.GetKind()) + "s")
	var ri dynamic.ResourceInterface = dyn.Resource(gvr)
	if u.GetNamespace() != "" {
		ri = dyn.Resource(gvr).Namespace(u.GetNamespace())
	}
	wait.For(t, time.Minute, "create "+u.GetKind()+" "+u.GetName(), func() error {
		_, err := ri.Create(t.Context(), u, metav1.CreateOptions{})
		return err // a CRD just established may take a moment to be served
	})
}

func decode(t *testing.T, manifest []byte) *unstructured.Unstructured {
	t.Helper()
	var obj map[string]any
	require.NoError(t, yaml.Unmarshal(manifest, &obj))
	return &unstructured.Unstructured{Object: obj}
}
