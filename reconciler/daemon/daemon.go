package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ringops/ringops/internal/broadcast"
	"github.com/ringops/ringops/reconciler"
	"github.com/ringops/ringops/reconciler/daemon/shard"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/schemas"
	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/git"
)

// Source is the Git source the daemon follows: *git.Poller.
type Source interface {
	// Run polls until ctx ends and sends each result to out.
	Run(ctx context.Context, out chan<- git.Result)
	// Trigger asks for a poll now (webhooks).
	Trigger()
}

var _ Source = (*git.Poller)(nil)

// Engine is what the workers need of *reconciler.Engine.
type Engine interface {
	Prepare(ctx context.Context, src reconciler.Source) *reconciler.Target
	Observe(ctx context.Context, t *reconciler.Target) (*plan.Observed, error)
	Execute(ctx context.Context, p plan.Plan) ([]reconciler.Event, error)
	Wait(ctx context.Context, t *reconciler.Target, p plan.Plan) error
}

var _ Engine = (*reconciler.Engine)(nil)

// Reporter takes commit statuses: *forge.Queue.
type Reporter interface {
	Report(ctx context.Context, s forge.Status) error
	Supersede(ctx context.Context, old, by string) error
}

var _ Reporter = (*forge.Queue)(nil)

// PullRequests checks the pull-request heads against the followed
// branch's snapshot and posts ringops/plan on them (never applies).
type PullRequests interface {
	Check(ctx context.Context, base *git.Snapshot) error
}

// Shards is what a sharded daemon (`ringops run --shards N`) needs of
// *shard.Set: which shards this replica holds, word of each change, the
// fence before each step's writes, and the holders for /api/v1.
type Shards interface {
	Count() int
	Owns(shard int) bool
	Changed() <-chan struct{}
	Fence(ctx context.Context, shard int) (term string, done func(), err error)
	States() []shard.State
}

var _ Shards = (*shard.Set)(nil)

