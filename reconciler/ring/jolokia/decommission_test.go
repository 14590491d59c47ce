package jolokia

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/ringops/ringops/internal/testkit/wait"
	"github.com/ringops/ringops/reconciler/ring"
)

// fakeOps is a node whose reads answer view (readErr: fail), whose exec
// returns execValue and execErr (once release is closed, if set), and
// whose bulk calls go to bulk.
type fakeOps struct {
	mu        sync.Mutex
	view      ring.View
	readErr   error
	execs     []Call
	execValue string
	execErr   error
	release   chan struct{}
	bulk      func(reqs []Request) ([]Response, error)
	bulks     [][]Request
}

func (f *fakeOps) ReadView(ctx context.Context, n ring.Node) (*ring.View, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.readErr != nil {
		return nil, &ring.NodeError{Node: n, Op: "read health", Err: f.readErr}
	}
	v := f.view
	return &v, nil
}

func (f *fakeOps) Exec(ctx context.Context, n ring.Node, c Call) (json.RawMessage, error) {
	f.mu.Lock()
	f.execs = append(f.execs, c)
	rel := f.release
	f.mu.Unlock()
	if rel != nil {
		select {
		case <-rel:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.execErr != nil {
		return nil, &ring.NodeError{Node: n, Op: "exec " + c.Operation, Err: f.execErr}
	}
	if f.execValue == "" {
		return json.RawMessage("null"), nil
	}
	return json.RawMessage(f.execValue), nil
}

func (f *fakeOps) Bulk(ctx context.Context, n ring.Node, reqs []Request) ([]Response, error) {
	f.mu.Lock()
	f.bulks = append(f.bulks, reqs)
	do := f.bulk
	f.mu.Unlock()
	if do == nil {
		return nil, &ring.NodeError{Node: n, Op: "bulk request", Err: ErrTimeout}
	}
	resps, err := do(reqs)
	if err != nil {
		return nil, &ring.NodeError{Node: n, Op: "bulk request", Err: err}
	}
	return resps, nil
}

func (f *fakeOps) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.execs {
		out = append(out, fmt.Sprint(c.Operation, c.Args))
	}
	return out
}

var leaver = ring.Node{Cluster: "orders", Pod: "orders-dc1-r1-2", IP: "10.0.0.3"}

func javaError(typ, msg string) error {
	return &RequestError{Status: 500, ErrorType: typ, Message: msg}
}

// TestDecommission: one read, then at most one call, never waited for;
// each version's retry is sent as that version allows.
func TestDecommission(t *testing.T) {
	const v4, v3 = "decommission(boolean)[false]", "decommission[]"
	refused := javaError("java.lang.UnsupportedOperationException", "Not enough live nodes to maintain replication factor in keyspace orders")
	stillRunning := javaError(javaIllegalState, "Node is still decommissioning. Check nodetool netstats.")
	streamFailed := javaError("java.lang.RuntimeException", "Error while decommissioning node: Stream failed")
	tests := []struct {
		name      string
		release   string
		mode      ring.OperationMode
		view      ring.View
		readErr   error
		execErr   error
		want      error
		wantCalls []string
	}{
		{"4.x NORMAL is sent decommission(false)", "4.1.5", ring.ModeNormal, ring.View{}, nil, nil, nil, []string{v4}},
		{"3.x NORMAL is sent decommission()", "3.11.17", ring.ModeNormal, ring.View{}, nil, nil, nil, []string{v3}},
		{"5.0 pre-release", "5.0-rc1", ring.ModeNormal, ring.View{}, nil, nil, nil, []string{v4}},
		{"no answer in time is no failure: the ring tells", "4.1.5", ring.ModeNormal, ring.View{}, nil, ErrTimeout, nil, []string{v4}},
		{"the answer lost on the way is no failure", "4.1.5", ring.ModeNormal, ring.View{}, nil, io.ErrUnexpectedEOF, nil, []string{v4}},
		{"already decommissioned: nothing sent", "4.1.5", ring.ModeDecommissioned, ring.View{}, nil, nil, nil, nil},
		{"3.11 LEAVING is retried (CASSANDRA-12008)", "3.11.17", ring.ModeLeaving, ring.View{Leaving: []string{"10.0.0.3"}}, nil, nil, nil, []string{v3}},
		{"3.9 LEAVING cannot be retried", "3.9.0", ring.ModeLeaving, ring.View{}, nil, nil, ErrDecommissionFailed, nil},
		{"4.x LEAVING is retried", "4.1.5", ring.ModeLeaving, ring.View{Leaving: []string{"/10.0.0.3"}}, nil, nil, nil, []string{v4}},
		{"4.x LEAVING: one runs already (IllegalStateException)", "4.1.5", ring.ModeLeaving, ring.View{}, nil, stillRunning, nil, []string{v4}},
		{"4.x retry fails at once", "4.1.5", ring.ModeLeaving, ring.View{}, nil, streamFailed, ErrDecommissionFailed, []string{v4}},
		{"5.0 DECOMMISSION_FAILED is retried", "5.0.2", ring.ModeDecommissionFailed, ring.View{}, nil, nil, nil, []string{v4}},
		{"Cassandra refuses", "4.1.5", ring.ModeNormal, ring.View{}, nil, refused, ErrDecommissionFailed, []string{v4}},
		{"IllegalStateException on a NORMAL node is a refusal", "4.1.5", ring.ModeNormal, ring.View{}, nil, stillRunning, ErrDecommissionFailed, []string{v4}},
		{"another node leaving", "4.1.5", ring.ModeNormal, ring.View{Leaving: []string{"10.0.0.9"}}, nil, nil, ErrRingBusy, nil},
		{"another node leaving while this one is retried", "5.0.1", ring.ModeDecommissionFailed, ring.View{Leaving: []string{"10.0.0.3", "10.0.0.9"}}, nil, nil, ErrRingBusy, nil},
		{"another node joining", "4.1.5", ring.ModeNormal, ring.View{Joining: []string{"10.0.0.9"}}, nil, nil, ErrRingBusy, nil},
		{"another node moving", "4.1.5", ring.ModeNormal, ring.View{Moving: []string{"10.0.0.9"}}, nil, nil, ErrRingBusy, nil},
		{"a node down", "4.1.5", ring.ModeNormal, ring.View{Unreachable: []string{"/10.0.0.9"}, HostIDs: map[string]string{"10.0.0.9": "h9"}}, nil, nil, ErrRingBusy, nil},
		// Real 5.0: a node decommissioned before stays in UnreachableNodes
		// for three days, with no host ID: the last node of a leaving
		// datacenter must still go.
		{"a decommissioned node, unreachable in gossip only", "5.0.9", ring.ModeNormal, ring.View{Unreachable: []string{"/10.0.0.9"}}, nil, nil, nil, []string{v4}},
		{"the node cannot be read", "4.1.5", ring.ModeNormal, ring.View{}, ErrTimeout, nil, ErrTimeout, nil},
		{"unknown release", "", ring.ModeNormal, ring.View{}, nil, nil, ring.ErrUnknownVersion, nil},
		{"not NORMAL", "4.1.5", ring.ModeJoining, ring.View{}, nil, nil, ErrDecommissionFailed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeOps{view: tt.view, readErr: tt.readErr, execErr: tt.execErr}
			f.view.ReleaseVersion, f.view.Mode = tt.release, tt.mode
			err := NewOperations(f, OperationOptions{}).Decommission(context.Background(), leaver)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if got := f.calls(); fmt.Sprint(got) != fmt.Sprint(tt.wantCalls) {
				t.Errorf("calls %q, want %q", got, tt.wantCalls)
			}
		})
	}
}

