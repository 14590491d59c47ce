package gitea_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/forgetest"
	"github.com/ringops/ringops/sources/forge/gitea"
	giteaserver "github.com/ringops/ringops/test/gitea"
)

// seen is a status as the test reads it back from Gitea.
type seen struct{ State, Description string }

// byContext groups the statuses Gitea shows on a commit, oldest first.
func byContext(statuses []giteaserver.CommitStatus) map[string][]seen {
	out := map[string][]seen{}
	for _, s := range statuses {
		out[s.Context] = append(out[s.Context], seen{s.State, s.Description})
	}
	return out
}

// world is a real Gitea with one pushed repository and a client for it,
// its target resolved from the clone URL as the daemon will.
type world struct {
	srv    *giteaserver.Server
	repo   *giteaserver.Repo
	client *gitea.Client
}

func newWorld(t *testing.T) *world {
	srv := giteaserver.Start(t)
	repo := srv.CreateRepo(t, "clusters")
	target, err := forge.ResolveTarget(repo.CloneURL, forge.TargetOptions{Kind: forge.Gitea})
	require.NoError(t, err)
	client, err := gitea.New(gitea.Options{Target: target, Token: forge.StaticToken(srv.Token)})
	require.NoError(t, err)
	return &world{srv: srv, repo: repo, client: client}
}

var (
	euWest = forge.RegionContext("orders", "eu-west")
	usEast = forge.RegionContext("orders", "us-east")
)

func TestGiteaShowsEachContextsSequence(t *testing.T) {
	w := newWorld(t)
	good := w.srv.Push(t, w.repo, map[string]string{"clusters/orders/cluster.yaml": "spec: {nodesPerRack: 3}\n"}, "grow orders")
	q, clock := forgetest.StartQueue(t, w.client, func(o *forge.Options) { o.MinInterval = forge.DefaultOptions().MinInterval })

	p1 := forge.Pending(good, euWest, "eu-west: r1 scaling 2 -> 3, waiting for ring: 10.1.0.7 joining")
	p2 := forge.Pending(good, euWest, "eu-west: r2 scaling 2 -> 3, waiting for ring: 10.1.0.8 joining")
	forgetest.Report(t, q, p1, forge.Pending(good, usEast, "us-east: waiting for eu-west"), forge.Pending(good, forge.SummaryContext, "0/2 regions done"))
	forgetest.Drain(t, q, clock)
	forgetest.Report(t, q, p1) // the same state again: no request
	forgetest.Drain(t, q, clock)
	requests := q.Stats().Requests
	forgetest.Report(t, q, p2)
	forgetest.Drain(t, q, clock)
	forgetest.Report(t, q,
		forge.Succeeded(good, euWest, "eu-west: 9 nodes Up/Normal at this revision"),
		forge.Succeeded(good, usEast, "us-east: 4 nodes Up/Normal at this revision"),
		forge.Succeeded(good, forge.SummaryContext, "2/2 regions done"))
	forgetest.Drain(t, q, clock)

	// A broken commit: the validation errors, the first one long.
	long := "clusters/orders/cluster.yaml:14: spec.datacenters[1].racks: removing rack r3 of dc2 (us-east) is refused: " +
		"Cassandra cannot remove a rack safely; scale its StatefulSet orders-dc2-r3 to 0 first (decommissioning its " +
		"nodes one at a time), then remove it from the spec in a later commit; the ring keeps replicas of every " +
		"token range in that rack until then"
	broken := w.srv.Push(t, w.repo, map[string]string{"clusters/orders/cluster.yaml": "spec: {broken: true}\n"}, "drop rack r3")
	forgetest.Report(t, q, forge.Failed(broken, forge.SummaryContext, errors.New(long), errors.New("second error")))
	forgetest.Drain(t, q, clock)

	assert.Equal(t, map[string][]seen{
		euWest:    {{"pending", p1.Description}, {"pending", p2.Description}, {"success", "eu-west: 9 nodes Up/Normal at this revision"}},
		usEast:    {{"pending", "us-east: waiting for eu-west"}, {"success", "us-east: 4 nodes Up/Normal at this revision"}},
		"ringops": {{"pending", "0/2 regions done"}, {"success", "2/2 regions done"}},
	}, byContext(w.srv.Statuses(t, w.repo, good)))

	failed := w.srv.Statuses(t, w.repo, broken)
	require.Len(t, failed, 1)
	assert.Equal(t, "failure", failed[0].State)
	assert.Equal(t, "ringops", failed[0].Context)
	assert.Equal(t, gitea.DescriptionLimit, utf8.RuneCountInString(failed[0].Description))
	assert.True(t, strings.HasPrefix(failed[0].Description, "2 errors, first: clusters/orders/cluster.yaml:14: spec.datacenters[1].racks"), failed[0].Description)
	assert.True(t, strings.HasSuffix(failed[0].Description, "…"), failed[0].Description)

	st := q.Stats()
	assert.Equal(t, requests, 1+3, "one read of the commit, three posts before the repeated state")
	assert.Equal(t, 1, st.Deduped, "the repeated pending cost no request")
	assert.Zero(t, st.Dropped)
}

