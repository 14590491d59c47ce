package controlplane

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// EnvBinDir names the environment variable that points at a directory holding
// kube-apiserver and kube-controller-manager; when unset, BinDir builds them.
const EnvBinDir = "RINGOPS_CONTROLPLANE_DIR"

// Binary names.
const (
	APIServer         = "kube-apiserver"
	ControllerManager = "kube-controller-manager"
	Etcd              = "etcd"
)

// BinDir returns the directory holding kube-apiserver and
// kube-controller-manager: $RINGOPS_CONTROLPLANE_DIR when set, else the
// cache filled by test/env/tools/controlplane/build.sh, which it runs (a
// cached build returns at once; a cold one takes minutes).
func BinDir(ctx context.Context) (string, error) {
	if dir := os.Getenv(EnvBinDir); dir != "" {
		return dir, checkBinaries(dir)
	}
	script, err := buildScript()
	if err != nil {
		return "", err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("control plane binaries: %s: %w\n%s", script, err, tail(stderr.String(), 2000))
	}
	dir := strings.TrimSpace(stdout.String())
	return dir, checkBinaries(dir)
}

// buildScript finds build.sh next to this package's source, or else in the
// repository holding the working directory.
func buildScript() (string, error) {
	const rel = "test/env/tools/controlplane/build.sh"
	var candidates []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		candidates = append(candidates, filepath.Join(filepath.Dir(file), "..", "tools", "controlplane", "build.sh"))
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			candidates = append(candidates, filepath.Join(dir, rel))
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	for _, script := range candidates {
		if _, err := os.Stat(script); err == nil {
			return script, nil
		}
	}
	return "", fmt.Errorf("control plane binaries: %s not found; set %s", rel, EnvBinDir)
}

func checkBinaries(dir string) error {
	for _, name := range []string{APIServer, ControllerManager} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("control plane binaries: %w", err)
		}
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
