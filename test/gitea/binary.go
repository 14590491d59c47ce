package gitea

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

// EnvDir names the environment variable that points at a directory holding
// the gitea binary and its options/ and templates/; when unset, BinDir
// builds them.
const EnvDir = "RINGOPS_GITEA_DIR"

// BinDir returns the directory holding gitea, options/ and templates/:
// $RINGOPS_GITEA_DIR when set, else the cache filled by
// test/tools/gitea/build.sh, which it runs (a cached build returns at once;
// a cold one takes 10-15 minutes).
func BinDir(ctx context.Context) (string, error) {
	if dir := os.Getenv(EnvDir); dir != "" {
		return dir, checkDir(dir)
	}
	script, err := buildScript()
	if err != nil {
		return "", err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("gitea binary: %s: %w\n%s", script, err, tail(stderr.String(), 2000))
	}
	dir := strings.TrimSpace(stdout.String())
	return dir, checkDir(dir)
}

// buildScript finds build.sh relative to this package's source, or else
// in the repository holding the working directory.
func buildScript() (string, error) {
	const rel = "test/tools/gitea/build.sh"
	var candidates []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		candidates = append(candidates, filepath.Join(filepath.Dir(file), "..", "tools", "gitea", "build.sh"))
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
	return "", fmt.Errorf("gitea binary: %s not found; set %s", rel, EnvDir)
}

func checkDir(dir string) error {
	for _, name := range []string{"gitea", "options", "templates"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("gitea binary: %w (run test/tools/gitea/build.sh)", err)
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
