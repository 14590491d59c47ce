package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/internal/secret"
	srcforge "github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/provider"
	"github.com/ringops/ringops/test/gitea"
)

// The whole life of a forge directory, as make demo uses it, against a
// real Gitea: up writes the files scripts read (secrets only in 0600
// files, never printed) and serves a private repository on loopback; seed
// and push put the working copy on main; the webhook reaches a verifying
// receiver; statuses follows a commit's statuses to the summary; down
// stops Gitea and removes the directory.
func TestForgeLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("real Gitea: skipped with -short")
	}
	f := upForge(t, "-private")
	f.checkPrivate(t)

	src := t.TempDir()
	writeFile(t, filepath.Join(src, "README.md"), "# clusters\n")
	writeFile(t, filepath.Join(src, "clusters/orders/cluster.yaml"), "kind: CassandraCluster\n")
	seeded := f.run(t, "seed", "-from", src)
	require.Len(t, seeded, 40)
	assert.Equal(t, "kind: CassandraCluster\n", f.file(t, seeded, "clusters/orders/cluster.yaml"))

	pushes := f.hookReceiver(t)
	writeFile(t, filepath.Join(f.env["WORK_DIR"], "clusters/orders/cluster.yaml"), "kind: CassandraCluster # grown\n")
	require.NoError(t, os.Remove(filepath.Join(f.env["WORK_DIR"], "README.md")))
	changed := f.run(t, "push", "-message", "orders: grow")
	require.Len(t, changed, 40)
	assert.NotEqual(t, seeded, changed)
	assert.Equal(t, "kind: CassandraCluster # grown\n", f.file(t, changed, "clusters/orders/cluster.yaml"))
	assert.Empty(t, f.file(t, changed, "README.md"), "a file removed from the working copy is removed on main")
	select {
	case <-pushes:
	case <-time.After(60 * time.Second): // a guard, not a measurement
		t.Fatal("no verified push event reached the receiver")
	}

	f.checkStatuses(t, changed)

	pid, err := readPid(config{dir: f.dir})
	require.NoError(t, err)
	srv, _, err := open(config{dir: f.dir})
	require.NoError(t, err)
	f.run(t, "down")
	assert.False(t, srv.Runs(pid), "gitea runs after down")
	_, err = os.Stat(f.dir)
	assert.True(t, os.IsNotExist(err), "the forge directory is removed")
}

// Waiting for a summary fails at once when it ends otherwise, and on
// timeout while it stays pending, printing the last table either way.
func TestWaitSummaryFails(t *testing.T) {
	if testing.Short() {
		t.Skip("real Gitea: skipped with -short")
	}
	f := upForge(t)
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "README.md"), "x\n")
	sha := f.run(t, "seed", "-from", src)

	f.post(t, sha, "ringops", "pending", "rolling out")
	var out bytes.Buffer
	err := run(t.Context(), []string{"statuses", "-dir", f.dir, "-sha", sha, "-wait-summary", "success",
		"-timeout", "300ms", "-interval", "100ms"}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not success after 300ms")
	assert.Contains(t, err.Error(), "rolling out", "the last table")

	f.post(t, sha, "ringops", "failure", "orders: spec.datacenters[1].name: used twice")
	err = run(t.Context(), []string{"statuses", "-dir", f.dir, "-sha", sha, "-wait-summary", "success",
		"-timeout", "10m", "-interval", "100ms"}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is failure, not success: orders: spec.datacenters[1].name: used twice")
}

// forge is one forge directory brought up for a test.
type forge struct {
	dir string
	env map[string]string
}

func upForge(t *testing.T, flags ...string) *forge {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "forge")
	t.Cleanup(func() {
		if err := run(context.Background(), []string{"down", "-dir", dir}, io.Discard); err != nil {
			t.Error(err)
		}
	})
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), append([]string{"up", "-dir", dir}, flags...), &out))
	f := &forge{dir: dir, env: readEnv(t, filepath.Join(dir, "env"))}

	u, err := url.Parse(f.env["GITEA_URL"])
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", u.Hostname(), "loopback only")
	for _, key := range []string{"REPO_URL", "FORGE_API_URL", "FORGE_REPOSITORY", "TOKEN_FILE", "WEBHOOK_SECRET_FILE", "WORK_DIR"} {
		assert.Contains(t, out.String(), key+"='"+f.env[key]+"'", "up prints what it writes in env")
	}
	for _, key := range []string{"TOKEN_FILE", "WEBHOOK_SECRET_FILE"} {
		info, err := os.Stat(f.env[key])
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), key)
		assert.NotContains(t, out.String(), f.secret(t, key), "up never prints a secret")
	}
	return f
}

