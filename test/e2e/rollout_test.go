package e2e

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ringops/ringops/test/e2e/harness"
	"github.com/ringops/ringops/test/env"
	"github.com/ringops/ringops/test/env/cassandra"
)

// limit bounds one `ringops apply --wait` of a scenario: a wait for the
// simulated cluster, not a performance assertion.
const limit = 5 * time.Minute

// TestExampleRollout takes the example cluster through its life, each
// change a commit rolled out by `ringops apply --wait` and checked
// against the simulator's ground truth: bootstrap from nothing (CQL
// authentication on by default), a second
// run that writes nothing, a rotation of ringops' CQL password, a
// scale-up in us-east, a scale-down by
// decommission in ap-south, an image change and a new datacenter.
func TestExampleRollout(t *testing.T) {
	w := sharedWorld(t)
	m := watchCluster(t, w, "orders")
	steps := []struct {
		name string
		f    func(t *testing.T, s *scenario)
	}{
		{"bootstrap from nothing, seed datacenter first", bootstrap},
		{"a second run writes nothing", secondRun},
		{"the CQL password rotated, no node restarted", rotateCQL},
		{"scale-up in us-east", scaleUp},
		{"scale-down by decommission in ap-south", scaleDown},
		{"image change rolled rack by rack", imageChange},
		{"new datacenter", newDatacenter},
	}
	s := &scenario{w: w, m: m, dir: copyExample(t, "orders")}
	for _, st := range steps {
		if !t.Run(st.name, func(t *testing.T) { st.f(t, s) }) {
			t.FailNow()
		}
	}
}

// scenario is what the steps of TestExampleRollout share.
type scenario struct {
	w   *env.World
	m   *monitor
	dir *clusterDir // the copy edited from the scale-up on
}

func bootstrap(t *testing.T, s *scenario) {
	r := harness.Ringops(t, limit, "apply", example, "--kubeconfig", s.w.Kubeconfig, "--wait", "-v")
	require.Equal(t, 0, r.Code, "%s", r)
	want := []string{"orders-dc1-r1 0 -> 1", "orders-dc1-r2 0 -> 1", "orders-dc1-r3 0 -> 1",
		"orders-dc2-r1 0 -> 1", "orders-dc2-r2 0 -> 1", "orders-dc3-r1 0 -> 1", "orders-dc3-r2 0 -> 1"}
	assert.Equal(t, want, scales(r.Stdout), "the seed datacenter first, its racks' first nodes in turn, then each datacenter in order:\n%s", r)
	assert.Equal(t, []string{"orders-dc1-r1-0", "orders-dc1-r2-0", "orders-dc1-r3-0", "orders-dc2-r1-0", "orders-dc2-r2-0",
		"orders-dc3-r1-0", "orders-dc3-r2-0"}, s.m.Joined(), "the order in which the nodes joined the ring")
	first := strings.Index(r.Stdout, "ScaleStatefulSet")
	for _, sts := range []string{"orders-dc1-r1", "orders-dc2-r2", "orders-dc3-r2"} {
		i := strings.Index(r.Stdout, "CreateStatefulSet "+sts)
		assert.True(t, i >= 0 && i < first, "every StatefulSet is created (empty) before the first node joins: %s", sts)
	}
	assertCalm(t, s.m)
	assertHealthy(t, s.w, example, "orders", 7)
	assertAuthenticated(t, s.w, r, "orders", 7, map[string]string{"class": "org.apache.cassandra.locator.NetworkTopologyStrategy", "dc1": "3", "dc2": "2", "dc3": "2"})
}

func secondRun(t *testing.T, s *scenario) {
	r := harness.Ringops(t, limit, "apply", example, "--kubeconfig", s.w.Kubeconfig, "--wait", "-v")
	require.Equal(t, 0, r.Code, "%s", r)
	assert.Len(t, harness.Lines(r.Stdout, "converged: 7 nodes in 7 racks"), 1, "%s", r)
	assert.Equal(t, 0, writes(t, r), "a converged cluster costs no API write:\n%s", r)
	assert.Empty(t, harness.Lines(r.Stdout, "ScaleStatefulSet"), "%s", r)
}

