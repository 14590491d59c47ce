package ring

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/ringops/ringops/internal/testkit/golden"
)

// assessCase is testdata/assess/<case>/input.yaml. Every expected node with
// an address answers a healthy view (all expected nodes live, NORMAL, one
// schema version, host IDs, loads) unless errors says otherwise; views holds
// per-pod overrides, decoded over the healthy view (a list or string field
// is replaced, a map field is merged).
type assessCase struct {
	Nodes  []Node                     `json:"nodes"`
	Extra  []Node                     `json:"extra"`
	Views  map[string]json.RawMessage `json:"views"`
	Errors map[string]string          `json:"errors"`
	// Skip lists pods left out of the snapshot.
	Skip []string `json:"skip"`
	// Partial: only dc1's region was observed (see Expected.Partial); the
	// views still list every node.
	Partial bool `json:"partial"`
}

func (c *assessCase) expected() Expected {
	if !c.Partial {
		return Expected{Nodes: c.Nodes, Extra: c.Extra}
	}
	var dc1 []Node
	for _, n := range c.Nodes {
		if n.Datacenter == "dc1" {
			dc1 = append(dc1, n)
		}
	}
	return Expected{Nodes: dc1, Extra: c.Extra, Partial: true}
}

func hostID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1) }

// healthyView is a node's view of a healthy ring of nodes.
func healthyView(nodes []Node) *View {
	v := &View{Mode: ModeNormal, ReleaseVersion: "4.1.5", HostIDs: map[string]string{}, Load: map[string]string{},
		SchemaVersion: "5a54ebb0-1b0d-3b4f-9c2a-000000000001", NativeTransportRunning: true}
	for i, n := range nodes {
		if n.IP == "" {
			continue
		}
		v.Live = append(v.Live, n.IP)
		v.HostIDs[n.IP] = hostID(i)
		v.Load[n.IP] = fmt.Sprintf("%d.00 MiB", i+1)
	}
	return v
}

func (c *assessCase) snapshot(t *testing.T) *Snapshot {
	t.Helper()
	s := &Snapshot{}
	for _, n := range c.expected().Nodes {
		if contains(c.Skip, n.Pod) {
			continue
		}
		e := Entry{Node: n}
		switch msg, failed := c.Errors[n.Pod]; {
		case failed:
			e.Err = &NodeError{Node: n, Op: "read health", Err: errors.New(msg)}
		case n.IP == "":
			e.Err = &NodeError{Node: n, Op: "read health", Err: ErrNoAddress}
		default:
			e.View = healthyView(c.Nodes)
			if raw, ok := c.Views[n.Pod]; ok {
				if err := json.Unmarshal(raw, e.View); err != nil {
					t.Fatalf("view of %s: %v", n.Pod, err)
				}
			}
		}
		s.Entries = append(s.Entries, e)
	}
	return s
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func loadCase(t *testing.T, dir string) *assessCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c assessCase
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	return &c
}

// TestAssessGolden checks the verdict, every reason and the status table of
// each case against testdata/assess/<case>/want.txt (go test -update rewrites).
func TestAssessGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/assess/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c := loadCase(t, dir)
			r := Assess(c.snapshot(t), c.expected())
			var got bytes.Buffer
			if err := WriteText(&got, r, TextOptions{Cluster: "orders", Datacenters: []string{"dc1", "dc2"}}); err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join(dir, "want.txt"), got.Bytes())
		})
	}
}