// run runs a forge command on the directory and returns its output, trimmed.
func (f *forge) run(t *testing.T, cmd string, flags ...string) string {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), append([]string{cmd, "-dir", f.dir}, flags...), &out), out.String())
	return strings.TrimSpace(out.String())
}

func (f *forge) secret(t *testing.T, key string) string {
	t.Helper()
	s, err := secret.ReadFile(f.env[key])
	require.NoError(t, err)
	require.NotEmpty(t, s)
	return string(s)
}

// api calls the Gitea API with the token (or anonymously), as the daemon does.
func (f *forge) api(t *testing.T, method, path, body string, authenticated bool) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.env["FORGE_API_URL"]+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if authenticated {
		req.Header.Set("Authorization", "token "+f.secret(t, "TOKEN_FILE"))
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, data
}

// checkPrivate: anonymous users do not see a private repository; the token does.
func (f *forge) checkPrivate(t *testing.T) {
	t.Helper()
	path := "/repos/" + f.env["FORGE_REPOSITORY"]
	code, _ := f.api(t, http.MethodGet, path, "", false)
	assert.Equal(t, http.StatusNotFound, code, "anonymous read of a private repository")
	code, body := f.api(t, http.MethodGet, path, "", true)
	assert.Equal(t, http.StatusOK, code, string(body))
}

// file returns a file's content at a revision ("" when it is not there).
func (f *forge) file(t *testing.T, sha, path string) string {
	t.Helper()
	code, body := f.api(t, http.MethodGet, "/repos/"+f.env["FORGE_REPOSITORY"]+"/raw/"+path+"?ref="+sha, "", true)
	if code == http.StatusNotFound {
		return ""
	}
	require.Equal(t, http.StatusOK, code, string(body))
	return string(body)
}

func (f *forge) post(t *testing.T, sha, context, state, description string) {
	t.Helper()
	body := `{"context":"` + context + `","state":"` + state + `","description":"` + description + `"}`
	code, resp := f.api(t, http.MethodPost, "/repos/"+f.env["FORGE_REPOSITORY"]+"/statuses/"+sha, body, true)
	require.Equal(t, http.StatusCreated, code, string(resp))
}

// hookReceiver registers, through forge hook, a receiver that verifies
// Gitea's signature with the secret in the forge directory.
func (f *forge) hookReceiver(t *testing.T) <-chan struct{} {
	t.Helper()
	fired := make(triggers, 1)
	opts := srcforge.DefaultWebhookOptions()
	opts.Ref = "refs/heads/main"
	opts.Secrets = map[srcforge.Kind]secret.Secret{srcforge.Gitea: secret.Secret(f.secret(t, "WEBHOOK_SECRET_FILE"))}
	receiver := httptest.NewServer(provider.NewWebhookHandler(opts, fired))
	t.Cleanup(receiver.Close)
	out := f.run(t, "hook", "-url", receiver.URL+"/hooks/gitea")
	assert.NotContains(t, out, f.secret(t, "WEBHOOK_SECRET_FILE"))
	return fired
}

type triggers chan struct{}

func (t triggers) Trigger() {
	select {
	case t <- struct{}{}:
	default:
	}
}

