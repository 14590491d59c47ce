package gitea

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/ringops/ringops/internal/secret"
)

// AdminUser is the user Start creates; it owns the repositories.
const AdminUser = "ringops"

// Server is a Gitea on 127.0.0.1, started by Start.
type Server struct {
	// URL is the web and API root, "http://127.0.0.1:PORT" (no slash).
	URL string
	// Token is AdminUser's access token (write:repository, write:user).
	// It never prints.
	Token secret.Secret

	dir  string // binary, options/, templates/
	work string // WORK_PATH: app.ini, data, repositories, log
	port int

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start runs a fresh Gitea (own work directory, database and port) with
// AdminUser and its token, and stops it when the test ends. Skipped with
// -short; the first call may build the binary (see BinDir).
func Start(tb testing.TB) *Server {
	tb.Helper()
	if testing.Short() {
		tb.Skip("real Gitea: skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	opts := DefaultOptions()
	opts.WorkDir = tb.TempDir()
	s, err := New(ctx, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Error(err)
		}
	})
	if err := s.Start(); err != nil {
		tb.Fatal(err)
	}
	return s
}

// setUp writes app.ini, creates the database, the admin user and its token.
func (s *Server) setUp(ctx context.Context) error {
	if err := s.writeConfig(); err != nil {
		return err
	}
	if _, err := s.cli(ctx, "migrate"); err != nil {
		return err
	}
	if _, err := s.cli(ctx, "admin", "user", "create", "--username", AdminUser, "--email", AdminUser+"@example.com",
		"--random-password", "--admin", "--must-change-password=false"); err != nil {
		return err
	}
	out, err := s.cli(ctx, "admin", "user", "generate-access-token", "--username", AdminUser,
		"--token-name", "ringops-test", "--scopes", "write:repository,write:user", "--raw")
	if err != nil {
		return err
	}
	lines := strings.Fields(string(out))
	if len(lines) == 0 {
		return errors.New("gitea: generate-access-token printed no token")
	}
	s.Token = secret.Secret(lines[len(lines)-1])
	return nil
}

// cli runs a gitea subcommand against the server's configuration and
// returns its standard output (which may hold a token: never logged).
func (s *Server) cli(ctx context.Context, args ...string) ([]byte, error) {
	full := append([]string{"--config", s.conf(), "--work-path", s.work}, args...)
	cmd := exec.CommandContext(ctx, filepath.Join(s.dir, "gitea"), full...)
	cmd.Dir = s.work
	cmd.Env = s.env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("gitea %s: %w\n%s", strings.Join(args[:min(3, len(args))], " "), err, tail(stderr.String(), 2000))
	}
	return stdout.Bytes(), nil
}

func (s *Server) env() []string {
	return append(os.Environ(), "HOME="+filepath.Join(s.work, "home"), "GITEA_WORK_DIR="+s.work)
}

func (s *Server) conf() string { return filepath.Join(s.work, "app.ini") }

// Start starts the web server (again, after Stop: same port, same data)
// and waits until it answers /api/healthz.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	logFile, err := os.OpenFile(filepath.Join(s.work, "web.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("gitea: %w", err)
	}
	cmd := exec.Command(filepath.Join(s.dir, "gitea"), "--config", s.conf(), "--work-path", s.work, "web")
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = s.work, s.env(), logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("gitea web: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = logFile.Close(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	return s.waitReady(exited)
}

// waitReady polls /api/healthz (at most 60s; the process dying ends it sooner).
func (s *Server) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("gitea web exited before it was ready:\n%s", s.logTail())
		default:
		}
		if resp, err := client.Get(s.URL + "/api/healthz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("gitea web not ready after 60s:\n%s", s.logTail())
}

// Stop stops the web server (SIGTERM, SIGKILL after 20s) and waits for it.
// The data stays; Start brings it back.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	cmd, exited := s.cmd, s.exited
	s.cmd, s.exited = nil, nil
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return nil
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("gitea web did not stop on SIGTERM within 20s; killed")
	}
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.work, "web.log"))
	return tail(string(b), 3000)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("gitea: free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) writeConfig() error {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	var buf bytes.Buffer
	err := appIni.Execute(&buf, map[string]any{"Work": s.work, "Port": s.port, "Static": s.dir, "Secret": hex.EncodeToString(secret)})
	if err != nil {
		return err
	}
	return os.WriteFile(s.conf(), buf.Bytes(), 0o600)
}

// appIni: sqlite, installed, root allowed, offline, no mailer, no SSH, no
// cron nor indexer, webhooks to loopback allowed (the daemon's receiver).
var appIni = template.Must(template.New("app.ini").Parse(`APP_NAME = ringops-test
RUN_USER = root
RUN_MODE = prod
WORK_PATH = {{.Work}}
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true

[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = {{.Port}}
ROOT_URL = http://127.0.0.1:{{.Port}}/
DOMAIN = 127.0.0.1
DISABLE_SSH = true
START_SSH_SERVER = false
OFFLINE_MODE = true
LFS_START_SERVER = false
APP_DATA_PATH = {{.Work}}/data
STATIC_ROOT_PATH = {{.Static}}

[database]
DB_TYPE = sqlite3
PATH = {{.Work}}/data/gitea.db

[repository]
ROOT = {{.Work}}/repositories
DEFAULT_BRANCH = main

[security]
INSTALL_LOCK = true
SECRET_KEY = {{.Secret}}

[oauth2]
ENABLED = false

[service]
DISABLE_REGISTRATION = true

[mailer]
ENABLED = false

[log]
MODE = console
LEVEL = Warn
ROOT_PATH = {{.Work}}/log

[webhook]
ALLOWED_HOST_LIST = loopback
DELIVER_TIMEOUT = 5

[cron]
ENABLED = false

[cron.update_checker]
ENABLED = false

[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false

[session]
PROVIDER = memory

[cache]
ADAPTER = memory

[actions]
ENABLED = false
`))
