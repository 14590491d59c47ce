package pullrequests_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/git"
)

// The Checker over the daemon's own Poller and a real git server: the
// heads are listed with the same ref advertisement a poll makes, fetched
// at depth 1, and a Check with nothing new fetches nothing.
func TestCheckerOverARealGitServer(t *testing.T) {
	w := newWorld(t)
	srv := serveHTTP(t, w.repo)
	o := git.DefaultOptions()
	o.URL, o.Timeout = srv.URL(), 20*time.Second
	poller, err := git.NewPoller(o)
	require.NoError(t, err)
	base, changed, err := poller.Poll(t.Context())
	require.NoError(t, err)
	require.True(t, changed)

	rec := &recorder{}
	c := newChecker(t, poller, rec, nil)
	before := srv.Counts()
	res, err := c.Check(t.Context(), poller.Current())
	require.NoError(t, err)
	first := srv.Counts().Sub(before)
	assert.Equal(t, int64(3), first.Fetches, "one fetch per head to check")
	assert.Equal(t, 1+first.Fetches, first.RefAdvertisements, "one ref advertisement lists every head (each fetch then makes its own)")
	require.Len(t, res.Checked, 3)

	got := map[string]forge.Status{}
	for _, s := range rec.take() {
		got[s.Revision] = s
	}
	assert.Equal(t, forge.Succeeded(w.heads[1], forge.PlanContext, "orders: 1 bootstrap"), got[w.heads[1]])
	assert.Equal(t, forge.StateFailure, got[w.heads[2]].State)
	assert.Contains(t, got[w.heads[2]].Description, renamed)
	assert.Equal(t, forge.Succeeded(w.heads[10], forge.PlanContext, "no change (1 cluster unchanged)"), got[w.heads[10]])
	assert.Same(t, base, poller.Current(), "checking pull requests leaves the watched branch alone")

	res, err = c.Check(t.Context(), poller.Current())
	require.NoError(t, err)
	second := srv.Counts().Sub(before).Sub(first)
	assert.Empty(t, res.Checked)
	assert.Equal(t, int64(1), second.RefAdvertisements)
	assert.Equal(t, int64(0), second.Fetches, "nothing new: no fetch")
	assert.Empty(t, rec.take(), "nothing new: no status")

	srv.Stop()
	_, err = c.Check(t.Context(), poller.Current())
	assert.ErrorIs(t, err, git.ErrUnreachable)
	assert.Empty(t, rec.take())
}
