package pullrequests_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ringops/ringops/review/pullrequests"
	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/git"
)

// benchWorld is the example repository with one pull request (1: grows a
// rack) served by git http-backend, and the Poller of main.
func benchWorld(b *testing.B) *git.Poller {
	r := newTestRepo(b)
	files := exampleFiles(b)
	main := r.commit("", files, "the example clusters")
	r.setRef("refs/heads/main", main)
	r.setRef("refs/pull/1/head", r.commit(main, edit(b, files, rackOverride, "nodes: 2"), "grow"))
	srv := serveHTTP(b, r)
	o := git.DefaultOptions()
	o.URL, o.Timeout = srv.URL(), 20*time.Second
	p, err := git.NewPoller(o)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := p.Poll(b.Context()); err != nil {
		b.Fatal(err)
	}
	return p
}

func benchChecker(b *testing.B, p *git.Poller) *pullrequests.Checker {
	o := pullrequests.DefaultOptions()
	o.Forge, o.Logger = forge.Gitea, slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := pullrequests.New(p, &recorder{}, o)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkCheckNothingNew is the Check the daemon makes after every poll
// when no pull request moved: one ref advertisement.
func BenchmarkCheckNothingNew(b *testing.B) {
	p := benchWorld(b)
	c := benchChecker(b, p)
	if res, err := c.Check(b.Context(), p.Current()); err != nil || len(res.Checked) != 1 {
		b.Fatalf("first check: %v, %v", res, err)
	}
	for b.Loop() {
		if res, err := c.Check(b.Context(), p.Current()); err != nil || len(res.Checked) != 0 {
			b.Fatalf("check: %v, %v", res, err)
		}
	}
}

// BenchmarkCheckOneHead is the cost of one new head: listing, fetch at
// depth 1, review.Compare with a cold renderer (both sides rendered in
// three regions), one status.
func BenchmarkCheckOneHead(b *testing.B) {
	p := benchWorld(b)
	for b.Loop() {
		c := benchChecker(b, p)
		if res, err := c.Check(b.Context(), p.Current()); err != nil || len(res.Checked) != 1 {
			b.Fatalf("check: %v, %v", res, err)
		}
	}
}
