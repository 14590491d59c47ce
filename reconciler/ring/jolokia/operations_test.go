package jolokia

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ringops/ringops/reconciler/ring"
)

func TestResumeBootstrap(t *testing.T) {
	const resume = "resumeBootstrap[]"
	tests := []struct {
		name      string
		mode      ring.OperationMode
		view      ring.View
		value     string
		execErr   error
		want      error
		wantCalls []string
	}{
		{"4.x stuck JOINING is resumed", ring.ModeJoining, ring.View{Joining: []string{"10.0.0.3"}}, "true", nil, nil, []string{resume}},
		{"5.0 JOINING_FAILED is resumed", ring.ModeJoiningFailed, ring.View{}, "true", nil, nil, []string{resume}},
		{"no answer in time is no failure", ring.ModeJoiningFailed, ring.View{}, "", ErrTimeout, nil, []string{resume}},
		{"the node says it is not bootstrapping", ring.ModeJoining, ring.View{}, "false", nil, ErrResumeFailed, []string{resume}},
		{"an exception", ring.ModeJoining, ring.View{}, "", javaError("java.lang.RuntimeException", "boom"), ErrResumeFailed, []string{resume}},
		{"a NORMAL node is not resumed", ring.ModeNormal, ring.View{}, "", nil, ErrResumeFailed, nil},
		{"another node leaving", ring.ModeJoining, ring.View{Leaving: []string{"10.0.0.9"}}, "", nil, ErrRingBusy, nil},
		{"another node down", ring.ModeJoiningFailed, ring.View{Unreachable: []string{"10.0.0.9"}, HostIDs: map[string]string{"10.0.0.9": "h9"}}, "", nil, ErrRingBusy, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeOps{view: tt.view, execValue: tt.value, execErr: tt.execErr}
			f.view.ReleaseVersion, f.view.Mode = "4.1.5", tt.mode
			err := NewOperations(f, OperationOptions{}).ResumeBootstrap(context.Background(), leaver)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if got := f.calls(); fmt.Sprint(got) != fmt.Sprint(tt.wantCalls) {
				t.Errorf("calls %q, want %q", got, tt.wantCalls)
			}
		})
	}
}

// upgradeNode answers the keyspaces read and the upgrade bulk.
func upgradeNode(keyspaces []string, status func(ks string) (int, error), callErr error) func([]Request) ([]Response, error) {
	return func(reqs []Request) ([]Response, error) {
		if reqs[0].Type == "read" {
			b, _ := json.Marshal(keyspaces)
			return []Response{{Status: 200, Value: b}}, nil
		}
		if callErr != nil {
			return nil, callErr
		}
		var out []Response
		for _, r := range reqs {
			st, err := status(r.Arguments[0].(string))
			if err != nil {
				out = append(out, Response{Status: 500, ErrorType: "java.lang.RuntimeException", Error: err.Error()})
				continue
			}
			out = append(out, Response{Status: 200, Value: json.RawMessage(fmt.Sprint(st))})
		}
		return out, nil
	}
}

