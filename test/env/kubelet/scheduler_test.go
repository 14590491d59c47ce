package kubelet

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func node(name, zone string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{LabelHostname: name, LabelZone: zone}},
		Spec:       corev1.NodeSpec{Taints: taints},
	}
}

func pod(ns, name string, labels map[string]string, affinity *corev1.Affinity) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name), Labels: labels},
		Spec:       corev1.PodSpec{Affinity: affinity},
	}
}

func antiAffinity(key string, match map[string]string) *corev1.Affinity {
	return &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchLabels: match}, TopologyKey: key,
		}},
	}}
}

func TestFits(t *testing.T) {
	cass := map[string]string{"app": "cassandra"}
	n1, n2 := node("n1", "z1"), node("n2", "z1")
	nodes := map[string]*corev1.Node{"n1": n1, "n2": n2}
	onN1 := []placed{{pod: pod("db", "c-0", cass, nil), node: "n1"}}
	onN1Anti := []placed{{pod: pod("db", "c-0", cass, antiAffinity(LabelHostname, cass)), node: "n1"}}
	tainted := node("n3", "z2", corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule})
	zoneIn := &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: LabelZone, Operator: corev1.NodeSelectorOpIn, Values: []string{"z2"}}},
		}}},
	}}
	tolerating := pod("db", "c-1", cass, nil)
	tolerating.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "db"}}
	for _, tc := range []struct {
		name   string
		pod    *corev1.Pod
		node   *corev1.Node
		others []placed
		fits   bool
	}{
		{"empty node", pod("db", "c-1", cass, antiAffinity(LabelHostname, cass)), n2, onN1, true},
		{"anti-affinity on the same host", pod("db", "c-1", cass, antiAffinity(LabelHostname, cass)), n1, onN1, false},
		{"anti-affinity is symmetric", pod("db", "c-1", cass, nil), n1, onN1Anti, false},
		{"anti-affinity by zone", pod("db", "c-1", cass, antiAffinity(LabelZone, cass)), n2, onN1, false},
		{"anti-affinity in another namespace", pod("other", "c-1", cass, antiAffinity(LabelHostname, cass)), n1, onN1, true},
		{"anti-affinity not matching", pod("db", "c-1", map[string]string{"app": "x"}, antiAffinity(LabelHostname, map[string]string{"app": "x"})), n1, onN1, true},
		{"untolerated taint", pod("db", "c-1", cass, nil), tainted, nil, false},
		{"tolerated taint", tolerating, tainted, nil, true},
		{"node affinity matches", pod("db", "c-1", cass, zoneIn), node("n4", "z2"), nil, true},
		{"node affinity does not match", pod("db", "c-1", cass, zoneIn), n1, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fits(tc.pod, tc.node, tc.others, nodes) == ""; got != tc.fits {
				t.Errorf("fits = %t (%q), want %t", got, fits(tc.pod, tc.node, tc.others, nodes), tc.fits)
			}
		})
	}
}

func TestNodeSelector(t *testing.T) {
	p := pod("db", "c-0", nil, nil)
	p.Spec.NodeSelector = map[string]string{LabelZone: "z2"}
	if why := fits(p, node("n1", "z1"), nil, nil); why == "" {
		t.Error("pod with nodeSelector zone z2 fits a node of zone z1")
	}
	if why := fits(p, node("n2", "z2"), nil, nil); why != "" {
		t.Errorf("pod with nodeSelector zone z2 does not fit a node of zone z2: %s", why)
	}
}