// checkStatuses follows a commit as the demo does: the table is printed
// when it changes, sorted by context, until the summary is success.
func (f *forge) checkStatuses(t *testing.T, sha string) {
	t.Helper()
	f.post(t, sha, "ringops/orders/us-east", "pending", "waiting for eu-west")
	f.post(t, sha, "ringops/orders/eu-west", "pending", "bootstrap orders-dc1-r1-0")
	f.post(t, sha, "ringops", "pending", "rolling out")
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(t.Context(), []string{"statuses", "-dir", f.dir, "-sha", sha, "-watch",
			"-wait-summary", "success", "-interval", "100ms", "-timeout", "2m"}, out)
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "rolling out") },
		time.Minute, 50*time.Millisecond, "the first table") // a guard, not a measurement
	f.post(t, sha, "ringops/orders/eu-west", "success", "ring healthy")
	f.post(t, sha, "ringops/orders/us-east", "success", "ring healthy")
	f.post(t, sha, "ringops", "success", "converged")
	require.NoError(t, <-done, out.String())

	tables := strings.Split(strings.TrimSpace(out.String()), "\n\n")
	require.GreaterOrEqual(t, len(tables), 2, out.String())
	for i := 1; i < len(tables); i++ {
		assert.NotEqual(t, body(tables[i-1]), body(tables[i]), "a table is printed only when it changed")
	}
	assert.Equal(t, "CONTEXT                 STATE    DESCRIPTION\n"+
		"ringops                 success  converged\n"+
		"ringops/orders/eu-west  success  ring healthy\n"+
		"ringops/orders/us-east  success  ring healthy", body(tables[len(tables)-1]))

	once := f.run(t, "statuses", "-sha", sha)
	assert.Equal(t, body(tables[len(tables)-1]), once, "without -watch: the latest table, once")
}

// body drops the header line (time, commit, summary) of a watched table.
func body(table string) string {
	_, rest, _ := strings.Cut(table, "\n")
	return rest
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		key, value, ok := strings.Cut(line, "=")
		require.True(t, ok, line)
		env[key] = strings.Trim(value, "'")
	}
	return env
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

// The table shows the latest status of each context, sorted by context,
// and with -width no line is longer than asked.
func TestTableShowsTheLatestPerContextSorted(t *testing.T) {
	history := []gitea.CommitStatus{
		{ID: 1, Context: "ringops/orders/us-east", State: "pending", Description: "queued"},
		{ID: 2, Context: "ringops", State: "pending", Description: "0/2 regions done"},
		{ID: 3, Context: "ringops/orders/eu-west", State: "pending", Description: strings.Repeat("bootstrap orders-dc1-r1-0 ", 10)},
		{ID: 5, Context: "ringops/orders/us-east", State: "success", Description: "us-east: 2 nodes UN"},
		{ID: 4, Context: "ringops/orders/us-east", State: "pending", Description: "older than ID 5"},
	}
	latest := gitea.LatestStatuses(history)
	full := formatTable(latest, 0)
	assert.Equal(t, "CONTEXT                 STATE    DESCRIPTION\n"+
		"ringops                 pending  0/2 regions done\n"+
		"ringops/orders/eu-west  pending  "+strings.TrimSpace(strings.Repeat("bootstrap orders-dc1-r1-0 ", 10))+"\n"+
		"ringops/orders/us-east  success  us-east: 2 nodes UN\n", full)

	narrow := formatTable(latest, 60)
	lines := strings.Split(strings.TrimSuffix(narrow, "\n"), "\n")
	require.Len(t, lines, 4)
	for _, l := range lines {
		assert.LessOrEqual(t, len([]rune(l)), 60, l)
	}
	assert.Equal(t, "ringops/orders/eu-west  pending  bootstrap orders-dc1-r1-0 …", lines[2])
	assert.Equal(t, "ringops/orders/us-east  success  us-east: 2 nodes UN", lines[3], "a short line is kept whole")
	assert.Equal(t, "(no status yet)\n", formatTable(nil, 60))
}
