package render

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/schemas"
)

// renderExample renders every context of the example repository.
func renderExample(t testing.TB, r *Renderer) []*Manifests {
	t.Helper()
	root, dir, c := openRepo(t, exampleRepo)
	all, err := r.RenderAll(context.Background(), root.FS(), dir, c)
	require.NoError(t, err)
	return all
}

func joinYAML(all []*Manifests) []byte {
	var buf bytes.Buffer
	for _, m := range all {
		buf.WriteString("# " + m.Context + "\n")
		buf.Write(m.YAML())
		buf.Write(m.JSON())
	}
	return buf.Bytes()
}

func TestRenderDeterministic(t *testing.T) {
	first := joinYAML(renderExample(t, New(Options{CacheEntries: -1})))
	second := joinYAML(renderExample(t, New(Options{CacheEntries: -1})))
	assert.Equal(t, string(first), string(second))
}

func TestRenderConcurrent(t *testing.T) {
	want := string(joinYAML(renderExample(t, New(Options{CacheEntries: -1}))))
	// Half the workers build every time, half share a cache.
	renderers := []*Renderer{New(Options{CacheEntries: -1}), New(DefaultOptions())}
	root, dir, c := openRepo(t, exampleRepo)
	const workers = 6
	got := make([]string, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			all, err := renderers[i%2].RenderAll(context.Background(), root.FS(), dir, c)
			got[i], errs[i] = string(joinYAML(all)), err
		})
	}
	wg.Wait()
	for i := range workers {
		require.NoError(t, errs[i])
		assert.Equal(t, want, got[i], "worker %d", i)
	}
}

func TestRenderOnlyTheContextsDatacenters(t *testing.T) {
	all := renderExample(t, New(DefaultOptions()))
	got := map[string][]string{}
	for _, m := range all {
		for _, u := range m.Objects {
			got[m.Context] = append(got[m.Context], idOf(u).String())
		}
	}
	assert.Equal(t, map[string][]string{
		"eu-west": {"ConfigMap cassandra/orders-config", "Service cassandra/orders", "PodDisruptionBudget cassandra/orders-dc1",
			"StatefulSet cassandra/orders-dc1-r1", "StatefulSet cassandra/orders-dc1-r2", "StatefulSet cassandra/orders-dc1-r3", "NetworkPolicy cassandra/orders-jolokia"},
		"us-east": {"ConfigMap cassandra/orders-config", "Service cassandra/orders", "PodDisruptionBudget cassandra/orders-dc2",
			"StatefulSet cassandra/orders-dc2-r1", "StatefulSet cassandra/orders-dc2-r2", "NetworkPolicy cassandra/orders-jolokia"},
		"ap-south": {"ConfigMap cassandra/orders-config", "Service cassandra/orders", "PodDisruptionBudget cassandra/orders-dc3",
			"StatefulSet cassandra/orders-dc3-r1", "StatefulSet cassandra/orders-dc3-r2", "NetworkPolicy cassandra/orders-jolokia"},
	}, got)
	assert.Equal(t, []string{"eu-west", "us-east", "ap-south"}, []string{all[0].Context, all[1].Context, all[2].Context},
		"seed region first")
}

func TestRenderUnknownContext(t *testing.T) {
	_, err := renderEUWestAs(t, "eu-central")
	require.ErrorIs(t, err, ErrUnknownContext)
	assert.Equal(t, "cluster orders: context eu-central: no datacenter in this context (the cluster's contexts: eu-west, us-east)", err.Error())
}

func renderEUWestAs(t *testing.T, kubeContext string) (*Manifests, error) {
	return New(DefaultOptions()).Render(context.Background(), regionFS(nil), "clusters/orders", ordersCluster(t), kubeContext)
}

func TestRenderCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New(DefaultOptions()).Render(ctx, regionFS(nil), "clusters/orders", ordersCluster(t), "eu-west")
	require.ErrorIs(t, err, context.Canceled)
}

func TestRenderRefusesPathsOutOfTheRepository(t *testing.T) {
	c := ordersCluster(t)
	_, err := New(DefaultOptions()).Render(context.Background(), regionFS(nil), "../clusters/orders", c, "eu-west")
	assert.ErrorContains(t, err, `cluster directory "../clusters/orders"`)
	c.Spec.Datacenters[0].Context = "../../etc"
	_, err = New(DefaultOptions()).Render(context.Background(), regionFS(nil), "clusters/orders", c, "../../etc")
	assert.ErrorContains(t, err, "context ../../etc: cannot name a directory")
}

