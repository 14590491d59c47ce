package pullrequests_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/review/pullrequests"
	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/provider"
	"github.com/ringops/ringops/sources/git"
	giteaserver "github.com/ringops/ringops/test/gitea"
)

// startQueue runs a forge.Queue posting to the repository's Gitea as the
// daemon builds it (provider.NewClient from the clone URL), without
// throttling; it stops when the test ends.
func startQueue(t *testing.T, srv *giteaserver.Server, repo *giteaserver.Repo) (*forge.Queue, forge.Target) {
	t.Helper()
	client, target, err := provider.NewClient(provider.Options{
		RepoURL: repo.CloneURL,
		Target:  forge.TargetOptions{Kind: forge.Gitea},
		Token:   forge.StaticToken(srv.Token),
	})
	require.NoError(t, err)
	o := forge.DefaultOptions()
	o.MinInterval, o.MinSpacing = 0, 0
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	q, err := forge.NewQueue(client, o)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); q.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return q, target
}

// flush waits until the queue has posted everything (a guard, not a
// measurement).
func flush(t *testing.T, q *forge.Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	require.NoError(t, q.Flush(ctx))
}

// plans returns the ringops/plan statuses Gitea shows on sha, oldest first.
func plans(t *testing.T, srv *giteaserver.Server, repo *giteaserver.Repo, sha string) []giteaserver.CommitStatus {
	t.Helper()
	var out []giteaserver.CommitStatus
	for _, s := range srv.Statuses(t, repo, sha) {
		if s.Context == forge.PlanContext {
			out = append(out, s)
		}
	}
	return out
}

// The daemon's pull-request validation against a real Gitea: the example
// clusters on main, one pull request growing a rack and one renaming a
// datacenter; the verdicts are read back from Gitea's API.
func TestPullRequestsOnGitea(t *testing.T) {
	srv := giteaserver.Start(t)
	repo := srv.CreateRepo(t, "clusters")
	files := exampleFiles(t)
	main := srv.Push(t, repo, files, "the example clusters")
	grow := srv.PushBranch(t, repo, "grow-dc3-r2", edit(t, files, rackOverride, "nodes: 2"), "grow dc3 r2 to 2 nodes")
	rename := srv.PushBranch(t, repo, "rename-dc2", edit(t, files, dc2, "    - name: dc4\n"), "rename dc2 to dc4")
	srv.OpenPull(t, repo, "grow-dc3-r2", "main", "Grow dc3 r2")
	renamePR := srv.OpenPull(t, repo, "rename-dc2", "main", "Rename dc2")

	o := git.DefaultOptions()
	o.URL, o.Timeout = repo.CloneURL, 30*time.Second
	poller, err := git.NewPoller(o)
	require.NoError(t, err)
	_, _, err = poller.Poll(t.Context())
	require.NoError(t, err)
	require.Equal(t, main, poller.Current().Revision.Hash)

	q, target := startQueue(t, srv, repo)
	checker, err := pullrequests.New(poller, q, pullrequests.Options{Forge: target.Kind, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	res, err := checker.Check(t.Context(), poller.Current())
	require.NoError(t, err)
	assert.Equal(t, 2, res.Heads)
	flush(t, q)

	growPlans := plans(t, srv, repo, grow)
	require.Len(t, growPlans, 1)
	assert.Equal(t, "success", growPlans[0].State)
	assert.Equal(t, "orders: 1 bootstrap", growPlans[0].Description)
	renamePlans := plans(t, srv, repo, rename)
	require.Len(t, renamePlans, 1)
	assert.Equal(t, "failure", renamePlans[0].State)
	assert.Contains(t, renamePlans[0].Description, renamed)
	assert.Empty(t, plans(t, srv, repo, main), "nothing on the base")

	// Nothing new: one listing, no fetch, no status, no request to Gitea.
	before, posted := checker.Stats(), q.Stats()
	res, err = checker.Check(t.Context(), poller.Current())
	require.NoError(t, err)
	flush(t, q)
	assert.Empty(t, res.Checked)
	after := checker.Stats()
	assert.Equal(t, before.Checks+1, after.Checks)
	assert.Equal(t, before.Fetches, after.Fetches, "no fetch")
	assert.Equal(t, before.Reported, after.Reported, "no status")
	assert.Equal(t, posted.Requests, q.Stats().Requests, "no request to Gitea")

	// The author follows the refusal's advice: dc2 stays and dc4 is
	// added. Only the moved head is fetched, and its new commit gets its
	// own verdict; the old commit keeps the failure.
	addDC4 := files[clusterFile] + "    - name: dc4\n      context: us-east\n" +
		"      dnsDomain: dc4.orders.db.example.com\n      replicationFactor: 1\n      racks:\n        - name: r1\n"
	fixed := srv.PushBranch(t, repo, "rename-dc2", map[string]string{clusterFile: addDC4}, "add dc4 instead")
	srv.WaitPullHead(t, repo, renamePR.Number, fixed)
	res, err = checker.Check(t.Context(), poller.Current())
	require.NoError(t, err)
	flush(t, q)
	require.Len(t, res.Checked, 1)
	assert.Equal(t, pullrequests.NewHead, res.Checked[0].Reason)
	assert.Equal(t, before.Fetches+1, checker.Stats().Fetches)
	fixedPlans := plans(t, srv, repo, fixed)
	require.Len(t, fixedPlans, 1)
	assert.Equal(t, "success", fixedPlans[0].State)
	assert.Equal(t, "orders: +1 DC, 1 bootstrap", fixedPlans[0].Description,
		"dc4's seed enters no live seed list by itself: no restart (keyspaces not managed: dc4 bootstraps)")
	assert.Len(t, plans(t, srv, repo, rename), 1)
}
