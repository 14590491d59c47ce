package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const casskopSamples = "../../importer/casskop/testdata/samples"

// Every CassKop sample imports (exit 1: each has something to report),
// and ringops validate and ringops render accept what was written.
func TestImportSamplesValidateAndRender(t *testing.T) {
	samples, err := filepath.Glob(filepath.Join(casskopSamples, "*.yaml"))
	require.NoError(t, err)
	cm := filepath.Join(casskopSamples, "cassandra-configmap-v1.yaml")
	for _, s := range samples {
		if s == cm {
			continue
		}
		t.Run(filepath.Base(s), func(t *testing.T) {
			out := t.TempDir()
			code, stdout, stderr := ringops(t, "import", "-f", s, "-f", cm, "-o", out)
			require.Equal(t, ExitChanges, code, stderr)
			assert.Contains(t, stdout, "imported cassandra-demo into")
			assert.Contains(t, stderr, "warning: ")
			dir := filepath.Join(out, "clusters", "cassandra-demo")
			report, err := os.ReadFile(filepath.Join(dir, "IMPORT.md"))
			require.NoError(t, err)
			assert.Contains(t, string(report), "## Needs your attention")
			code, _, stderr = ringops(t, "validate", out)
			require.Equal(t, ExitOK, code, stderr)
			code, rendered, stderr := ringops(t, "render", dir)
			require.Equal(t, ExitOK, code, stderr)
			assert.Contains(t, rendered, "kind: StatefulSet")
		})
	}
}

func TestImportExitCodes(t *testing.T) {
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.yaml")
	require.NoError(t, os.WriteFile(clean, []byte(`apiVersion: db.orange.com/v2
kind: CassandraCluster
metadata: {name: orders, namespace: db}
spec:
  cassandraImage: cassandra:4.1.5
  imagepullpolicy: IfNotPresent
  dataCapacity: 10Gi
  autoPilot: true
  topology: {dc: [{name: dc1, rack: [{name: r1}]}]}
`), 0o644))
	out := filepath.Join(dir, "repo")
	code, _, stderr := ringops(t, "import", "-f", clean, "-o", out, "--context", "eu-west")
	require.Equal(t, ExitOK, code, "everything carried: exit 0\n%s", stderr)
	spec, err := os.ReadFile(filepath.Join(out, "clusters/orders/cluster.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(spec), "context: eu-west")
	_, err = os.Stat(filepath.Join(out, "clusters/orders/regions/eu-west/kustomization.yaml"))
	require.NoError(t, err)

	code, _, stderr = ringops(t, "import", "-f", clean, "-o", out)
	assert.Equal(t, ExitInvalid, code, "an existing cluster directory is never overwritten")
	assert.Contains(t, stderr, "already exists")

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("apiVersion: db.orange.com/v2\nkind: CassandraCluster\nmetadata: {name: x}\nspec: {serverType: dse, dataCapacity: 1Gi}\n"), 0o644))
	out2 := filepath.Join(dir, "repo2")
	code, _, stderr = ringops(t, "import", "-f", bad, "-o", out2)
	assert.Equal(t, ExitInvalid, code)
	assert.Contains(t, stderr, bad+": spec.serverType: \"dse\"")
	_, err = os.Stat(out2)
	assert.True(t, os.IsNotExist(err), "a refused import writes nothing")

	code, _, _ = ringops(t, "import", "-o", out2)
	assert.Equal(t, ExitUsage, code, "-f is required")
}

func TestImportReadsDirectoriesAndStdin(t *testing.T) {
	inputs, err := readImportInputs([]string{casskopSamples, "-"}, strings.NewReader("kind: x\n"))
	require.NoError(t, err)
	var names []string
	for _, in := range inputs {
		names = append(names, filepath.Base(in.Name))
	}
	assert.Contains(t, names, "cc-local.yaml")
	assert.Contains(t, names, "-")
	assert.NotContains(t, names, "ORIGIN.md", "only .yaml, .yml and .json files of a directory")
}
