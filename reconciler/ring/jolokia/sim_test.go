package jolokia_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/test/env/cassandra"
)

// nineNodes is three datacenters of three racks of one node.
var nineNodes = ringSpec{DCs: 3, Racks: 3, PerRack: 1}

func newClient(creds map[string]jolokia.Credentials, timeout time.Duration) *jolokia.Client {
	return jolokia.NewClient(jolokia.NewDirect(jolokia.DirectOptions{Credentials: creds}), jolokia.Options{Timeout: timeout})
}

// TestSimEveryVersion: the ring is read and healthy on each version's MBean
// surface (5.0 has no HostIdMap).
func TestSimEveryVersion(t *testing.T) {
	for _, release := range []string{"3.11.17", "4.1.7", "5.0.9"} {
		t.Run(release, func(t *testing.T) {
			o := fastSimOptions()
			o.ReleaseVersion = release
			r := startSimRing(t, ringSpec{DCs: 2, Racks: 2, PerRack: 1, Options: o})
			c := newClient(nil, 2*time.Second)
			res := waitResult(t, c, ring.Expected{Nodes: r.nodes}, "healthy", func(res ring.Result) bool { return res.Healthy })
			for _, st := range res.Nodes {
				if st.HostID != r.procs[st.Node.Pod].HostID() || st.ReleaseVersion != release || !st.NativeTransportRunning {
					t.Errorf("%s: host ID %s release %s CQL %v", st.Node.Pod, st.HostID, st.ReleaseVersion, st.NativeTransportRunning)
				}
			}
		})
	}
}

// TestSimNotServing: a node turns NORMAL before it serves CQL; until it
// does, and while its native transport is stopped, the ring is not healthy.
func TestSimNotServing(t *testing.T) {
	o := fastSimOptions()
	o.NativeTransportDelay = 3 * time.Second
	r := startSimRing(t, ringSpec{DCs: 1, Racks: 3, PerRack: 1, Options: o})
	c := newClient(nil, 2*time.Second)
	exp := ring.Expected{Nodes: r.nodes}
	last := r.nodes[len(r.nodes)-1].Pod // NORMAL just now
	res := assess(c, exp)
	ns := reasonsOf(res, ring.NotServing)
	if res.Healthy || len(ns) == 0 || ns[len(ns)-1].Nodes[0].Pod != last {
		t.Fatalf("just NORMAL: %s, want NotServing for %s", res, last)
	}
	waitResult(t, c, exp, "healthy once CQL runs", func(res ring.Result) bool { return res.Healthy })

	const stopped = "orders-dc1-r2-0"
	r.procs[stopped].SetNativeTransport(false)
	res = assess(c, exp)
	if ns := reasonsOf(res, ring.NotServing); len(res.Reasons) != 1 || len(ns) != 1 || ns[0].Nodes[0].Pod != stopped {
		t.Errorf("disablebinary: %s, want NotServing for %s only", res, stopped)
	}
	r.procs[stopped].SetNativeTransport(true)
	if res := assess(c, exp); !res.Healthy {
		t.Errorf("enablebinary: %s", res)
	}
}

// assess takes a snapshot of the expected nodes and judges it.
func assess(c *jolokia.Client, exp ring.Expected) ring.Result {
	return ring.Assess(ring.Take(context.Background(), c, exp.Nodes, ring.DefaultSnapshotOptions()), exp)
}

// waitResult polls the assessment until cond holds.
func waitResult(t *testing.T, c *jolokia.Client, exp ring.Expected, what string, cond func(ring.Result) bool) ring.Result {
	t.Helper()
	var r ring.Result
	eventually(t, what, func() (bool, string) {
		r = assess(c, exp)
		return cond(r), r.String()
	})
	return r
}

func reasonsOf(r ring.Result, kind ring.ReasonKind) []ring.Reason {
	var out []ring.Reason
	for _, x := range r.Reasons {
		if x.Kind == kind {
			out = append(out, x)
		}
	}
	return out
}

func pods(refs []ring.NodeRef) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.Pod)
	}
	return out
}

func podsOf(nodes []ring.Node, except ...string) []string {
	var out []string
	for _, n := range nodes {
		if !slices.Contains(except, n.Pod) {
			out = append(out, n.Pod)
		}
	}
	return out
}

