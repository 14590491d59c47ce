package chart

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/ringops/ringops/test/tools/toolcache"
)

// EnvPromtoolDir names a directory holding a promtool binary; when unset,
// the test takes the one test/tools/promtool/build.sh cached, and is
// skipped when there is none: a cold build costs about 14 minutes of CPU,
// which `make test` does not pay (`make promtool` or `make chart` builds
// it; the metric names of the rules are checked without it, in
// cmd/ringops).
const EnvPromtoolDir = "RINGOPS_PROMTOOL_DIR"

var errPromtoolNotBuilt = errors.New("promtool is not built (make promtool builds it once)")

var promtoolBin = sync.OnceValues(func() (string, error) {
	tool := toolcache.Tool{Name: "promtool", Env: EnvPromtoolDir, Script: "test/tools/promtool/build.sh", Files: []string{"promtool"},
		Args: []string{"--cached"}}
	dir, err := tool.Dir(context.Background())
	if err != nil && os.Getenv(EnvPromtoolDir) == "" {
		return "", errPromtoolNotBuilt
	}
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "promtool"), nil
})

func promtool(t *testing.T, dir string, args ...string) string {
	t.Helper()
	bin, err := promtoolBin()
	if errors.Is(err, errPromtoolNotBuilt) {
		t.Skipf("%v, or set %s", err, EnvPromtoolDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestGrafanaDashboard: off by default; on, a ConfigMap labelled for
// Grafana's sidecar, in the namespace asked, holding the dashboard file as
// it is, valid JSON.
func TestGrafanaDashboard(t *testing.T) {
	for _, o := range objects(t, minimal.template(t)) {
		if o.GetKind() == "ConfigMap" || o.GetKind() == "PrometheusRule" {
			t.Errorf("%s %s rendered by default", o.GetKind(), o.GetName())
		}
	}
	var cm corev1.ConfigMap
	find(t, objects(t, full.template(t)), "ConfigMap", &cm)
	if cm.Labels["grafana_dashboard"] != "1" || cm.Namespace != "monitoring" || cm.Annotations["grafana_folder"] != "Cassandra" {
		t.Errorf("ConfigMap %s/%s labels %v annotations %v: not for the sidecar as the values ask", cm.Namespace, cm.Name, cm.Labels, cm.Annotations)
	}
	want, err := os.ReadFile(filepath.Join(chartDir, "dashboards", "ringops.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := cm.Data["ringops.json"]
	if strings.TrimSpace(got) != strings.TrimSpace(string(want)) {
		t.Error("the ConfigMap does not hold dashboards/ringops.json as it is")
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(got), &d); err != nil || d["uid"] != "ringops" {
		t.Errorf("the dashboard is not valid JSON with uid ringops: %v", err)
	}
}

// TestPrometheusRuleWithPromtool: the rendered rules pass `promtool check
// rules`, and `promtool test rules` (testdata/alerts-test.yaml) shows each
// alert firing on the series that should fire it, and only then.
func TestPrometheusRuleWithPromtool(t *testing.T) {
	var rule unstructured.Unstructured
	for _, o := range objects(t, minimal.template(t, "--set", "metrics.prometheusRule.enabled=true")) {
		if o.GetKind() == "PrometheusRule" {
			rule = *o
		}
	}
	spec, ok := rule.Object["spec"]
	if !ok {
		t.Fatal("no PrometheusRule rendered with metrics.prometheusRule.enabled=true")
	}
	b, err := yaml.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join("testdata", "alerts-test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "alerts-test.yaml"), tests, 0o600); err != nil {
		t.Fatal(err)
	}
	out := promtool(t, dir, "check", "rules", "rules.yaml")
	if !strings.Contains(out, "SUCCESS: 5 rules found") {
		t.Errorf("promtool check rules:\n%s", out)
	}
	promtool(t, dir, "test", "rules", "alerts-test.yaml")
}
