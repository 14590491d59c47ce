package gitea

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// RepoOptions configure CreateRepository.
type RepoOptions struct {
	// Private hides the repository from anonymous users: cloning and its
	// web pages then need AdminUser's token.
	Private bool
	// Work is the local working copy CommitAll commits from (created on
	// the first commit).
	Work string
}

// DefaultRepoOptions: a public repository; Work is left for the caller.
func DefaultRepoOptions() RepoOptions { return RepoOptions{} }

// CreateRepository creates an empty repository owned by AdminUser,
// default branch main.
func (s *Server) CreateRepository(name string, opts RepoOptions) (*Repo, error) {
	if opts.Work == "" {
		return nil, fmt.Errorf("gitea repository %s: options: Work is required", name)
	}
	var created struct {
		CloneURL string `json:"clone_url"`
	}
	body := map[string]any{"name": name, "default_branch": "main", "private": opts.Private}
	if err := s.API(http.MethodPost, "/user/repos", body, &created); err != nil {
		return nil, fmt.Errorf("gitea repository %s: create: %w", name, err)
	}
	return &Repo{Owner: AdminUser, Name: name, CloneURL: created.CloneURL, work: opts.Work}, nil
}

// Repository returns a handle on AdminUser's repository name, created
// earlier (possibly by another process), with its working copy at work.
// It checks nothing.
func (s *Server) Repository(name, work string) *Repo {
	return &Repo{Owner: AdminUser, Name: name, CloneURL: s.URL + "/" + AdminUser + "/" + name + ".git", work: work}
}

// Work is the repository's local working copy.
func (r *Repo) Work() string { return r.work }

// FullName is "owner/name".
func (r *Repo) FullName() string { return r.Owner + "/" + r.Name }

// CommitAll commits everything in the working copy (additions, changes and
// deletions) on main, pushes it over HTTP with git and returns the
// commit's SHA. An unchanged working copy makes an empty commit.
func (s *Server) CommitAll(r *Repo, message string) (string, error) {
	if _, err := os.Stat(filepath.Join(r.work, ".git")); err != nil {
		if err := os.MkdirAll(r.work, 0o755); err != nil {
			return "", fmt.Errorf("gitea repository %s: %w", r.FullName(), err)
		}
		if _, err := s.runGit(r.work, "init", "-q", "-b", "main"); err != nil {
			return "", err
		}
	}
	steps := [][]string{
		{"add", "-A"},
		{"-c", "user.name=ringops test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false",
			"commit", "-q", "--allow-empty", "-m", message},
		{"push", "-q", r.CloneURL, "HEAD:refs/heads/main"},
	}
	for _, args := range steps {
		if _, err := s.runGit(r.work, args...); err != nil {
			return "", err
		}
	}
	sha, err := s.runGit(r.work, "rev-parse", "HEAD")
	return strings.TrimSpace(sha), err
}

// runGit runs git in dir; the token goes in a header through the
// environment, never on the command line or in a URL.
func (s *Server) runGit(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	basic := base64.StdEncoding.EncodeToString([]byte(AdminUser + ":" + string(s.Token)))
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.extraHeader", "GIT_CONFIG_VALUE_0=Authorization: Basic "+basic)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("git %s: %w\n%s", args[0], err, out)
	}
	return string(out), nil
}

// CommitStatuses returns every status posted on sha (a SHA or a ref),
// oldest first.
func (s *Server) CommitStatuses(r *Repo, sha string) ([]CommitStatus, error) {
	var all []CommitStatus
	for page := 1; ; page++ {
		var batch []CommitStatus
		path := fmt.Sprintf("/repos/%s/%s/commits/%s/statuses?sort=oldest&limit=50&page=%d",
			url.PathEscape(r.Owner), url.PathEscape(r.Name), url.PathEscape(sha), page)
		if err := s.API(http.MethodGet, path, nil, &batch); err != nil {
			return all, err
		}
		all = append(all, batch...)
		if len(batch) < 50 {
			return all, nil
		}
	}
}

// LatestStatuses keeps the latest status of each context (the highest ID),
// sorted by context: what the forge shows on the commit.
func LatestStatuses(all []CommitStatus) []CommitStatus {
	latest := map[string]CommitStatus{}
	for _, st := range all {
		if cur, ok := latest[st.Context]; !ok || st.ID > cur.ID {
			latest[st.Context] = st
		}
	}
	out := make([]CommitStatus, 0, len(latest))
	for _, st := range latest {
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Context < out[j].Context })
	return out
}

// AddWebhook registers a Gitea webhook that POSTs push events (JSON,
// signed with secret in X-Gitea-Signature) to target.
func (s *Server) AddWebhook(r *Repo, target, secret string) error {
	hook := map[string]any{
		"type":   "gitea",
		"active": true,
		"events": []string{"push"},
		"config": map[string]string{"url": target, "content_type": "json", "secret": secret},
	}
	path := fmt.Sprintf("/repos/%s/%s/hooks", url.PathEscape(r.Owner), url.PathEscape(r.Name))
	if err := s.API(http.MethodPost, path, hook, nil); err != nil {
		return fmt.Errorf("gitea webhook to %s: %w", target, err)
	}
	return nil
}

// WaitForCommit waits until Gitea's API knows sha: Gitea takes a
// repository's first push in asynchronously (until then the API calls the
// repository empty, and serves no file). Polls every 100ms until ctx ends.
func (s *Server) WaitForCommit(ctx context.Context, r *Repo, sha string) error {
	repoPath := fmt.Sprintf("/repos/%s/%s", url.PathEscape(r.Owner), url.PathEscape(r.Name))
	known := func() error {
		var repo struct {
			Empty bool `json:"empty"`
		}
		if err := s.API(http.MethodGet, repoPath, nil, &repo); err != nil {
			return err
		}
		if repo.Empty {
			return errors.New("the repository is still empty")
		}
		return s.API(http.MethodGet, repoPath+"/git/commits/"+url.PathEscape(sha), nil, nil)
	}
	for {
		err := known()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gitea repository %s: commit %s not known to the API: %w", r.FullName(), sha, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
