package git

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// TestLocalSnapshots reads committed revisions of a repository on disk,
// named the ways `ringops plan --base` accepts, never the working tree.
func TestLocalSnapshots(t *testing.T) {
	dir := t.TempDir()
	repo, err := gogit.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	commit := func(content string, n int) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(dir, "clusters", "orders"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "clusters", "orders", "cluster.yaml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := wt.AddWithOptions(&gogit.AddOptions{All: true}); err != nil {
			t.Fatal(err)
		}
		sig := &object.Signature{Name: "t", Email: "t@example.com", When: time.Date(2026, 1, n, 0, 0, 0, 0, time.UTC)}
		h, err := wt.Commit("commit", &gogit.CommitOptions{Author: sig})
		if err != nil {
			t.Fatal(err)
		}
		return h.String()
	}
	first := commit("one\n", 1)
	if _, err := repo.CreateTag("v1", mustHash(t, repo, first), &gogit.CreateTagOptions{Message: "v1", Tagger: &object.Signature{Name: "t", Email: "t@example.com"}}); err != nil {
		t.Fatal(err)
	}
	second := commit("two\n", 2)
	if err := os.WriteFile(filepath.Join(dir, "clusters", "orders", "cluster.yaml"), []byte("not committed\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	local, err := OpenLocal(filepath.Join(dir, "clusters"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if root, _ := filepath.EvalSymlinks(local.Root()); root != mustEval(t, dir) {
		t.Errorf("Root() = %s, want the working tree %s", local.Root(), dir)
	}
	head, err := repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	for rev, want := range map[string]string{
		"HEAD": "two\n", "HEAD~1": "one\n", "HEAD^": "one\n", "v1": "one\n",
		first[:8]: "one\n", second: "two\n", head.Name().Short(): "two\n",
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

func mustHash(t *testing.T, repo *gogit.Repository, rev string) plumbing.Hash {
	t.Helper()
	h, err := repo.ResolveRevision("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if h.String() != rev {
		t.Fatalf("HEAD is %s, want %s", h, rev)
	}
	return *h
}

func mustEval(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
