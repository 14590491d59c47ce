package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/test/e2e/harness"
	"github.com/ringops/ringops/test/env"
	giteaserver "github.com/ringops/ringops/test/gitea"
)

// statusLogEnv names the file the statuses read back from Gitea are
// appended to (as t.Logf prints them), for the issue notes.
const statusLogEnv = "RINGOPS_E2E_STATUS_LOG"

// giteaRun is a `ringops run` following a repository of a real Gitea and
// posting its commit statuses there.
type giteaRun struct {
	g    *giteaserver.Server
	repo *giteaserver.Repo
	d    *daemonProc
	// url is the daemon's --external-url: statuses link below it.
	url string
	// hookSecret signs the push webhooks (--webhook-secret-file).
	hookSecret string
}

// startGiteaDaemon runs `ringops run` on repo (polled over HTTP, every
// interval) with --forge gitea, the API URL, the repository and a file
// holding the admin's token, statuses at most once a second per
// context, a webhook secret, and its HTTP listener at a port chosen here
// so that --external-url names it.
func startGiteaDaemon(t *testing.T, w *env.World, g *giteaserver.Server, repo *giteaserver.Repo,
	name string, interval time.Duration, args ...string) *giteaRun {
	t.Helper()
	tokenFile := filepath.Join(t.TempDir(), "gitea-token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(string(g.Token)+"\n"), 0o600))
	secret, secretFile := secretFile(t, "gitea-hook-")
	addr := freeAddr(t)
	r := &giteaRun{g: g, repo: repo, url: "http://" + addr, hookSecret: secret}
	args = append([]string{"--forge", "gitea", "--forge-api-url", g.URL + "/api/v1",
		"--forge-repository", repo.FullName(), "--forge-token-file", tokenFile, "--status-interval", "1s",
		"--webhook-secret-file", secretFile, "--http-address", addr, "--external-url", r.url}, args...)
	r.d = startDaemon(t, w, daemonConfig{name: name, repo: repo.CloneURL, interval: interval, args: args})
	t.Cleanup(func() {
		out := r.d.Output()
		assert.NotContains(t, out, string(g.Token), "the Gitea token was printed")
		assert.NotContains(t, out, secret, "the webhook secret was printed")
	})
	return r
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// giteaStatus is a commit status as Gitea's API lists it, with the time
// Gitea recorded it (to the second).
type giteaStatus struct {
	ID          int64     `json:"id"`
	State       string    `json:"status"`
	Context     string    `json:"context"`
	Description string    `json:"description"`
	TargetURL   string    `json:"target_url"`
	Created     time.Time `json:"created_at"`
}

// statuses lists every status Gitea keeps on sha, oldest first (by ID:
// Gitea's times have a second's resolution).
func (r *giteaRun) statuses(t *testing.T, sha string) []giteaStatus {
	t.Helper()
	var all []giteaStatus
	for page := 1; ; page++ {
		var batch []giteaStatus
		p := fmt.Sprintf("/repos/%s/%s/commits/%s/statuses?sort=oldest&limit=50&page=%d",
			url.PathEscape(r.repo.Owner), url.PathEscape(r.repo.Name), sha, page)
		require.NoError(t, r.g.API(http.MethodGet, p, nil, &batch))
		all = append(all, batch...)
		if len(batch) < 50 {
			break
		}
	}
	slices.SortFunc(all, func(a, b giteaStatus) int { return int(a.ID - b.ID) })
	return all
}

// byContext groups statuses by context, each oldest first.
func byContext(all []giteaStatus) map[string][]giteaStatus {
	out := map[string][]giteaStatus{}
	for _, s := range all {
		out[s.Context] = append(out[s.Context], s)
	}
	return out
}

// latest is the last state of each context: what Gitea shows.
func latest(all []giteaStatus) map[string]string {
	out := map[string]string{}
	for c, seq := range byContext(all) {
		out[c] = seq[len(seq)-1].State
	}
	return out
}

// waitStatuses waits (at most a minute: the queue posts asynchronously,
// at most once a second per context) until the last state of each
// context on sha is the one of want (and there is no other context) and
// the daemon has no status left to post; it returns every status of sha.
func (r *giteaRun) waitStatuses(t *testing.T, sha string, want map[string]string) []giteaStatus {
	t.Helper()
	var all []giteaStatus
	harness.WaitFor(t, time.Minute, fmt.Sprintf("statuses on %.7s in Gitea", sha), func() error {
		if r.d.exited() {
			return harness.Stop(fmt.Errorf("daemon %s exited: %s", r.d.name, r.d.cmd.ProcessState))
		}
		all = r.statuses(t, sha)
		if got := latest(all); !mapsEqual(got, want) {
			return fmt.Errorf("latest states %v, want %v", got, want)
		}
		if n := r.d.Metric(t, "ringops_forge_statuses_queued"); n > 0 {
			return fmt.Errorf("%v statuses still queued in the daemon", n)
		}
		return nil
	})
	return all
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// assertPendingThen: the statuses of one context, oldest first, are
// pending (one at least) and end with one status in state final.
func assertPendingThen(t *testing.T, context string, seq []giteaStatus, final string) {
	t.Helper()
	if assert.GreaterOrEqual(t, len(seq), 2, "%s: a pending status, then %s:\n%s", context, final, seqText(seq)) {
		assertEndsIn(t, context, seq, final)
	}
}

// assertEndsIn: the statuses of one context, oldest first, end with one
// status in state final, all those before it pending. (The queue posts
// only the latest progress of a context, never a terminal state: a
// context done within a second or two shows final alone.)
func assertEndsIn(t *testing.T, context string, seq []giteaStatus, final string) {
	t.Helper()
	if !assert.NotEmpty(t, seq, "%s: no status", context) {
		return
	}
	for _, s := range seq[:len(seq)-1] {
		assert.Equal(t, "pending", s.State, "%s: every status before the last is pending:\n%s", context, seqText(seq))
	}
	assert.Equal(t, final, seq[len(seq)-1].State, "%s:\n%s", context, seqText(seq))
}

// assertFailed: the statuses of one context, oldest first, end in
// failure and none says success. (The summary is posted again as each
// region's failure comes in: it may say failure more than once.)
func assertFailed(t *testing.T, context string, seq []giteaStatus) {
	t.Helper()
	if !assert.NotEmpty(t, seq, "%s: no status", context) {
		return
	}
	for _, s := range seq {
		assert.NotEqual(t, "success", s.State, "%s:\n%s", context, seqText(seq))
	}
	assert.Equal(t, "failure", seq[len(seq)-1].State, "%s:\n%s", context, seqText(seq))
}

func seqText(seq []giteaStatus) string {
	if len(seq) == 0 {
		return "  (none)\n"
	}
	return statusLines(seq, seq[0].Created)
}

// firstID is the ID of the first status of seq in state, 0 when none.
func firstID(seq []giteaStatus, state string) int64 {
	for _, s := range seq {
		if s.State == state {
			return s.ID
		}
	}
	return 0
}

// statusLines are statuses one per line: time (UTC), seconds since
// start, context, state, description.
func statusLines(seq []giteaStatus, start time.Time) string {
	var b strings.Builder
	for _, s := range seq {
		fmt.Fprintf(&b, "  %s  +%3.0fs  %-26s %-8s %s\n", s.Created.UTC().Format("15:04:05"),
			s.Created.Sub(start).Seconds(), s.Context, s.State, s.Description)
	}
	return b.String()
}

// statusLogMu serialises the writes to $RINGOPS_E2E_STATUS_LOG.
var statusLogMu sync.Mutex

// logStatuses prints the statuses of one commit as Gitea shows them,
// context by context (sorted), each oldest first, the seconds counted
// from the commit's first status; and appends the same text to
// $RINGOPS_E2E_STATUS_LOG when it is set.
func logStatuses(t *testing.T, title string, all []giteaStatus) {
	t.Helper()
	if len(all) == 0 {
		t.Logf("statuses in Gitea: %s: none", title)
		return
	}
	groups := byContext(all)
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%d statuses)\n", title, len(all))
	for _, c := range sortedKeys(groups) {
		b.WriteString(statusLines(groups[c], all[0].Created))
	}
	t.Logf("statuses in Gitea: %s", b.String())
	file := os.Getenv(statusLogEnv)
	if file == "" {
		return
	}
	statusLogMu.Lock()
	defer statusLogMu.Unlock()
	f, err := os.OpenFile(file, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(t, err, "$%s", statusLogEnv)
	_, err = fmt.Fprintf(f, "# %s\n%s\n", t.Name(), b.String())
	require.NoError(t, errors.Join(err, f.Close()), "$%s", statusLogEnv)
}

// treeFiles returns the files below dir as repository files (path below
// prefix -> content).
func treeFiles(t *testing.T, dir, prefix string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		files[path.Join(prefix, filepath.ToSlash(rel))] = string(b)
		return err
	})
	require.NoError(t, err)
	return files
}

// specEdit returns the repository file at p of repo's working copy with
// each old replaced by its new (old must be there), ready for Push.
func specEdit(t *testing.T, repo *giteaserver.Repo, p string, pairs ...string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo.Work(), filepath.FromSlash(p)))
	require.NoError(t, err)
	s := string(b)
	for i := 0; i+1 < len(pairs); i += 2 {
		require.Contains(t, s, pairs[i], "%s", p)
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return map[string]string{p: s}
}
