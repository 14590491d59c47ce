package chart

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"
)

var (
	buildOnce  sync.Once
	ringopsBin string
	buildErr   error
)

// ringopsBinary builds the ringops binary once per test run.
func ringopsBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ringops-chart-")
		if err != nil {
			buildErr = err
			return
		}
		ringopsBin = filepath.Join(dir, "ringops")
		out, err := exec.Command("go", "build", "-o", ringopsBin, "../../cmd/ringops").CombinedOutput()
		if err != nil {
			buildErr = &buildError{err: err, out: string(out)}
		}
	})
	if buildErr != nil {
		t.Fatalf("building ringops: %v", buildErr)
	}
	return ringopsBin
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// TestDaemonAcceptsTheChartsArguments: the arguments and environment the
// Deployment gives `ringops run` are accepted by the daemon itself, and
// mean what the chart's contract says (ringops run --print-config).
func TestDaemonAcceptsTheChartsArguments(t *testing.T) {
	bin := ringopsBinary(t)
	for name, r := range map[string]release{"minimal": minimal, "full": full, "inline": inline, "shards": shards} {
		t.Run(name, func(t *testing.T) {
			d := daemonWorkload(t, objects(t, r.template(t)))
			c := d.pod.Spec.Containers[0]
			cmd := exec.Command(bin, append(append([]string{}, c.Args...), "--print-config")...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
			vars := map[string]string{}
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
					vars[e.Name] = e.Value
				}
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("ringops %v: %v\n%s", c.Args, err, stderr.String())
			}
			got := map[string]any{}
			if err := yaml.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			for env, setting := range map[string]string{"RINGOPS_FORGE_TOKEN_FILE": "forge-token-file", "RINGOPS_WEBHOOK_SECRET_FILE": "webhook-secret-file"} {
				if v, ok := vars[env]; ok && got[setting] != v {
					t.Errorf("%s=%s, but the daemon's %s is %v", env, v, setting, got[setting])
				}
			}
			if got["http-address"] != ":8080" {
				t.Errorf("http-address %v: the probes and the Service use port 8080", got["http-address"])
			}
			if got["leader-election-namespace"] != d.namespace || got["leader-election-id"] != d.name {
				t.Errorf("the Lease is %v/%v, want %s/%s", got["leader-election-namespace"], got["leader-election-id"], d.namespace, d.name)
			}
			if want := map[bool]string{true: "3", false: "1"}[d.sts != nil]; got["shards"] != want {
				t.Errorf("the daemon runs %v shards, want %v", got["shards"], want)
			}
		})
	}
}
