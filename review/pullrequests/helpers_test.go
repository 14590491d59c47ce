package pullrequests_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/git"
)

// The example repository's cluster, and the edits the tests make to it.
const (
	clusterFile = "clusters/orders/cluster.yaml"
	// rackOverride is commented out in the example: uncommenting it grows
	// rack r3 of dc1 (eu-west) from 1 node to 2 (three racks: Cassandra's
	// token allocator takes a second node in a rack).
	rackOverride = "# nodes: 2                  # a rack can override nodesPerRack"
	dc2          = "    - name: dc2\n"
)

// exampleFiles returns clusters-example/clusters as repository files
// (path -> content).
func exampleFiles(t testing.TB) map[string]string {
	t.Helper()
	root := os.DirFS(filepath.Join("..", "..", "clusters-example"))
	files := map[string]string{}
	err := fs.WalkDir(root, "clusters", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		files[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// edit returns the example's cluster.yaml with old replaced by new
// (exactly once).
func edit(t testing.TB, files map[string]string, old, new string) map[string]string {
	t.Helper()
	spec := files[clusterFile]
	if strings.Count(spec, old) != 1 {
		t.Fatalf("%s: %q is not there exactly once", clusterFile, old)
	}
	return map[string]string{clusterFile: strings.Replace(spec, old, new, 1)}
}

// testRepo is a bare repository (what a forge serves) and a work tree that
// makes commits and pushes refs into it over the file transport.
type testRepo struct {
	t          testing.TB
	root, bare string
	work       string
	env        []string
}

func newTestRepo(t testing.TB) *testRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed (apt-get install git)")
	}
	root, home := t.TempDir(), t.TempDir()
	r := &testRepo{t: t, root: root, bare: filepath.Join(root, "repo.git"), work: filepath.Join(root, "work")}
	r.env = append(os.Environ(), "HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+filepath.Join(home, "gitconfig"),
		"GIT_AUTHOR_NAME=Ada", "GIT_AUTHOR_EMAIL=ada@example.com", "GIT_COMMITTER_NAME=Ada",
		"GIT_COMMITTER_EMAIL=ada@example.com", "GIT_TERMINAL_PROMPT=0")
	r.run(root, "init", "-q", "--bare", "-b", "main", r.bare)
	r.run(root, "init", "-q", "-b", "main", r.work)
	return r
}

func (r *testRepo) run(dir string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, r.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		r.t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// commit makes a commit on top of parent ("" for the first) with files
// written over parent's tree, and returns its hash.
func (r *testRepo) commit(parent string, files map[string]string, msg string) string {
	r.t.Helper()
	if parent != "" {
		r.run(r.work, "checkout", "-q", "--detach", parent)
	}
	for p, content := range files {
		full := filepath.Join(r.work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.run(r.work, "add", "-A")
	r.run(r.work, "commit", "-q", "--allow-empty", "-m", msg)
	return r.run(r.work, "rev-parse", "HEAD")
}

// setRef points ref of the bare repository at hash.
func (r *testRepo) setRef(ref, hash string) {
	r.t.Helper()
	r.run(r.work, "push", "-q", "--force", r.bare, hash+":"+ref)
}

// deleteRef removes ref from the bare repository.
func (r *testRepo) deleteRef(ref string) {
	r.t.Helper()
	r.run(r.bare, "update-ref", "-d", ref)
}

// snapshot reads ref of the bare repository, as a poller would fetch it
// (the commits are read from the work tree, which made them all).
func (r *testRepo) snapshot(ref string) (*git.Snapshot, error) {
	hash, err := r.resolve(ref)
	if err != nil {
		return nil, err
	}
	local, err := git.OpenLocal(r.work, git.Options{})
	if err != nil {
		return nil, err
	}
	snap, err := local.Snapshot(hash)
	if err != nil {
		return nil, err
	}
	snap.Revision.Ref = ref
	return snap, nil
}

// resolve returns the commit ref points to in the bare repository.
func (r *testRepo) resolve(ref string) (string, error) {
	out, err := exec.Command("git", "-C", r.bare, "rev-parse", "--verify", "-q", ref+"^{commit}").Output()
	if err != nil {
		return "", fmt.Errorf("%w: %s", git.ErrRefNotFound, ref)
	}
	return strings.TrimSpace(string(out)), nil
}

// base is the snapshot of main, failing the test when it cannot be read.
func (r *testRepo) base() *git.Snapshot {
	r.t.Helper()
	snap, err := r.snapshot("refs/heads/main")
	if err != nil {
		r.t.Fatal(err)
	}
	return snap
}

// fakeSource reads the bare repository directly (git for-each-ref and
// go-git), counts the calls and fails the fetches it is told to.
type fakeSource struct {
	r *testRepo

	mu       sync.Mutex
	listings int
	fetched  []string
	failures map[string]error // ref -> error of its next fetches
}

func newFakeSource(r *testRepo) *fakeSource {
	return &fakeSource{r: r, failures: map[string]error{}}
}

func (f *fakeSource) Refs(_ context.Context, patterns ...string) ([]git.Revision, error) {
	f.mu.Lock()
	f.listings++
	f.mu.Unlock()
	var out []git.Revision
	for _, line := range strings.Split(f.r.run(f.r.bare, "for-each-ref", "--format=%(refname) %(objectname)"), "\n") {
		ref, hash, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		for _, p := range patterns {
			if m, _ := path.Match(p, ref); m {
				out = append(out, git.Revision{Ref: ref, Hash: hash})
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b git.Revision) int { return strings.Compare(a.Ref, b.Ref) })
	return out, nil
}

func (f *fakeSource) Fetch(_ context.Context, ref string) (*git.Snapshot, error) {
	f.mu.Lock()
	f.fetched = append(f.fetched, ref)
	err := f.failures[ref]
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return f.r.snapshot(ref)
}

func (f *fakeSource) fail(ref string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures[ref] = err
}

// takeFetched returns the refs fetched since the last call, in order.
func (f *fakeSource) takeFetched() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.fetched
	f.fetched = nil
	return out
}

// recorder is a forge.Reporter that keeps what it is given.
type recorder struct {
	mu       sync.Mutex
	statuses []forge.Status
}

func (r *recorder) Report(_ context.Context, s forge.Status) error {
	if err := s.Validate(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses = append(r.statuses, s)
	return nil
}

// take returns the statuses reported since the last call.
func (r *recorder) take() []forge.Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.statuses
	r.statuses = nil
	return out
}

// gitServer serves the test repository with git http-backend through
// net/http/cgi on 127.0.0.1 and counts requests by kind.
type gitServer struct {
	URL         string
	close       func()
	infoRefs    atomic.Int64
	uploadPacks atomic.Int64
}

const gitHTTPBackend = "/usr/lib/git-core/git-http-backend"

func serveHTTP(t testing.TB, r *testRepo) *gitServer {
	t.Helper()
	if _, err := os.Stat(gitHTTPBackend); err != nil {
		t.Skipf("%s missing (apt-get install git)", gitHTTPBackend)
	}
	s := &gitServer{}
	backend := &cgi.Handler{Path: gitHTTPBackend, Root: "/git",
		Env: []string{"GIT_PROJECT_ROOT=" + r.root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + r.root}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch {
		case strings.HasSuffix(req.URL.Path, "/info/refs"):
			s.infoRefs.Add(1)
		case req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/git-upload-pack"):
			s.uploadPacks.Add(1)
		}
		backend.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	s.URL, s.close = srv.URL+"/git/repo.git", srv.Close
	return s
}

// counts returns (ref advertisements, upload-pack requests) so far.
func (s *gitServer) counts() (int64, int64) { return s.infoRefs.Load(), s.uploadPacks.Load() }
