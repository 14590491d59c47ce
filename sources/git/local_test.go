package git

import (
	"errors"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/ringops/ringops/test/gitserver"
)

// TestLocalSnapshots reads committed revisions of a repository on disk,
// named the ways `ringops plan --base` accepts, never the working tree.
func TestLocalSnapshots(t *testing.T) {
	repo := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	dir := repo.Work
	commit := func(content string) string {
		t.Helper()
		repo.Write(map[string]string{"clusters/orders/cluster.yaml": content})
		return repo.Commit("commit")
	}
	first := commit("one\n")
	repo.Git("tag", "-a", "v1", "-m", "v1")
	second := commit("two\n")
	repo.Write(map[string]string{"clusters/orders/cluster.yaml": "not committed\n"})

	local, err := OpenLocal(filepath.Join(dir, "clusters"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if root, _ := filepath.EvalSymlinks(local.Root()); root != mustEval(t, dir) {
		t.Errorf("Root() = %s, want the working tree %s", local.Root(), dir)
	}
	for rev, want := range map[string]string{
		"HEAD": "two\n", "HEAD~1": "one\n", "HEAD^": "one\n", "v1": "one\n",
		first[:8]: "one\n", second: "two\n", repo.Branch: "two\n",
	} {
		snap, err := local.Snapshot(rev)
		if err != nil {
			t.Errorf("%s: %v", rev, err)
			continue
		}
		data, err := fs.ReadFile(snap.FS, "clusters/orders/cluster.yaml")
		if err != nil || string(data) != want {
			t.Errorf("%s: cluster.yaml = %q, %v; want %q", rev, data, err, want)
		}
		if snap.Revision.Ref != rev || (rev == "HEAD~1" && snap.Revision.Hash != first) {
			t.Errorf("%s: revision %+v", rev, snap.Revision)
		}
	}
	if _, err := local.Snapshot("no-such-branch"); !errors.Is(err, ErrRevisionNotFound) {
		t.Errorf("unknown revision: %v", err)
	}
	if _, err := OpenLocal(t.TempDir(), Options{}); err == nil {
		t.Error("a directory outside any repository opened")
	}
}

func mustEval(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
