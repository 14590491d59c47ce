package gitea

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Pull is a pull request as Gitea's API returns it.
type Pull struct {
	Number int64   `json:"number"`
	State  string  `json:"state"` // "open" or "closed"
	Title  string  `json:"title"`
	Head   PullRef `json:"head"`
	Base   PullRef `json:"base"`
}

// PullRef is one side of a pull request.
type PullRef struct {
	// Ref is the branch name, e.g. "grow-r2".
	Ref string `json:"ref"`
	// SHA is the commit the branch points to.
	SHA string `json:"sha"`
}

// PushBranch commits files (path -> content) on branch and pushes it
// over HTTP; it returns the commit's SHA. A branch the working copy does
// not have yet starts at main's last commit (Push main first); a known
// one gets a further commit. The working copy is back on main afterwards,
// so Push keeps committing on main.
func (s *Server) PushBranch(tb testing.TB, r *Repo, branch string, files map[string]string, message string) string {
	tb.Helper()
	if branch == "" || branch == "main" {
		tb.Fatalf("gitea: PushBranch %q: use Push for main", branch)
	}
	if strings.TrimSpace(s.git(tb, r, "branch", "--list", branch)) == "" {
		s.git(tb, r, "checkout", "-q", "-b", branch, "main")
	} else {
		s.git(tb, r, "checkout", "-q", branch)
	}
	writeWorkFiles(tb, r.work, files)
	s.git(tb, r, "add", "-A")
	s.git(tb, r, "-c", "user.name=ringops test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false",
		"commit", "-q", "--allow-empty", "-m", message)
	s.git(tb, r, "push", "-q", "--force", r.CloneURL, "HEAD:refs/heads/"+branch)
	sha := strings.TrimSpace(s.git(tb, r, "rev-parse", "HEAD"))
	s.git(tb, r, "checkout", "-q", "main")
	return sha
}

// OpenPull opens a pull request of head into base (branch names of r)
// through the API: POST /repos/{owner}/{repo}/pulls, once Gitea's API
// knows both branches (it takes pushes in asynchronously). Gitea then
// advertises its head as refs/pull/<number>/head.
func (s *Server) OpenPull(tb testing.TB, r *Repo, head, base, title string) Pull {
	tb.Helper()
	s.waitBranch(tb, r, base)
	s.waitBranch(tb, r, head)
	var p Pull
	body := map[string]string{"head": head, "base": base, "title": title}
	if err := s.API(http.MethodPost, apiRepoPath(r)+"/pulls", body, &p); err != nil {
		tb.Fatal(err)
	}
	return p
}

// WaitPullHead waits (at most 60s) until r advertises
// refs/pull/<number>/head at sha. Gitea moves that ref in the background
// after a push to the pull request's branch (services/pull
// AddTestPullRequestTask); opening a pull request sets it at once.
func (s *Server) WaitPullHead(tb testing.TB, r *Repo, number int64, sha string) {
	tb.Helper()
	ref := fmt.Sprintf("refs/pull/%d/head", number)
	var got string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		got, _, _ = strings.Cut(s.git(tb, r, "ls-remote", r.CloneURL, ref), "\t")
		if got == sha {
			return
		}
	}
	tb.Fatalf("gitea: %s is at %q after 60s, want %s", ref, got, sha)
}

// waitBranch waits (at most 60s) until the API knows branch of r.
func (s *Server) waitBranch(tb testing.TB, r *Repo, branch string) {
	tb.Helper()
	var err error
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err = s.API(http.MethodGet, apiRepoPath(r)+"/branches/"+url.PathEscape(branch), nil, nil); err == nil {
			return
		}
	}
	tb.Fatalf("gitea: branch %s of %s unknown to the API after 60s: %v", branch, r.Name, err)
}

// GetPull reads pull request number of r.
func (s *Server) GetPull(tb testing.TB, r *Repo, number int64) Pull {
	tb.Helper()
	var p Pull
	if err := s.API(http.MethodGet, fmt.Sprintf("%s/pulls/%d", apiRepoPath(r), number), nil, &p); err != nil {
		tb.Fatal(err)
	}
	return p
}

// apiRepoPath is "/repos/{owner}/{repo}".
func apiRepoPath(r *Repo) string {
	return "/repos/" + url.PathEscape(r.Owner) + "/" + url.PathEscape(r.Name)
}

// writeWorkFiles writes files (path -> content) below dir.
func writeWorkFiles(tb testing.TB, dir string, files map[string]string) {
	tb.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}