func TestSimHealthyRing(t *testing.T) {
	r := startSimRing(t, nineNodes)
	c := newClient(nil, 2*time.Second)
	res := waitResult(t, c, ring.Expected{Nodes: r.nodes}, "healthy", func(res ring.Result) bool { return res.Healthy })
	truth := map[string]string{}
	for _, st := range r.sim.Ring("orders") {
		truth[st.Address] = st.HostID
	}
	if len(res.Nodes) != 9 {
		t.Fatalf("%d nodes in the result, want 9", len(res.Nodes))
	}
	for _, st := range res.Nodes {
		if st.State != ring.UN || st.Mode != ring.ModeNormal || st.HostID != truth[st.Node.IP] || st.HostID == "" {
			t.Errorf("%s: %s mode %s host ID %s, want UN NORMAL %s", st.Node.Pod, st.State, st.Mode, st.HostID, truth[st.Node.IP])
		}
	}
}

// TestSimKilledNode: a killed node is DN according to every other node, and
// cannot be queried itself.
func TestSimKilledNode(t *testing.T) {
	r := startSimRing(t, nineNodes)
	c := newClient(nil, 2*time.Second)
	exp := ring.Expected{Nodes: r.nodes}
	waitResult(t, c, exp, "healthy", func(res ring.Result) bool { return res.Healthy })
	const victim = "orders-dc2-r1-0"
	r.procs[victim].Kill()
	res := waitResult(t, c, exp, "victim down everywhere", func(res ring.Result) bool {
		down := reasonsOf(res, ring.NodeDown)
		return len(res.Reasons) == 2 && len(down) == 1 && len(down[0].SeenBy) == 8
	})
	down := reasonsOf(res, ring.NodeDown)[0]
	if got := pods(down.Nodes); !slices.Equal(got, []string{victim}) || !slices.Equal(down.SeenBy, podsOf(r.nodes, victim)) {
		t.Errorf("NodeDown %v seen by %v", got, down.SeenBy)
	}
	nq := reasonsOf(res, ring.NotQueried)
	if len(nq) != 1 || pods(nq[0].Nodes)[0] != victim {
		t.Errorf("NotQueried: %v", nq)
	}
	if len(res.Reasons) != 2 {
		t.Errorf("reasons %v, want NodeDown and NotQueried only", res.Reasons)
	}
	for _, st := range res.Nodes {
		if want := ring.UN; st.Node.Pod == victim && st.State != ring.DN || st.Node.Pod != victim && st.State != want {
			t.Errorf("%s is %s", st.Node.Pod, st.State)
		}
	}
}

// TestSimPartition: dc3 cut off from dc1 and dc2: the reasons say who cannot
// see whom, both ways; healing makes the ring healthy again.
func TestSimPartition(t *testing.T) {
	r := startSimRing(t, nineNodes)
	c := newClient(nil, 2*time.Second)
	exp := ring.Expected{Nodes: r.nodes}
	waitResult(t, c, exp, "healthy", func(res ring.Result) bool { return res.Healthy })
	r.sim.Partition(r.ips("dc3"), r.ips("dc1", "dc2"))
	var west, east []string
	for _, n := range r.nodes {
		if n.Datacenter == "dc3" {
			east = append(east, n.Pod)
		} else {
			west = append(west, n.Pod)
		}
	}
	want := fmt.Sprint([]ring.Reason{
		{Kind: ring.Unreachable, SeenBy: east},
		{Kind: ring.Unreachable, SeenBy: west},
	})
	seenBy := func(res ring.Result) string {
		var got []ring.Reason
		for _, x := range res.Reasons {
			got = append(got, ring.Reason{Kind: x.Kind, SeenBy: x.SeenBy})
		}
		return fmt.Sprint(got)
	}
	res := waitResult(t, c, exp, "each side sees the other down", func(res ring.Result) bool { return seenBy(res) == want })
	u := reasonsOf(res, ring.Unreachable)
	if !slices.Equal(pods(u[0].Nodes), west) || !slices.Equal(pods(u[1].Nodes), east) {
		t.Errorf("unreachable nodes %v and %v", pods(u[0].Nodes), pods(u[1].Nodes))
	}
	if s := u[1].String(); !strings.Contains(s, "orders-dc1-r1-0, orders-dc1-r2-0") || !strings.Contains(s, "cannot see orders-dc3-r1-0") {
		t.Errorf("message %q does not say who cannot see whom", s)
	}
	r.sim.Heal()
	waitResult(t, c, exp, "healthy after heal", func(res ring.Result) bool { return res.Healthy })
}