func TestGiteaDownNeverBlocksReportAndTheLatestIsPostedWhenBack(t *testing.T) {
	w := newWorld(t)
	sha := w.srv.Push(t, w.repo, map[string]string{"README.md": "orders\n"}, "initial")
	q, clock := forgetest.StartQueue(t, w.client, nil)
	first := forge.Pending(sha, euWest, "eu-west: r1 scaling 0 -> 1")
	forgetest.Report(t, q, first)
	forgetest.Flush(t, q)

	require.NoError(t, w.srv.Stop())
	for i := 2; i <= 6; i++ { // each returns at once although nothing answers
		forgetest.Report(t, q, forge.Pending(sha, euWest, fmt.Sprintf("eu-west: r%d scaling 0 -> 1", i)))
	}
	done := forge.Succeeded(sha, euWest, "eu-west: 6 nodes Up/Normal at this revision")
	forgetest.Report(t, q, done)
	clock.NextTimer(t) // the worker failed and is backing off
	st := q.Stats()
	assert.GreaterOrEqual(t, st.Retries, 1)
	assert.Equal(t, 1, st.Queued, "only the latest state waits")
	assert.ErrorIs(t, st.LastError, forge.ErrTransient)

	require.NoError(t, w.srv.Start())
	forgetest.Drain(t, q, clock)
	assert.Equal(t, map[string][]seen{euWest: {{"pending", first.Description}, {"success", done.Description}}},
		byContext(w.srv.Statuses(t, w.repo, sha)))
}

func TestGiteaRestartedReporterReadsWhatIsThereAndSupersedes(t *testing.T) {
	w := newWorld(t)
	old := w.srv.Push(t, w.repo, map[string]string{"README.md": "v1\n"}, "v1")
	p := forge.Pending(old, usEast, "us-east: r1 scaling 1 -> 2, waiting for ring: 10.2.0.4 joining")
	before, _ := forgetest.StartQueue(t, w.client, nil)
	forgetest.Report(t, before, p, forge.Succeeded(old, euWest, "eu-west: done"))
	forgetest.Flush(t, before)

	// A new daemon process: nothing in memory.
	after, clock := forgetest.StartQueue(t, w.client, nil)
	forgetest.Report(t, after, p)
	forgetest.Drain(t, after, clock)
	assert.Equal(t, 1, after.Stats().Requests, "it read the commit's statuses and posted nothing")

	newer := w.srv.Push(t, w.repo, map[string]string{"README.md": "v2\n"}, "v2")
	require.NoError(t, after.Supersede(t.Context(), old, newer))
	forgetest.Drain(t, after, clock)
	assert.Equal(t, map[string][]seen{
		usEast: {{"pending", p.Description}, {"error", "superseded by " + newer[:12]}},
		euWest: {{"success", "eu-west: done"}},
	}, byContext(w.srv.Statuses(t, w.repo, old)), "only the context still pending is marked superseded")
}
