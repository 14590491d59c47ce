package ring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// readFails in a fakeOps script is a read that fails.
const readFails OperationMode = "<read fails>"

// fakeOps is a node whose successive reads follow script (the last entry
// repeats) and whose exec returns execErr, once release is closed if set.
type fakeOps struct {
	mu      sync.Mutex
	view    View
	script  []OperationMode
	execs   []Call
	execErr error
	release chan struct{}
}

func (f *fakeOps) ReadView(ctx context.Context, n Node) (*View, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	mode := f.script[0]
	if len(f.script) > 1 {
		f.script = f.script[1:]
	}
	if mode == readFails {
		return nil, &NodeError{Node: n, Op: "read health", Err: ErrTimeout}
	}
	v := f.view
	v.Mode = mode
	return &v, nil
}

func (f *fakeOps) Exec(ctx context.Context, n Node, c Call) (json.RawMessage, error) {
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
	return nil, f.execErr
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

var leaver = Node{Cluster: "orders", Pod: "orders-dc1-r1-2", IP: "10.0.0.3"}

func fastOptions() DecommissionOptions {
	return DecommissionOptions{PollInterval: time.Millisecond, StartTimeout: 50 * time.Millisecond, Timeout: 10 * time.Second, MaxReadFailures: 3}
}

func TestDecommission(t *testing.T) {
	refused := &NodeError{Node: leaver, Op: "exec decommission(boolean)", Err: &RequestError{Status: 500,
		ErrorType: "java.lang.UnsupportedOperationException", Message: "Not enough live nodes to maintain replication factor"}}
	const v4, v3 = "decommission(boolean)[false]", "decommission[]"
	stillRunning := &NodeError{Node: leaver, Op: "exec decommission(boolean)", Err: &RequestError{Status: 500,
		ErrorType: "java.lang.IllegalStateException", Message: "Node is still decommissioning. Check nodetool netstats."}}
	streamFailed := &NodeError{Node: leaver, Op: "exec decommission(boolean)", Err: &RequestError{Status: 500,
		ErrorType: "java.lang.RuntimeException", Message: "Error while decommissioning node: Stream failed"}}
	tests := []struct {
		name      string
		release   string
		view      View
		script    []OperationMode
		execErr   error
		want      error
		wantCalls []string
	}{
		{"4.x leaves", "4.1.5", View{}, []OperationMode{"NORMAL", "LEAVING", "LEAVING", "DECOMMISSIONED"}, nil, nil, []string{v4}},
		{"3.x leaves", "3.11.17", View{}, []OperationMode{"NORMAL", "LEAVING", "DECOMMISSIONED"}, nil, nil, []string{v3}},
		{"5.0 pre-release leaves", "5.0-rc1", View{}, []OperationMode{"NORMAL", "DECOMMISSIONED"}, nil, nil, []string{v4}},
		{"exec answer lost, the mode tells", "4.1.5", View{}, []OperationMode{"NORMAL", "NORMAL", "LEAVING", "DECOMMISSIONED"}, ErrTimeout, nil, []string{v4}},
		{"already decommissioned", "4.1.5", View{}, []OperationMode{"DECOMMISSIONED"}, nil, nil, nil},
		{"3.x already leaving is watched, not sent again", "3.11.17", View{}, []OperationMode{"LEAVING", "LEAVING", "DECOMMISSIONED"}, nil, nil, nil},
		{"4.x already leaving is asked again (a retry)", "4.1.5", View{Leaving: []string{"10.0.0.3"}}, []OperationMode{"LEAVING", "LEAVING", "DECOMMISSIONED"}, nil, nil, []string{v4}},
		{"4.x still decommissioning elsewhere", "4.1.5", View{}, []OperationMode{"LEAVING", "LEAVING", "DECOMMISSIONED"}, stillRunning, nil, []string{v4}},
		{"4.x retry fails again", "4.1.5", View{}, []OperationMode{"LEAVING"}, streamFailed, ErrDecommissionFailed, []string{v4}},
		{"a few failed reads are tolerated", "3.11.17", View{}, []OperationMode{"LEAVING", readFails, readFails, readFails, "DECOMMISSIONED"}, nil, nil, nil},
		{"reads keep failing", "3.11.17", View{}, []OperationMode{"LEAVING", readFails}, nil, ErrTimeout, nil},
		{"first read fails", "4.1.5", View{}, []OperationMode{readFails}, nil, ErrTimeout, nil},
		{"another node leaving", "4.1.5", View{Leaving: []string{"10.0.0.9"}}, []OperationMode{"NORMAL"}, nil, ErrRingBusy, nil},
		{"another node joining", "4.1.5", View{Joining: []string{"10.0.0.9"}}, []OperationMode{"NORMAL"}, nil, ErrRingBusy, nil},
		{"another node moving", "4.1.5", View{Moving: []string{"10.0.0.9"}}, []OperationMode{"NORMAL"}, nil, ErrRingBusy, nil},
		{"a node down", "4.1.5", View{Unreachable: []string{"/10.0.0.9"}}, []OperationMode{"NORMAL"}, nil, ErrRingBusy, nil},
		{"unknown release", "", View{}, []OperationMode{"NORMAL"}, nil, ErrUnknownVersion, nil},
		{"not NORMAL", "4.1.5", View{}, []OperationMode{"JOINING"}, nil, ErrDecommissionFailed, nil},
		{"Cassandra refuses", "4.1.5", View{}, []OperationMode{"NORMAL"}, refused, ErrDecommissionFailed, []string{v4}},
		{"aborted back to NORMAL", "4.1.5", View{}, []OperationMode{"NORMAL", "LEAVING", "NORMAL"}, nil, ErrDecommissionFailed, []string{v4}},
		{"never starts", "4.1.5", View{}, []OperationMode{"NORMAL"}, ErrTimeout, ErrDecommissionFailed, []string{v4}},
		{"DECOMMISSION_FAILED", "5.0.2", View{}, []OperationMode{"NORMAL", "LEAVING", "DECOMMISSION_FAILED"}, nil, ErrDecommissionFailed, []string{v4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeOps{view: tt.view, script: tt.script, execErr: tt.execErr}
			f.view.ReleaseVersion = tt.release
			err := NewDecommissioner(f, fastOptions()).Decommission(context.Background(), leaver)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if got := f.calls(); fmt.Sprint(got) != fmt.Sprint(tt.wantCalls) {
				t.Errorf("calls %q, want %q", got, tt.wantCalls)
			}
		})
	}
}

// TestDecommissionOneAtATime: while a node of a cluster is being
// decommissioned, another node of the same cluster is refused; another
// cluster is not held up.
func TestDecommissionOneAtATime(t *testing.T) {
	first := &fakeOps{view: View{ReleaseVersion: "4.1.5"}, script: []OperationMode{"NORMAL", "LEAVING"}, release: make(chan struct{})}
	mux := &muxOps{byPod: map[string]*fakeOps{leaver.Pod: first}}
	d := NewDecommissioner(mux, fastOptions())
	done := make(chan error, 1)
	go func() { done <- d.Decommission(context.Background(), leaver) }()
	waitFor(t, func() bool { return len(first.calls()) == 1 })

	second := leaver
	second.Pod, second.IP = "orders-dc1-r2-2", "10.0.0.4"
	mux.set(second.Pod, &fakeOps{view: View{ReleaseVersion: "4.1.5"}, script: []OperationMode{"NORMAL", "LEAVING", "DECOMMISSIONED"}})
	if err := d.Decommission(context.Background(), second); !errors.Is(err, ErrDecommissionInFlight) {
		t.Fatalf("second decommission: got %v, want ErrDecommissionInFlight", err)
	}
	if len(mux.get(second).calls()) != 0 {
		t.Fatal("second node was sent a decommission")
	}
	other := Node{Cluster: "billing", Pod: "billing-dc1-r1-1", IP: "10.1.0.2"}
	mux.set(other.Pod, &fakeOps{view: View{ReleaseVersion: "4.1.5"}, script: []OperationMode{"DECOMMISSIONED"}})
	if err := d.Decommission(context.Background(), other); err != nil {
		t.Fatalf("other cluster: %v", err)
	}

	first.mu.Lock()
	first.script = []OperationMode{"DECOMMISSIONED"}
	first.mu.Unlock()
	close(first.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := d.Decommission(context.Background(), second); err != nil {
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

func (m *muxOps) get(n Node) *fakeOps {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byPod[n.Pod]
}

func (m *muxOps) ReadView(ctx context.Context, n Node) (*View, error) {
	return m.get(n).ReadView(ctx, n)
}

func (m *muxOps) Exec(ctx context.Context, n Node, c Call) (json.RawMessage, error) {
	return m.get(n).Exec(ctx, n, c)
}

// waitFor polls cond until it holds; it fails the test after 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDecommissionTimeout(t *testing.T) {
	f := &fakeOps{view: View{ReleaseVersion: "4.1.5"}, script: []OperationMode{"LEAVING"}}
	opts := fastOptions()
	opts.Timeout = 30 * time.Millisecond
	err := NewDecommissioner(f, opts).Decommission(context.Background(), leaver)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
}

func TestReleaseMajor(t *testing.T) {
	for in, want := range map[string]int{"4.1.5": 4, "3.11.17": 3, "3.0.29": 3, "5.0-rc1": 5, "5.0": 5, "10.2.1": 10, " 4.0.0 ": 4} {
		if got, err := ReleaseMajor(in); err != nil || got != want {
			t.Errorf("ReleaseMajor(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "v4.1", "-1.0", "0.9"} {
		if _, err := ReleaseMajor(in); !errors.Is(err, ErrUnknownVersion) {
			t.Errorf("ReleaseMajor(%q): got %v, want ErrUnknownVersion", in, err)
		}
	}
}
