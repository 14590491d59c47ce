// Package toolcache finds the test tools that are built from their Go
// modules and cached outside the repository (kube-apiserver and
// kube-controller-manager, Gitea, helm): the directory an environment
// variable names, else the one the tool's build script prints, after running
// it (a cached build returns at once; a cold one takes minutes). Test-only.
package toolcache

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

// Tool is one cached tool.
type Tool struct {
	// Name is the tool in messages, e.g. "gitea binary".
	Name string
	// Env names a variable that, when set, points at a ready directory;
	// the build script is then not run.
	Env string
	// Script is the build script, relative to the repository root. It
	// prints the directory that holds the tool.
	Script string
	// Args are extra arguments of the script.
	Args []string
	// Files are what the directory must hold.
	Files []string
}

// Dir returns the tool's directory, building the tool when needed.
func (t Tool) Dir(ctx context.Context) (string, error) {
	if dir := os.Getenv(t.Env); dir != "" {
		return dir, t.check(dir)
	}
	script, err := RepoFile(t.Script)
	if err != nil {
		return "", fmt.Errorf("%s: %w; set %s", t.Name, err, t.Env)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", append([]string{script}, t.Args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %s: %w\n%s", t.Name, script, err, tail(stderr.String(), 2000))
	}
	dir := strings.TrimSpace(stdout.String())
	return dir, t.check(dir)
}

func (t Tool) check(dir string) error {
	for _, name := range t.Files {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("%s: %w (run %s, or set %s)", t.Name, err, t.Script, t.Env)
		}
	}
	return nil
}

// RepoFile finds a file by its path relative to the repository root: next
// to this package's source, or else above the working directory.
func RepoFile(rel string) (string, error) {
	var candidates []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		candidates = append(candidates, filepath.Join(filepath.Dir(file), "..", "..", "..", rel))
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			candidates = append(candidates, filepath.Join(dir, rel))
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	for _, p := range candidates {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", rel)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
