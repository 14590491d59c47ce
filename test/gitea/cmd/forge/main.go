package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "forge:", err)
		stop()
		os.Exit(1)
	}
}

const usage = `usage: forge <command> [flags]

commands:
  up        start Gitea on 127.0.0.1 (detached), create the repository, write D/env
  seed      commit a directory's content to main (-from DIR); print the commit hash
  push      commit the working copy D/work (-message M); print the commit hash
  hook      add a signed push webhook (-url URL)
  statuses  print a commit's statuses (-sha H); -watch, -wait-summary STATE
  port      print a free TCP port on 127.0.0.1
  down      stop Gitea and remove D
`

var errUsage = errors.New(strings.TrimSpace(usage))

// config is what the flags of every command set.
type config struct {
	dir     string // the forge directory, D
	repo    string // up: the repository's name (owner "ringops")
	private bool   // up: a private repository

	from    string // seed: the directory to commit
	message string // seed, push: the commit message
	url     string // hook: where Gitea POSTs push events

	sha      string        // statuses: the commit
	watch    bool          // statuses: print the table on every change
	waitFor  string        // statuses: the summary state to wait for
	summary  string        // statuses: the summary context
	timeout  time.Duration // statuses: how long to watch or wait
	interval time.Duration // statuses: between two reads
	width    int           // statuses: longest line printed (0: no limit)

	keep bool // down: keep D
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	cmd, args := args[0], args[1:]
	cfg, err := parseFlags(cmd, args)
	if err != nil {
		return err
	}
	switch cmd {
	case "up":
		return up(ctx, cfg, out)
	case "seed":
		return seed(ctx, cfg, out)
	case "push":
		return push(ctx, cfg, out)
	case "hook":
		return hook(cfg, out)
	case "statuses":
		return statuses(ctx, cfg, out)
	case "port":
		return freePort(out)
	case "down":
		return down(cfg, out)
	}
	return fmt.Errorf("unknown command %q: %w", cmd, errUsage)
}

func parseFlags(cmd string, args []string) (config, error) {
	fs := flag.NewFlagSet("forge "+cmd, flag.ContinueOnError)
	cfg := config{}
	fs.StringVar(&cfg.dir, "dir", filepath.Join(os.TempDir(), "ringops-forge"), "forge directory")
	switch cmd {
	case "up":
		fs.StringVar(&cfg.repo, "repo", "clusters", "name of the repository to create (owner ringops)")
		fs.BoolVar(&cfg.private, "private", false, "make the repository private (cloning needs D/token)")
	case "seed":
		fs.StringVar(&cfg.from, "from", "", "directory whose content becomes the working copy (required)")
		fs.StringVar(&cfg.message, "message", "", "commit message (default: seed from DIR)")
	case "push":
		fs.StringVar(&cfg.message, "message", "update", "commit message")
	case "hook":
		fs.StringVar(&cfg.url, "url", "", "webhook target, e.g. http://127.0.0.1:PORT/hooks/gitea (required)")
	case "statuses":
		fs.StringVar(&cfg.sha, "sha", "", "commit SHA (or a branch) whose statuses to read (required)")
		fs.BoolVar(&cfg.watch, "watch", false, "print the table each time it changes, until -wait-summary or -timeout")
		fs.StringVar(&cfg.waitFor, "wait-summary", "", "wait until the summary context has this state: pending, success, failure, error")
		fs.StringVar(&cfg.summary, "summary", "ringops", "the summary context")
		fs.DurationVar(&cfg.timeout, "timeout", 10*time.Minute, "how long -watch and -wait-summary go on")
		fs.DurationVar(&cfg.interval, "interval", 2*time.Second, "time between two reads")
		fs.IntVar(&cfg.width, "width", 0, "cut table lines longer than this many characters (0: no limit)")
	case "down":
		fs.BoolVar(&cfg.keep, "keep", false, "keep the forge directory (repositories, logs)")
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("forge %s: unexpected arguments %q", cmd, fs.Args())
	}
	return cfg, cfg.check(cmd)
}

func (c config) check(cmd string) error {
	switch {
	case cmd == "seed" && c.from == "":
		return errors.New("forge seed: -from is required")
	case cmd == "hook" && c.url == "":
		return errors.New("forge hook: -url is required")
	case cmd == "statuses" && c.sha == "":
		return errors.New("forge statuses: -sha is required")
	case cmd == "statuses" && c.waitFor != "" && !knownState(c.waitFor):
		return fmt.Errorf("forge statuses: -wait-summary %q: not one of pending, success, failure, error, warning", c.waitFor)
	case cmd == "statuses" && c.interval <= 0:
		return errors.New("forge statuses: -interval must be positive")
	case cmd == "statuses" && c.width < 0:
		return errors.New("forge statuses: -width must not be negative")
	}
	return nil
}

// Paths inside the forge directory.
func (c config) path(name string) string { return filepath.Join(c.dir, name) }

const (
	fileState   = "forge.json"     // gitea.Instance and the repository name: no secret
	filePid     = "gitea.pid"      // the detached web process
	fileToken   = "token"          // AdminUser's access token, 0600
	fileSecret  = "webhook-secret" // webhook signing secret, 0600
	fileEnv     = "env"            // shell lines for scripts
	dirGitea    = "gitea"          // Gitea's WORK_PATH
	dirWork     = "work"           // the working copy
	stopTimeout = 20 * time.Second // SIGTERM, then SIGKILL
)