func TestRenderDefaultsACopy(t *testing.T) {
	c := &schemas.CassandraCluster{
		APIVersion: schemas.APIVersion, Kind: schemas.Kind,
		Metadata: schemas.ObjectMeta{Name: "raw"},
		Spec: schemas.ClusterSpec{
			Image: "cassandra:4.1.5", Storage: schemas.Storage{Size: "1Gi"},
			Datacenters: []schemas.Datacenter{{Name: "dc1", Context: "k", Racks: []schemas.Rack{{Name: "r1"}}}},
		},
	}
	m, err := New(DefaultOptions()).Render(context.Background(), regionFS(nil), "clusters/raw", c, "k")
	require.NoError(t, err)
	sts := statefulSets(t, m)
	require.Len(t, sts, 1)
	assert.Equal(t, int32(1), *sts[0].Spec.Replicas, "default nodesPerRack")
	assert.Equal(t, "default", sts[0].Namespace)
	assert.Empty(t, c.Metadata.Namespace, "the caller's spec is left alone")
	assert.Nil(t, c.Spec.Datacenters[0].Racks[0].Nodes)
}

// specHash recomputes the spec hash as the package documents it.
func specHash(t *testing.T, u *unstructured.Unstructured) string {
	t.Helper()
	cp := u.DeepCopy()
	ann := cp.GetAnnotations()
	delete(ann, contract.AnnotationSpecHash)
	if len(ann) == 0 {
		ann = nil // no empty annotations map either
	}
	cp.SetAnnotations(ann)
	data, err := json.Marshal(cp.Object)
	require.NoError(t, err)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestManagedByAndSpecHashSurviveComponents(t *testing.T) {
	hijack := componentHeader + `patches:
  - target: {kind: StatefulSet}
    patch: |-
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: any
        labels: {app.kubernetes.io/managed-by: helm}
        annotations: {ringops.dev/spec-hash: forged}
      spec:
        template:
          metadata:
            labels: {app.kubernetes.io/managed-by: helm, ringops.dev/rack: elsewhere}
  - target: {kind: Service}
    patch: |-
      - {op: remove, path: /metadata/labels/app.kubernetes.io~1managed-by}
`
	m, err := renderEUWest(t, regionFS(map[string]string{"kustomization.yaml": hijack}), DefaultOptions())
	require.NoError(t, err)
	for _, u := range m.Objects {
		assert.Equal(t, contract.ManagedBy, u.GetLabels()[contract.LabelManagedBy], "%s", idOf(u))
		assert.Equal(t, specHash(t, u), u.GetAnnotations()[contract.AnnotationSpecHash], "%s", idOf(u))
	}
	for _, sts := range statefulSets(t, m) {
		assert.Equal(t, contract.ManagedBy, sts.Spec.Template.Labels[contract.LabelManagedBy], "pods of %s", sts.Name)
		assert.Equal(t, sts.Spec.Selector.MatchLabels[contract.LabelRack], sts.Spec.Template.Labels[contract.LabelRack],
			"pods of %s keep the contract's labels", sts.Name)
	}
}

func TestSpecHashFollowsTheComponent(t *testing.T) {
	storage := func(class string) map[string]string {
		return map[string]string{
			"kustomization.yaml": componentHeader + "patches: [{path: sc.yaml, target: {kind: StatefulSet}}]\n",
			"sc.yaml":            "- {op: add, path: /spec/volumeClaimTemplates/0/spec/storageClassName, value: " + class + "}\n",
		}
	}
	a, err := renderEUWest(t, regionFS(storage("gp3")), DefaultOptions())
	require.NoError(t, err)
	b, err := renderEUWest(t, regionFS(storage("io2")), DefaultOptions())
	require.NoError(t, err)
	hashes := func(m *Manifests) map[string]string {
		out := map[string]string{}
		for _, u := range m.Objects {
			out[idOf(u).String()] = u.GetAnnotations()[contract.AnnotationSpecHash]
		}
		return out
	}
	ha, hb := hashes(a), hashes(b)
	for id := range ha {
		if strings.HasPrefix(id, "StatefulSet ") {
			assert.NotEqual(t, ha[id], hb[id], "%s: the patched objects' hash changes", id)
		} else {
			assert.Equal(t, ha[id], hb[id], "%s: the others' does not", id)
		}
	}
}

func TestConfigChangeRollsTheRacks(t *testing.T) {
	withTokens := func(n string) *Manifests {
		spec := strings.Replace(ordersSpec, "  storage:", "  config: {cassandra-yaml: {num_tokens: "+n+"}}\n  storage:", 1)
		c, err := schemas.Parse("cluster.yaml", []byte(spec))
		require.NoError(t, err)
		m, err := New(DefaultOptions()).Render(context.Background(), regionFS(nil), "clusters/orders", c, "eu-west")
		require.NoError(t, err)
		return m
	}
	a, b := statefulSets(t, withTokens("16")), statefulSets(t, withTokens("8"))
	require.Len(t, a, 2)
	for i := range a {
		assert.NotEqual(t, a[i].Spec.Template.Annotations[contract.AnnotationConfigHash], b[i].Spec.Template.Annotations[contract.AnnotationConfigHash],
			"%s: a config change changes the pod template", a[i].Name)
		assert.Equal(t, "16", envOf(a[i])["CASSANDRA_NUM_TOKENS"])
	}
}

func TestManifestsJSONIsAList(t *testing.T) {
	m := renderExample(t, New(DefaultOptions()))[0]
	var list struct {
		APIVersion string                   `json:"apiVersion"`
		Kind       string                   `json:"kind"`
		Items      []map[string]interface{} `json:"items"`
	}
	require.NoError(t, json.Unmarshal(m.JSON(), &list))
	assert.Equal(t, "v1", list.APIVersion)
	assert.Equal(t, "List", list.Kind)
	require.Len(t, list.Items, len(m.Objects))
	assert.Equal(t, "ConfigMap", list.Items[0]["kind"])
	assert.Equal(t, len(m.Objects)-1, strings.Count(string(m.YAML()), "\n---\n"))
}

func statefulSets(t *testing.T, m *Manifests) []*appsv1.StatefulSet {
	t.Helper()
	var out []*appsv1.StatefulSet
	for _, u := range m.Objects {
		if u.GetKind() == "StatefulSet" {
			sts := &appsv1.StatefulSet{}
			require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, sts))
			out = append(out, sts)
		}
	}
	return out
}

