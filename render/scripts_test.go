package render

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/ringops/ringops/schemas"
)

// The pod's shell scripts run here with the machine's bash and awk, as
// they would in the Cassandra image.

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
}

// renderOne renders the orders cluster with extra spec lines, in eu-west.
func renderOne(t *testing.T, extra string) *appsv1.StatefulSet {
	t.Helper()
	spec := strings.Replace(ordersSpec, "  storage:", extra+"  storage:", 1)
	c, err := schemas.Parse("cluster.yaml", []byte(spec))
	require.NoError(t, err)
	m, err := New(DefaultOptions()).Render(context.Background(), regionFS(nil), "clusters/orders", c, "eu-west")
	require.NoError(t, err)
	return statefulSets(t, m)[0]
}

// fakeJolokia serves GET reads of StorageService's OperationMode and
// NativeTransportRunning on 127.0.0.1 as the agent does (one attribute: its
// value; several, comma-separated: an object of them), with basic auth
// when user is set; *mode and *cql are read at each request.
func fakeJolokia(t *testing.T, user, password string, mode *atomic.Pointer[string], cql *atomic.Bool) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	const prefix = "/jolokia/read/org.apache.cassandra.db:type=StorageService/"
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); user != "" && (u != user || p != password) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		attrs, ok := strings.CutPrefix(r.URL.Path, prefix)
		values := map[string]any{"OperationMode": *mode.Load(), "NativeTransportRunning": cql.Load()}
		answer := map[string]any{}
		for _, a := range strings.Split(attrs, ",") {
			if _, known := values[a]; !ok || !known {
				fmt.Fprint(w, `{"error_type":"javax.management.AttributeNotFoundException","status":404}`)
				return
			}
			answer[a] = values[a]
		}
		var value any = answer
		if len(answer) == 1 {
			value = values[attrs]
		}
		b, _ := json.Marshal(map[string]any{"request": map[string]any{"type": "read"}, "value": value, "timestamp": 1, "status": 200})
		_, _ = w.Write(b)
	})}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func TestReadinessProbeAsksJolokia(t *testing.T) {
	needTools(t, "bash", "grep", "base64", "tr", "cat", "sed", "sh", "cp", "chmod", "mv", "printf")
	for _, tc := range []struct {
		name, extra    string
		user, password string
		env            bool // the credentials come from JOLOKIA_USER and JOLOKIA_PASSWORD
	}{
		{name: "none", extra: "    credentialsSecret: none\n"},
		{name: "default", user: "ringops-4f1c", password: ` s3:cr\t=#x`},
		{name: "agentImage none", extra: "    agentImage: none\n    credentialsSecret: jolokia-auth\n", user: "ringops", password: "s3cr:t", env: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mode atomic.Pointer[string]
			var cql atomic.Bool
			set := func(m string, serving bool) { mode.Store(&m); cql.Store(serving) }
			set("JOINING", false)
			port := fakeJolokia(t, tc.user, tc.password, &mode, &cql)
			sts := renderOne(t, "  jolokia:\n    port: "+strconv.Itoa(port)+"\n"+tc.extra)
			probe := sts.Spec.Template.Spec.Containers[0].ReadinessProbe
			require.NotNil(t, probe.Exec)
			// The pod as its init container leaves it, with the Secret's
			// password or another one.
			pod := func(password string) agentPod {
				p := newAgentPod(t, tc.user, password)
				if c := initContainer(t, sts, "jolokia-agent"); c != nil {
					out, err := p.run(c)
					require.NoError(t, err, "%s", out)
				}
				return p
			}
			right, wrong := pod(tc.password), pod("wrong")
			run := func(p agentPod) error {
				cmd := exec.Command(probe.Exec.Command[0], probe.Exec.Command[1], strings.ReplaceAll(probe.Exec.Command[2], jolokiaAgentDir, p.agent))
				cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
				if tc.env {
					password := tc.password
					if p == wrong {
						password = "wrong"
					}
					cmd.Env = append(cmd.Env, "JOLOKIA_USER="+tc.user, "JOLOKIA_PASSWORD="+password)
				}
				return cmd.Run()
			}
			assert.Error(t, run(right), "a JOINING node is not ready")
			set("NORMAL", false)
			assert.Error(t, run(right), "a NORMAL node that does not serve CQL yet is not ready")
			set("NORMAL", true)
			assert.NoError(t, run(right), "a NORMAL node serving CQL is ready")
			if tc.user != "" {
				assert.Error(t, run(wrong), "refused credentials: not ready")
			}
			set("LEAVING", true)
			assert.Error(t, run(right), "a LEAVING node is not ready")
		})
	}
}

func TestReadinessProbeWithoutJolokia(t *testing.T) {
	needTools(t, "bash")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close()) // nothing listens there now
	sts := renderOne(t, "  jolokia: {port: "+strconv.Itoa(port)+"}\n")
	probe := sts.Spec.Template.Spec.Containers[0].ReadinessProbe
	assert.Error(t, exec.Command(probe.Exec.Command[0], probe.Exec.Command[1:]...).Run())
}