// TestDirectorySetDelete: a pod's cluster DNS name follows its IP; a
// delete with an older IP (a pod that came back at a new address) keeps it.
func TestDirectorySetDelete(t *testing.T) {
	d := NewDirectory()
	const name = "orders-dc1-r1-0.orders.cassandra.svc.cluster.local"
	d.Set("eu-west", "cassandra", "orders-dc1-r1-0", "orders", "127.20.1.1")
	d.Set("us-east", "other", "orders-dc1-r1-0", "orders", "127.20.2.7")
	if got, ok := d.Lookup("eu-west", name); !ok || got != "127.20.1.1" {
		t.Errorf("Lookup(eu-west, %s) = %q, %t; want 127.20.1.1", name, got, ok)
	}
	if got, ok := d.Lookup("us-east", "orders-dc1-r1-0.orders.other.svc.cluster.local"); !ok || got != "127.20.2.7" {
		t.Errorf("Lookup in us-east of its own pod = %q, %t; want 127.20.2.7", got, ok)
	}
	if got, ok := d.Lookup("eu-west", "orders-dc1-r1-0"); ok {
		t.Errorf("a bare pod name resolved to %q; only whole names resolve", got)
	}
	d.Delete("eu-west", "cassandra", "orders-dc1-r1-0", "127.20.9.9") // an older IP: kept
	if got, _ := d.Lookup("eu-west", name); got != "127.20.1.1" {
		t.Errorf("delete with a stale IP removed the entry: got %q", got)
	}
	d.Delete("eu-west", "cassandra", "orders-dc1-r1-0", "127.20.1.1")
	if got, ok := d.Lookup("eu-west", name); ok {
		t.Errorf("Lookup after delete = %q, want none", got)
	}
}

func TestDirectoryHosts(t *testing.T) {
	d := NewDirectory()
	changes := 0
	d.OnChange(func() { changes++ })
	d.Set("eu-west", "cassandra", "orders-dc1-r1-0", "orders", "127.20.1.1")
	d.Set("us-east", "cassandra", "orders-dc2-r1-0", "orders", "127.20.2.1")
	d.SetService("eu-west", "cassandra", "orders", []string{"dc1.orders.db.example.com"})
	d.SetService("eu-west", "cassandra", "orders", []string{"dc1.orders.db.example.com"}) // unchanged
	want := []Host{
		{"orders-dc1-r1-0.dc1.orders.db.example.com", "127.20.1.1"},
		{"orders-dc2-r1-0.orders.cassandra", "127.20.2.1"},
		{"orders-dc2-r1-0.orders.cassandra.svc.cluster.local", "127.20.2.1"},
	}
	if got := d.Hosts("us-east"); !slices.Equal(got, want) {
		t.Errorf("Hosts(us-east) = %v, want %v (eu-west's cluster DNS is not visible from us-east; external-DNS names are)", got, want)
	}
	if changes != 3 {
		t.Errorf("%d change notifications, want 3", changes)
	}
	d.Delete("eu-west", "cassandra", "orders-dc1-r1-0", "127.20.1.1")
	if got := d.Hosts("us-east"); len(got) != 2 {
		t.Errorf("after delete: Hosts(us-east) = %v", got)
	}
}

// TestDirectoryLookup: Lookup resolves exactly the names of the region's
// hosts file (cluster DNS of the region, with and without the search
// list's svc.cluster.local, external-DNS names of every region), as a
// real node does through it; a name under a domain nobody
// publishes, or another region's cluster DNS name, resolves nowhere.
func TestDirectoryLookup(t *testing.T) {
	d := NewDirectory()
	d.Set("eu-west", "cassandra", "orders-dc1-r1-0", "orders", "127.20.1.1")
	d.Set("us-east", "cassandra", "orders-dc2-r1-0", "orders", "127.20.2.1")
	d.SetService("us-east", "cassandra", "orders", []string{"dc2.orders.db.example.com"})
	for _, c := range []struct {
		region, host, want string
	}{
		{"eu-west", "orders-dc1-r1-0.orders.cassandra.svc.cluster.local", "127.20.1.1"},
		{"eu-west", "orders-dc1-r1-0.orders.cassandra", "127.20.1.1"}, // the search list's svc.cluster.local
		{"us-east", "orders-dc1-r1-0.orders.cassandra", ""},           // not from another region
		{"eu-west", "orders-dc1-r1-0.orders", ""},                     // only from the pod's namespace: not in a region's file
		{"eu-west", "orders-dc2-r1-0.dc2.orders.db.example.com", "127.20.2.1"},
		{"us-east", "orders-dc2-r1-0.dc2.orders.db.example.com", "127.20.2.1"},
		{"us-east", "orders-dc1-r1-0.orders.cassandra.svc.cluster.local", ""}, // another region's cluster DNS
		{"eu-west", "orders-dc1-r1-0.dc1.orders.db.example.com", ""},          // a domain nobody publishes
		{"eu-west", "orders-dc1-r1-0", ""},
	} {
		got, ok := d.Lookup(c.region, c.host)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("Lookup(%s, %s) = %q, %t; want %q", c.region, c.host, got, ok, c.want)
		}
	}
}
