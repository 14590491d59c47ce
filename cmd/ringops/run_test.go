package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// printedSettings runs `ringops run --print-config` and returns the settings.
func printedSettings(t *testing.T, args ...string) (map[string]any, int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append([]string{"run", "--print-config"}, args...), &out, &errb)
	got := map[string]any{}
	if code == 0 {
		require.NoError(t, yaml.Unmarshal(out.Bytes(), &got))
	}
	return got, code, errb.String()
}

func TestRunSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ringops.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("repo: https://git.example/from-file.git\nbranch: from-file\ninterval: 5m\nverify-keys: [a.asc, b.pub]\nlog-format: json\n"), 0o600))
	t.Setenv("RINGOPS_BRANCH", "from-env")
	t.Setenv("RINGOPS_FORGE_TOKEN_FILE", "/etc/ringops/forge/token")
	got, code, stderr := printedSettings(t, "--config", cfg, "--interval", "30s")
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "https://git.example/from-file.git", got["repo"])
	require.Equal(t, "from-env", got["branch"], "the environment wins over the file")
	require.Equal(t, "30s", got["interval"], "the command line wins over the file")
	require.Equal(t, []any{"a.asc", "b.pub"}, got["verify-keys"])
	require.Equal(t, "json", got["log-format"])
	require.Equal(t, "/etc/ringops/forge/token", got["forge-token-file"], "the chart's RINGOPS_FORGE_TOKEN_FILE is the flag's variable")
}

func TestRunSettingsRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ringops.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("repo: https://git.example/x.git\nbrnach: main\n"), 0o600))
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"no repo":                  {want: "--repo is required"},
		"unknown key":              {args: []string{"--config", cfg}, want: "unknown settings brnach"},
		"bad env value":            {args: []string{"--repo", "https://x/y.git"}, env: map[string]string{"RINGOPS_INTERVAL": "soon"}, want: "RINGOPS_INTERVAL"},
		"pr without token":         {args: []string{"--repo", "https://x/y.git", "--pr-validation"}, want: "--pr-validation needs a forge token"},
		"bad via":                  {args: []string{"--repo", "https://x/y.git", "--via", "ssh"}, want: `--via "ssh"`},
		"bad forge":                {args: []string{"--repo", "https://x/y.git", "--forge", "sourcehut"}, want: "--forge"},
		"missing config":           {args: []string{"--config", filepath.Join(dir, "nope.yaml")}, want: "--config"},
		"bad log format":           {args: []string{"--repo", "https://x/y.git", "--log-format", "xml"}, want: "--log-format"},
		"negative interval":        {args: []string{"--repo", "https://x/y.git", "--interval", "-1s"}, want: "--interval must be positive"},
		"api on the main listener": {args: []string{"--repo", "https://x/y.git", "--api-address", ":8080"}, want: "--api-address :8080 is --http-address too"},
		"no shard":                 {args: []string{"--repo", "https://x/y.git", "--shards", "0"}, want: "--shards 0: must be 1"},
		"shards and a leader":      {args: []string{"--repo", "https://x/y.git", "--shards", "3", "--leader-elect"}, want: "--shards 3 with --leader-elect"},
	} {
		t.Run(name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, code, stderr := printedSettings(t, tc.args...)
			require.Equal(t, ExitUsage, code, stderr)
			require.Contains(t, stderr, tc.want)
		})
	}
}

func TestKubeconfigChangeStopsTheDaemon(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte("apiVersion: v1\nkind: Config\n"), 0o600))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ticks := make(chan time.Time) // unbuffered: a tick is taken once the previous read is done
	tick := func() bool {
		select {
		case ticks <- time.Now():
			return true
		case <-time.After(10 * time.Second):
			return false
		}
	}
	ctx, changed := watchKubeconfig(context.Background(), log, path, ticks)
	for i := range 3 { // the third read is done when the fourth tick is taken
		require.True(t, tick(), "tick %d not taken", i+1)
	}
	require.True(t, tick(), "the watcher stopped on an unchanged kubeconfig")
	require.NoError(t, ctx.Err(), "an unchanged kubeconfig stops nothing")
	require.False(t, changed())
	require.NoError(t, os.WriteFile(path, []byte("apiVersion: v1\nkind: Config\nusers: []\n"), 0o600))
	// The read in progress, or the next one, sees the change.
	deadline := time.After(10 * time.Second)
	for ctx.Err() == nil {
		select {
		case ticks <- time.Now():
		case <-ctx.Done():
		case <-deadline:
			t.Fatal("a changed kubeconfig did not stop the daemon")
		}
	}
	require.True(t, changed())
}

// A password in --repo is refused without being printed; --print-config
// never prints one from any URL setting.
func TestRunRefusesPasswordsInURLs(t *testing.T) {
	_, code, stderr := printedSettings(t, "--repo", "https://bob:hunter2@git.example/acme/db.git")
	require.NotEqual(t, 0, code, stderr)
	require.Contains(t, stderr, "carries a password")
	require.NotContains(t, stderr, "hunter2")
	got, code, stderr := printedSettings(t, "--repo", "https://git.example/acme/db.git", "--forge-api-url", "https://bob:hunter2@git.example/api")
	require.Equal(t, 0, code, stderr)
	require.NotContains(t, fmt.Sprint(got), "hunter2")
}
