package jolokia

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/ringops/ringops/reconciler/ring"
)

// answer answers every exec of a bulk with value, or with Cassandra's
// exception when msg is set.
func answer(value, msg string, err error) func([]Request) ([]Response, error) {
	return func(reqs []Request) ([]Response, error) {
		if err != nil {
			return nil, err
		}
		out := make([]Response, len(reqs))
		for i := range reqs {
			out[i] = Response{Status: 200, Value: json.RawMessage(value)}
			if msg != "" {
				out[i] = Response{Status: 500, ErrorType: "java.lang.RuntimeException", Error: msg}
			}
		}
		return out, nil
	}
}

func TestRebuild(t *testing.T) {
	tests := []struct {
		name      string
		mode      ring.OperationMode
		keyspaces []string
		bulk      func([]Request) ([]Response, error)
		want      error
		lost      bool
		wantArgs  [][]any
	}{
		{"every keyspace: a null keyspace", ring.ModeNormal, nil, answer("null", "", nil), nil, false, [][]any{{"dc1", nil, nil, nil}}},
		{"one call per keyspace named", ring.ModeNormal, []string{"orders", "system_auth"}, answer("null", "", nil), nil, false,
			[][]any{{"dc1", "orders", nil, nil}, {"dc1", "system_auth", nil, nil}}},
		{"no answer in time is no failure", ring.ModeNormal, nil, answer("", "", ErrTimeout), nil, true, [][]any{{"dc1", nil, nil, nil}}},
		{"a rebuild already runs", ring.ModeNormal, nil, answer("", "java.lang.IllegalStateException : Node is still rebuilding. Check nodetool netstats.", nil),
			ErrRebuildFailed, false, [][]any{{"dc1", nil, nil, nil}}},
		{"a node that is not NORMAL", ring.ModeJoining, nil, answer("null", "", nil), ErrRebuildFailed, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeOps{view: ring.View{ReleaseVersion: "5.0.1", Mode: tt.mode}, bulk: tt.bulk}
			done, err := NewOperations(f, OperationOptions{}).Rebuild(context.Background(), leaver, "dc1", tt.keyspaces)
			if done != (err == nil && !tt.lost) {
				t.Errorf("done %v with error %v", done, err)
			}
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var args [][]any
			for _, b := range f.bulks {
				for _, r := range b {
					if r.Operation != RebuildOperation {
						t.Fatalf("operation %s, want %s", r.Operation, RebuildOperation)
					}
					args = append(args, r.Arguments)
				}
			}
			if !reflect.DeepEqual(args, tt.wantArgs) {
				t.Errorf("arguments %v, want %v", args, tt.wantArgs)
			}
		})
	}
}

func TestCleanup(t *testing.T) {
	f := &fakeOps{view: ring.View{ReleaseVersion: "5.0.1", Mode: ring.ModeNormal}, bulk: answer("1", "", nil)}
	_, err := NewOperations(f, OperationOptions{}).Cleanup(context.Background(), leaver, 1, []string{"orders"})
	if !errors.Is(err, ErrCleanupFailed) {
		t.Fatalf("status 1 (ABORTED): got %v, want ErrCleanupFailed", err)
	}
	want := Request{Type: "exec", MBean: StorageServiceMBean, Operation: CleanupOperation, Arguments: []any{1, "orders", []string{}}}
	if !reflect.DeepEqual(f.bulks[0][0], want) {
		t.Errorf("sent %+v, want %+v", f.bulks[0][0], want)
	}
	f = &fakeOps{view: ring.View{ReleaseVersion: "5.0.1", Mode: ring.ModeNormal}, bulk: answer("0", "", nil)}
	if done, err := NewOperations(f, OperationOptions{}).Cleanup(context.Background(), leaver, 1, []string{"orders"}); err != nil || !done {
		t.Fatalf("status 0: done %v, %v", done, err)
	}
	// the one cleanup of #15 and #16: named keyspaces keep the jobs bound,
	// and a local one is never sent
	f = &fakeOps{view: ring.View{ReleaseVersion: "5.0.1", Mode: ring.ModeNormal}, bulk: answer("0", "", nil)}
	if _, err := NewOperations(f, OperationOptions{}).Cleanup(context.Background(), leaver, 4, []string{"system", "orders"}); err != nil {
		t.Fatal(err)
	}
	want = Request{Type: "exec", MBean: StorageServiceMBean, Operation: CleanupOperation, Arguments: []any{4, "orders", []string{}}}
	if len(f.bulks) != 1 || len(f.bulks[0]) != 1 || !reflect.DeepEqual(f.bulks[0][0], want) {
		t.Errorf("sent %+v, want only %+v", f.bulks, want)
	}
}

func TestProgressTasks(t *testing.T) {
	p := Progress{Streams: []Stream{{Description: RebuildStream}, {Description: RebuildStream}},
		Compactions: []Compaction{{TaskType: CleanupTask}, {TaskType: "Compaction"}}}
	if got, want := p.Tasks(), []string{RebuildStream, CleanupTask, "Compaction"}; !reflect.DeepEqual(got, want) {
		t.Errorf("tasks %v, want %v", got, want)
	}
	before := p.Signature()
	p.Compactions[0].Completed = 10
	if p.Signature() == before {
		t.Error("a cleanup's work moves the signature")
	}
}
