package pullrequests_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/review"
	"github.com/ringops/ringops/review/pullrequests"
	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/git"
)

// world is the example repository on main with pull requests: 1 grows a
// rack, 2 renames a datacenter (refused), 10 only adds a comment, 4 is at
// main's commit; refs/pull/1/merge is not a head.
type world struct {
	repo  *testRepo
	files map[string]string
	main  string
	heads map[int]string // pull request -> head commit
}

func newWorld(t *testing.T) *world {
	r := newTestRepo(t)
	files := exampleFiles(t)
	w := &world{repo: r, files: files, heads: map[int]string{}}
	w.main = r.commit("", files, "the example clusters")
	r.setRef("refs/heads/main", w.main)
	w.push(1, r.commit(w.main, edit(t, files, rackOverride, "nodes: 2"), "grow dc1 r3 to 2 nodes"))
	w.push(2, r.commit(w.main, edit(t, files, dc2, "    - name: dc4\n"), "rename dc2"))
	w.push(10, r.commit(w.main, map[string]string{clusterFile: files[clusterFile] + "# reviewed\n"}, "a comment"))
	w.push(4, w.main)
	r.setRef("refs/pull/1/merge", w.heads[1])
	return w
}

// push points pull request n's head at commit.
func (w *world) push(n int, commit string) {
	w.heads[n] = commit
	w.repo.setRef(headRef(n), commit)
}

func headRef(n int) string { return fmt.Sprintf("refs/pull/%d/head", n) }

func quietOptions(kind forge.Kind) pullrequests.Options {
	o := pullrequests.DefaultOptions()
	o.Forge = kind
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return o
}

func newChecker(t *testing.T, src pullrequests.Source, rep forge.Reporter, adjust func(*pullrequests.Options)) *pullrequests.Checker {
	t.Helper()
	o := quietOptions(forge.Gitea)
	if adjust != nil {
		adjust(&o)
	}
	c, err := pullrequests.New(src, rep, o)
	require.NoError(t, err)
	return c
}

// renamed is the start of the refusal of pull request 2.
const renamed = "spec.datacenters[1].name: looks like datacenter dc2 was renamed to dc4; Cassandra cannot rename a datacenter"

func TestCheckPostsThePlanOnEachHead(t *testing.T) {
	w := newWorld(t)
	src, rec := newFakeSource(w.repo), &recorder{}
	c := newChecker(t, src, rec, nil)

	res, err := c.Check(t.Context(), w.repo.base())
	require.NoError(t, err)
	assert.Equal(t, 4, res.Heads, "pull requests 1, 2, 4 and 10; not the merge ref")
	assert.Equal(t, []string{headRef(10), headRef(2), headRef(1)}, src.takeFetched(),
		"newest pull request first; 4 is at main's commit and changes nothing")

	got := rec.take()
	require.Len(t, got, 3)
	assert.Equal(t, forge.Succeeded(w.heads[10], forge.PlanContext, "no change (1 cluster unchanged)"), got[0])
	assert.Equal(t, forge.StateFailure, got[1].State)
	assert.Equal(t, w.heads[2], got[1].Revision)
	assert.Equal(t, forge.PlanContext, got[1].Context)
	assert.True(t, strings.HasPrefix(got[1].Description, clusterFile+":"), got[1].Description)
	assert.Contains(t, got[1].Description, renamed)
	assert.Equal(t, forge.Succeeded(w.heads[1], forge.PlanContext, "orders: 1 bootstrap"), got[2])

	outcomes := map[string]review.Outcome{}
	for _, v := range res.Checked {
		assert.NoError(t, v.Err)
		assert.Equal(t, pullrequests.NewHead, v.Reason)
		outcomes[v.Head.Ref] = v.Outcome
	}
	assert.Equal(t, map[string]review.Outcome{headRef(10): review.NoChange, headRef(2): review.Invalid, headRef(1): review.Changes}, outcomes)

	// Nothing new: one listing, no fetch, no status.
	res, err = c.Check(t.Context(), w.repo.base())
	require.NoError(t, err)
	assert.Empty(t, res.Checked)
	assert.Empty(t, src.takeFetched())
	assert.Empty(t, rec.take())
	assert.Equal(t, 2, src.listings)
	assert.Equal(t, pullrequests.Stats{Checks: 2, Fetches: 3, Reported: 3, Remembered: 3}, c.Stats())
}