// Options configure a Daemon.
type Options struct {
	// Path is the slash path, in the repository, below which clusters
	// (directories holding a cluster.yaml) are looked for. Default ".".
	Path string
	// Contexts are the kube contexts the daemon has clients for. A cluster
	// naming another context is invalid (failure status), the daemon is
	// not stopped. Empty: not checked.
	Contexts []string
	// ExternalURL, when set, is the daemon's address as users reach it;
	// statuses link to ExternalURL/api/v1/clusters/<cluster> (every
	// validation error, the current step).
	ExternalURL string
	// ShutdownGrace bounds how long the step in flight may take to finish
	// once the daemon is told to stop. Default 20s.
	ShutdownGrace time.Duration
	// MinRetry and MaxRetry bound the pause after a failed observation or
	// step (doubling). Defaults 1s and 30s.
	MinRetry, MaxRetry time.Duration
	// OnSpec, when set, is called with each valid spec before its cluster
	// is rolled out (to tell the Jolokia router about credentials).
	OnSpec func(*schemas.CassandraCluster)
	// PullRequests, when set, is called after every poll.
	PullRequests PullRequests
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Metrics, when set, are updated.
	Metrics *Metrics
	// ManageKeyspaces is the engine's setting, for the replay of each new
	// revision that tells the status page the steps still to come.
	ManageKeyspaces bool
	// Shards, when set, splits the clusters over the replicas: this one
	// runs a worker only for the clusters of the shards it holds
	// (shard.Of their directory), each step behind the shard's fence, and
	// posts their statuses only. The revision-wide statuses (a refused
	// revision) and the pull-request checks are posted by the holder of
	// shard 0 alone, and the summary status of a revision (ringops) by
	// none, since no replica sees every cluster. Nil: one replica runs
	// every cluster.
	Shards Shards
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{Path: ".", ShutdownGrace: 20 * time.Second, MinRetry: time.Second, MaxRetry: 30 * time.Second}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Path == "" {
		o.Path = d.Path
	}
	o.Path = path.Clean(o.Path)
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = d.ShutdownGrace
	}
	if o.MinRetry <= 0 {
		o.MinRetry = d.MinRetry
	}
	if o.MaxRetry <= 0 {
		o.MaxRetry = d.MaxRetry
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Daemon follows a Git source and rolls its clusters out. Run it once.
type Daemon struct {
	src    Source
	engine Engine
	board  *board
	opts   Options
	log    *slog.Logger

	mu       sync.Mutex
	workers  map[string]*worker           // by cluster directory
	srcs     map[string]reconciler.Source // the current revision's clusters, by directory
	gone     map[string]<-chan struct{}   // by directory: the stopped worker's end, the next one starts after it
	source   SourceState
	snapshot *git.Snapshot
	prWake   chan struct{}
	wg       sync.WaitGroup
	subjects subjects
	changes  *broadcast.Changes
	replays  chan struct{} // one replay at a time, daemon-wide
}

// SourceState is what the daemon knows of its source, for /api/v1.
type SourceState struct {
	// Revision is the last revision accepted ("main@sha1:...").
	Revision string `json:"revision,omitempty"`
	// Commit is its hash.
	Commit string `json:"commit,omitempty"`
	// LastPoll is when the source last answered (any outcome).
	LastPoll time.Time `json:"lastPoll,omitzero"`
	// Error is the last poll's error ("" after a good poll).
	Error string `json:"error,omitempty"`
	// Refused is the last revision refused (signature), with Error.
	Refused string `json:"refused,omitempty"`
	// Subject is the first line of the revision's commit message.
	Subject string `json:"subject,omitempty"`
	// Clusters are the cluster directories of the revision.
	Clusters []string `json:"clusters"`
	// Shards, when the daemon is sharded, are the shards: holder, term,
	// whether this replica owns it, and the directories of its clusters.
	Shards []ShardState `json:"shards,omitempty"`
}

// ShardState is one shard of a sharded daemon (SourceState.Shards).
type ShardState struct {
	shard.State
	// Clusters are the directories of the current revision's clusters
	// that belong to the shard.
	Clusters []string `json:"clusters"`
}

// New returns a daemon; rep may be nil (no statuses).
func New(src Source, engine Engine, rep Reporter, opts Options) (*Daemon, error) {
	if src == nil || engine == nil {
		return nil, errors.New("daemon: a source and an engine are required")
	}
	opts = opts.withDefaults()
	d := &Daemon{src: src, engine: engine, opts: opts, log: opts.Logger, workers: map[string]*worker{}, prWake: make(chan struct{}, 1),
		changes: broadcast.New(), replays: make(chan struct{}, 1), srcs: map[string]reconciler.Source{}, gone: map[string]<-chan struct{}{}}
	d.board = newBoard(rep, opts.ExternalURL, opts.Logger)
	d.board.summary = opts.Shards == nil
	return d, nil
}

// Run follows the source until ctx ends, then waits for the workers
// (each finishes the step in flight, within ShutdownGrace) and returns
// ctx's error.
func (d *Daemon) Run(ctx context.Context) error {
	results := make(chan git.Result)
	srcDone := make(chan struct{})
	go func() {
		defer close(srcDone)
		d.src.Run(ctx, results)
	}()
	if d.opts.PullRequests != nil {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.checkPullRequests(ctx)
		}()
	}
	defer func() {
		<-srcDone
		d.wg.Wait()
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case r := <-results:
			d.handle(ctx, r)
		case <-d.shardsChanged():
			d.reassign(ctx)
		}
	}
}

