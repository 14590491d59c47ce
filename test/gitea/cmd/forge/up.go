package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/ringops/ringops/internal/secret"
	"github.com/ringops/ringops/test/gitea"
)

// state is forge.json: how later commands find the server. No secret.
type state struct {
	Gitea      gitea.Instance `json:"gitea"`
	Repository string         `json:"repository"`
}

// up sets Gitea up in D (or finds it set up), starts it detached, creates
// the repository and writes the files scripts read.
func up(ctx context.Context, cfg config, out io.Writer) error {
	if st, err := loadState(cfg); err == nil {
		return restart(cfg, st, out)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	srv, st, err := setUp(ctx, cfg)
	if err != nil {
		return err
	}
	if err := start(cfg, srv); err != nil {
		return err
	}
	if err := createRepository(cfg, srv); err != nil {
		_ = stop(cfg, srv)
		return err
	}
	return printEnv(cfg, st, out)
}

// setUp creates D, sets Gitea up in D/gitea and writes forge.json and the
// token file.
func setUp(ctx context.Context, cfg config) (*gitea.Server, state, error) {
	if err := os.MkdirAll(cfg.dir, 0o755); err != nil {
		return nil, state{}, fmt.Errorf("forge %s: %w", cfg.dir, err)
	}
	opts := gitea.DefaultOptions()
	opts.WorkDir = cfg.path(dirGitea)
	_, statErr := os.Stat(opts.WorkDir)
	srv, err := gitea.New(ctx, opts)
	if err != nil {
		if errors.Is(statErr, fs.ErrNotExist) {
			_ = os.RemoveAll(opts.WorkDir) // half set up by this call: the next up starts afresh
		}
		return nil, state{}, err
	}
	st := state{Gitea: srv.Instance(), Repository: cfg.repo}
	if err := saveState(cfg, st); err != nil {
		return nil, st, err
	}
	return srv, st, writeSecret(cfg.path(fileToken), string(srv.Token))
}

// restart starts a server set up earlier, unless it runs.
func restart(cfg config, st state, out io.Writer) error {
	srv, err := attach(cfg, st)
	if err != nil {
		return err
	}
	if pid, ok := runningPid(cfg, srv); ok {
		_, _ = fmt.Fprintf(out, "# gitea already runs (pid %d)\n", pid)
		return printEnv(cfg, st, out)
	}
	if err := start(cfg, srv); err != nil {
		return err
	}
	return printEnv(cfg, st, out)
}

func start(cfg config, srv *gitea.Server) error {
	pid, err := srv.StartDetached()
	if err != nil {
		return err
	}
	if err := os.WriteFile(cfg.path(filePid), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		_ = srv.StopDetached(pid, stopTimeout)
		return fmt.Errorf("forge: pid file: %w", err)
	}
	return nil
}

func createRepository(cfg config, srv *gitea.Server) error {
	opts := gitea.DefaultRepoOptions()
	opts.Private, opts.Work = cfg.private, cfg.path(dirWork)
	if _, err := srv.CreateRepository(cfg.repo, opts); err != nil {
		return err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return fmt.Errorf("forge: webhook secret: %w", err)
	}
	return writeSecret(cfg.path(fileSecret), hex.EncodeToString(secret))
}

// printEnv writes D/env and prints the same lines, then how to go on.
func printEnv(cfg config, st state, out io.Writer) error {
	lines := envLines(cfg, st)
	if err := os.WriteFile(cfg.path(fileEnv), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return fmt.Errorf("forge: %w", err)
	}
	pid, _ := readPid(cfg)
	_, _ = fmt.Fprintf(out, "%s\n# gitea pid %d, log %s/web.log; the token and webhook secret are in %s and %s\n# stop: forge down -dir %s\n",
		strings.Join(lines, "\n"), pid, st.Gitea.WorkDir, cfg.path(fileToken), cfg.path(fileSecret), cfg.dir)
	return nil
}

// envLines are shell assignments, values single-quoted.
func envLines(cfg config, st state) []string {
	vars := [][2]string{
		{"GITEA_URL", st.Gitea.URL},
		{"REPO_URL", st.Gitea.URL + "/" + gitea.AdminUser + "/" + st.Repository + ".git"},
		{"FORGE_API_URL", st.Gitea.URL + "/api/v1"},
		{"FORGE_REPOSITORY", gitea.AdminUser + "/" + st.Repository},
		{"GIT_USERNAME", gitea.AdminUser},
		{"TOKEN_FILE", cfg.path(fileToken)},
		{"WEBHOOK_SECRET_FILE", cfg.path(fileSecret)},
		{"WORK_DIR", cfg.path(dirWork)},
	}
	lines := make([]string, 0, len(vars))
	for _, v := range vars {
		lines = append(lines, v[0]+"="+shellQuote(v[1]))
	}
	return lines
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// down stops Gitea and removes D (unless -keep). A directory that is not a
// forge directory is left alone.
func down(cfg config, out io.Writer) error {
	st, err := loadState(cfg)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, statErr := os.Stat(cfg.dir); errors.Is(statErr, fs.ErrNotExist) {
			_, _ = fmt.Fprintf(out, "forge: nothing in %s\n", cfg.dir)
			return nil
		}
		return fmt.Errorf("forge down: %s holds no %s: not a forge directory, left alone", cfg.dir, fileState)
	case err != nil:
		return err
	}
	srv := gitea.Attach(st.Gitea, nil)
	stopErr := stop(cfg, srv)
	if !cfg.keep {
		if err := os.RemoveAll(cfg.dir); err != nil {
			return errors.Join(stopErr, fmt.Errorf("forge: %w", err))
		}
		_, _ = fmt.Fprintf(out, "forge stopped; %s removed\n", cfg.dir)
		return stopErr
	}
	_, _ = fmt.Fprintf(out, "forge stopped; %s kept\n", cfg.dir)
	return stopErr
}

func stop(cfg config, srv *gitea.Server) error {
	pid, err := readPid(cfg)
	if err != nil {
		return nil // never started, or stopped already
	}
	err = srv.StopDetached(pid, stopTimeout)
	_ = os.Remove(cfg.path(filePid))
	return err
}

// runningPid returns the pid of the server's web process when it runs.
func runningPid(cfg config, srv *gitea.Server) (int, bool) {
	pid, err := readPid(cfg)
	if err != nil || !srv.Runs(pid) {
		return 0, false
	}
	return pid, true
}

func readPid(cfg config) (int, error) {
	data, err := os.ReadFile(cfg.path(filePid))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

func loadState(cfg config) (state, error) {
	var st state
	data, err := os.ReadFile(cfg.path(fileState))
	if err != nil {
		return st, fmt.Errorf("forge %s: %w (run forge up first)", cfg.dir, err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("forge %s: %w", cfg.path(fileState), err)
	}
	return st, nil
}

func saveState(cfg config, st state) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(cfg.path(fileState), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("forge: %w", err)
	}
	return nil
}

// attach returns the server and its repository, with the token read from D.
func attach(cfg config, st state) (*gitea.Server, error) {
	token, err := secret.ReadFile(cfg.path(fileToken))
	if err != nil {
		return nil, fmt.Errorf("forge: token: %w", err)
	}
	return gitea.Attach(st.Gitea, token), nil
}

// open finds the server and the repository of a forge directory.
func open(cfg config) (*gitea.Server, *gitea.Repo, error) {
	st, err := loadState(cfg)
	if err != nil {
		return nil, nil, err
	}
	srv, err := attach(cfg, st)
	if err != nil {
		return nil, nil, err
	}
	return srv, srv.Repository(st.Repository, cfg.path(dirWork)), nil
}

func writeSecret(path, value string) error {
	if err := os.WriteFile(path, []byte(value+"\n"), 0o600); err != nil {
		return fmt.Errorf("forge: %w", err)
	}
	return os.Chmod(path, 0o600) // an existing file keeps its mode otherwise
}
