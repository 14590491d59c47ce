package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/reconciler"
	"github.com/ringops/ringops/reconciler/daemon/shard"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/git"
	"github.com/ringops/ringops/test/gitserver"
)

// leaseTable stands for the shard Leases of package shard (tested there
// on a real API server): who owns each shard, and its steps in flight.
// move gives a shard to another replica as the Leases do on a give-back:
// the owner stops (no owner), its steps in flight end, then the new owner
// takes it in a new term.
type leaseTable struct {
	mu       sync.Mutex
	owner    []string
	terms    []int
	inflight []int
	ch       chan struct{}
}

func (l *leaseTable) notifyLocked() { close(l.ch); l.ch = make(chan struct{}) }

func (l *leaseTable) move(t *testing.T, i int, to string) {
	l.mu.Lock()
	l.owner[i] = ""
	l.notifyLocked()
	l.mu.Unlock()
	require.Eventually(t, func() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.inflight[i] == 0 }, 10*time.Second, time.Millisecond)
	l.mu.Lock()
	l.owner[i] = to
	l.terms[i]++
	l.notifyLocked()
	l.mu.Unlock()
}

// fakeShards is one replica's view of the table.
type fakeShards struct {
	t  *leaseTable
	me string
}

func (f fakeShards) Count() int { return len(f.t.owner) }
func (f fakeShards) Owns(i int) bool {
	f.t.mu.Lock()
	defer f.t.mu.Unlock()
	return f.t.owner[i] == f.me
}
func (f fakeShards) Changed() <-chan struct{} { f.t.mu.Lock(); defer f.t.mu.Unlock(); return f.t.ch }
func (f fakeShards) Fence(_ context.Context, i int) (string, func(), error) {
	f.t.mu.Lock()
	defer f.t.mu.Unlock()
	if f.t.owner[i] != f.me {
		return "", nil, fmt.Errorf("shard %d: %w", i, shard.ErrNotHeld)
	}
	f.t.inflight[i]++
	return fmt.Sprintf("%s/%d", f.me, f.t.terms[i]), func() { f.t.mu.Lock(); f.t.inflight[i]--; f.t.mu.Unlock() }, nil
}
func (f fakeShards) States() []shard.State {
	f.t.mu.Lock()
	defer f.t.mu.Unlock()
	var out []shard.State
	for i, o := range f.t.owner {
		out = append(out, shard.State{Shard: i, Holder: o, Owned: o == f.me})
	}
	return out
}

// steps records the steps of every replica by cluster, and every moment
// two replicas ran a step of one cluster at once.
type steps struct {
	mu       sync.Mutex
	running  map[string]string   // cluster -> replica running a step now
	by       map[string][]string // cluster -> replica of each step, in order
	overlaps []string
}

// fencedEngine is the fake engine behind the fence, as Execute is.
type fencedEngine struct {
	*fakeEngine
	me    string
	steps *steps
}

func (e *fencedEngine) Execute(ctx context.Context, p plan.Plan) ([]reconciler.Event, error) {
	fence := reconciler.FenceOf(ctx)
	if fence == nil {
		return nil, fmt.Errorf("cluster %s: no fence on the worker's context", p.Cluster)
	}
	_, done, err := fence(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", reconciler.ErrFenced, err)
	}
	defer done()
	s := e.steps
	s.mu.Lock()
	if other, ok := s.running[p.Cluster]; ok {
		s.overlaps = append(s.overlaps, fmt.Sprintf("%s: %s and %s at once", p.Cluster, other, e.me))
	}
	s.running[p.Cluster] = e.me
	s.by[p.Cluster] = append(s.by[p.Cluster], e.me)
	s.mu.Unlock()
	events, err := e.fakeEngine.Execute(ctx, p)
	s.mu.Lock()
	delete(s.running, p.Cluster)
	s.mu.Unlock()
	return events, err
}

// count is how many steps replica ran for cluster.
func (s *steps) count(cluster, replica string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.by[cluster] {
		if r == replica {
			n++
		}
	}
	return n
}

