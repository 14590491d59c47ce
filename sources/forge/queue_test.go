package forge_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/internal/testkit/wait"
	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/forgetest"
)

const (
	revA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	revB = "7638417db6d59f3c431d3e1f261cc637155684cd"
	revC = "aa218f56b14c9653891f9e74264a383fa43fefbd"
)

var euWest = forge.RegionContext("orders", "eu-west")

func remote(s forge.Status, native string) forge.Remote {
	return forge.Remote{Context: s.Context, State: native, Description: s.Description, TargetURL: s.TargetURL}
}

func TestQueueDoesNotRepostTheSameState(t *testing.T) {
	rec := newRecorder()
	q, _ := startQueue(t, rec, func(o *forge.Options) { o.MinInterval = 0 })
	p := forge.Pending(revA, euWest, "eu-west: r1 scaling 0 -> 1")
	report(t, q, p)
	flush(t, q)
	report(t, q, p, p)
	flush(t, q)

	assert.Equal(t, []forge.Remote{remote(p, "pending")}, rec.posted(revA))
	assert.Equal(t, 1, rec.attemptCount(), "a repeated state costs no request")
	assert.Equal(t, 2, q.Stats().Deduped)
}

func TestQueueThrottlesAContextAndPostsTheLatestProgress(t *testing.T) {
	rec := newRecorder()
	q, clock := startQueue(t, rec, func(o *forge.Options) { o.MinInterval = 10 * time.Second })
	p1 := forge.Pending(revA, euWest, "eu-west: r1 scaling 0 -> 1")
	p2 := forge.Pending(revA, euWest, "eu-west: r2 scaling 0 -> 1")
	p3 := forge.Pending(revA, euWest, "eu-west: r3 scaling 0 -> 1")
	done := forge.Succeeded(revA, euWest, "eu-west: 3 nodes Up/Normal at this revision")

	report(t, q, p1)
	flush(t, q)
	report(t, q, p2, p3)
	assert.Equal(t, 10*time.Second, clock.NextTimer(t), "the next update waits for the context's window")
	clock.Advance(10 * time.Second)
	flush(t, q)
	report(t, q, done)
	assert.Equal(t, 10*time.Second, clock.NextTimer(t), "success waits for the window too, it is not dropped")
	clock.Advance(10 * time.Second)
	flush(t, q)

	assert.Equal(t, []forge.Remote{remote(p1, "pending"), remote(p3, "pending"), remote(done, "success")}, rec.posted(revA),
		"p2 was overtaken by p3 within the window and never posted")
	assert.Equal(t, 1, q.Stats().Coalesced)
}

func TestQueueNeverDropsATerminalState(t *testing.T) {
	rec := newRecorder()
	q, clock := startQueue(t, rec, func(o *forge.Options) { o.MinInterval = 10 * time.Second })
	p := forge.Pending(revA, euWest, "eu-west: r1 scaling 0 -> 1")
	failed := forge.Failed(revA, euWest, errors.New("eu-west: ring not healthy after 30m: 10.1.0.7 DN"))
	retry := forge.Pending(revA, euWest, "eu-west: retrying r1 scaling 0 -> 1")

	report(t, q, p)
	flush(t, q)
	report(t, q, failed, retry) // within the window: failure must still be shown
	for i := 0; i < 2; i++ {
		clock.Advance(clock.NextTimer(t))
	}
	flush(t, q)

	assert.Equal(t, []forge.Remote{remote(p, "pending"), remote(failed, "failure"), remote(retry, "pending")}, rec.posted(revA))
}

func TestQueueReadsTheForgeFirstSoARestartDoesNotRepost(t *testing.T) {
	rec := newRecorder()
	p := forge.Pending(revA, euWest, "eu-west: r2 scaling 2 -> 3, waiting for ring: 10.1.0.7 joining")
	// What a previous daemon left on the commit.
	rec.shown[revA] = []forge.Remote{remote(p, "pending")}
	q, _ := startQueue(t, rec, func(o *forge.Options) { o.MinInterval = 0 })

	report(t, q, p)
	flush(t, q)
	assert.Equal(t, 0, rec.attemptCount(), "the restarted daemon found the same state on the forge")
	assert.Equal(t, 1, rec.latestCalls())

	done := forge.Succeeded(revA, euWest, "eu-west: done")
	report(t, q, done)
	flush(t, q)
	assert.Equal(t, []forge.Remote{remote(p, "pending"), remote(done, "success")}, rec.posted(revA))
	assert.Equal(t, 1, rec.latestCalls(), "the forge is read once per revision")
}

