package plan

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRegionsDoneWaitsForRebuild: a region whose racks still owe a
// rebuild (or a cleanup) is not done, whatever the plan says of it: a new
// datacenter's commit status says success only once its nodes hold their
// data.
func TestRegionsDoneWaitsForRebuild(t *testing.T) {
	for _, dir := range []string{"dc-add-rebuild-streaming", "dc-add-rebuild-next-node", "rf-lower-cleanup-first-node"} {
		t.Run(dir, func(t *testing.T) {
			d, o := goldenInput(t, filepath.Join("testdata", "plan", dir))
			kc := "us-east"
			if dir == "rf-lower-cleanup-first-node" {
				kc = "eu-west"
			}
			got := RegionsDone(d, o, Plan{Wait: Wait{Reason: Converged}})
			require.False(t, got[kc], "%s is done while its nodes owe work: %v", kc, got)
		})
	}
}

// TestOperationPods: the executor reads the progress of the pod each
// StatefulSet's attempt names (a rebuild's here, #15).
func TestOperationPods(t *testing.T) {
	d, o := goldenInput(t, filepath.Join("testdata", "plan", "dc-add-rebuild-streaming"))
	require.Equal(t, map[string]bool{"orders-dc2-r1-0": true}, OperationPods(d.Cluster.Metadata.Name, o))
}

// TestBootstrapOption: the option goes into JVM_EXTRA_OPTS (created in
// name order when missing) and out again, other options kept.
func TestBootstrapOption(t *testing.T) {
	tmpl := map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "cassandra", "env": []any{
		map[string]any{"name": "CASSANDRA_DC", "value": "dc2"}, map[string]any{"name": "POD_IP"}}}}}}
	setBootstrapOption(tmpl, true)
	require.True(t, HasBootstrapOption(tmpl))
	env := envOf(tmpl)
	require.Equal(t, "JVM_EXTRA_OPTS", env[1].(map[string]any)["name"], "sorted by name: %v", env)
	setBootstrapOption(tmpl, false)
	require.False(t, HasBootstrapOption(tmpl))
	require.Len(t, envOf(tmpl), 2, "the variable goes when it held the option alone")

	env = envOf(tmpl)
	tmpl["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["env"] = append(env, map[string]any{"name": "JVM_EXTRA_OPTS", "value": "-Xmx1G"})
	setBootstrapOption(tmpl, true)
	require.Equal(t, "-Xmx1G "+JoinWithoutBootstrap, envOf(tmpl)[2].(map[string]any)["value"])
	setBootstrapOption(tmpl, false)
	require.Equal(t, "-Xmx1G", envOf(tmpl)[2].(map[string]any)["value"])
}