func TestMovedHeadsFirstThenBaseMovesWithinMaxPerCheck(t *testing.T) {
	w := newWorld(t)
	src, rec := newFakeSource(w.repo), &recorder{}
	c := newChecker(t, src, rec, func(o *pullrequests.Options) { o.MaxPerCheck = 2 })
	res, err := c.Check(t.Context(), w.repo.base())
	require.NoError(t, err)
	assert.Equal(t, []string{headRef(10), headRef(2)}, src.takeFetched())
	assert.Equal(t, 1, res.Deferred)
	_, err = c.Check(t.Context(), w.repo.base())
	require.NoError(t, err)
	assert.Equal(t, []string{headRef(1)}, src.takeFetched(), "the deferred head comes next")
	rec.take()

	// main moves (a README), and pull request 1 gets a fix: its new head
	// goes first, then the heads whose base moved, newest first.
	main := w.repo.commit(w.main, map[string]string{"README.md": "clusters\n"}, "readme")
	w.repo.setRef("refs/heads/main", main)
	w.push(4, main) // a pull request at main's commit stays skipped
	w.push(1, w.repo.commit(w.heads[1], map[string]string{"notes.txt": "grow r2\n"}, "notes"))
	var reasons []string
	for range 2 {
		res, err := c.Check(t.Context(), w.repo.base())
		require.NoError(t, err)
		for _, v := range res.Checked {
			reasons = append(reasons, path.Base(path.Dir(v.Head.Ref))+" "+v.Reason.String())
		}
	}
	assert.Equal(t, []string{"1 NewHead", "10 BaseMoved", "2 BaseMoved"}, reasons)
	statuses := rec.take()
	require.Len(t, statuses, 3)
	assert.Equal(t, forge.Succeeded(w.heads[1], forge.PlanContext, "orders: 1 bootstrap"), statuses[0])

	res, err = c.Check(t.Context(), w.repo.base())
	require.NoError(t, err)
	assert.Empty(t, res.Checked)
	assert.Zero(t, res.Deferred)
}

func TestHeadsThatDisappearAreForgotten(t *testing.T) {
	w := newWorld(t)
	src, rec := newFakeSource(w.repo), &recorder{}
	c := newChecker(t, src, rec, nil)
	_, err := c.Check(t.Context(), w.repo.base())
	require.NoError(t, err)
	require.Equal(t, 3, c.Stats().Remembered)

	w.repo.DeleteRef(headRef(2))
	res, err := c.Check(t.Context(), w.repo.base())
	require.NoError(t, err)
	assert.Equal(t, 1, res.Forgotten)
	assert.Empty(t, res.Checked)
	assert.Equal(t, 2, c.Stats().Remembered)

	w.push(2, w.heads[2]) // reopened at the same commit: a new head again
	rec.take()
	res, err = c.Check(t.Context(), w.repo.base())
	require.NoError(t, err)
	require.Len(t, res.Checked, 1)
	assert.Equal(t, pullrequests.NewHead, res.Checked[0].Reason)
	assert.Equal(t, forge.StateFailure, rec.take()[0].State)
}

func TestHeadsThatCannotBeFetchedAreErrorsAndRetried(t *testing.T) {
	w := newWorld(t)
	src, rec := newFakeSource(w.repo), &recorder{}
	c := newChecker(t, src, rec, nil)
	down := &git.OpError{Op: "fetch", URL: "https://git.example.com/clusters.git", Kind: git.ErrUnreachable, Err: errors.New("connection reset")}
	src.fail(headRef(1), down)
	src.fail(headRef(2), fmt.Errorf("revision %s: file clusters/big.bin: 9 MiB: %w", w.heads[2], git.ErrTooLarge))

	res, err := c.Check(t.Context(), w.repo.base())
	require.NoError(t, err, "a head that cannot be fetched is reported, not an error of Check")
	assert.Equal(t, []string{headRef(10), headRef(2), headRef(1)}, src.takeFetched())
	got := rec.take()
	require.Len(t, got, 3)
	assert.Equal(t, forge.Status{Revision: w.heads[1], Context: forge.PlanContext, State: forge.StateError,
		Description: "ringops could not plan this revision: fetch refs/pull/1/head: " + down.Error()}, got[2])
	assert.Equal(t, forge.StateError, got[1].State)
	assert.Contains(t, got[1].Description, "tree over the size limit")
	assert.ErrorIs(t, res.Checked[2].Err, git.ErrUnreachable)
	assert.Equal(t, 2, c.Stats().Errors)

	// The server is back: the unreachable head is fetched again (after
	// new heads), the refused one is not.
	src.fail(headRef(1), nil)
	src.fail(headRef(2), nil)
	w.push(3, w.heads[10])
	res, err = c.Check(t.Context(), w.repo.base())
	require.NoError(t, err)
	assert.Equal(t, []string{headRef(3), headRef(1)}, src.takeFetched())
	require.Len(t, res.Checked, 2)
	assert.Equal(t, []pullrequests.Reason{pullrequests.NewHead, pullrequests.Retry}, []pullrequests.Reason{res.Checked[0].Reason, res.Checked[1].Reason})
	assert.Equal(t, headRef(1), res.Checked[1].Head.Ref)
	assert.Equal(t, forge.Succeeded(w.heads[1], forge.PlanContext, "orders: 1 bootstrap"), rec.take()[1])
}