func scaleUp(t *testing.T, s *scenario) {
	s.dir.Edit(t, "settle: 10s", "settle: 1s") // the rest of the story at a quicker pace
	r := harness.Ringops(t, limit, s.dir.applyArgs(s.w.Kubeconfig, "--wait", "-v")...)
	require.Equal(t, 0, r.Code, "%s", r)
	assert.Equal(t, 0, writes(t, r), "the pace of the rollout is not rendered: nothing to write\n%s", r)

	// A third rack of two nodes: in two racks, Cassandra's token allocator
	// refuses a second node.
	s.dir.Edit(t, "      dnsDomain: dc2.orders.db.example.com\n      replicationFactor: 2\n      racks:\n        - name: r1\n        - name: r2\n",
		"      dnsDomain: dc2.orders.db.example.com\n      replicationFactor: 2\n      racks:\n        - name: r1\n        - name: r2\n        - name: r3\n          nodes: 2\n")
	r = harness.Ringops(t, limit, s.dir.applyArgs(s.w.Kubeconfig, "--wait")...)
	require.Equal(t, 0, r.Code, "%s", r)
	assert.Equal(t, []string{"orders-dc2-r3 0 -> 1", "orders-dc2-r3 1 -> 2"}, scales(r.Stdout), "%s", r)
	assertCalm(t, s.m)
	assertHealthy(t, s.w, s.dir.Dir, "orders", 9)
}

func scaleDown(t *testing.T, s *scenario) {
	s.dir.Edit(t, "      replicationFactor: 2\n      # A smaller region", "      replicationFactor: 1\n      # A smaller region",
		"add a third rack first.\n      racks:\n        - name: r1\n        - name: r2\n", "add a third rack first.\n      racks:\n        - name: r1\n        - name: r2\n          nodes: 0\n")
	r := harness.Ringops(t, limit, s.dir.applyArgs(s.w.Kubeconfig, "--wait")...)
	require.Equal(t, 0, r.Code, "%s", r)
	require.Len(t, harness.Lines(r.Stdout, "Decommission orders-dc3-r2 node orders-dc3-r2-0"), 1, "%s", r)
	assert.Equal(t, []string{"orders-dc3-r2 1 -> 0"}, scales(r.Stdout), "the replica goes after the decommission:\n%s", r)
	assert.Less(t, strings.Index(r.Stdout, "Decommission orders-dc3-r2"), strings.Index(r.Stdout, "ScaleStatefulSet orders-dc3-r2 1 -> 0"))
	pvc, err := s.w.Region("ap-south").Client.CoreV1().PersistentVolumeClaims("cassandra").Get(t.Context(), "data-orders-dc3-r2-0", metav1.GetOptions{})
	require.NoError(t, err, "the PVC of a decommissioned node is kept (deleteOnDecommission is false)")
	assert.NotEmpty(t, pvc.Annotations["ringops.dev/decommissioned"], "and marked, so that it is never reused")
	assertCalm(t, s.m)
	assertHealthy(t, s.w, s.dir.Dir, "orders", 8)
}

func imageChange(t *testing.T, s *scenario) {
	s.m.Reset()
	s.dir.Edit(t, "image: cassandra:5.0.9", "image: cassandra:5.0.10")
	r := harness.Ringops(t, limit, s.dir.applyArgs(s.w.Kubeconfig, "--wait")...)
	require.Equal(t, 0, r.Code, "%s", r)
	restarts := restarted(r.Stdout)
	assert.Equal(t, []string{"orders-dc1-r1", "orders-dc1-r2", "orders-dc1-r3", "orders-dc2-r1", "orders-dc2-r2", "orders-dc2-r3", "orders-dc3-r1"},
		racksInTurn(restarts), "rack by rack, seed datacenter first, a rack never resumed after another:\n%s", r)
	assert.Len(t, restarts, 8, "every node restarts once:\n%s", r)
	assertRecreatedOnce(t, s.m, 8)
	assertCalm(t, s.m)
	assertHealthy(t, s.w, s.dir.Dir, "orders", 8)
	assertImage(t, s.w, "orders", "cassandra:5.0.10")
}

func newDatacenter(t *testing.T, s *scenario) {
	s.dir.Append(t, "    - name: dc4\n      context: us-east\n      racks:\n        - name: r1\n        - name: r2\n")
	r := harness.Ringops(t, limit, s.dir.applyArgs(s.w.Kubeconfig, "--wait")...)
	require.Equal(t, 0, r.Code, "%s", r)
	assert.Equal(t, []string{"orders-dc4-r1 0 -> 1", "orders-dc4-r2 0 -> 1"}, scales(r.Stdout), "%s", r)
	// ringops manages the keyspaces (the default): dc4 joins without
	// bootstrap, gains the system keyspaces' replication, each node is
	// rebuilt, and only then do its own pods restart, once each, without
	// auto_bootstrap=false. dc4's seeds enter no other live seed list:
	// no other pod restarts.
	assert.Equal(t, []string{"orders-dc4-r1-0", "orders-dc4-r2-0"}, restarted(r.Stdout), "only dc4's pods restart, once each, after their rebuild:\n%s", r)
	out := strings.Join(done(r.Stdout), "\n")
	assert.Equal(t, 1, strings.Count(out, "AlterKeyspace system_auth:"), "dc4 joins the replication once:\n%s", r)
	assert.Equal(t, 2, strings.Count(out, "] Rebuild orders-dc4-"), "each node of dc4 rebuilt once:\n%s", r)
	assert.Less(t, strings.Index(out, "AlterKeyspace"), strings.Index(out, "] Rebuild "), "the replication before the rebuilds:\n%s", r)
	assertCalm(t, s.m)
	assertHealthy(t, s.w, s.dir.Dir, "orders", 10)
}