func TestQueueReportReturnsWhileTheForgeHangs(t *testing.T) {
	rec := newRecorder()
	rec.hang = make(chan struct{})
	q, _ := startQueue(t, rec, func(o *forge.Options) { o.MinInterval = 0 })
	// The worker is stuck in a request; every Report still returns.
	for i := 0; i < 100; i++ {
		report(t, q, forge.Pending(revA, euWest, fmt.Sprintf("step %d", i)))
	}
	report(t, q, forge.Succeeded(revA, euWest, "done"))
	assert.LessOrEqual(t, q.Stats().Queued, 2, "the waiting progress was replaced, not piled up")
	close(rec.hang)
	flush(t, q)
	got := rec.posted(revA)
	require.NotEmpty(t, got)
	assert.Equal(t, "success", got[len(got)-1].State)
}

func TestQueueBacksOffWhileTheForgeIsDownAndPostsTheLatestWhenBack(t *testing.T) {
	rec := newRecorder()
	down := errors.New("dial tcp 127.0.0.1:3000: connect: connection refused")
	rec.failNext(down, down, down)
	q, clock := startQueue(t, rec, func(o *forge.Options) { o.MinInterval = 0 })

	report(t, q, forge.Pending(revA, euWest, "eu-west: r1 scaling 0 -> 1"))
	assert.Equal(t, time.Second, clock.NextTimer(t))
	for i := 2; i <= 5; i++ {
		report(t, q, forge.Pending(revA, euWest, fmt.Sprintf("eu-west: r%d scaling 0 -> 1", i)))
	}
	done := forge.Succeeded(revA, euWest, "eu-west: 5 nodes Up/Normal at this revision")
	report(t, q, done)

	var waits []time.Duration
	for rec.attemptCount() < 4 {
		d := clock.NextTimer(t)
		waits = append(waits, d)
		clock.Advance(d)
		waitFor(t, func() bool { return rec.attemptCount() >= len(waits)+1 })
	}
	flush(t, q)
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, waits, "exponential backoff")
	assert.Equal(t, []forge.Remote{remote(done, "success")}, rec.posted(revA), "only the latest state is posted")
	assert.Equal(t, 3, q.Stats().Retries)
}

func TestQueueWaitsUntilTheRateLimitResets(t *testing.T) {
	rec := newRecorder()
	reset := forgetest.Epoch.Add(10 * time.Minute)
	rec.failNext(&forge.APIError{Kind: forge.GitHub, Op: "post status", StatusCode: http.StatusForbidden,
		Class: forge.ErrRateLimited, ResetAt: reset})
	q, clock := startQueue(t, rec, nil)

	report(t, q, forge.Pending(revA, euWest, "eu-west: r1 scaling 0 -> 1"))
	assert.Equal(t, 10*time.Minute, clock.NextTimer(t))
	clock.Advance(10 * time.Minute)
	flush(t, q)
	assert.Len(t, rec.posted(revA), 1)
	assert.Equal(t, 2, rec.attemptCount(), "no request before the reset")
}

func TestQueueDropsWhatTheForgeRefusesAndGoesOn(t *testing.T) {
	rec := newRecorder()
	rec.failNext(&forge.APIError{Kind: forge.GitHub, Op: "post status", StatusCode: http.StatusUnprocessableEntity,
		Class: forge.ErrRejected, Message: "This SHA and context has reached the maximum number of statuses."})
	q, _ := startQueue(t, rec, nil)
	usEast := forge.RegionContext("orders", "us-east")
	report(t, q, forge.Pending(revA, euWest, "eu-west: r1"), forge.Pending(revA, usEast, "us-east: waiting for eu-west"))
	flush(t, q)

	assert.Equal(t, []forge.Remote{{Context: usEast, State: "pending", Description: "us-east: waiting for eu-west"}}, rec.posted(revA))
	st := q.Stats()
	assert.Equal(t, 1, st.Dropped)
	assert.ErrorIs(t, st.LastError, forge.ErrRejected)
}

