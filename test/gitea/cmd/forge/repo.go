package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/ringops/ringops/internal/secret"
	"github.com/ringops/ringops/test/gitea"
)

// seed makes the working copy hold exactly the content of -from, commits
// it on main, pushes it and prints the commit's hash.
func seed(ctx context.Context, cfg config, out io.Writer) error {
	srv, repo, err := open(cfg)
	if err != nil {
		return err
	}
	if info, err := os.Stat(cfg.from); err != nil || !info.IsDir() {
		return fmt.Errorf("forge seed: -from %s: not a directory", cfg.from)
	}
	if err := os.MkdirAll(repo.Work(), 0o755); err != nil {
		return fmt.Errorf("forge seed: %w", err)
	}
	if err := clearWork(repo.Work()); err != nil {
		return err
	}
	if err := copyTree(cfg.from, repo.Work()); err != nil {
		return err
	}
	message := cfg.message
	if message == "" {
		message = "seed from " + filepath.Base(filepath.Clean(cfg.from))
	}
	return commit(ctx, srv, repo, message, out)
}

// push commits the working copy as it is, pushes and prints the hash.
func push(ctx context.Context, cfg config, out io.Writer) error {
	srv, repo, err := open(cfg)
	if err != nil {
		return err
	}
	return commit(ctx, srv, repo, cfg.message, out)
}

// hook adds a push webhook signed with D/webhook-secret.
func hook(cfg config, out io.Writer) error {
	srv, repo, err := open(cfg)
	if err != nil {
		return err
	}
	hookSecret, err := secret.ReadFile(cfg.path(fileSecret))
	if err != nil {
		return fmt.Errorf("forge hook: secret: %w", err)
	}
	if len(hookSecret) == 0 {
		return fmt.Errorf("forge hook: %s is empty", cfg.path(fileSecret))
	}
	if err := srv.AddWebhook(repo, cfg.url, string(hookSecret)); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "webhook: push events of %s go to %s, signed with the secret in %s\n",
		repo.FullName(), cfg.url, cfg.path(fileSecret))
	return err
}

// clearWork removes everything in the working copy but .git.
func clearWork(work string) error {
	entries, err := os.ReadDir(work)
	if err != nil {
		return fmt.Errorf("forge: %w", err)
	}
	for _, e := range entries {
		if e.Name() == ".git" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(work, e.Name())); err != nil {
			return fmt.Errorf("forge: %w", err)
		}
	}
	return nil
}

// copyTree copies directories, regular files (with their mode) and
// symlinks from one tree into another; .git directories are skipped.
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		target := filepath.Join(to, rel)
		switch {
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			return copyFile(p, target)
		}
		return nil // sockets, devices: not content
	})
}

func copyFile(from, to string) error {
	info, err := os.Stat(from)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, info.Mode().Perm())
}

// freePort prints a TCP port free on 127.0.0.1 right now (for the daemon's
// --http-address in scripts).
func freePort(out io.Writer) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("forge port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	_, err = fmt.Fprintln(out, port)
	return err
}

// commitWait bounds the wait for Gitea to take a push in.
const commitWait = time.Minute

// commit commits the working copy, pushes, waits until Gitea's API knows
// the commit (statuses and webhooks work from then on) and prints its hash.
func commit(ctx context.Context, srv *gitea.Server, repo *gitea.Repo, message string, out io.Writer) error {
	sha, err := srv.CommitAll(repo, message)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, commitWait)
	defer cancel()
	if err := srv.WaitForCommit(ctx, repo, sha); err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, sha)
	return err
}
