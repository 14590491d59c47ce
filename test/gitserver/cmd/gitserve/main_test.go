package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// git runs the git CLI in dir with an isolated configuration.
func git(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+filepath.Join(home, "gitconfig"),
		"GIT_TERMINAL_PROMPT=0", "GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// serve runs gitserve until the test ends and returns its url= and work=
// lines and a function that stops it and returns run's error.
func serve(t *testing.T, args ...string) (map[string]string, func() error) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, pw, io.Discard)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	var stopErr error
	stopped := false
	stop := func() error {
		if !stopped {
			cancel()
			stopErr, stopped = <-done, true
		}
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	lines := map[string]string{}
	for sc := bufio.NewScanner(pr); len(lines) < 2 && sc.Scan(); {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			lines[k] = v
		}
	}
	if len(lines) < 2 {
		t.Fatalf("gitserve printed %v, then stopped: %v", lines, stop())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return lines, stop
}

func TestGitserveServesTheSeedAndTakesPushes(t *testing.T) {
	seed := t.TempDir()
	if err := os.MkdirAll(filepath.Join(seed, "clusters/orders"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(seed, "clusters/orders/cluster.yaml"), []byte("kind: CassandraCluster\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out, stop := serve(t, "-dir", dir, "-seed", seed)
	if !strings.HasPrefix(out["url"], "http://127.0.0.1:") || out["work"] != filepath.Join(dir, "work") {
		t.Errorf("printed url=%s work=%s, want a loopback URL and %s", out["url"], out["work"], filepath.Join(dir, "work"))
	}
	pid, err := os.ReadFile(filepath.Join(dir, "gitserve.pid"))
	if err != nil || strings.TrimSpace(string(pid)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("pid file = %q, %v; want %d", pid, err, os.Getpid())
	}

	clone := filepath.Join(t.TempDir(), "clone")
	if msg, err := git(t, ".", "clone", "-q", out["url"], clone); err != nil {
		t.Fatalf("clone: %v: %s", err, msg)
	}
	if b, err := os.ReadFile(filepath.Join(clone, "clusters/orders/cluster.yaml")); err != nil || string(b) != "kind: CassandraCluster\n" {
		t.Errorf("cloned cluster.yaml = %q, %v; want the seed's", b, err)
	}
	if _, err := git(t, clone, "commit", "-q", "--allow-empty", "-m", "over http"); err != nil {
		t.Fatal(err)
	}
	if msg, err := git(t, clone, "push", "-q", "origin", "HEAD:refs/heads/main"); err != nil {
		t.Fatalf("push over HTTP: %v: %s", err, msg)
	}
	if msg, err := git(t, out["work"], "pull", "-q", "--ff-only"); err != nil || !strings.Contains(mustGit(t, out["work"], "log", "-1", "--format=%s"), "over http") {
		t.Errorf("the working clone does not see the pushed commit: %v %s", err, msg)
	}

	if err := stop(); err != nil {
		t.Errorf("gitserve stopped with %v, want nil", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "gitserve.pid")); !os.IsNotExist(err) {
		t.Errorf("pid file after stop: %v, want it removed", err)
	}
	if _, err := git(t, ".", "ls-remote", out["url"]); err == nil {
		t.Error("ls-remote after stop succeeded, want the server gone")
	}
}

func mustGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := git(t, dir, args...)
	if err != nil {
		t.Fatalf("git %v: %v: %s", args, err, out)
	}
	return out
}

func TestGitserveRefusesBadArguments(t *testing.T) {
	seed := t.TempDir()
	used := t.TempDir()
	if err := os.Mkdir(filepath.Join(used, "repo.git"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		args []string
		want string
	}{
		"no seed":      {[]string{"-dir", t.TempDir()}, "-seed are required"},
		"seed missing": {[]string{"-dir", t.TempDir(), "-seed", filepath.Join(seed, "absent")}, "not a directory"},
		"dir in use":   {[]string{"-dir", used, "-seed", seed}, "repo.git exists already"},
		"not loopback": {[]string{"-dir", t.TempDir(), "-seed", seed, "-addr", "0.0.0.0:0"}, "want a loopback"},
		"unknown flag": {[]string{"-frobnicate"}, "not defined"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(context.Background(), c.args, io.Discard, &stderr)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("run(%v) = %v, want an error saying %q", c.args, err, c.want)
			}
		})
	}
}
