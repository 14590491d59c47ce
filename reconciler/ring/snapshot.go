package ring

import (
	"context"
	"sort"
	"sync"
)

// Reader reads one node's view of the ring. *jolokia.Client is the Jolokia reader;
// tests of the assessment and of the planner use fakes.
type Reader interface {
	ReadView(ctx context.Context, n Node) (*View, error)
}

// Snapshot is every queried node's view of the ring at one moment: the
// whole input of Assess. Entries are sorted by datacenter, rack, ordinal.
type Snapshot struct {
	Entries []Entry
}

// Entry is one node and what it answered: a View, or the error that left it
// out (ErrNoAddress, ErrTimeout, ErrUnauthorized, ErrMalformed, ...).
type Entry struct {
	Node Node
	View *View
	Err  error
}

// Entry returns the entry of a pod.
func (s *Snapshot) Entry(pod string) (Entry, bool) {
	for _, e := range s.Entries {
		if e.Node.Pod == pod {
			return e, true
		}
	}
	return Entry{}, false
}

// SnapshotOptions bound how a snapshot is taken.
type SnapshotOptions struct {
	// Concurrency is the number of nodes read at once (each read is one
	// POST bounded by the reader's own timeout).
	Concurrency int
}

// DefaultSnapshotOptions reads 16 nodes at once.
func DefaultSnapshotOptions() SnapshotOptions { return SnapshotOptions{Concurrency: 16} }

// Take reads every node's view with at most opts.Concurrency reads in
// flight. It never fails: a node that cannot be read (no pod IP, an error,
// ctx done before its turn) is an Entry with Err set.
func Take(ctx context.Context, r Reader, nodes []Node, opts SnapshotOptions) *Snapshot {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultSnapshotOptions().Concurrency
	}
	s := &Snapshot{Entries: make([]Entry, len(nodes))}
	sem := make(chan struct{}, opts.Concurrency)
	var wg sync.WaitGroup
	for i, n := range nodes {
		s.Entries[i].Node = n
		if n.IP == "" {
			s.Entries[i].Err = &NodeError{Node: n, Op: "read health", Err: ErrNoAddress}
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			s.Entries[i].Err = &NodeError{Node: n, Op: "read health", Err: ctx.Err()}
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			s.Entries[i].View, s.Entries[i].Err = r.ReadView(ctx, n)
		})
	}
	wg.Wait()
	sort.SliceStable(s.Entries, func(i, j int) bool { return nodeLess(s.Entries[i].Node, s.Entries[j].Node) })
	return s
}