// TestSimJolokiaFaults: a slow agent and a closed agent are NotQueried with
// their typed errors; the other views still count.
func TestSimJolokiaFaults(t *testing.T) {
	r := startSimRing(t, nineNodes)
	c := newClient(nil, 300*time.Millisecond)
	exp := ring.Expected{Nodes: r.nodes}
	waitResult(t, c, exp, "healthy", func(res ring.Result) bool { return res.Healthy })
	r.procs["orders-dc1-r2-0"].SetJolokiaDelay(5 * time.Second)
	r.procs["orders-dc3-r3-0"].RefuseJolokia(true)
	s := ring.Take(context.Background(), c, r.nodes, ring.DefaultSnapshotOptions())
	slow, _ := s.Entry("orders-dc1-r2-0")
	closed, _ := s.Entry("orders-dc3-r3-0")
	if !errors.Is(slow.Err, jolokia.ErrTimeout) {
		t.Errorf("slow agent: %v, want ErrTimeout", slow.Err)
	}
	if closed.Err == nil || errors.Is(closed.Err, jolokia.ErrTimeout) {
		t.Errorf("closed agent: %v, want connection refused", closed.Err)
	}
	res := ring.Assess(s, exp)
	nq := reasonsOf(res, ring.NotQueried)
	if len(res.Reasons) != 2 || len(nq) != 2 || pods(nq[0].Nodes)[0] != "orders-dc1-r2-0" || pods(nq[1].Nodes)[0] != "orders-dc3-r3-0" {
		t.Errorf("reasons %v, want the two nodes NotQueried only", res.Reasons)
	}
}

// TestSimAuth: agents with basic auth refuse a client without credentials
// (401, typed), and the password appears nowhere.
func TestSimAuth(t *testing.T) {
	const password = "pa55-for-the-test"
	spec := nineNodes
	spec.User, spec.Password = "monitor", password
	r := startSimRing(t, spec)
	good := newClient(map[string]jolokia.Credentials{"": {Username: "monitor", Password: password}}, 2*time.Second)
	exp := ring.Expected{Nodes: r.nodes}
	waitResult(t, good, exp, "healthy", func(res ring.Result) bool { return res.Healthy })
	for name, c := range map[string]*jolokia.Client{
		"none":  newClient(nil, 2*time.Second),
		"wrong": newClient(map[string]jolokia.Credentials{"eu-west": {Username: "monitor", Password: "nope"}, "": {Username: "monitor", Password: password}}, 2*time.Second),
	} {
		s := ring.Take(context.Background(), c, r.nodes, ring.DefaultSnapshotOptions())
		for _, e := range s.Entries {
			refused := e.Node.Context == "eu-west" || name == "none"
			if refused != errors.Is(e.Err, jolokia.ErrUnauthorized) {
				t.Errorf("%s credentials, %s: %v", name, e.Node.Pod, e.Err)
			}
			if e.Err != nil && strings.Contains(e.Err.Error(), password) {
				t.Errorf("error shows the password: %v", e.Err)
			}
		}
	}
}

// TestSimJoiningAndUnknown: a node that never finishes joining is UJ and
// NodeJoining; a node no pod expects is an UnknownNode.
func TestSimJoiningAndUnknown(t *testing.T) {
	r := startSimRing(t, nineNodes)
	c := newClient(nil, 2*time.Second)
	exp := ring.Expected{Nodes: r.nodes}
	waitResult(t, c, exp, "healthy", func(res ring.Result) bool { return res.Healthy })

	joiner := r.node(1, 1, 1)
	r.sim.SetPodFaults(joiner.Namespace, joiner.Pod, cassandra.Faults{NeverFinishJoining: true})
	r.start(joiner, r.seeds())
	withJoiner := ring.Expected{Nodes: append(slices.Clone(r.nodes), joiner)}
	res := waitResult(t, c, withJoiner, "joiner seen joining by all", func(res ring.Result) bool {
		j := reasonsOf(res, ring.NodeJoining)
		return len(res.Reasons) == 1 && len(j) == 1 && len(j[0].SeenBy) == 10
	})
	if len(res.Reasons) != 1 || pods(res.Reasons[0].Nodes)[0] != joiner.Pod {
		t.Errorf("reasons %v", res.Reasons)
	}
	for _, st := range res.Nodes {
		if st.Node.Pod == joiner.Pod && st.State != ring.UJ {
			t.Errorf("joiner is %s, want UJ", st.State)
		}
	}
	// Without the joiner expected, it is an unknown node in every view.
	res = assess(c, exp)
	u := reasonsOf(res, ring.UnknownNode)
	if len(u) != 1 || u[0].Nodes[0].Address != joiner.IP || len(u[0].SeenBy) != 9 {
		t.Errorf("unknown node: %v", res.Reasons)
	}
	// Named after its pod when the pod is known but not expected.
	res = ring.Assess(ring.Take(context.Background(), c, exp.Nodes, ring.DefaultSnapshotOptions()), ring.Expected{Nodes: r.nodes, Extra: []ring.Node{joiner}})
	if u := reasonsOf(res, ring.UnknownNode); len(u) != 1 || u[0].Nodes[0].Pod != joiner.Pod {
		t.Errorf("unknown extra pod: %v", res.Reasons)
	}
}

