package gitea

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	var created struct {
		CloneURL string `json:"clone_url"`
	}
	if err := s.API(http.MethodPost, "/user/repos", map[string]any{"name": name, "default_branch": "main"}, &created); err != nil {
		tb.Fatal(err)
	}
	return &Repo{Owner: AdminUser, Name: name, CloneURL: created.CloneURL, work: tb.TempDir()}
}

// Push writes files (path -> content) into the repository's working copy,
// commits them on main and pushes over HTTP with git; it returns the
// commit's SHA.
func (s *Server) Push(tb testing.TB, r *Repo, files map[string]string, message string) string {
	tb.Helper()
	if _, err := os.Stat(filepath.Join(r.work, ".git")); err != nil {
		s.git(tb, r, "init", "-q", "-b", "main")
	}
	for p, content := range files {
		full := filepath.Join(r.work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	s.git(tb, r, "add", "-A")
	s.git(tb, r, "-c", "user.name=ringops test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false",
		"commit", "-q", "--allow-empty", "-m", message)
	s.git(tb, r, "push", "-q", r.CloneURL, "HEAD:refs/heads/main")
	return strings.TrimSpace(s.git(tb, r, "rev-parse", "HEAD"))
}

// git runs git in the working copy; the token goes in a header through the
// environment, never on the command line or in a URL.
func (s *Server) git(tb testing.TB, r *Repo, args ...string) string {
	tb.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.work
	basic := base64.StdEncoding.EncodeToString([]byte(AdminUser + ":" + string(s.Token)))
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.extraHeader", "GIT_CONFIG_VALUE_0=Authorization: Basic "+basic)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("git %s: %v\n%s", args[0], err, out)
	}
	return string(out)
}

// Statuses returns every status posted on sha, oldest first.
func (s *Server) Statuses(tb testing.TB, r *Repo, sha string) []CommitStatus {
	tb.Helper()
	var all []CommitStatus
	for page := 1; ; page++ {
		var batch []CommitStatus
		path := fmt.Sprintf("/repos/%s/%s/commits/%s/statuses?sort=oldest&limit=50&page=%d",
			url.PathEscape(r.Owner), url.PathEscape(r.Name), sha, page)
		if err := s.API(http.MethodGet, path, nil, &batch); err != nil {
			tb.Fatal(err)
		}
		all = append(all, batch...)
		if len(batch) < 50 {
			return all
		}
	}
}

// AddPushHook registers a Gitea webhook that POSTs push events (JSON,
// signed with secret in X-Gitea-Signature) to target.
func (s *Server) AddPushHook(tb testing.TB, r *Repo, target, secret string) {
	tb.Helper()
	hook := map[string]any{
		"type":   "gitea",
		"active": true,
		"events": []string{"push"},
		"config": map[string]string{"url": target, "content_type": "json", "secret": secret},
	}
	if err := s.API(http.MethodPost, fmt.Sprintf("/repos/%s/%s/hooks", url.PathEscape(r.Owner), url.PathEscape(r.Name)), hook, nil); err != nil {
		tb.Fatal(err)
	}
}
