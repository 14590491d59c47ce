package gitea

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Repo is a repository on the Server.
type Repo struct {
	Owner, Name string
	// CloneURL is the HTTP clone URL, "http://127.0.0.1:PORT/owner/name.git".
	CloneURL string

	work string // local working copy Push commits from
}

// CommitStatus is a commit status as Gitea's API returns it.
type CommitStatus struct {
	ID          int64  `json:"id"`
	State       string `json:"status"`
	Context     string `json:"context"`
	Description string `json:"description"`
	TargetURL   string `json:"target_url"`
}

// API calls the Gitea API as AdminUser: body (if not nil) is sent as
// JSON, a 2xx answer decoded into out (if not nil); other answers fail.
func (s *Server) API(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+"/api/v1"+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+string(s.Token))
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("gitea %s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("gitea %s %s: HTTP %d: %s", method, path, resp.StatusCode, tail(string(data), 500))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// CreateRepo creates an empty repository owned by AdminUser, default
// branch main.
func (s *Server) CreateRepo(tb testing.TB, name string) *Repo {
	tb.Helper()
	opts := DefaultRepoOptions()
	opts.Work = tb.TempDir()
	r, err := s.CreateRepository(name, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// Push writes files (path -> content) into the repository's working copy,
// commits them on main and pushes over HTTP with git; it returns the
// commit's SHA.
func (s *Server) Push(tb testing.TB, r *Repo, files map[string]string, message string) string {
	tb.Helper()
	for p, content := range files {
		full := filepath.Join(r.work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	sha, err := s.CommitAll(r, message)
	if err != nil {
		tb.Fatal(err)
	}
	return sha
}

// git runs git in the working copy (see runGit).
func (s *Server) git(tb testing.TB, r *Repo, args ...string) string {
	tb.Helper()
	out, err := s.runGit(r.work, args...)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// Statuses returns every status posted on sha, oldest first.
func (s *Server) Statuses(tb testing.TB, r *Repo, sha string) []CommitStatus {
	tb.Helper()
	all, err := s.CommitStatuses(r, sha)
	if err != nil {
		tb.Fatal(err)
	}
	return all
}

// AddPushHook registers a Gitea webhook that POSTs push events (JSON,
// signed with secret in X-Gitea-Signature) to target.
func (s *Server) AddPushHook(tb testing.TB, r *Repo, target, secret string) {
	tb.Helper()
	if err := s.AddWebhook(r, target, secret); err != nil {
		tb.Fatal(err)
	}
}
