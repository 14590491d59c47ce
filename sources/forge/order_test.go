package forge_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/forgetest"
)

// flaky is a recorder whose posts in one context fail a number of times
// (a forge answering 500 for that status only).
type flaky struct {
	*recorder
	context string
	fails   int
}

func (f *flaky) Post(ctx context.Context, s forge.Status) error {
	f.mu.Lock()
	if s.Context == f.context && f.fails > 0 {
		f.fails--
		f.attempts = append(f.attempts, s)
		f.mu.Unlock()
		return errors.New("dial tcp 127.0.0.1:3000: connect: connection refused")
	}
	f.mu.Unlock()
	return f.recorder.Post(ctx, s)
}

// summaryAhead replays what the forge showed, post after post, and lists
// every moment the summary was success while a region it summarises was
// not (or not shown yet).
func summaryAhead(posts []forge.Remote, regions ...string) []string {
	shown := map[string]string{}
	var bad []string
	for _, p := range posts {
		shown[p.Context] = p.State
		if p.Context != forge.SummaryContext || p.State != "success" {
			continue
		}
		for _, r := range regions {
			if shown[r] != "success" {
				bad = append(bad, "summary success while "+r+" shows "+shown[r]+": "+p.Description)
			}
		}
	}
	return bad
}

func contexts(posts []forge.Remote) []string {
	var out []string
	for _, p := range posts {
		out = append(out, p.Context+" "+p.State)
	}
	return out
}

var usEast = forge.RegionContext("orders", "us-east")

// The demo's sequence: us-east's last progress was posted 5s after the
// summary's, so its throttle window held its success back 5s longer than
// the summary's own window held "2/2 regions done".
func TestQueuePostsTheSummaryOnlyAfterTheRegionsItSummarises(t *testing.T) {
	rec := newRecorder()
	q, clock := startQueue(t, rec, func(o *forge.Options) { o.MinInterval = 10 * time.Second })
	start := []forge.Status{forge.Pending(revA, euWest, "eu-west: r1 scaling 0 -> 1")}
	report(t, q, start[0], forge.Summary(revA, start))
	flush(t, q)
	clock.Advance(5 * time.Second)
	report(t, q, forge.Pending(revA, usEast, "us-east: r1 scaling 0 -> 1"))
	flush(t, q) // us-east's window ends at 15s, the summary's at 10s

	clock.Advance(time.Second)
	done := []forge.Status{forge.Succeeded(revA, euWest, "eu-west: 1 nodes UN"), forge.Succeeded(revA, usEast, "us-east: 1 nodes UN")}
	report(t, q, done[0], done[1], forge.Summary(revA, done))
	forgetest.Drain(t, q, clock)

	posts := rec.posted(revA)
	assert.Empty(t, summaryAhead(posts, euWest, usEast), "posts: %v", contexts(posts))
	assert.Equal(t, "ringops success", contexts(posts)[len(posts)-1], "the summary's success comes last")
}

// A region whose post the forge keeps failing holds the summary back
// until it is through: the summary never runs ahead of what it counts.
func TestQueueHoldsTheSummaryBehindARegionTheForgeFailsOn(t *testing.T) {
	f := &flaky{recorder: newRecorder(), context: usEast, fails: 2}
	q, clock := startQueue(t, f, nil)
	done := []forge.Status{forge.Succeeded(revA, euWest, "eu-west: 1 nodes UN"), forge.Succeeded(revA, usEast, "us-east: 1 nodes UN")}
	report(t, q, done[0], done[1], forge.Summary(revA, done))
	forgetest.Drain(t, q, clock)

	posts := f.posted(revA)
	assert.Empty(t, summaryAhead(posts, euWest, usEast), "posts: %v", contexts(posts))
	assert.Equal(t, []string{euWest + " success", usEast + " success", "ringops success"}, contexts(posts))
}

// The plan status of a pull-request head is not part of the summary: its
// throttle window does not hold the summary back.
func TestQueueDoesNotHoldTheSummaryBehindThePlanStatus(t *testing.T) {
	rec := newRecorder()
	q, clock := startQueue(t, rec, func(o *forge.Options) { o.MinInterval = 10 * time.Second })
	report(t, q, forge.Pending(revA, forge.PlanContext, "planning"))
	flush(t, q)
	done := []forge.Status{forge.Succeeded(revA, euWest, "eu-west: 1 nodes UN")}
	report(t, q, forge.Pending(revA, forge.PlanContext, "1 bootstrap"), done[0], forge.Summary(revA, done))
	// The region and the summary go now, the plan waits for its window.
	waitFor(t, func() bool { return len(rec.posted(revA)) == 3 })
	assert.Equal(t, []string{"ringops/plan pending", euWest + " success", "ringops success"}, contexts(rec.posted(revA)))
	forgetest.Drain(t, q, clock)
}
