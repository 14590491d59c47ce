package main

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/schemas"
)

// TestStatusJudgesTheEnginesRing: mid-rollout, `ringops status` and the
// engine judge the same ring against the same nodes. The spec asks for 3
// nodes in dc1/r1 and 2 in dc2/r1; the planner has grown dc1/r1 to 2 of 3
// so far (its third pod does not exist yet) and is shrinking dc2/r1 from 3
// (orders-dc2-r1-2 decommissioning, still a member). Status used to expect
// the spec's nodes (ring.ExpectedNodes): orders-dc1-r1-2 NotQueried and
// orders-dc2-r1-2 an extra pod, so it said unhealthy while the engine, over
// the live replicas (plan.RingExpected), said healthy and went on.
func TestStatusJudgesTheEnginesRing(t *testing.T) {
	three, two := int32(3), int32(2)
	c := &schemas.CassandraCluster{
		Metadata: schemas.ObjectMeta{Name: "orders", Namespace: "cassandra"},
		Spec: schemas.ClusterSpec{Datacenters: []schemas.Datacenter{
			{Name: "dc1", Context: "eu-west", Racks: []schemas.Rack{{Name: "r1", Nodes: &three}}},
			{Name: "dc2", Context: "us-east", Racks: []schemas.Rack{{Name: "r1", Nodes: &two}}},
		}},
	}
	c.Default()
	sets := map[string][]*unstructured.Unstructured{
		"eu-west": {statefulSet("orders-dc1-r1", "dc1", "r1", 2)},
		"us-east": {statefulSet("orders-dc2-r1", "dc2", "r1", 3)},
	}
	pods := map[string][]corev1.Pod{
		"eu-west": {clusterPod("orders-dc1-r1-0", "dc1", "10.0.1.1"), clusterPod("orders-dc1-r1-1", "dc1", "10.0.1.2")},
		"us-east": {clusterPod("orders-dc2-r1-0", "dc2", "10.0.2.1"), clusterPod("orders-dc2-r1-1", "dc2", "10.0.2.2"),
			clusterPod("orders-dc2-r1-2", "dc2", "10.0.2.3")},
	}
	o := &plan.Observed{Contexts: map[string]*plan.Context{}}
	for kc := range sets {
		o.Contexts[kc] = &plan.Context{Objects: sets[kc], Pods: pods[kc]}
	}
	engine := plan.RingExpected("orders", o, 8778)
	status := statusExpected(c, c.Contexts(), sets, pods)
	if got, want := nodeNames(status.Nodes), nodeNames(engine.Nodes); got != want {
		t.Fatalf("status expects %s\nthe engine expects %s", got, want)
	}
	if want := "[orders-dc1-r1-0 orders-dc1-r1-1 orders-dc2-r1-0 orders-dc2-r1-1 orders-dc2-r1-2]"; nodeNames(status.Nodes) != want {
		t.Errorf("expected nodes %s, want the live replicas %s", nodeNames(status.Nodes), want)
	}
	snap := healthySnapshot(status.Nodes)
	if res := ring.Assess(snap, status); !res.Healthy {
		t.Errorf("status: %s (the engine: %s)", res, ring.Assess(snap, engine))
	}
	// Asking for one region only still judges that region's live replicas.
	part := statusExpected(c, []string{"us-east"}, sets, pods)
	if !part.Partial || nodeNames(part.Nodes) != "[orders-dc2-r1-0 orders-dc2-r1-1 orders-dc2-r1-2]" {
		t.Errorf("--context us-east: partial %v, nodes %s", part.Partial, nodeNames(part.Nodes))
	}
}

func statefulSet(name, dc, rack string, replicas int64) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"replicas": replicas}}}
	u.SetAPIVersion("apps/v1")
	u.SetKind("StatefulSet")
	u.SetName(name)
	u.SetNamespace("cassandra")
	u.SetLabels(map[string]string{contract.LabelCluster: "orders", contract.LabelDatacenter: dc, contract.LabelRack: rack})
	return u
}

func clusterPod(name, dc, ip string) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "cassandra",
		Labels: map[string]string{contract.LabelCluster: "orders", contract.LabelDatacenter: dc, contract.LabelRack: "r1"}}}
	p.Status.PodIP = ip
	return p
}

func nodeNames(nodes []ring.Node) string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.Pod)
	}
	return fmt.Sprint(out)
}

// healthySnapshot has every node Up and Normal in every node's view.
func healthySnapshot(nodes []ring.Node) *ring.Snapshot {
	var ips []string
	hosts := map[string]string{}
	for i, n := range nodes {
		ips = append(ips, n.IP)
		hosts[n.IP] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
	}
	s := &ring.Snapshot{}
	for _, n := range nodes {
		s.Entries = append(s.Entries, ring.Entry{Node: n, View: &ring.View{Live: ips, Mode: ring.ModeNormal, HostIDs: hosts,
			SchemaVersion: "s1", NativeTransportRunning: true, ReleaseVersion: "5.0.9"}})
	}
	return s
}