// handle acts on one poll.
func (d *Daemon) handle(ctx context.Context, r git.Result) {
	d.opts.Metrics.poll(strings.ToLower(r.Outcome.String()), r.Duration)
	d.mu.Lock()
	d.source.LastPoll = time.Now()
	d.source.Error = ""
	if r.Err != nil {
		d.source.Error = r.Err.Error()
	}
	d.mu.Unlock()
	defer d.changes.Notify()
	switch r.Outcome {
	case git.Changed:
		d.revision(ctx, r.Snapshot)
	case git.Failed:
		d.opts.Metrics.Error("git")
		d.log.Error("git poll failed; the clusters stay at the revision they have", "err", r.Err)
	case git.Refused:
		d.refused(ctx, r)
	}
	if d.opts.PullRequests != nil && r.Outcome != git.Failed {
		select { // the checks run beside the rollouts, never in their way
		case d.prWake <- struct{}{}:
		default:
		}
	}
}

// checkPullRequests checks the pull-request heads after each poll, in
// its own goroutine: a check that fetches and renders heads takes
// seconds.
func (d *Daemon) checkPullRequests(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.prWake:
		}
		base := d.current()
		if base == nil || !d.ownsShard(0) { // sharded: shard 0's holder checks them
			continue
		}
		if err := d.opts.PullRequests.Check(ctx, base); err != nil && ctx.Err() == nil {
			d.opts.Metrics.Error("pullrequests")
			d.log.Warn("pull-request check failed", "err", err)
		}
		if d.opts.Metrics != nil {
			d.opts.Metrics.prChecks.Inc()
		}
	}
}

func (d *Daemon) refused(ctx context.Context, r git.Result) {
	d.mu.Lock()
	again := d.source.Refused == r.Revision.Hash
	d.source.Refused = r.Revision.Hash
	d.mu.Unlock()
	if again {
		return
	}
	d.log.Error("revision refused; the clusters stay at the revision they have", "revision", r.Revision.String(), "err", r.Err)
	if d.ownsShard(0) { // sharded: shard 0's holder speaks for the revision
		d.board.refused(ctx, r.Revision.Hash, r.Err)
	}
}

// current is the snapshot of the revision the workers were last given.
func (d *Daemon) current() *git.Snapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.snapshot
}

// revision hands a new snapshot to the clusters.
func (d *Daemon) revision(ctx context.Context, snap *git.Snapshot) {
	rev := snap.Revision.Hash
	dirs, err := schemas.FindClusters(snap.FS, d.opts.Path)
	log := d.log.With("revision", snap.Revision.String())
	if err != nil {
		log.Error("cannot list the clusters of the revision; nothing changes", "err", err)
		if d.ownsShard(0) {
			d.board.refused(ctx, rev, err)
		}
		return
	}
	if len(dirs) == 0 {
		log.Warn("no cluster.yaml below the path: no cluster is managed", "path", d.opts.Path)
	}
	srcs := make([]reconciler.Source, 0, len(dirs))
	for _, dir := range dirs {
		srcs = append(srcs, d.load(snap, dir))
	}
	refuseDuplicates(srcs)
	d.board.begin(ctx, rev, regionsOf(d.owned(srcs), d.previousSpecs()))
	d.mu.Lock()
	d.snapshot = snap
	d.subjects.add(rev, firstLine(snap.Commit.Message))
	d.source.Subject = firstLine(snap.Commit.Message)
	d.source.Revision, d.source.Commit, d.source.Refused = snap.Revision.String(), rev, ""
	d.source.Clusters = dirs
	clear(d.srcs)
	for _, src := range srcs {
		d.srcs[src.Dir] = src
	}
	for dir := range d.workers {
		if !slices.Contains(dirs, dir) {
			log.Warn("cluster directory removed from the repository: the cluster is no longer managed, nothing is deleted", "dir", dir)
			d.stopLocked(dir)
		}
	}
	for i, dir := range dirs {
		w, ok := d.workers[dir]
		if !ok && !d.owns(dir) {
			continue
		}
		if !ok {
			w = d.startLocked(ctx, dir)
		}
		w.offer(srcs[i])
	}
	d.mu.Unlock()
	if d.opts.Metrics != nil {
		d.opts.Metrics.headRevision.Reset()
		d.opts.Metrics.headRevision.WithLabelValues(snap.Revision.Ref, rev).Set(1)
	}
	log.Info("new revision", "clusters", len(dirs), "message", firstLine(snap.Commit.Message))
}

