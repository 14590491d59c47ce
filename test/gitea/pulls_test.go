package gitea_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/sources/git"
	"github.com/ringops/ringops/test/gitea"
)

// A branch pushed and opened as a pull request is advertised by Gitea as
// refs/pull/<n>/head at the branch's commit, which is what ringops lists
// to validate pull requests; main keeps its own commits.
func TestOpenPullAdvertisesItsHead(t *testing.T) {
	srv := gitea.Start(t)
	repo := srv.CreateRepo(t, "clusters")
	main := srv.Push(t, repo, map[string]string{"README.md": "# clusters\n"}, "initial")
	first := srv.PushBranch(t, repo, "grow-r2", map[string]string{"a.yaml": "nodes: 2\n"}, "grow r2")
	pull := srv.OpenPull(t, repo, "grow-r2", "main", "Grow r2")
	assert.Equal(t, int64(1), pull.Number)
	assert.Equal(t, "open", pull.State)
	assert.Equal(t, gitea.PullRef{Ref: "grow-r2", SHA: first}, pull.Head)
	assert.Equal(t, "main", pull.Base.Ref)

	o := git.DefaultOptions()
	o.URL, o.Timeout = repo.CloneURL, 30*time.Second
	p, err := git.NewPoller(o)
	require.NoError(t, err)
	heads, err := p.Refs(t.Context(), "refs/pull/*/head")
	require.NoError(t, err)
	assert.Equal(t, []git.Revision{{Ref: "refs/pull/1/head", Hash: first}}, heads)

	// A second commit on the branch moves the pull request's head; main
	// does not move.
	second := srv.PushBranch(t, repo, "grow-r2", map[string]string{"a.yaml": "nodes: 3\n"}, "grow r2 more")
	assert.Equal(t, second, srv.GetPull(t, repo, 1).Head.SHA)
	srv.WaitPullHead(t, repo, 1, second)
	snap, err := p.Fetch(t.Context(), "refs/pull/1/head")
	require.NoError(t, err)
	assert.Equal(t, second, snap.Revision.Hash)
	b, err := snap.FS.ReadFile("a.yaml")
	require.NoError(t, err)
	assert.Equal(t, "nodes: 3\n", string(b))
	head, err := p.Head(t.Context())
	require.NoError(t, err)
	assert.Equal(t, main, head.Hash)

	next := srv.Push(t, repo, map[string]string{"README.md": "# clusters, v2\n"}, "on main")
	head, err = p.Head(t.Context())
	require.NoError(t, err)
	assert.Equal(t, next, head.Hash, "Push still commits on main after PushBranch")
}
