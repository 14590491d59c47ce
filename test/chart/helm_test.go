package chart

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ringops/ringops/test/tools/toolcache"
)

// EnvHelmDir names a directory holding a helm binary; when unset, the
// tests build (or reuse) one with test/tools/helm/build.sh.
const EnvHelmDir = "RINGOPS_HELM_DIR"

const (
	repoRoot = "../.."
	chartDir = repoRoot + "/charts/ringops"
)

// errNotBuilt: in -short mode, helm is used only when already built.
var errNotBuilt = errors.New("helm is not built (-short does not build it)")

// helmBin finds helm: $RINGOPS_HELM_DIR, else the cache of build.sh, which
// it runs (a few minutes the first time) unless -short.
var helmBin = sync.OnceValues(func() (string, error) {
	tool := toolcache.Tool{Name: "helm", Env: EnvHelmDir, Script: "test/tools/helm/build.sh", Files: []string{"helm"}}
	if testing.Short() {
		tool.Args = []string{"--cached"}
	}
	dir, err := tool.Dir(context.Background())
	if err != nil && testing.Short() && os.Getenv(EnvHelmDir) == "" {
		return "", errNotBuilt
	}
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "helm"), nil
})

// helmResult is what one helm command printed.
type helmResult struct {
	stdout, stderr string
	err            error
}

// helm runs the helm CLI with its own empty home (no repositories, no
// plugins, no kubeconfig of the user's).
func helm(t *testing.T, args ...string) helmResult {
	t.Helper()
	bin, err := helmBin()
	if errors.Is(err, errNotBuilt) {
		t.Skipf("%v: run test/tools/helm/build.sh, or set %s", err, EnvHelmDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+filepath.Join(home, "no-kubeconfig"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("helm %s: %v", strings.Join(args, " "), err)
	}
	return helmResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// release is one way of installing the chart: a release name, a namespace
// and a values file of testdata ("" for the chart's defaults only).
type release struct {
	name, namespace, values string
}

func (r release) args(cmd string) []string { return r.argsWith(cmd, chartDir) }

// argsWith are the arguments of a helm command on the chart in dir.
func (r release) argsWith(cmd, dir string) []string {
	args := []string{cmd}
	if cmd == "template" || cmd == "install" {
		args = append(args, r.name)
	}
	args = append(args, dir, "--namespace", r.namespace)
	if r.values != "" {
		args = append(args, "--values", filepath.Join("testdata", r.values))
	}
	return args
}

// template renders the chart; the test fails if helm refuses.
func (r release) template(t *testing.T, extra ...string) string {
	t.Helper()
	res := helm(t, append(r.args("template"), extra...)...)
	if res.err != nil {
		t.Fatalf("helm template %s (%s): %v\n%s", r.name, r.values, res.err, res.stderr)
	}
	return res.stdout
}

// The installs the tests render. Goldens use the release "ringops" in the
// namespace "ringops", as the README does.
var (
	minimal = release{"ringops", "ringops", "minimal-values.yaml"}
	full    = release{"ringops", "ringops", "full-values.yaml"}
	inline  = release{"ringops", "ringops", "inline-values.yaml"}
	remote  = release{"ringops", "ringops", "remote-values.yaml"}
	shards  = release{"ringops", "ringops", "shards-values.yaml"}
)
