package daemon

import (
	"context"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/ringops/ringops/reconciler"
	"github.com/ringops/ringops/schemas"
	"github.com/ringops/ringops/sources/forge"
)

// board holds the statuses of the current revision, one per cluster and
// region, and posts them with the summary of the revision as a whole
// (forge.SummaryContext) through the Reporter, each only when it changes.
// Reports about an older revision are dropped: its rollout was superseded.
type board struct {
	rep         Reporter
	externalURL string
	log         *slog.Logger
	// summary: post the revision's summary (forge.SummaryContext). A
	// sharded daemon does not: no replica sees every cluster.
	summary bool

	mu       sync.Mutex
	rev      string
	contexts []string                // the region contexts of the revision, sorted
	statuses map[string]forge.Status // by context
	sum      forge.Status
}

func newBoard(rep Reporter, externalURL string, log *slog.Logger) *board {
	return &board{rep: rep, externalURL: externalURL, log: log, statuses: map[string]forge.Status{}, summary: true}
}

// regionsOf lists the status contexts of a revision's clusters: one per
// cluster and region of its spec; for a spec that could not be read, the
// regions of the spec rolled out before, else the cluster's own context
// (ringops/<cluster>).
func regionsOf(srcs []reconciler.Source, previous map[string]*schemas.CassandraCluster) map[string][]string {
	out := map[string][]string{}
	for _, s := range srcs {
		out[s.Name] = clusterContexts(s.Name, s.Cluster, previous[s.Dir])
	}
	return out
}

// clusterContexts are the status contexts of one cluster.
func clusterContexts(name string, c, prev *schemas.CassandraCluster) []string {
	spec := c
	if spec == nil {
		spec = prev
	}
	if spec == nil {
		return []string{forge.ContextPrefix + "/" + name}
	}
	var out []string
	for _, kc := range spec.Contexts() {
		out = append(out, forge.RegionContext(name, kc))
	}
	return out
}

// begin starts a revision: the statuses of the old one still pending are
// superseded, and every context of the new one is pending.
func (b *board) begin(ctx context.Context, rev string, regions map[string][]string) {
	b.mu.Lock()
	old := b.rev
	b.rev = rev
	b.statuses = map[string]forge.Status{}
	b.sum = forge.Status{}
	b.contexts = nil
	for _, cs := range regions {
		b.contexts = append(b.contexts, cs...)
	}
	slices.Sort(b.contexts)
	b.contexts = slices.Compact(b.contexts)
	b.mu.Unlock()
	if b.rep == nil {
		return
	}
	if old != "" && old != rev {
		if err := b.rep.Supersede(ctx, old, rev); err != nil {
			b.log.Warn("cannot mark the old revision superseded", "revision", old, "err", err)
		}
	}
	picked := make([]forge.Status, len(b.contexts))
	for i, c := range b.contexts {
		picked[i] = forge.Pending(rev, c, "picked up: validating and rendering")
	}
	b.set(ctx, picked...)
}

// set records statuses of the current revision and posts those that
// changed, then the summary once if it changed.
func (b *board) set(ctx context.Context, ss ...forge.Status) {
	b.mu.Lock()
	var post []forge.Status
	for _, s := range ss {
		if s.Revision != b.rev {
			continue
		}
		s.TargetURL = b.targetURL(s.Context)
		if last, ok := b.statuses[s.Context]; ok && last == s {
			continue
		}
		b.statuses[s.Context] = s
		if !slices.Contains(b.contexts, s.Context) {
			b.contexts = append(b.contexts, s.Context)
			slices.Sort(b.contexts)
		}
		post = append(post, s)
	}
	if len(post) == 0 || !b.summary {
		b.mu.Unlock()
		b.post(ctx, post...)
		return
	}
	regions := make([]forge.Status, 0, len(b.contexts))
	for _, c := range b.contexts {
		if st, ok := b.statuses[c]; ok {
			regions = append(regions, st)
		} else {
			regions = append(regions, forge.Pending(b.rev, c, "picked up"))
		}
	}
	sum := forge.Summary(b.rev, regions)
	sum.TargetURL = b.targetURL("")
	if sum != b.sum {
		b.sum = sum
		post = append(post, sum)
	}
	b.mu.Unlock()
	b.post(ctx, post...)
}

// refused posts a failure on a revision that is not rolled out at all
// (refused by signature verification, or unreadable).
func (b *board) refused(ctx context.Context, rev string, err error) {
	b.post(ctx, forge.Failed(rev, forge.SummaryContext, err))
}

func (b *board) post(ctx context.Context, ss ...forge.Status) {
	if b.rep == nil {
		return
	}
	for _, s := range ss {
		if err := b.rep.Report(ctx, s); err != nil {
			b.log.Warn("status not posted", "context", s.Context, "revision", s.Revision, "err", err)
		}
	}
}

// targetURL links a status to the daemon's view of its cluster.
func (b *board) targetURL(context string) string {
	if b.externalURL == "" {
		return ""
	}
	u := b.externalURL + "/api/v1/clusters"
	if cluster := clusterOfContext(context); cluster != "" {
		u += "/" + url.PathEscape(cluster)
	}
	return u
}

// clusterOfContext is the cluster of "ringops/<cluster>/<region>" or
// "ringops/<cluster>".
func clusterOfContext(c string) string {
	rest, ok := strings.CutPrefix(c, forge.ContextPrefix+"/")
	if !ok {
		return ""
	}
	cluster, _, _ := strings.Cut(rest, "/")
	return cluster
}
