package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/reconciler/daemon"
)

// The chart's Grafana dashboard and PrometheusRule name only metrics the
// daemon exports: the names are parsed out of their PromQL and looked up
// in what the daemon's registry describes (the forge queue's collector
// included). test/chart runs promtool on the rules too.

const (
	dashboardFile = "../../charts/ringops/dashboards/ringops.json"
	rulesFile     = "../../charts/ringops/templates/prometheusrule.yaml"
)

func exportedNames(t *testing.T) []string {
	t.Helper()
	m := daemon.NewMetrics()
	m.Register(newQueueCollector(nil))
	names := m.Names()
	require.Contains(t, names, "ringops_gate_latency_seconds_bucket")
	require.Contains(t, names, "ringops_forge_statuses_dropped_total")
	return names
}

// promqlWords are PromQL's functions, aggregations and keywords.
var promqlWords = strings.Fields(`sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk limit_ratio
	by without on ignoring group_left group_right and or unless bool offset atan2
	abs absent absent_over_time ceil changes clamp clamp_max clamp_min day_of_month day_of_week day_of_year days_in_month delta deriv
	exp floor histogram_quantile histogram_count histogram_sum histogram_fraction holt_winters hour idelta increase irate label_join label_replace ln log2 log10
	minute month predict_linear rate resets round scalar sgn sort sort_desc sqrt time timestamp vector year
	avg_over_time min_over_time max_over_time sum_over_time count_over_time quantile_over_time stddev_over_time stdvar_over_time last_over_time present_over_time
	label_values inf nan`)

var (
	promqlStrings   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	promqlSelectors = regexp.MustCompile(`\{[^{}]*\}|\[[^\[\]]*\]`)
	promqlGroupings = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promqlVariables = regexp.MustCompile(`\$\{?\w+\}?`)
	promqlWord      = regexp.MustCompile(`(^|[^0-9.\w])([a-zA-Z_:][a-zA-Z0-9_:]*)`)
)

// metricsOf are the metric names a PromQL expression reads.
func metricsOf(expr string) []string {
	e := promqlStrings.ReplaceAllString(expr, `""`)
	e = promqlSelectors.ReplaceAllString(e, " ")
	e = promqlGroupings.ReplaceAllString(e, " ")
	e = promqlVariables.ReplaceAllString(e, " ")
	var out []string
	for _, m := range promqlWord.FindAllStringSubmatch(e, -1) {
		if w := m[2]; !slices.Contains(promqlWords, strings.ToLower(w)) {
			out = append(out, w)
		}
	}
	return out
}

func TestMetricsOf(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (cluster, reason) (increase(ringops_waits_total{cluster=~"$cluster"}[$__rate_interval]))`: {"ringops_waits_total"},
		`histogram_quantile(0.9, sum by (le) (rate(ringops_gate_latency_seconds_bucket[5m])))`:            {"ringops_gate_latency_seconds_bucket"},
		`(sum(ringops_leader) or vector(0)) < 1`:                                                          {"ringops_leader"},
		`a_total{x="sum(b)"} unless on(cluster) c_total > 1e3`:                                            {"a_total", "c_total"},
		`label_values(ringops_cluster_revision_info, cluster)`:                                            {"ringops_cluster_revision_info", "cluster"},
	} {
		require.Equal(t, want, metricsOf(expr), expr)
	}
}

// unknownMetrics lists, for each expression, the metrics it reads that
// are not in names (and the expressions that read none).
func unknownMetrics(names, exprs []string) []string {
	var out []string
	for _, e := range exprs {
		ms := metricsOf(e)
		if len(ms) == 0 {
			out = append(out, fmt.Sprintf("%q reads no metric", e))
		}
		for _, m := range ms {
			if !slices.Contains(names, m) {
				out = append(out, fmt.Sprintf("%q reads %s, which the daemon does not export", e, m))
			}
		}
	}
	return out
}

func checkNames(t *testing.T, what string, exprs []string) {
	t.Helper()
	require.NotEmpty(t, exprs, "%s: no expression found", what)
	require.Empty(t, unknownMetrics(exportedNames(t), exprs), what)
}

func TestDashboardNamesOnlyExportedMetrics(t *testing.T) {
	b, err := os.ReadFile(dashboardFile)
	require.NoError(t, err)
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct {
			List []struct {
				Name  string
				Query json.RawMessage
			}
		}
	}
	require.NoError(t, json.Unmarshal(b, &d), dashboardFile)
	var exprs []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		var q struct{ Query string }
		if json.Unmarshal(v.Query, &q) == nil && q.Query != "" {
			exprs = append(exprs, strings.Replace(q.Query, ", cluster)", ")", 1)) // label_values(metric, label): the label is no metric
		}
	}
	checkNames(t, dashboardFile, exprs)
}

var ruleExpr = regexp.MustCompile(`(?m)^\s*expr:\s*(.+)$`)
var helmAction = regexp.MustCompile(`\{\{[^}]*\}\}`)

func TestRulesNameOnlyExportedMetrics(t *testing.T) {
	b, err := os.ReadFile(rulesFile)
	require.NoError(t, err)
	var exprs []string
	for _, m := range ruleExpr.FindAllStringSubmatch(string(b), -1) {
		exprs = append(exprs, helmAction.ReplaceAllString(m[1], "15m"))
	}
	require.Len(t, exprs, 5, "one expression per alert")
	checkNames(t, rulesFile, exprs)
}

// TestUnknownMetricsAreFound: a misspelt metric is caught.
func TestUnknownMetricsAreFound(t *testing.T) {
	got := unknownMetrics(exportedNames(t), []string{`rate(ringops_step_total[5m])`, `vector(1)`, `ringops_leader`})
	require.Equal(t, []string{`"rate(ringops_step_total[5m])" reads ringops_step_total, which the daemon does not export`,
		`"vector(1)" reads no metric`}, got)
}