func TestUpgradeSSTables(t *testing.T) {
	ks := []string{"orders", "system", "system_auth", "system_schema"}
	ok := func(string) (int, error) { return 0, nil }
	tests := []struct {
		name    string
		mode    ring.OperationMode
		bulk    func([]Request) ([]Response, error)
		want    error
		wantOps int
	}{
		{"every keyspace in one bulk, answered at once", ring.ModeNormal, upgradeNode(ks, ok, nil), nil, 4},
		{"no answer in time is no failure", ring.ModeNormal, upgradeNode(ks, ok, ErrTimeout), nil, 4},
		{"a keyspace could not be rewritten", ring.ModeNormal, upgradeNode(ks, func(k string) (int, error) {
			if k == "orders" {
				return 2, nil
			}
			return 0, nil
		}, nil), ErrUpgradeFailed, 4},
		{"an exception", ring.ModeNormal, upgradeNode(ks, func(string) (int, error) { return 0, errors.New("boom") }, nil), ErrUpgradeFailed, 4},
		{"a node that is not NORMAL", ring.ModeLeaving, upgradeNode(ks, ok, nil), ErrUpgradeFailed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeOps{view: ring.View{ReleaseVersion: "5.0.1", Mode: tt.mode}, bulk: tt.bulk}
			err := NewOperations(f, OperationOptions{}).UpgradeSSTables(context.Background(), leaver)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var ops []Request
			for _, b := range f.bulks {
				if b[0].Type == "exec" {
					ops = append(ops, b...)
				}
			}
			if len(ops) != tt.wantOps {
				t.Fatalf("%d operations sent, want %d", len(ops), tt.wantOps)
			}
			if tt.wantOps > 0 {
				want := Request{Type: "exec", MBean: StorageServiceMBean, Operation: UpgradeSSTablesOperation,
					Arguments: []any{"orders", true, 2, []string{}}}
				if !reflect.DeepEqual(ops[0], want) {
					t.Errorf("first operation %+v, want %+v", ops[0], want)
				}
			}
		})
	}
}

func TestReadProgress(t *testing.T) {
	answers := []Response{
		{Status: 200, Value: json.RawMessage(`[{"planId":"p2","description":"Unbootstrap","sessions":[],"currentRxBytes":0,"totalRxBytes":0,"rxPercentage":0.0,"currentTxBytes":2048,"totalTxBytes":4096,"txPercentage":50.0},
			{"planId":"p1","description":"Bootstrap","currentRxBytes":"10","currentTxBytes":5}]`)},
		{Status: 200, Value: json.RawMessage(`[{"id":"x","keyspace":"orders","columnfamily":"items","completed":"512","total":"1024","taskType":"Upgrade sstables","unit":"bytes","compactionId":"c"},
			{"keyspace":"system","columnfamily":"local","completed":"1","total":"2","taskType":"Compaction"}]`)},
		{Status: 200, Value: json.RawMessage(`7`)},
	}
	f := &fakeOps{bulk: func(reqs []Request) ([]Response, error) { return answers, nil }}
	p, err := NewOperations(f, OperationOptions{}).ReadProgress(context.Background(), leaver)
	if err != nil {
		t.Fatal(err)
	}
	want := &Progress{
		Streams:          []Stream{{PlanID: "p1", Description: "Bootstrap", Bytes: 15}, {PlanID: "p2", Description: "Unbootstrap", Bytes: 2048}},
		StreamsKnown:     true,
		Compactions:      []Compaction{{TaskType: "Compaction", Keyspace: "system", Table: "local", Completed: 1, Total: 2}, {TaskType: UpgradeTask, Keyspace: "orders", Table: "items", Completed: 512, Total: 1024}},
		CompactionsKnown: true,
		OldSSTables:      7,
	}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("got %+v\nwant %+v", p, want)
	}
	if !p.Upgrading() {
		t.Error("an upgrade compaction runs")
	}
	sig := p.Signature()
	p.Streams[0].Bytes++
	if p.Signature() == sig {
		t.Error("bytes streamed do not change the signature")
	}

	// Cassandra 3.x: no OldVersionSSTableCount metric; the rest is read.
	answers[2] = Response{Status: 404, ErrorType: "javax.management.InstanceNotFoundException", Error: "no such MBean"}
	answers[0] = Response{Status: 200, Value: json.RawMessage(`[]`)}
	p, err = NewOperations(f, OperationOptions{}).ReadProgress(context.Background(), leaver)
	if err != nil || p.OldSSTables != -1 || !p.StreamsKnown || len(p.Streams) != 0 {
		t.Fatalf("3.x: %+v %v", p, err)
	}
	f.bulk = func([]Request) ([]Response, error) { return nil, ErrTimeout }
	if _, err := NewOperations(f, OperationOptions{}).ReadProgress(context.Background(), leaver); !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
}