// Two replicas on two shards: each runs the clusters of its shard only,
// posts their statuses only (and no revision summary); when shard 0 moves
// while its steps are in flight, the new owner starts its clusters only
// once those steps ended, and the old owner runs no step of them after.
// At no time do the two run a step of one cluster at once.
func TestTwoReplicasNeverRunOneCluster(t *testing.T) {
	repo := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	repo.CopyDir(filepath.Join("..", "..", "clusters-example"), ".")
	names := []string{"c1", "c2", "c3", "c4", "c5", "c6"}
	byShard := map[int][]string{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(repo.Work, "clusters", "orders", "cluster.yaml"))
		require.NoError(t, err)
		dir := filepath.Join(repo.Work, "clusters", n)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(strings.Replace(string(b), "  name: orders\n", "  name: "+n+"\n", 1)), 0o644))
		byShard[shard.Of("clusters/"+n, 2)] = append(byShard[shard.Of("clusters/"+n, 2)], n)
	}
	require.NoError(t, os.RemoveAll(filepath.Join(repo.Work, "clusters", "orders")))
	require.True(t, len(byShard[0]) > 0 && len(byShard[1]) > 0, "clusters by shard: %v", byShard)
	hash := repo.Commit("six clusters")
	local, err := git.OpenLocal(repo.Work, git.Options{})
	require.NoError(t, err)
	snap, err := local.Snapshot(hash)
	require.NoError(t, err)

	table := &leaseTable{owner: []string{"a", "b"}, terms: []int{1, 1}, inflight: []int{0, 0}, ch: make(chan struct{})}
	st := &steps{running: map[string]string{}, by: map[string][]string{}}
	type replica struct {
		engine *fencedEngine
		rep    *reporter
		d      *Daemon
	}
	rs := map[string]*replica{}
	for _, me := range []string{"a", "b"} {
		r := &replica{engine: &fencedEngine{fakeEngine: newFakeEngine(), me: me, steps: st}, rep: &reporter{}}
		src := newFakeSource()
		opts := DefaultOptions()
		opts.Path, opts.ShutdownGrace, opts.Logger, opts.Shards = "clusters", 5*time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)), fakeShards{t: table, me: me}
		r.d, err = New(src, r.engine, r.rep, opts)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = r.d.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		src.results <- git.Result{Outcome: git.Changed, Revision: snap.Revision, Snapshot: snap}
		rs[me] = r
	}
	owner := map[int]string{0: "a", 1: "b"}
	for i, cs := range byShard {
		for _, c := range cs {
			require.Eventually(t, func() bool { return st.count(c, owner[i]) > 0 }, 10*time.Second, 5*time.Millisecond, "%s runs %s", owner[i], c)
		}
	}
	for i, cs := range byShard {
		other := owner[1-i]
		for _, c := range cs {
			require.Zero(t, st.count(c, other), "%s ran a step of %s, which is not its shard's", other, c)
			_, posted := rs[other].rep.latest(hash, forge.RegionContext(c, "eu-west"))
			require.False(t, posted, "%s posted the status of %s, which is not its shard's", other, c)
		}
	}
	for _, r := range rs {
		_, posted := r.rep.latest(hash, forge.SummaryContext)
		require.False(t, posted, "a sharded replica posted the revision's summary")
	}
	src := rs["a"].d.Source()
	require.Len(t, src.Shards, 2)
	require.Equal(t, byShard[0], clusterNames(src.Shards[0].Clusters))

	// Shard 0 moves to b while a's steps of it are in flight.
	hold := make(chan struct{})
	a := rs["a"].engine
	a.mu.Lock()
	a.hold = hold
	a.mu.Unlock()
	heldSteps := func() bool { // every worker of a in a step
		table.mu.Lock()
		defer table.mu.Unlock()
		return table.inflight[0] == len(byShard[0])
	}
	require.Eventually(t, heldSteps, 10*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond) // the steps begun before the hold took 10 ms
	require.True(t, heldSteps(), "a's steps are not all held")
	moved := make(chan struct{})
	go func() { defer close(moved); table.move(t, 0, "b") }()
	before := map[string]int{}
	for _, c := range byShard[0] {
		before[c] = st.count(c, "b")
	}
	time.Sleep(300 * time.Millisecond)
	for _, c := range byShard[0] {
		require.Equal(t, before[c], st.count(c, "b"), "b ran %s while a's step was in flight", c)
	}
	close(hold)
	<-moved
	afterA := map[string]int{}
	for _, c := range byShard[0] {
		afterA[c] = st.count(c, "a")
		require.Eventually(t, func() bool { return st.count(c, "b") > 0 }, 10*time.Second, 5*time.Millisecond, "b takes %s over", c)
	}
	time.Sleep(200 * time.Millisecond)
	for _, c := range byShard[0] {
		require.Equal(t, afterA[c], st.count(c, "a"), "a ran a step of %s after it lost the shard", c)
	}
	require.Empty(t, rs["a"].d.Clusters(), "a still runs workers without a shard")
	require.Len(t, rs["b"].d.Clusters(), len(names))
	st.mu.Lock()
	defer st.mu.Unlock()
	require.Empty(t, st.overlaps)
}

func clusterNames(dirs []string) []string {
	out := make([]string, len(dirs))
	for i, d := range dirs {
		out[i] = strings.TrimPrefix(d, "clusters/")
	}
	slices.Sort(out)
	return out
}
