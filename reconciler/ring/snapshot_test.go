package ring

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// gateReader lets the first `limit` reads wait until `limit` are in flight
// together, and records the most that ever were.
type gateReader struct {
	limit int
	mu    sync.Mutex
	now   int
	max   int
	calls int
	full  chan struct{}
}

func (g *gateReader) ReadView(ctx context.Context, n Node) (*View, error) {
	g.mu.Lock()
	g.now++
	g.calls++
	g.max = max(g.max, g.now)
	if g.now == g.limit && g.full != nil {
		close(g.full)
		g.full = nil
	}
	full := g.full
	g.mu.Unlock()
	if full != nil {
		select {
		case <-full:
		case <-time.After(10 * time.Second): // a serial Take would stall here
		}
	}
	g.mu.Lock()
	g.now--
	g.mu.Unlock()
	return &View{Mode: ModeNormal, Live: []string{n.IP}}, nil
}

func TestTakeBoundsConcurrency(t *testing.T) {
	const limit, total = 4, 40
	g := &gateReader{limit: limit, full: make(chan struct{})}
	var nodes []Node
	for i := range total {
		nodes = append(nodes, Node{Pod: fmt.Sprintf("orders-dc1-r1-%d", i), Datacenter: "dc1", Rack: "r1", IP: fmt.Sprintf("10.0.0.%d", i+1)})
	}
	s := Take(context.Background(), g, nodes, SnapshotOptions{Concurrency: limit})
	if g.max != limit {
		t.Errorf("%d reads in flight at most, want exactly %d", g.max, limit)
	}
	if g.calls != total || len(s.Entries) != total {
		t.Fatalf("%d reads, %d entries; want %d", g.calls, len(s.Entries), total)
	}
	for i, e := range s.Entries {
		if e.Node.Ordinal() != i || e.View == nil || e.Err != nil {
			t.Fatalf("entry %d: %+v", i, e)
		}
	}
}

func TestTakeSkipsNodesWithoutAddress(t *testing.T) {
	g := &gateReader{limit: 100}
	nodes := []Node{
		{Pod: "orders-dc2-r1-0", Datacenter: "dc2", Rack: "r1", IP: "10.0.2.1"},
		{Pod: "orders-dc1-r1-10", Datacenter: "dc1", Rack: "r1"},
		{Pod: "orders-dc1-r1-9", Datacenter: "dc1", Rack: "r1", IP: "10.0.1.9"},
	}
	s := Take(context.Background(), g, nodes, SnapshotOptions{})
	if g.calls != 2 {
		t.Errorf("%d reads, want 2", g.calls)
	}
	var order []string
	for _, e := range s.Entries {
		order = append(order, e.Node.Pod)
	}
	if fmt.Sprint(order) != "[orders-dc1-r1-9 orders-dc1-r1-10 orders-dc2-r1-0]" {
		t.Errorf("entries in order %v", order)
	}
	e, _ := s.Entry("orders-dc1-r1-10")
	if !errors.Is(e.Err, ErrNoAddress) || e.View != nil {
		t.Errorf("node without IP: %+v", e)
	}
}

func TestTakeAfterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	nodes := []Node{{Pod: "a-0", IP: "10.0.0.1"}, {Pod: "a-1", IP: "10.0.0.2"}}
	s := Take(ctx, ctxReader{}, nodes, SnapshotOptions{Concurrency: 1})
	for _, e := range s.Entries {
		if !errors.Is(e.Err, context.Canceled) {
			t.Errorf("%s: got %v, want context.Canceled", e.Node.Pod, e.Err)
		}
	}
}

// ctxReader answers as a reader whose context is done.
type ctxReader struct{}

func (ctxReader) ReadView(ctx context.Context, n Node) (*View, error) {
	if err := ctx.Err(); err != nil {
		return nil, &NodeError{Node: n, Op: "read health", Err: err}
	}
	return &View{Mode: ModeNormal}, nil
}
