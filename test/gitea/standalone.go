package gitea

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ringops/ringops/internal/secret"
)

// Options configure New: a Gitea for a program (test/gitea/cmd/forge),
// not tied to a test.
type Options struct {
	// WorkDir is Gitea's WORK_PATH: app.ini, database, repositories,
	// web.log. Created if missing; New refuses one already set up.
	WorkDir string
	// BinDir holds gitea, options/ and templates/; empty means BinDir(ctx),
	// which may build them (10-15 minutes cold).
	BinDir string
	// Port is the HTTP port on 127.0.0.1; 0 picks a free one.
	Port int
}

// DefaultOptions returns Options with a free port and the cached binary;
// WorkDir is left for the caller to set.
func DefaultOptions() Options { return Options{} }

// New sets up a fresh Gitea in opts.WorkDir (app.ini, database, AdminUser
// and its token) and returns it, not started: call Start (a child of this
// process) or StartDetached (one that outlives it).
func New(ctx context.Context, opts Options) (*Server, error) {
	if opts.WorkDir == "" {
		return nil, errors.New("gitea: options: WorkDir is required")
	}
	if _, err := os.Stat(filepath.Join(opts.WorkDir, "app.ini")); err == nil {
		return nil, fmt.Errorf("gitea %s: already set up", opts.WorkDir)
	}
	if err := os.MkdirAll(opts.WorkDir, 0o700); err != nil {
		return nil, fmt.Errorf("gitea: %w", err)
	}
	if opts.BinDir == "" {
		dir, err := BinDir(ctx)
		if err != nil {
			return nil, err
		}
		opts.BinDir = dir
	}
	if opts.Port == 0 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		opts.Port = port
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(opts.Port), dir: opts.BinDir, work: opts.WorkDir, port: opts.Port}
	if err := s.setUp(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Instance is what another process needs to find a Server again (with its
// token, kept apart: Instance holds no secret and can be saved as JSON).
type Instance struct {
	URL     string `json:"url"`
	Port    int    `json:"port"`
	WorkDir string `json:"workDir"`
	BinDir  string `json:"binDir"`
}

// Instance describes s for Attach.
func (s *Server) Instance() Instance {
	return Instance{URL: s.URL, Port: s.port, WorkDir: s.work, BinDir: s.dir}
}

// Attach returns a handle on a Server that New set up earlier, possibly in
// another process. It starts nothing; Stop stops only what its own Start
// started (StopDetached stops a detached one).
func Attach(inst Instance, token secret.Secret) *Server {
	return &Server{URL: inst.URL, Token: token, dir: inst.BinDir, work: inst.WorkDir, port: inst.Port}
}

// StartDetached starts the web server in a session of its own, so that it
// outlives this process and a Ctrl-C on its terminal, waits until it
// answers and returns its pid. Its output goes to WorkDir/web.log.
func (s *Server) StartDetached() (int, error) {
	logFile, err := os.OpenFile(filepath.Join(s.work, "web.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, fmt.Errorf("gitea: %w", err)
	}
	defer func() { _ = logFile.Close() }()
	cmd := exec.Command(filepath.Join(s.dir, "gitea"), "--config", s.conf(), "--work-path", s.work, "web")
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = s.work, s.env(), logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("gitea web: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	if err := s.waitReady(exited); err != nil {
		_ = cmd.Process.Kill()
		return 0, err
	}
	return cmd.Process.Pid, nil
}

// Runs reports whether pid is this Server's web process (a detached one):
// alive, and its command line names this server's app.ini. A pid reused by
// another program is not it.
func (s *Server) Runs(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return false
	}
	args := strings.Split(string(cmdline), "\x00")
	return filepath.Base(args[0]) == "gitea" && slices.Contains(args, s.conf())
}

// StopDetached stops the detached web process pid (SIGTERM, SIGKILL after
// grace) if it is this Server's; a pid that is not (gone, or reused) is
// left alone.
func (s *Server) StopDetached(pid int, grace time.Duration) error {
	if !s.Runs(pid) {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("gitea web (pid %d): %w", pid, err)
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !s.Runs(pid) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return fmt.Errorf("gitea web (pid %d) did not stop on SIGTERM within %s; killed", pid, grace)
}
