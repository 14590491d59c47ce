package render

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGateScript runs the init container's script with bash, as the
// Cassandra image would, against each line ringops records for a pod.
func TestGateScript(t *testing.T) {
	needTools(t, "bash", "awk", "cp", "cat", "mv", "ls", "grep")
	sts := renderOne(t, "")
	init := sts.Spec.Template.Spec.InitContainers[0]
	require.Equal(t, "config", init.Name)
	var env []string
	for _, e := range init.Env {
		env = append(env, e.Name)
	}
	assert.Equal(t, []string{envPodName, envRingopsNodes}, env)
	assert.Equal(t, NodesConfigMap("orders"), init.Env[1].ValueFrom.ConfigMapKeyRef.Name)
	assert.Equal(t, sts.Name, init.Env[1].ValueFrom.ConfigMapKeyRef.Key)

	const record = "0 pvc=a host=h0 address=10.0.0.1 joined=2026-03-02T10:00:00Z\n" +
		"1 pvc=b host=h1 address=10.0.0.2 joined=2026-03-02T10:00:00Z replace=10.0.0.2\n" +
		"2 pvc=c host=h2 address=10.0.0.3 joined=2026-03-02T10:00:00Z join=new\n"
	for _, tc := range []struct {
		name, pod, data string
		fresh, fail     bool
		option          string
	}{
		{name: "a new ordinal bootstraps", pod: "orders-dc1-r1-3", fresh: true},
		{name: "a recorded node on its own volume starts", pod: "orders-dc1-r1-0", data: "data"},
		{name: "a recorded node on a new volume waits", pod: "orders-dc1-r1-0", fresh: true, fail: true},
		{name: "a new volume holding only lost+found is new", pod: "orders-dc1-r1-0", data: "lost+found", fail: true},
		{name: "a replacement starts with the option", pod: "orders-dc1-r1-1", fresh: true, option: "-Dcassandra.replace_address_first_boot=10.0.0.2"},
		{name: "a replacement that crashed goes on", pod: "orders-dc1-r1-1", data: "data", option: "-Dcassandra.replace_address_first_boot=10.0.0.2"},
		{name: "a removed node's pod joins anew", pod: "orders-dc1-r1-2", fresh: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			etc, cfg, overrides, data := filepath.Join(dir, "etc"), filepath.Join(dir, "config"), filepath.Join(dir, "overrides"), filepath.Join(dir, "data")
			for _, d := range []string{etc, cfg, overrides, data} {
				require.NoError(t, os.Mkdir(d, 0o755))
			}
			require.NoError(t, os.WriteFile(filepath.Join(etc, "cassandra.yaml"), []byte("num_tokens: 16\n"), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(etc, "jvm-server.options"), []byte("-Xss256k\n"), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(overrides, OverridesKey), []byte(""), 0o644))
			if tc.data != "" {
				require.NoError(t, os.Mkdir(filepath.Join(data, tc.data), 0o755))
			}
			script := strings.NewReplacer("/etc/cassandra/", etc+"/", "/config/", cfg+"/", "/overrides/", overrides+"/",
				dataPath, data).Replace(init.Command[2])
			cmd := exec.Command("bash", "-c", script)
			cmd.Env = append(os.Environ(), envPodName+"="+tc.pod, envRingopsNodes+"="+record)
			out, err := cmd.CombinedOutput()
			if tc.fail {
				require.Error(t, err, "%s", out)
				assert.Contains(t, string(out), "its data volume is new: it waits for ringops to replace that node")
				return
			}
			require.NoError(t, err, "%s", out)
			opts, err := os.ReadFile(filepath.Join(cfg, "jvm-server.options"))
			require.NoError(t, err)
			if tc.option == "" {
				assert.Equal(t, "-Xss256k\n", string(opts))
			} else {
				assert.Equal(t, "-Xss256k\n"+tc.option+"\n", string(opts))
			}
		})
	}
}
