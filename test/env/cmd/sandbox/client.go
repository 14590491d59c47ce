package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ringops/ringops/test/env/internal/proc"
)

// startTimeout bounds up's wait; a cold build of the control plane takes
// about 8 minutes on 2 cores.
const startTimeout = 20 * time.Minute

// up starts "sandbox serve" detached (own session, output to sandbox.log)
// and waits until it is ready or has failed.
func up(cfg config, out io.Writer) error {
	if pid, ok := runningPid(cfg); ok {
		_, _ = fmt.Fprintf(out, "sandbox already runs (pid %d)\n", pid)
		printInfo(out, cfg)
		return nil
	}
	if err := os.MkdirAll(cfg.dir, 0o755); err != nil {
		return fmt.Errorf("sandbox %s: %w", cfg.dir, err)
	}
	_ = os.Remove(cfg.path(fileReady))
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	log, err := os.Create(cfg.path(fileLog))
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	defer func() { _ = log.Close() }()
	cmd := exec.Command(exe, "serve", "-dir", cfg.dir, "-regions", strings.Join(cfg.regions, ","),
		"-nodes", strconv.Itoa(cfg.nodes), "-bootstrap", cfg.bootstrap.String(), "-real="+strconv.FormatBool(cfg.real))
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("sandbox: start server: %w", err)
	}
	_, _ = fmt.Fprintf(out, "sandbox: starting (pid %d, log %s); the first start builds the control plane (~8 min)\n",
		cmd.Process.Pid, cfg.path(fileLog))
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return waitReady(cfg, out, exited)
}

func waitReady(cfg config, out io.Writer, exited <-chan error) error {
	deadline := time.After(startTimeout)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("server exited (%v) before it was ready; its log:\n%s", err, tail(cfg.path(fileLog)))
		case <-deadline:
			return fmt.Errorf("not ready after %s; see %s (stop with: sandbox down)", startTimeout, cfg.path(fileLog))
		case <-tick.C:
		}
		if _, err := os.Stat(cfg.path(fileReady)); err == nil {
			printInfo(out, cfg)
			return nil
		}
	}
}

func tail(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 3000 {
		data = data[len(data)-3000:]
	}
	return string(data)
}

// runningPid returns the server's pid when it runs.
func runningPid(cfg config) (int, bool) {
	data, err := os.ReadFile(cfg.path(filePid))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || !proc.Alive(pid) {
		return 0, false
	}
	return pid, true
}

func status(cfg config, out io.Writer) error {
	pid, ok := runningPid(cfg)
	if !ok {
		_, _ = fmt.Fprintf(out, "sandbox is not running (%s)\n", cfg.dir)
		return nil
	}
	if _, err := os.Stat(cfg.path(fileReady)); err != nil {
		_, _ = fmt.Fprintf(out, "sandbox is starting (pid %d, log %s)\n", pid, cfg.path(fileLog))
		return nil
	}
	_, _ = fmt.Fprintf(out, "sandbox runs (pid %d)\n", pid)
	printInfo(out, cfg)
	return nil
}

// stats prints the resident memory of the server and its descendants.
func stats(cfg config, out io.Writer) error {
	pid, ok := runningPid(cfg)
	if !ok {
		return errors.New("sandbox is not running")
	}
	type row struct {
		name string
		pid  int
		rss  int64
	}
	var rows []row
	var total int64
	for _, p := range append([]int{pid}, proc.Descendants(pid)...) {
		rss, err := proc.RSS(p)
		if err != nil {
			continue // exited meanwhile
		}
		rows = append(rows, row{proc.Command(p), p, rss})
		total += rss
	}
	sort.Slice(rows, func(i, j int) bool {
		return rows[i].name < rows[j].name || (rows[i].name == rows[j].name && rows[i].pid < rows[j].pid)
	})
	for _, r := range rows {
		_, _ = fmt.Fprintf(out, "%-16s %7d %8.1f MiB\n", r.name, r.pid, float64(r.rss)/(1<<20))
	}
	_, _ = fmt.Fprintf(out, "%-16s %7s %8.1f MiB (%d processes)\n", "total", "", float64(total)/(1<<20), len(rows))
	return nil
}

// down stops the server (SIGTERM, then SIGKILL to its group and
// descendants) and removes the sandbox directory.
func down(cfg config, out io.Writer) error {
	if pid, ok := runningPid(cfg); ok {
		procs := map[int]string{}
		for _, p := range append([]int{pid}, proc.Descendants(pid)...) {
			procs[p] = proc.Command(p)
		}
		_ = syscall.Kill(pid, syscall.SIGTERM)
		if !waitGone(pid, 60*time.Second) {
			_, _ = fmt.Fprintln(out, "sandbox: server did not stop in time; killing it")
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
		for p, name := range procs { // leftovers, if the pid still names the same command
			if proc.Alive(p) && proc.Command(p) == name {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
		}
	}
	if err := os.RemoveAll(cfg.dir); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	_, _ = fmt.Fprintf(out, "sandbox stopped; %s removed\n", cfg.dir)
	return nil
}

func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if !proc.Alive(pid) {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return !proc.Alive(pid)
}

// nodetool runs the nodetool of a real node of the sandbox: the wrapper the
// local world wrote for the pod's newest container (its JMX port), with
// the arguments given. Flags (-dir) come before the pod name.
func nodetool(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("nodetool", flag.ContinueOnError)
	dir := fs.String("dir", filepath.Join(os.TempDir(), "ringops-sandbox"), "sandbox directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 1 {
		return errors.New("nodetool: usage: sandbox nodetool [-dir DIR] POD [nodetool arguments]")
	}
	pod := fs.Arg(0)
	matches, _ := filepath.Glob(filepath.Join(*dir, dirWorld, "pods", "*", "*", pod+"-*", "cassandra", "bin", "nodetool"))
	if len(matches) == 0 {
		return fmt.Errorf("nodetool: no real node %s in %s (is the sandbox up with -real?)", pod, *dir)
	}
	sort.Slice(matches, func(i, j int) bool { return modTime(matches[i]).After(modTime(matches[j])) })
	cmd := exec.Command(matches[0], fs.Args()[1:]...)
	cmd.Stdout, cmd.Stderr = out, os.Stderr
	return cmd.Run()
}

func modTime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}