// skewed builds a snapshot of nodes each on a release and schema version,
// and its verdict by Assess.
func skewed(nodes ...[3]string) (*ring.Snapshot, ring.Result) {
	s := &ring.Snapshot{}
	var exp ring.Expected
	var live []string
	for i := range nodes {
		live = append(live, fmt.Sprintf("10.0.0.%d", i+1))
	}
	for i, n := range nodes {
		node := ring.Node{Cluster: "orders", Pod: n[0], Datacenter: "dc1", Rack: "r1", IP: live[i]}
		exp.Nodes = append(exp.Nodes, node)
		ids := map[string]string{}
		for _, ip := range live {
			ids[ip] = "id-" + ip
		}
		s.Entries = append(s.Entries, ring.Entry{Node: node, View: &ring.View{Live: live, Mode: ring.ModeNormal, HostIDs: ids, SchemaVersion: n[2], NativeTransportRunning: true, ReleaseVersion: n[1]}})
	}
	return s, ring.Assess(s, exp)
}

func TestUpgradeSkew(t *testing.T) {
	const a, b, c = "aaaaaaaa-0000-0000-0000-000000000000", "bbbbbbbb-0000-0000-0000-000000000000", "cccccccc-0000-0000-0000-000000000000"
	tests := []struct {
		name  string
		nodes [][3]string
		want  string
	}{
		{"4.1 to 5.0 half way", [][3]string{{"n0", "5.0.1", b}, {"n1", "4.1.5", a}, {"n2", "4.1.5", a}},
			"4.1.5 on 2 nodes (schema aaaaaaaa), 5.0.1 on 1 node (schema bbbbbbbb)"},
		{"3.11 to 4.1, patch releases mixed within a series", [][3]string{{"n0", "3.11.17", a}, {"n1", "3.11.16", a}, {"n2", "4.1.5", b}},
			"3.11.16, 3.11.17 on 2 nodes (schema aaaaaaaa), 4.1.5 on 1 node (schema bbbbbbbb)"},
		{"a disagreement within one series", [][3]string{{"n0", "5.0.1", b}, {"n1", "4.1.5", a}, {"n2", "4.1.5", c}}, ""},
		{"a patch upgrade disagreeing", [][3]string{{"n0", "4.1.5", b}, {"n1", "4.1.4", a}}, ""},
		{"three series", [][3]string{{"n0", "5.0.1", b}, {"n1", "4.1.5", a}, {"n2", "4.0.13", c}}, ""},
		{"two series on one schema version is healthy, no skew", [][3]string{{"n0", "5.0.1", a}, {"n1", "4.1.5", a}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, res := skewed(tt.nodes...)
			got, ok := ring.UpgradeSkew(s, res)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("UpgradeSkew = %q, %v; want %q (verdict %s)", got, ok, tt.want, res)
			}
		})
	}
	t.Run("anything else wrong is no skew", func(t *testing.T) {
		s, _ := skewed([3]string{"n0", "5.0.1", b}, [3]string{"n1", "4.1.5", a}, [3]string{"n2", "4.1.5", a})
		s.Entries[2].View.Leaving = []string{"10.0.0.3"}
		exp := ring.Expected{}
		for _, e := range s.Entries {
			exp.Nodes = append(exp.Nodes, e.Node)
		}
		res := ring.Assess(s, exp)
		if got, ok := ring.UpgradeSkew(s, res); ok {
			t.Fatalf("a node leaving during the skew: %q", got)
		}
		s.Entries[2].View.Leaving = nil
		s.Entries[2].View, s.Entries[2].Err = nil, &ring.NodeError{Node: s.Entries[2].Node, Op: "read health", Err: ErrTimeout}
		if got, ok := ring.UpgradeSkew(s, ring.Assess(s, exp)); ok || !strings.Contains(ring.Assess(s, exp).String(), "NotQueried") {
			t.Fatalf("a node not queried: %q", got)
		}
	})
}
