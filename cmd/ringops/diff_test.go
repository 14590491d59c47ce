package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/test/env"
)

const diffSpec = `apiVersion: ringops.dev/v1alpha1
kind: CassandraCluster
metadata: {name: orders, namespace: cassandra}
spec:
  image: cassandra:4.1.4
  storage: {size: 10Gi}
  datacenters:
    - {name: dc1, context: eu-west, racks: [{name: r1}]}
`

// TestDiffAgainstAPIServer: `ringops diff` through the server-side dry
// run of a real API server: everything new before the first apply, no
// difference after it, the StatefulSet alone after an image bump; and
// nothing is ever written by the diff.
func TestDiffAgainstAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	w := env.Start(t, env.Options{Regions: []string{"eu-west"}, NodesPerRegion: 1})
	dir := writeSpec(t, diffSpec)
	args := []string{"diff", dir, "--context", "eu-west", "--kubeconfig", w.Kubeconfig}

	code, out, errs := runMain(args...)
	require.Equal(t, ExitChanges, code, errs)
	for _, obj := range []string{"ConfigMap orders-config", "Service orders", "PodDisruptionBudget orders-dc1", "StatefulSet orders-dc1-r1", "NetworkPolicy orders-jolokia"} {
		assert.Contains(t, out, "# eu-west: "+obj+": new\n")
	}
	assert.Contains(t, out, "--- /dev/null\n+++ rendered/eu-west/StatefulSet/orders-dc1-r1\n")
	assert.Contains(t, out, "namespace cassandra does not exist yet")
	assert.True(t, strings.HasSuffix(out, "eu-west: 5 new\n"), out)
	_, err := w.Region("eu-west").Client.CoreV1().Namespaces().Get(t.Context(), "cassandra", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "the diff wrote nothing: %v", err)

	applyDir(t, w, dir)
	code, out, errs = runMain(args...)
	assert.Equal(t, ExitOK, code, "%s%s", out, errs)
	assert.Equal(t, "eu-west: 5 unchanged\n", out)

	spec := filepath.Join(dir, "cluster.yaml")
	require.NoError(t, os.WriteFile(spec, []byte(strings.Replace(diffSpec, "cassandra:4.1.4", "cassandra:4.1.5", 1)), 0o644))
	code, out, errs = runMain(args...)
	require.Equal(t, ExitChanges, code, errs)
	assert.Contains(t, out, "# eu-west: StatefulSet orders-dc1-r1: changed\n--- live/eu-west/StatefulSet/orders-dc1-r1\n+++ rendered/eu-west/StatefulSet/orders-dc1-r1\n")
	assert.Contains(t, out, "-        image: cassandra:4.1.4\n+        image: cassandra:4.1.5\n")
	assert.NotContains(t, out, "ConfigMap orders-config:")
	assert.True(t, strings.HasSuffix(out, "eu-west: 1 changed, 4 unchanged\n"), out)
}

// applyDir applies the rendered objects of a cluster with the kube Manager.
func applyDir(t *testing.T, w *env.World, dir string) {
	t.Helper()
	cd, err := loadClusterDir(dir)
	require.NoError(t, err)
	opts := kube.DefaultOptions()
	opts.Kubeconfig = w.Kubeconfig
	clients, err := kube.NewClients(cd.Cluster.Contexts(), opts)
	require.NoError(t, err)
	m, err := kube.NewManager(clients, kube.DefaultManagerOptions())
	require.NoError(t, err)
	for _, kc := range cd.Cluster.Contexts() {
		ms, err := render.New(render.DefaultOptions()).Render(t.Context(), cd.FS, ".", cd.Cluster, kc)
		require.NoError(t, err)
		_, err = m.Apply(t.Context(), kc, ms.Objects...)
		require.NoError(t, err)
	}
}