func TestConfigScriptOverridesCassandraYAML(t *testing.T) {
	needTools(t, "bash", "awk", "cp", "cat", "mv")
	sts := renderOne(t, "  config:\n    cassandra-yaml:\n      num_tokens: 16\n      data_file_directories: [/data/a, /data/b]\n"+
		"      seed_provider: [{class_name: org.example.Seeds}]\n      new_key: {nested: true}\n")
	init := sts.Spec.Template.Spec.InitContainers[0]
	require.Equal(t, "config", init.Name)
	script := init.Command[2]

	dir := t.TempDir()
	etc, cfg, overrides := filepath.Join(dir, "etc"), filepath.Join(dir, "config"), filepath.Join(dir, "overrides")
	for _, d := range []string{etc, cfg, overrides} {
		require.NoError(t, os.Mkdir(d, 0o755))
	}
	image := `# Cassandra storage config YAML
cluster_name: 'Test Cluster'
num_tokens: 256
# Seeds: a comment at column 0 inside the file
seed_provider:
  # indented comment
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:7000"
data_file_directories:
- /var/lib/cassandra/data
concurrent_reads: 32
`
	require.NoError(t, os.WriteFile(filepath.Join(etc, "cassandra.yaml"), []byte(image), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(etc, "jvm.options"), []byte("-Xss256k\n"), 0o644))
	// The ConfigMap's content, as the pod's volume holds it.
	cm := renderConfigMapData(t, "  config:\n    cassandra-yaml:\n      num_tokens: 16\n      data_file_directories: [/data/a, /data/b]\n"+
		"      seed_provider: [{class_name: org.example.Seeds}]\n      new_key: {nested: true}\n")
	require.NoError(t, os.WriteFile(filepath.Join(overrides, OverridesKey), []byte(cm), 0o644))

	local := strings.NewReplacer("/etc/cassandra/", etc+"/", "/config/", cfg+"/", "/overrides/", overrides+"/").Replace(script)
	out, err := exec.Command("bash", "-c", local).CombinedOutput()
	require.NoError(t, err, "%s", out)

	merged, err := os.ReadFile(filepath.Join(cfg, "cassandra.yaml"))
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, yaml.Unmarshal(merged, &got), "cassandra.yaml stays valid YAML, each key once:\n%s", merged)
	assert.Equal(t, map[string]any{
		"authenticator":         "PasswordAuthenticator", // authentication Password, the default
		"authorizer":            "CassandraAuthorizer",
		"role_manager":          "CassandraRoleManager",
		"cluster_name":          "Test Cluster",
		"num_tokens":            16,
		"concurrent_reads":      32,
		"data_file_directories": []any{"/data/a", "/data/b"},
		"seed_provider":         []any{map[string]any{"class_name": "org.example.Seeds"}},
		"new_key":               map[string]any{"nested": true},
	}, got)
	_, err = os.Stat(filepath.Join(cfg, "jvm.options"))
	assert.NoError(t, err, "the rest of /etc/cassandra is copied")
}

func renderConfigMapData(t *testing.T, extra string) string {
	t.Helper()
	spec := strings.Replace(ordersSpec, "  storage:", extra+"  storage:", 1)
	c, err := schemas.Parse("cluster.yaml", []byte(spec))
	require.NoError(t, err)
	m, err := New(DefaultOptions()).Render(context.Background(), regionFS(nil), "clusters/orders", c, "eu-west")
	require.NoError(t, err)
	require.Equal(t, "ConfigMap", m.Objects[0].GetKind())
	data, _ := m.Objects[0].Object["data"].(map[string]any)
	return data[OverridesKey].(string)
}

func TestConfigScriptWithoutOverrides(t *testing.T) {
	data := renderConfigMapData(t, "  cql: {authentication: None}\n")
	var got map[string]any
	require.NoError(t, yaml.Unmarshal([]byte("a: 1\n"+data), &got))
	assert.Equal(t, map[string]any{"a": 1}, got, "no overrides: appending them changes nothing")
}

// TestOverridesOfAuthentication: authentication Password puts
// PasswordAuthenticator, CassandraAuthorizer and CassandraRoleManager into
// cassandra.yaml, a setting of the spec's own cassandra-yaml winning;
// None puts nothing there (the image's AllowAllAuthenticator).
func TestOverridesOfAuthentication(t *testing.T) {
	read := func(extra string) map[string]any {
		var got map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(renderConfigMapData(t, extra)), &got))
		return got
	}
	assert.Equal(t, map[string]any{"authenticator": "PasswordAuthenticator", "authorizer": "CassandraAuthorizer", "role_manager": "CassandraRoleManager"},
		read("  cql: {authentication: Password}\n"))
	assert.Equal(t, map[string]any{"authenticator": "PasswordAuthenticator", "authorizer": "AllowAllAuthorizer", "role_manager": "CassandraRoleManager"},
		read("  cql: {authentication: Password}\n  config: {cassandra-yaml: {authorizer: AllowAllAuthorizer}}\n"))
	assert.Empty(t, read("  cql: {authentication: None}\n"))
	assert.Equal(t, map[string]any{"authenticator": "PasswordAuthenticator", "authorizer": "CassandraAuthorizer", "role_manager": "CassandraRoleManager"},
		read("  cql: {credentialsSecret: cql-admin}\n"), "credentials say the nodes authenticate")
}

func TestCQLCredentials(t *testing.T) {
	for _, tc := range []struct {
		cql     *schemas.CQL
		secret  string
		managed bool
	}{
		{nil, "orders-cql", true}, // Password, the default
		{&schemas.CQL{Authentication: schemas.CQLAuthNone}, "", false},
		{&schemas.CQL{Authentication: schemas.CQLAuthPassword}, "orders-cql", true},
		{&schemas.CQL{Authentication: schemas.CQLAuthPassword, CredentialsSecret: "cql-admin"}, "cql-admin", false},
	} {
		c := &schemas.CassandraCluster{Metadata: schemas.ObjectMeta{Name: "orders"}}
		c.Spec.CQL = tc.cql
		s, m := CQLCredentials(c)
		assert.Equal(t, tc.secret, s, "%+v", tc.cql)
		assert.Equal(t, tc.managed, m, "%+v", tc.cql)
	}
}
