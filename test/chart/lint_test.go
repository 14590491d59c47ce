package chart

import (
	"strings"
	"testing"
)

// TestLint: helm lint, plain and --strict, reports no warning and no error
// for the defaults and for every values file.
func TestLint(t *testing.T) {
	installs := map[string]release{
		"defaults": {"ringops", "ringops", ""},
		"minimal":  minimal, "full": full, "inline": inline, "remote": remote, "shards": shards,
	}
	for name, r := range installs {
		for _, strict := range []bool{false, true} {
			args := r.args("lint")
			if strict {
				args = append(args, "--strict")
			}
			res := helm(t, args...)
			out := res.stdout + res.stderr
			if res.err != nil || strings.Contains(out, "[WARNING]") || strings.Contains(out, "[ERROR]") {
				t.Errorf("%s (strict %v): helm lint: %v\n%s", name, strict, res.err, out)
			}
			if !strings.Contains(res.stdout, "1 chart(s) linted, 0 chart(s) failed") {
				t.Errorf("%s (strict %v): helm lint did not lint the chart:\n%s", name, strict, out)
			}
		}
	}
}

// TestDefaultsNameTheRequiredValues: the defaults alone do not install; the
// error names the values to set.
func TestDefaultsNameTheRequiredValues(t *testing.T) {
	res := helm(t, release{"ringops", "ringops", ""}.args("template")...)
	if res.err == nil {
		t.Fatalf("helm template with the defaults only succeeded:\n%s", res.stdout)
	}
	if !strings.Contains(res.stderr, "git.url is required") {
		t.Errorf("error does not name git.url:\n%s", res.stderr)
	}
	res = helm(t, append(release{"ringops", "ringops", ""}.args("template"), "--set", "git.url=https://git.example.com/a/b.git")...)
	if res.err == nil || !strings.Contains(res.stderr, "no region is reachable: set regions.inClusterContext") {
		t.Errorf("without a region: err %v\n%s", res.err, res.stderr)
	}
}

// TestValuesRefused: mistakes a user makes are refused before anything is
// created, by the schema (typos, wrong types, unknown choices) or by the
// templates (values that contradict each other), with a message that names
// the value.
func TestValuesRefused(t *testing.T) {
	cases := []struct {
		name   string
		values string   // a testdata file, else minimal-values.yaml
		set    []string // --set
		want   string   // in helm's error
	}{
		{"misspelt top-level key", "typo-values.yaml", nil, "additional properties 'relpicaCount' not allowed"},
		{"misspelt nested key", "", []string{"git.brnach=main"}, "additional properties 'brnach' not allowed"},
		{"misspelt rbac key", "", []string{"cassandra.jolokia.credentialSecrets={a}"}, "additional properties 'credentialSecrets' not allowed"},
		{"three replicas", "", []string{"replicaCount=3"}, "at '/replicaCount': value must be one of 1, 2"},
		{"two replicas without leader election", "", []string{"leaderElection.enabled=false"}, "at '/leaderElection/enabled': value must be true"},
		{"unknown git auth method", "", []string{"git.auth.method=password"}, "at '/git/auth/method'"},
		{"unknown Jolokia route", "", []string{"cassandra.jolokia.via=ssh"}, "at '/cassandra/jolokia/via'"},
		{"unknown forge", "", []string{"forge.kind=bitbucket"}, "at '/forge/kind'"},
		{"scp-like git URL", "", []string{"git.url=git@github.com:acme/repo.git"}, "at '/git/url'"},
		{"interval that is not a duration", "", []string{"git.interval=5 minutes"}, "at '/git/interval'"},
		{"namespace that is not a DNS label", "", []string{"cassandra.namespaces={Cassandra}"}, "at '/cassandra/namespaces/0'"},
		{"string for a boolean", "", []string{"webhook.enabled=yes"}, "at '/webhook/enabled'"},
		{"ssh with an https URL", "", []string{"git.auth.method=ssh", "git.auth.sshPrivateKey=k", "git.auth.knownHosts=h"},
			"git.auth.method ssh needs an ssh:// git.url"},
		{"ssh without known_hosts", "", []string{"git.url=ssh://git@h:22/a/b.git", "git.auth.method=ssh", "git.auth.sshPrivateKey=k"},
			"needs known_hosts (it is mandatory)"},
		{"ssh existing Secret without known_hosts key", "", []string{"git.url=ssh://git@h:22/a/b.git", "git.auth.method=ssh",
			"git.auth.existingSecret=s", "git.auth.keys.knownHosts="}, "needs known_hosts (it is mandatory)"},
		{"token over plain http", "", []string{"git.url=http://git.example.com/a/b.git", "git.auth.method=token", "git.auth.token=t"},
			"a token is never sent over plain http"},
		{"token method without a token", "", []string{"git.auth.method=token"}, "git.auth.method token needs the token"},
		{"forge without a token", "", []string{"forge.enabled=true"}, "forge.enabled needs forge.existingSecret or forge.token"},
		{"webhook without a secret", "", []string{"webhook.enabled=true"}, "unsigned hooks are refused"},
		{"ingress without webhooks", "", []string{"ingress.enabled=true", "ingress.host=h.example.com"}, "set webhook.enabled too"},
		{"ingress without a host", "", []string{"webhook.enabled=true", "webhook.secret=s", "ingress.enabled=true"}, "ingress.host is required"},
		{"api token without a token", "", []string{"api.token.enabled=true"}, "api.token.enabled needs api.token.existingSecret or api.token.value"},
		{"api on the port of webhooks and metrics", "", []string{"api.port=8080"}, "at '/api/port'"},
		{"no shard", "", []string{"shards=0"}, "at '/shards'"},
		{"more daemons than shards", "shards-values.yaml", []string{"shardReplicas=4"}, "shardReplicas 4 is more than shards 3"},
		{"in-cluster region without namespaces", "", []string{"cassandra.namespaces=null"}, "cassandra.namespaces is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := minimal
			if tc.values != "" {
				r.values = tc.values
			}
			args := r.args("template")
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			res := helm(t, args...)
			if res.err == nil {
				t.Fatalf("accepted; rendered:\n%.400s", res.stdout)
			}
			if !strings.Contains(res.stderr, tc.want) {
				t.Errorf("error does not mention %q:\n%s", tc.want, res.stderr)
			}
		})
	}
}
