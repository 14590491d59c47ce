package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const example = "../../clusters-example/clusters/orders"

// ringops runs the CLI in process and returns its exit code and output.
func ringops(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRenderOneContext(t *testing.T) {
	code, out, errs := ringops(t, "render", example, "--context", "us-east")
	require.Equal(t, ExitOK, code, errs)
	assert.NotContains(t, out, "# context:", "a single context prints bare objects, ready for kubectl apply")
	assert.Contains(t, out, "name: orders-dc2-r1\n")
	assert.Contains(t, out, "name: orders-dc2-r2\n")
	assert.NotContains(t, out, "orders-dc1-r1\n", "dc1 lives in eu-west, not us-east")
}

func TestRenderAllContextsSeedRegionFirst(t *testing.T) {
	code, out, errs := ringops(t, "render", example)
	require.Equal(t, ExitOK, code, errs)
	eu := strings.Index(out, "# context: eu-west")
	us := strings.Index(out, "# context: us-east")
	ap := strings.Index(out, "# context: ap-south")
	require.True(t, eu >= 0 && us > eu && ap > us, "contexts in datacenter order, seed region first:\n%s", out[:min(len(out), 300)])
}

func TestRenderJSON(t *testing.T) {
	code, out, errs := ringops(t, "render", example, "--context", "eu-west", "-o", "json")
	require.Equal(t, ExitOK, code, errs)
	var list struct {
		Kind  string           `json:"kind"`
		Items []map[string]any `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	assert.Equal(t, "List", list.Kind)
	assert.NotEmpty(t, list.Items)

	code, out, errs = ringops(t, "render", example, "-o", "json")
	require.Equal(t, ExitOK, code, errs)
	var byContext map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(out), &byContext))
	assert.Len(t, byContext, 3)
}

func TestRenderIsDeterministic(t *testing.T) {
	_, a, _ := ringops(t, "render", example)
	_, b, _ := ringops(t, "render", example)
	assert.Equal(t, a, b)
}

func TestRenderUnknownContext(t *testing.T) {
	code, _, errs := ringops(t, "render", example, "--context", "mars")
	assert.Equal(t, ExitInvalid, code)
	assert.Contains(t, errs, "mars")
	assert.Contains(t, errs, "eu-west", "the error lists the valid contexts")
}

func TestValidateExample(t *testing.T) {
	code, out, errs := ringops(t, "validate", "../../clusters-example")
	require.Equal(t, ExitOK, code, errs)
	assert.Contains(t, out, "valid: ../../clusters-example/clusters/orders")
}

// brokenRepo copies the example cluster into a temporary repository and lets
// the test break it.
func brokenRepo(t *testing.T, edit func(dir string)) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "clusters", "orders")
	require.NoError(t, os.CopyFS(dir, os.DirFS(example)))
	edit(dir)
	return root
}

func TestValidateListsEveryErrorWithFileAndLine(t *testing.T) {
	root := brokenRepo(t, func(dir string) {
		p := filepath.Join(dir, "cluster.yaml")
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		s := strings.Replace(string(b), "name: dc2", "name: dc1", 1)
		s = strings.Replace(s, "image: ", "imag: ", 1)
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
	})
	code, _, errs := ringops(t, "validate", root)
	assert.Equal(t, ExitInvalid, code)
	file := filepath.Join(root, "clusters", "orders", "cluster.yaml")
	assert.Contains(t, errs, file+":")
	assert.Contains(t, errs, `did you mean "image"?`)
	assert.Regexp(t, `cluster\.yaml:\d+: spec\.datacenters\[1\]\.name: "dc1" is used twice`, errs)
}

func TestValidateCatchesBrokenComponent(t *testing.T) {
	root := brokenRepo(t, func(dir string) {
		k := filepath.Join(dir, "regions", "us-east", "kustomization.yaml")
		require.NoError(t, os.WriteFile(k, []byte("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n- ../../../../../etc/passwd\n"), 0o644))
	})
	code, _, errs := ringops(t, "validate", root)
	assert.Equal(t, ExitInvalid, code)
	assert.Contains(t, errs, "regions/us-east/kustomization.yaml")
}

func TestVersion(t *testing.T) {
	code, out, _ := ringops(t, "version")
	require.Equal(t, ExitOK, code)
	assert.Regexp(t, `^ringops \S+ \(commit \S+, go1\.`, out)
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"render"},
		{"render", example, "-o", "xml"},
		{"render", example, "--no-such-flag"},
		{"validate"},
	} {
		code, _, errs := ringops(t, args...)
		assert.Equal(t, ExitUsage, code, "%v: %s", args, errs)
	}
}