// TestDecommissionIsNotHeldOpen: the call carries the short ExecTimeout,
// never the length of a whole decommission, and Decommission returns once
// the call is over, whatever the node does next.
func TestDecommissionIsNotHeldOpen(t *testing.T) {
	f := &fakeOps{view: ring.View{ReleaseVersion: "4.1.5", Mode: ring.ModeNormal}, release: make(chan struct{})}
	ops := NewOperations(f, OperationOptions{ExecTimeout: 3 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond) // the fake honours only ctx
	defer cancel()
	start := time.Now()
	_ = ops.Decommission(ctx, leaver)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Decommission took %s", d)
	}
	if len(f.execs) != 1 || f.execs[0].Timeout != 3*time.Second {
		t.Fatalf("calls %+v: want one call bounded by ExecTimeout", f.execs)
	}
}

// TestOperationsOneAtATime: while an operation is being sent to a node of
// a cluster, another node of the same cluster is refused; another cluster
// is not held up.
func TestOperationsOneAtATime(t *testing.T) {
	first := &fakeOps{view: ring.View{ReleaseVersion: "4.1.5", Mode: ring.ModeNormal}, release: make(chan struct{})}
	mux := &muxOps{byPod: map[string]*fakeOps{leaver.Pod: first}}
	ops := NewOperations(mux, OperationOptions{})
	done := make(chan error, 1)
	go func() { done <- ops.Decommission(context.Background(), leaver) }()
	waitFor(t, func() bool { return len(first.calls()) == 1 })

	second := leaver
	second.Pod, second.IP = "orders-dc1-r2-2", "10.0.0.4"
	mux.set(second.Pod, &fakeOps{view: ring.View{ReleaseVersion: "5.0.1", Mode: ring.ModeJoiningFailed}, execValue: "true"})
	if err := ops.ResumeBootstrap(context.Background(), second); !errors.Is(err, ErrDecommissionInFlight) {
		t.Fatalf("second operation: got %v, want ErrDecommissionInFlight", err)
	}
	if len(mux.get(second).calls()) != 0 {
		t.Fatal("second node was sent an operation")
	}
	other := ring.Node{Cluster: "billing", Pod: "billing-dc1-r1-1", IP: "10.1.0.2"}
	mux.set(other.Pod, &fakeOps{view: ring.View{ReleaseVersion: "4.1.5", Mode: ring.ModeDecommissioned}})
	if err := ops.Decommission(context.Background(), other); err != nil {
		t.Fatalf("other cluster: %v", err)
	}
	close(first.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := ops.ResumeBootstrap(context.Background(), second); err != nil {
		t.Fatalf("after the first one: %v", err)
	}
}

// muxOps routes to a fakeOps by pod.
type muxOps struct {
	mu    sync.Mutex
	byPod map[string]*fakeOps
}

func (m *muxOps) set(pod string, f *fakeOps) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byPod[pod] = f
}