func envOf(sts *appsv1.StatefulSet) map[string]string {
	out := map[string]string{}
	for _, c := range sts.Spec.Template.Spec.Containers {
		if c.Name == ContainerCassandra {
			for _, e := range c.Env {
				out[e.Name] = e.Value
			}
		}
	}
	return out
}

// TestPodContract checks, on the example, what test/env's kubelet and
// Cassandra simulators read from the pods (see the package comment).
func TestPodContract(t *testing.T) {
	m := renderExample(t, New(DefaultOptions()))[1] // us-east: dc2
	sts := statefulSets(t, m)
	require.Len(t, sts, 2)
	seeds := "orders-dc1-r1-0.dc1.orders.db.example.com,orders-dc1-r2-0.dc1.orders.db.example.com," +
		"orders-dc2-r1-0.dc2.orders.db.example.com,orders-dc2-r2-0.dc2.orders.db.example.com," +
		"orders-dc3-r1-0.dc3.orders.db.example.com,orders-dc3-r2-0.dc3.orders.db.example.com"
	for i, s := range sts {
		rack := []string{"r1", "r2"}[i]
		assert.Equal(t, "orders-dc2-"+rack, s.Name)
		assert.Equal(t, "orders", s.Spec.ServiceName)
		assert.Equal(t, appsv1.OrderedReadyPodManagement, s.Spec.PodManagementPolicy)
		assert.Equal(t, map[string]string{
			contract.LabelName: contract.AppName, contract.LabelInstance: "orders", contract.LabelManagedBy: contract.ManagedBy, "team": "checkout",
			contract.LabelCluster: "orders", contract.LabelDatacenter: "dc2", contract.LabelRack: rack,
		}, s.Spec.Template.Labels)
		var main *corev1.Container
		for j := range s.Spec.Template.Spec.Containers {
			if s.Spec.Template.Spec.Containers[j].Name == ContainerCassandra {
				main = &s.Spec.Template.Spec.Containers[j]
			}
		}
		require.NotNil(t, main)
		ports := map[string]int32{}
		for _, p := range main.Ports {
			ports[p.Name] = p.ContainerPort
		}
		assert.Equal(t, map[string]int32{"cql": 9042, "intra-node": 7000, "intra-node-tls": 7001, "jmx": 7199, "jolokia": 8778}, ports)
		env := envOf(s)
		assert.Equal(t, "orders", env["CASSANDRA_CLUSTER_NAME"])
		assert.Equal(t, "dc2", env["CASSANDRA_DC"])
		assert.Equal(t, rack, env["CASSANDRA_RACK"])
		assert.Equal(t, "GossipingPropertyFileSnitch", env["CASSANDRA_ENDPOINT_SNITCH"])
		assert.Equal(t, seeds, env["CASSANDRA_SEEDS"])
		assert.Contains(t, env, "POD_IP")
		var names []string
		for _, e := range main.Env {
			names = append(names, e.Name)
		}
		assert.IsNonDecreasing(t, names, "env sorted by name")
	}
}