// TestAssessReasons checks which kinds each case reports, nodes and seers
// included: what a planner branches on.
func TestAssessReasons(t *testing.T) {
	type reason struct {
		kind   ReasonKind
		nodes  []string
		seenBy []string
	}
	const a0, a1, b0, b1 = "orders-dc1-r1-0", "orders-dc1-r2-0", "orders-dc2-r1-0", "orders-dc2-r1-1"
	tests := []struct {
		dir  string
		want []reason
	}{
		{"healthy", nil},
		{"node-down", []reason{
			{NodeDown, []string{b1}, []string{a0, a1, b0}},
			{NotQueried, []string{b1}, nil},
		}},
		{"partition", []reason{
			{Unreachable, []string{a0, a1}, []string{b0, b1}},
			{Unreachable, []string{b0, b1}, []string{a0, a1}},
		}},
		{"not-queried", []reason{
			{NotQueried, []string{a1}, nil},
			{NotQueried, []string{b0}, nil},
			{NotQueried, []string{b1}, nil},
		}},
		{"not-in-ring", []reason{
			{NotInRing, []string{a0, a1, b0}, []string{b1}},
			{NotInRing, []string{b1}, []string{a0, a1, b0}},
		}},
		{"unknown-node", []reason{
			{UnknownNode, []string{"orders-dc2-r1-2", "10.0.9.9"}, []string{a0, a1, b0, b1}},
		}},
		{"joining", []reason{{NodeJoining, []string{b1}, []string{a0, a1, b0, b1}}}},
		{"leaving", []reason{{NodeLeaving, []string{b1}, []string{a0, a1, b0, b1}}}},
		{"moving", []reason{{NodeMoving, []string{a1}, []string{a0, a1, b0, b1}}}},
		{"not-normal", []reason{{NotNormal, []string{b0}, []string{b0}}}},
		{"not-serving", []reason{{NotServing, []string{a1}, []string{a1}}}},
		{"schema-disagreement", []reason{{SchemaDisagreement, []string{b1}, []string{a0, a1, b0, b1}}}},
		{"schema-disagreement-even", []reason{{SchemaDisagreement, []string{b0, b1}, []string{a0, a1, b0, b1}}}},
		{"host-id-conflict", []reason{{HostIDConflict, []string{a1}, []string{a0, a1, b0, b1}}}},
		{"empty", nil},
		{"partial", nil},
		{"partial-down", []reason{{NodeDown, []string{a1}, []string{a0}}, {NotQueried, []string{a1}, nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			c := loadCase(t, filepath.Join("testdata/assess", tt.dir))
			r := Assess(c.snapshot(t), c.expected())
			var got []reason
			for _, x := range r.Reasons {
				var nodes []string
				for _, n := range x.Nodes {
					nodes = append(nodes, orDash(n.Pod))
					if n.Pod == "" {
						nodes[len(nodes)-1] = n.Address
					}
				}
				got = append(got, reason{x.Kind, nodes, x.SeenBy})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("reasons:\n got %+v\nwant %+v", got, tt.want)
			}
			if r.Healthy != (len(tt.want) == 0) {
				t.Errorf("Healthy = %v with reasons %v", r.Healthy, r.Reasons)
			}
		})
	}
}

// TestAssessIsDeterministic: the order of the entries and of the lists in
// the views does not change the result.
func TestAssessIsDeterministic(t *testing.T) {
	for _, dir := range []string{"partition", "unknown-node", "schema-disagreement", "schema-disagreement-even", "node-down"} {
		c := loadCase(t, filepath.Join("testdata/assess", dir))
		s := c.snapshot(t)
		want, _ := json.Marshal(Assess(s, c.expected()))
		rng := rand.New(rand.NewPCG(1, 2))
		for range 20 {
			rng.Shuffle(len(s.Entries), func(i, j int) { s.Entries[i], s.Entries[j] = s.Entries[j], s.Entries[i] })
			for _, e := range s.Entries {
				if e.View != nil {
					rng.Shuffle(len(e.View.Live), func(i, j int) { e.View.Live[i], e.View.Live[j] = e.View.Live[j], e.View.Live[i] })
				}
			}
			nodes := append([]Node(nil), c.Nodes...)
			rng.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
			got, _ := json.Marshal(Assess(s, Expected{Nodes: nodes, Extra: c.Extra}))
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: result depends on input order:\n got %s\nwant %s", dir, got, want)
			}
		}
	}
}

// TestAssessNodeStates checks the nodetool letters of each node.
func TestAssessNodeStates(t *testing.T) {
	tests := map[string]map[string]NodeState{
		"healthy":     {"orders-dc1-r1-0": UN, "orders-dc2-r1-1": UN},
		"node-down":   {"orders-dc2-r1-1": DN, "orders-dc1-r1-0": UN},
		"partition":   {"orders-dc1-r1-0": DN, "orders-dc2-r1-0": DN},
		"joining":     {"orders-dc2-r1-1": UJ},
		"leaving":     {"orders-dc2-r1-1": UL},
		"moving":      {"orders-dc1-r2-0": UM},
		"not-queried": {"orders-dc2-r1-1": StateUnknown, "orders-dc1-r2-0": UN},
	}
	for dir, want := range tests {
		c := loadCase(t, filepath.Join("testdata/assess", dir))
		r := Assess(c.snapshot(t), c.expected())
		for _, st := range r.Nodes {
			if w, ok := want[st.Node.Pod]; ok && st.State != w {
				t.Errorf("%s: %s is %s, want %s", dir, st.Node.Pod, st.State, w)
			}
		}
	}
}

// TestAssessNilSnapshot: nothing read is not healthy when nodes are expected.
func TestAssessNilSnapshot(t *testing.T) {
	r := Assess(nil, Expected{Nodes: []Node{{Pod: "orders-dc1-r1-0", Datacenter: "dc1", Rack: "r1", IP: "10.0.0.1"}}})
	if r.Healthy || len(r.Reasons) != 1 || r.Reasons[0].Kind != NotQueried {
		t.Fatalf("got %v", r)
	}
}