func TestQueueTruncatesDescriptionsToTheForgeLimit(t *testing.T) {
	rec := newRecorder()
	rec.limit = 30
	q, _ := startQueue(t, rec, nil)
	report(t, q, forge.Failed(revA, euWest,
		errors.New("clusters/orders/cluster.yaml:12: spec.datacenters[1].name:\n  renaming dc2 to dc3 is not allowed"),
		errors.New("clusters/orders/cluster.yaml:20: spec.storage.size: shrinking 100Gi to 50Gi is not allowed")))
	flush(t, q)
	got := rec.posted(revA)
	require.Len(t, got, 1)
	assert.Equal(t, "2 errors, first: clusters/ord…", got[0].Description)
}

func TestSupersedeMarksOnlyWhatIsStillPending(t *testing.T) {
	rec := newRecorder()
	q, _ := startQueue(t, rec, func(o *forge.Options) { o.MinInterval = 0 })
	usEast := forge.RegionContext("orders", "us-east")
	report(t, q, forge.Succeeded(revA, euWest, "eu-west: done"), forge.Pending(revA, usEast, "us-east: r1 scaling 0 -> 1"))
	flush(t, q)
	require.NoError(t, q.Supersede(context.Background(), revA, revB))
	flush(t, q)

	got := rec.posted(revA)
	require.Len(t, got, 3)
	assert.Equal(t, forge.Remote{Context: usEast, State: "error", Description: "superseded by 7638417db6d5"}, got[2])
}

func TestQueueForgetsOldRevisions(t *testing.T) {
	rec := newRecorder()
	q, _ := startQueue(t, rec, func(o *forge.Options) { o.MinInterval = 0; o.MaxRevisions = 2 })
	for _, rev := range []string{revA, revB, revC} {
		report(t, q, forge.Succeeded(rev, euWest, "done"))
		flush(t, q)
	}
	assert.Equal(t, 3, rec.latestCalls())
	report(t, q, forge.Succeeded(revA, euWest, "done")) // forgotten: read back from the forge, not reposted
	flush(t, q)
	assert.Equal(t, 4, rec.latestCalls())
	assert.Len(t, rec.posted(revA), 1)
}

func TestReportRefusesStatusesNoForgeTakes(t *testing.T) {
	q, _ := startQueue(t, newRecorder(), nil)
	for _, s := range []forge.Status{
		{Revision: "main", Context: euWest, State: forge.StatePending},
		{Revision: revA, Context: " ", State: forge.StatePending},
		{Revision: revA, Context: euWest},
	} {
		err := q.Report(context.Background(), s)
		assert.ErrorIs(t, err, forge.ErrInvalidStatus, "%v", s)
	}
	assert.Equal(t, 0, q.Stats().Reported)
}

func TestFlushGivesUpWithTheCountWhenTheForgeStaysDown(t *testing.T) {
	rec := newRecorder()
	rec.failNext(errors.New("connection refused"))
	q, clock := startQueue(t, rec, nil)
	report(t, q, forge.Pending(revA, euWest, "eu-west: r1"))
	clock.NextTimer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := q.Flush(ctx)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "1 statuses not posted"), err.Error())
}

// waitFor waits up to 10 s for cond (wait.Until): the worker runs in its
// own goroutine.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	wait.Until(t, 10*time.Second, "the queue's worker", func() (bool, string) { return cond(), "not reached" })
}

func TestQueueLetsOtherContextsPassAStatusTheForgeKeepsFailing(t *testing.T) {
	rec := newRecorder()
	broken := errors.New("gitea post status: HTTP 500: GetCommit: object does not exist")
	rec.failNext(broken, broken)
	q, clock := startQueue(t, rec, nil)
	usEast := forge.RegionContext("orders", "us-east")
	report(t, q, forge.Pending(revA, euWest, "eu-west: r1"), forge.Pending(revA, usEast, "us-east: waiting for eu-west"))
	clock.Advance(clock.NextTimer(t))
	waitFor(t, func() bool { return rec.attemptCount() >= 2 })
	clock.Advance(clock.NextTimer(t))
	flush(t, q)

	var order []string
	rec.mu.Lock()
	for _, a := range rec.attempts {
		order = append(order, a.Context)
	}
	rec.mu.Unlock()
	assert.Equal(t, []string{euWest, usEast, euWest, usEast}, order, "after a failure the other context goes first")
}