func TestMemoryIsBounded(t *testing.T) {
	w := newWorld(t)
	src := newFakeSource(w.repo)
	c := newChecker(t, src, &recorder{}, func(o *pullrequests.Options) { o.MaxPerCheck, o.MaxRemembered = 2, 2 })
	for range 3 {
		_, err := c.Check(t.Context(), w.repo.base())
		require.NoError(t, err)
		assert.LessOrEqual(t, c.Stats().Remembered, 2)
	}
	// 10 and 2, then 1 (forgetting 10), then 10 again (forgetting 2): a
	// memory smaller than the heads advertised costs re-checks.
	assert.Equal(t, []string{headRef(10), headRef(2), headRef(1), headRef(10)}, src.takeFetched())
}

func TestNoBaseChecksNothing(t *testing.T) {
	w := newWorld(t)
	src, rec := newFakeSource(w.repo), &recorder{}
	res, err := newChecker(t, src, rec, nil).Check(t.Context(), nil)
	require.NoError(t, err)
	assert.Equal(t, pullrequests.Result{}, res)
	assert.Zero(t, src.listings)
	assert.Empty(t, rec.take())
}

func TestACancelledCheckStopsAndReportsNothingMore(t *testing.T) {
	w := newWorld(t)
	src, rec := newFakeSource(w.repo), &recorder{}
	c := newChecker(t, src, rec, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.Check(ctx, w.repo.base())
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, rec.take())
	assert.Empty(t, src.takeFetched())
}

func TestRefPatternsAndOptions(t *testing.T) {
	for kind, want := range map[forge.Kind][]string{
		forge.GitHub: {"refs/pull/*/head"}, forge.Gitea: {"refs/pull/*/head"}, forge.Forgejo: {"refs/pull/*/head"},
		forge.GitLab: {"refs/merge-requests/*/head"}, forge.BitbucketCloud: nil, forge.BitbucketServer: nil,
	} {
		assert.Equal(t, want, pullrequests.RefPatterns(kind), kind)
	}
	src, rec := newFakeSource(nil), &recorder{}

	_, err := pullrequests.New(src, rec, quietOptions(forge.BitbucketCloud))
	assert.ErrorIs(t, err, pullrequests.ErrNoPullRequestRefs)
	assert.ErrorContains(t, err, "bitbucket-cloud")

	o := quietOptions(forge.BitbucketServer)
	o.Patterns = []string{"refs/pull-requests/*/from"}
	c, err := pullrequests.New(src, rec, o)
	require.NoError(t, err, "explicit patterns serve any forge")
	assert.Equal(t, o.Patterns, c.Patterns())

	o = quietOptions(forge.GitLab)
	o.Patterns, o.MaxPerCheck, o.Root = []string{"refs/[/head"}, -1, "../elsewhere"
	_, err = pullrequests.New(src, rec, o)
	assert.ErrorIs(t, err, path.ErrBadPattern)
	assert.ErrorContains(t, err, "max per check (-1)")
	assert.ErrorContains(t, err, `root "../elsewhere"`)

	_, err = pullrequests.New(nil, rec, quietOptions(forge.GitHub))
	assert.Error(t, err)
}