func (m *muxOps) get(n ring.Node) *fakeOps {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byPod[n.Pod]
}

func (m *muxOps) ReadView(ctx context.Context, n ring.Node) (*ring.View, error) {
	return m.get(n).ReadView(ctx, n)
}

func (m *muxOps) Exec(ctx context.Context, n ring.Node, c Call) (json.RawMessage, error) {
	return m.get(n).Exec(ctx, n, c)
}

func (m *muxOps) Bulk(ctx context.Context, n ring.Node, reqs []Request) ([]Response, error) {
	return m.get(n).Bulk(ctx, n, reqs)
}

// waitFor waits up to 10 s for cond (wait.Until).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	wait.Until(t, 10*time.Second, "the condition", func() (bool, string) { return cond(), "it never held" })
}

func TestReleaseSeries(t *testing.T) {
	type mm struct{ major, minor int }
	for in, want := range map[string]mm{"4.1.5": {4, 1}, "3.11.17": {3, 11}, "3.0.29": {3, 0}, "5.0-rc1": {5, 0}, "5.0": {5, 0},
		"5": {5, 0}, "10.2.1": {10, 2}, " 4.0.0 ": {4, 0}, "4.1-beta1": {4, 1}} {
		major, minor, err := ring.ReleaseSeries(in)
		if err != nil || (mm{major, minor}) != want {
			t.Errorf("ReleaseSeries(%q) = %d.%d, %v; want %v", in, major, minor, err, want)
		}
		if got, err := ring.ReleaseMajor(in); err != nil || got != want.major {
			t.Errorf("ReleaseMajor(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "abc", "v4.1", "-1.0", "0.9", "4.x"} {
		if _, _, err := ring.ReleaseSeries(in); !errors.Is(err, ring.ErrUnknownVersion) {
			t.Errorf("ReleaseSeries(%q): got %v, want ErrUnknownVersion", in, err)
		}
	}
}