func TestSimSchemaDisagreement(t *testing.T) {
	r := startSimRing(t, nineNodes)
	c := newClient(nil, 2*time.Second)
	exp := ring.Expected{Nodes: r.nodes}
	waitResult(t, c, exp, "healthy", func(res ring.Result) bool { return res.Healthy })
	r.procs["orders-dc2-r3-0"].SetSchemaVersion("11111111-2222-3333-4444-555555555555")
	res := waitResult(t, c, exp, "schema disagreement seen by all", func(res ring.Result) bool {
		sd := reasonsOf(res, ring.SchemaDisagreement)
		return len(res.Reasons) == 1 && len(sd) == 1 && len(sd[0].SeenBy) == 9
	})
	sd := reasonsOf(res, ring.SchemaDisagreement)[0]
	if !slices.Equal(pods(sd.Nodes), []string{"orders-dc2-r3-0"}) || !strings.Contains(sd.Detail, "11111111-2222-3333-4444-555555555555 on 1 node") {
		t.Errorf("reason %v", sd)
	}
}

// TestSimDecommission: the last node of a rack leaves; the ring without it
// is healthy. A failing decommission is reported, and asking again retries
// it (Cassandra 4.x: the node stays LEAVING; TestSimDecommissionRetries has
// 5.0's DECOMMISSION_FAILED).
func TestSimDecommission(t *testing.T) {
	o := fastSimOptions()
	o.ReleaseVersion = "4.1.5"
	r := startSimRing(t, ringSpec{DCs: 2, Racks: 3, PerRack: 2, Options: o})
	c := newClient(nil, 2*time.Second)
	waitResult(t, c, ring.Expected{Nodes: r.nodes}, "healthy", func(res ring.Result) bool { return res.Healthy })
	d := jolokia.NewOperations(c, jolokia.OperationOptions{})

	leaver := r.nodes[len(r.nodes)-1] // orders-dc2-r3-1
	r.procs[leaver.Pod].FailDecommission(true)
	if err := d.Decommission(context.Background(), leaver); !errors.Is(err, jolokia.ErrDecommissionFailed) {
		t.Fatalf("failing decommission: got %v", err)
	}
	waitResult(t, c, ring.Expected{Nodes: r.nodes}, "after the failure, the node still leaving", func(res ring.Result) bool {
		l := reasonsOf(res, ring.NodeLeaving)
		return len(res.Reasons) == 1 && len(l) == 1 && pods(l[0].Nodes)[0] == leaver.Pod
	})
	// Another node may not start leaving meanwhile.
	other := r.nodes[0]
	if err := d.Decommission(context.Background(), other); !errors.Is(err, jolokia.ErrRingBusy) {
		t.Errorf("second node: got %v, want ErrRingBusy", err)
	}
	r.procs[leaver.Pod].FailDecommission(false)
	if err := d.Decommission(context.Background(), leaver); err != nil {
		t.Fatalf("retry: %v", err)
	}
	for _, st := range r.sim.Ring("orders") {
		if st.Address == leaver.IP {
			t.Errorf("%s still in the ring: %+v", leaver.Pod, st)
		}
	}
	rest := ring.Expected{Nodes: r.nodes[:len(r.nodes)-1]}
	waitResult(t, c, rest, "healthy without the leaver", func(res ring.Result) bool { return res.Healthy })
	if err := d.Decommission(context.Background(), leaver); err != nil {
		t.Errorf("again on a decommissioned node: %v", err)
	}
}

// TestSimDecommission3x: Cassandra 3.x takes decommission() without argument.
func TestSimDecommission3x(t *testing.T) {
	o := fastSimOptions()
	o.ReleaseVersion = "3.11.17"
	r := startSimRing(t, ringSpec{DCs: 1, Racks: 2, PerRack: 2, Options: o})
	c := newClient(nil, 2*time.Second)
	waitResult(t, c, ring.Expected{Nodes: r.nodes}, "healthy", func(res ring.Result) bool { return res.Healthy })
	leaver := r.nodes[len(r.nodes)-1]
	d := jolokia.NewOperations(c, jolokia.OperationOptions{})
	if err := d.Decommission(context.Background(), leaver); err != nil {
		t.Fatal(err)
	}
	if m := r.procs[leaver.Pod].Mode(); m != "DECOMMISSIONED" {
		t.Errorf("mode %s", m)
	}
}
