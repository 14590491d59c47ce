package pullrequests_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/git"
	"github.com/ringops/ringops/test/gitserver"
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

// testRepo is test/gitserver's Repo (a bare repository, what a forge
// serves, and a working clone that commits and pushes refs into it over
// the file transport), with commits on any parent.
type testRepo struct {
	*gitserver.Repo
	t testing.TB
}

func newTestRepo(t testing.TB) *testRepo {
	t.Helper()
	return &testRepo{Repo: gitserver.NewRepo(t, gitserver.DefaultRepoOptions()), t: t}
}

// commit makes a commit on top of parent ("" for the first) with files
// written over parent's tree, and returns its hash.
func (r *testRepo) commit(parent string, files map[string]string, msg string) string {
	r.t.Helper()
	if parent != "" {
		r.Git("checkout", "-q", "--detach", parent)
	}
	r.Write(files)
	return r.Commit(msg)
}

// setRef points ref of the bare repository at hash.
func (r *testRepo) setRef(ref, hash string) {
	r.t.Helper()
	r.PushRef(hash, ref)
}

// snapshot reads ref of the bare repository, as a poller would fetch it
// (the commits are read from the work tree, which made them all).
func (r *testRepo) snapshot(ref string) (*git.Snapshot, error) {
	hash, err := r.resolve(ref)
	if err != nil {
		return nil, err
	}
	local, err := git.OpenLocal(r.Work, git.Options{})
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
	out, err := exec.Command("git", "-C", r.Bare, "rev-parse", "--verify", "-q", ref+"^{commit}").Output()
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
	for _, line := range strings.Split(f.r.Git("-C", f.r.Bare, "for-each-ref", "--format=%(refname) %(objectname)"), "\n") {
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

// serveHTTP serves the test repository with test/gitserver's git
// http-backend on 127.0.0.1, which counts requests by kind.
func serveHTTP(t testing.TB, r *testRepo) *gitserver.HTTPServer {
	t.Helper()
	return gitserver.NewHTTP(t, r.Repo, gitserver.DefaultHTTPOptions())
}