var scaleRE = regexp.MustCompile(`ScaleStatefulSet (\S+ \d+ -> \d+)`)

// scales are the ScaleStatefulSet steps printed done, in order.
func scales(out string) []string {
	var got []string
	for _, l := range done(out) {
		if m := scaleRE.FindStringSubmatch(l); m != nil {
			got = append(got, m[1])
		}
	}
	return got
}

// done are the lines of the steps carried out (not those that failed).
func done(out string) []string {
	var got []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, ": conflict, planning again: ") && !strings.Contains(l, ": FAILED: ") {
			got = append(got, l)
		}
	}
	return got
}

var restartRE = regexp.MustCompile(`RestartPod (\S+) partition \d+ -> \d+ \((\S+)\)`)

// restarted are the pods of the RestartPod steps printed, in order.
func restarted(out string) []string {
	var got []string
	for _, l := range done(out) {
		if m := restartRE.FindStringSubmatch(l); m != nil {
			got = append(got, m[2])
		}
	}
	return got
}

// racksInTurn is the StatefulSets of pods in the order their rolls ran,
// a StatefulSet listed again each time its roll resumed after another's.
func racksInTurn(pods []string) []string {
	var out []string
	for _, p := range pods {
		sts := p[:strings.LastIndexByte(p, '-')]
		if len(out) == 0 || out[len(out)-1] != sts {
			out = append(out, sts)
		}
	}
	return out
}

var writesRE = regexp.MustCompile(`requests total: .* writes=(\d+)`)

// writes is the count printed by `ringops apply -v`.
func writes(t *testing.T, r harness.Run) int {
	t.Helper()
	m := writesRE.FindStringSubmatch(r.Stdout)
	require.NotNil(t, m, "no request count in the output:\n%s", r)
	n := 0
	for _, c := range m[1] {
		n = n*10 + int(c-'0')
	}
	return n
}

// assertCalm: never two nodes busy at once, replicas always by one, no
// StatefulSet or PVC (they hold data) deleted.
func assertCalm(t *testing.T, m *monitor) {
	t.Helper()
	assert.Empty(t, m.Overlaps(), "two nodes joining, leaving or restarting at once")
	assert.Empty(t, m.Jumps(), "replicas moved by more than one")
	assert.Empty(t, m.Deleted(), "objects holding data deleted")
}

// assertRecreatedOnce: n pods were recreated, each exactly once, since
// the last Reset.
func assertRecreatedOnce(t *testing.T, m *monitor, n int) {
	t.Helper()
	again := 0
	for _, pod := range sortedKeys(m.Creations()) {
		switch c := m.Creations()[pod]; {
		case c == 2:
			again++
		case c > 2:
			t.Errorf("pod %s restarted %d times", pod, c-1)
		}
	}
	assert.Equal(t, n, again, "pods restarted: %v", m.Creations())
}

// assertHealthy: `ringops status` says the ring is healthy, and the
// simulator agrees: nodes members, every one up and NORMAL.
func assertHealthy(t *testing.T, w *env.World, dir, cluster string, nodes int) {
	t.Helper()
	r := harness.Ringops(t, time.Minute, "status", dir, "--kubeconfig", w.Kubeconfig)
	assert.Equal(t, 0, r.Code, "ringops status: %s", r)
	ring := w.Sim.Ring(cluster)
	assert.Len(t, ring, nodes, "members of the ring: %+v", ring)
	for _, n := range ring {
		assert.True(t, n.Alive && n.Mode == "NORMAL" && n.Status == "NORMAL", "node %+v", n)
		if n.Pod != cluster+"-dc1-r1-0" { // the ring's first node, its own seed
			assert.Equal(t, cassandra.JoinedByBootstrap, n.JoinedAs,
				"%s joined as its own seed: it skipped its bootstrap and owns ranges without their data (design rule 10)", n.Pod)
		}
	}
}

// assertImage: every pod of the cluster runs image.
func assertImage(t *testing.T, w *env.World, cluster, image string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var wrong []string
	for _, rg := range w.Regions() {
		pods, err := rg.Client.CoreV1().Pods("cassandra").List(ctx, metav1.ListOptions{LabelSelector: "ringops.dev/cluster=" + cluster})
		require.NoError(t, err)
		for _, p := range pods.Items {
			for _, c := range p.Spec.Containers {
				if c.Name == "cassandra" && c.Image != image {
					wrong = append(wrong, p.Name+": "+c.Image)
				}
			}
		}
	}
	slices.Sort(wrong)
	assert.Empty(t, wrong, "pods not on %s", image)
}
