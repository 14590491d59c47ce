package ring

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ringops/ringops/schemas"
)

func TestExpectedNodes(t *testing.T) {
	two, one := int32(2), int32(1)
	c := &schemas.CassandraCluster{
		Metadata: schemas.ObjectMeta{Name: "orders", Namespace: "cassandra"},
		Spec: schemas.ClusterSpec{Datacenters: []schemas.Datacenter{
			{Name: "dc1", Context: "eu-west", Racks: []schemas.Rack{{Name: "r1", Nodes: &two}, {Name: "r2", Nodes: &one}}},
			{Name: "dc2", Context: "us-east", Racks: []schemas.Rack{{Name: "r1", Nodes: &one}}},
		}},
	}
	c.Default()
	pod := func(name, ip string, port int32) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "cassandra",
			Labels: map[string]string{"ringops.dev/datacenter": "dc1", "ringops.dev/rack": "r1"}}}
		p.Status.PodIP = ip
		if port != 0 {
			p.Spec.Containers = []corev1.Container{{Name: "cassandra", Ports: []corev1.ContainerPort{{Name: "cql", ContainerPort: 9042}, {Name: "jolokia", ContainerPort: port}}}}
		}
		return p
	}
	pods := map[string][]corev1.Pod{
		"eu-west": {pod("orders-dc1-r1-0", "10.0.1.1", 9999), pod("orders-dc1-r1-1", "", 0), pod("orders-dc1-r1-2", "10.0.1.3", 0)},
		// us-east was not observed: its node has no IP
	}
	exp := ExpectedNodes(c, pods)
	var got []string
	for _, n := range exp.Nodes {
		got = append(got, fmt.Sprintf("%s/%s/%s/%s %s:%d", n.Context, n.Datacenter, n.Rack, n.Pod, n.IP, n.Port))
	}
	want := []string{
		"eu-west/dc1/r1/orders-dc1-r1-0 10.0.1.1:9999",
		"eu-west/dc1/r1/orders-dc1-r1-1 :8778",
		"eu-west/dc1/r2/orders-dc1-r2-0 :8778",
		"us-east/dc2/r1/orders-dc2-r1-0 :8778",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("expected nodes\n got %q\nwant %q", got, want)
	}
	if len(exp.Extra) != 1 || exp.Extra[0].Pod != "orders-dc1-r1-2" || exp.Extra[0].IP != "10.0.1.3" || exp.Extra[0].Context != "eu-west" || exp.Extra[0].Rack != "r1" {
		t.Errorf("extra: %+v", exp.Extra)
	}
	for _, n := range exp.Nodes {
		if n.Cluster != "orders" || n.Namespace != "cassandra" {
			t.Errorf("node %+v", n)
		}
	}
}