// load parses one cluster of the snapshot.
func (d *Daemon) load(snap *git.Snapshot, dir string) reconciler.Source {
	src := reconciler.Source{Name: path.Base(dir), Revision: snap.Revision.Hash, FS: snap.FS, Dir: dir}
	c, err := schemas.LoadFS(snap.FS, dir)
	if err == nil {
		err = d.checkContexts(path.Join(dir, schemas.SpecFile), c)
	}
	if err != nil {
		src.LoadErr = err
		return src
	}
	src.Name, src.Cluster = c.Metadata.Name, c
	return src
}

// refuseDuplicates makes invalid every cluster of the revision that
// declares the same ring as another directory (schemas.Duplicates):
// workers are keyed by directory but find their objects by name, so
// neither is rolled out, and each fails naming both files.
func refuseDuplicates(srcs []reconciler.Source) {
	var specs []*schemas.CassandraCluster
	for _, s := range srcs {
		if s.Cluster != nil {
			specs = append(specs, s.Cluster)
		}
	}
	dups := schemas.Duplicates(specs)
	for i := range srcs {
		c := srcs[i].Cluster
		if c == nil {
			continue
		}
		var mine schemas.ErrorList
		for _, fe := range dups {
			if fe.File == c.File() {
				mine = append(mine, fe)
			}
		}
		if len(mine) > 0 {
			srcs[i].Cluster, srcs[i].LoadErr = nil, mine
		}
	}
}

// checkContexts refuses a spec naming a context the daemon has no client for.
func (d *Daemon) checkContexts(file string, c *schemas.CassandraCluster) error {
	if len(d.opts.Contexts) == 0 {
		return nil
	}
	var list schemas.ErrorList
	for i, dc := range c.Spec.Datacenters {
		if !slices.Contains(d.opts.Contexts, dc.Context) {
			list = append(list, &schemas.FieldError{File: file, Field: fmt.Sprintf("spec.datacenters[%d].context", i),
				Message: fmt.Sprintf("context %q is not one ringops can reach (it has: %v); add it to the kubeconfig, or fix the name", dc.Context, d.opts.Contexts)})
		}
	}
	if len(list) == 0 {
		return nil
	}
	return list
}

// previousSpecs are the specs the workers roll out now, by directory.
func (d *Daemon) previousSpecs() map[string]*schemas.CassandraCluster {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]*schemas.CassandraCluster{}
	for dir, w := range d.workers {
		if c := w.spec(); c != nil {
			out[dir] = c
		}
	}
	return out
}

// Source returns what the daemon knows of its source.
func (d *Daemon) Source() SourceState {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.source
	s.Clusters = slices.Clone(s.Clusters)
	s.Shards = d.shardStatesLocked()
	return s
}

// Clusters returns the state of every cluster, sorted by name.
func (d *Daemon) Clusters() []ClusterState {
	d.mu.Lock()
	ws := make([]*worker, 0, len(d.workers))
	for _, w := range d.workers {
		ws = append(ws, w)
	}
	d.mu.Unlock()
	out := make([]ClusterState, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.state())
	}
	slices.SortFunc(out, func(a, b ClusterState) int {
		if a.Name != b.Name {
			return strings.Compare(a.Name, b.Name)
		}
		return strings.Compare(a.Dir, b.Dir)
	})
	return out
}

// Changed returns a channel closed at the next change of what Clusters
// or Source return (the status page's events wait on it).
func (d *Daemon) Changed() <-chan struct{} { return d.changes.Changed() }

// subject is the commit subject of a recent revision ("" if unknown).
func (d *Daemon) subject(rev string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.subjects.by[rev]
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
