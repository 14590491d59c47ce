package realnodes

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ringops/ringops/test/e2e/harness"
	"github.com/ringops/ringops/test/env"
	"github.com/ringops/ringops/test/env/cqldata"
	"github.com/ringops/ringops/test/env/realcassandra"
)

// realWorlds is the package's world of real Cassandra 5.0 nodes: three
// regions, one JVM per pod.
var realWorlds = harness.NewWorld("world of real nodes", "starts three control planes and real Cassandra JVMs", env.RealOptions)

// realWorld is the package's world of real nodes, started by the first
// test that needs it. It is stopped by TestMain (kept on failure).
func realWorld(t *testing.T) *env.World {
	t.Helper()
	return realWorlds.Get(t)
}

// realCluster is a cluster of the real world, written as a user writes
// one: cluster.yaml and a Component per region that publishes the pods'
// names under the datacenter's dnsDomain (as external-DNS does), so that
// seeds resolve from every region.
type realCluster struct {
	w    *env.World
	name string
	dir  string
	prev string
	n    int
	// rotate is spec.cql.rotate ("": unset).
	rotate string
}

// realSpec is the spec of the real-node scenarios; %s are filled by
// realCluster.write: the cluster name, then the datacenters.
const realSpecHead = `apiVersion: ringops.dev/v1alpha1
kind: CassandraCluster
metadata: {name: %[1]s, namespace: cassandra}
spec:
  image: cassandra:5.0.9
  nodesPerRack: 1
  seedsPerDatacenter: 3
  storage: {size: 1Gi}
  config:
    cassandra-yaml: {%[2]s}
  rollout: {healthTimeout: 10m, settle: 2s}
  pod: {terminationGracePeriodSeconds: 120}
  datacenters:
`

// realDC is one datacenter of a real-node spec.
type realDC struct {
	Name, Context string
	RF            int
	Racks         []int // nodes per rack, racks named r1, r2, ...
}

// newRealCluster holds the machine's real-Cassandra lock for the test (the
// JVMs of test/env's real tests never start beside this package's) and
// stops the cluster's nodes when the test ends, so that one scenario's
// idle JVMs do not slow the next one's.
func newRealCluster(t *testing.T, w *env.World, name string) *realCluster {
	t.Helper()
	release, err := realcassandra.Exclusive(t.Context(), func() {
		t.Logf("waiting for another test process's real Cassandra nodes (lock %s)", realcassandra.LockFile)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	c := &realCluster{w: w, name: name, dir: filepath.Join(t.TempDir(), name)}
	t.Cleanup(func() { c.stopNodes(t) })
	domains := map[string]string{}
	for i, r := range w.Regions() {
		domains[r.Name] = "dc" + strconv.Itoa(i+1) + "." + name + ".db.example.com"
	}
	if err := env.PublishExternalDNS(c.dir, name, domains); err != nil {
		t.Fatal(err)
	}
	return c
}

// stopNodes deletes the cluster's StatefulSets, then its pods at once
// (grace period 0: the kubelet kills their JVMs), and waits until no JVM of
// the cluster runs.
func (c *realCluster) stopNodes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sel := metav1.ListOptions{LabelSelector: "ringops.dev/cluster=" + c.name}
	zero := int64(0)
	for _, r := range c.w.Regions() {
		if err := r.Client.AppsV1().StatefulSets("cassandra").DeleteCollection(ctx, metav1.DeleteOptions{}, sel); err != nil {
			t.Logf("stop %s in %s: StatefulSets: %v", c.name, r.Name, err)
		}
		if err := r.Client.CoreV1().Pods("cassandra").DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, sel); err != nil {
			t.Logf("stop %s in %s: pods: %v", c.name, r.Name, err)
		}
	}
	for ctx.Err() == nil {
		var running []string
		for _, n := range c.w.Real.Nodes() {
			if strings.HasPrefix(n.Pod(), c.name+"-") {
				running = append(running, n.Pod())
			}
		}
		if len(running) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Logf("stop %s: JVMs still running after 3 minutes: %v", c.name, running)
		case <-time.After(time.Second):
		}
	}
}

// write writes cluster.yaml with these datacenters and cassandra-yaml
// overrides, keeping the spec written before for --previous.
func (c *realCluster) write(t *testing.T, yamlConfig string, dcs ...realDC) {
	t.Helper()
	var b strings.Builder
	// Writes time out after 5 s instead of 2 (the client waits 10 s): on
	// two cores running seven JVMs and other tests, a replica that is up
	// can take longer than 2 s to acknowledge (one LOCAL_QUORUM write of
	// 31,544 timed out so during a roll, "received only 1 responses",
	// while the third replica was rightly down for its restart). A roll
	// taking two replicas down shows as Unavailable, which no timeout
	// hides.
	config := "write_request_timeout: 5000ms"
	if yamlConfig != "" {
		config += ", " + yamlConfig
	}
	head := fmt.Sprintf(realSpecHead, c.name, config)
	if c.rotate != "" {
		head = strings.Replace(head, "  datacenters:\n", fmt.Sprintf("  cql: {rotate: %q}\n  datacenters:\n", c.rotate), 1)
	}
	b.WriteString(head)
	for _, dc := range dcs {
		fmt.Fprintf(&b, "    - name: %s\n      context: %s\n      dnsDomain: %s.%s.db.example.com\n      replicationFactor: %d\n      racks:\n",
			dc.Name, dc.Context, dc.Name, c.name, dc.RF)
		for i, n := range dc.Racks {
			fmt.Fprintf(&b, "        - {name: r%d, nodes: %d}\n", i+1, n)
		}
	}
	spec := filepath.Join(c.dir, "cluster.yaml")
	if old, err := os.ReadFile(spec); err == nil {
		c.n++
		c.prev = filepath.Join(filepath.Dir(c.dir), c.name+".previous."+strconv.Itoa(c.n)+".yaml")
		if err := os.WriteFile(c.prev, old, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(spec, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// apply runs `ringops apply --wait` and fails the test unless it converged.
func (c *realCluster) apply(t *testing.T, limit time.Duration) harness.Run {
	t.Helper()
	args := []string{"apply", c.dir, "--kubeconfig", c.w.Kubeconfig, "--wait", "-v", "--timeout", limit.String()}
	if c.prev != "" {
		args = append(args, "--previous", c.prev)
	}
	r := harness.Ringops(t, limit+time.Minute, args...)
	if r.Code != 0 {
		t.Fatalf("apply did not converge: exit %d", r.Code)
	}
	return r
}

// pods returns the cluster's pods of datacenter dc, by name.
func (c *realCluster) pods(t *testing.T, dc string) []corev1.Pod {
	t.Helper()
	var out []corev1.Pod
	for _, r := range c.w.Regions() {
		l, err := r.Client.CoreV1().Pods("cassandra").List(t.Context(), metav1.ListOptions{
			LabelSelector: "ringops.dev/cluster=" + c.name + ",ringops.dev/datacenter=" + dc,
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l.Items...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// session opens a CQL session whose coordinators are dc's nodes.
func (c *realCluster) session(t *testing.T, dc string) *cqldata.Session {
	t.Helper()
	var hosts []string
	for _, p := range c.pods(t, dc) {
		if p.Status.PodIP != "" {
			hosts = append(hosts, p.Status.PodIP)
		}
	}
	if len(hosts) == 0 {
		t.Fatalf("no pod of %s has an IP", dc)
	}
	user, password := c.cqlCredentials(t)
	var s *cqldata.Session
	var err error
	for range 10 { // a node that just turned Ready may take a moment to accept CQL
		if s, err = cqldata.DialAs(dc, user, password, hosts...); err == nil {
			t.Cleanup(s.Close)
			return s
		}
		time.Sleep(3 * time.Second)
	}
	t.Fatal(err)
	return nil
}

// cqlCredentials are those of the Secret <cluster>-cql ringops keeps
// (CQL authentication Password, the default), read in the seed region.
func (c *realCluster) cqlCredentials(t *testing.T) (user, password string) {
	t.Helper()
	s, err := c.w.Regions()[0].Client.CoreV1().Secrets("cassandra").Get(t.Context(), c.name+"-cql", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the CQL credentials ringops keeps: %v", err)
	}
	return string(s.Data["username"]), string(s.Data["password"])
}

// node returns the running JVM of a pod of the cluster.
func (c *realCluster) node(t *testing.T, pod string) *realcassandra.Container {
	t.Helper()
	for _, r := range c.w.Regions() {
		if n := c.w.Real.Node(r.Name, "cassandra", pod); n != nil {
			return n
		}
	}
	t.Fatalf("no running node %s", pod)
	return nil
}

// nodetoolRow is one line of `nodetool status`.
type nodetoolRow struct {
	State, Address, Load, HostID, Rack string
}

// nodetoolStatus runs `nodetool status` on a node and parses its rows.
func nodetoolStatus(t *testing.T, n *realcassandra.Container) (map[string]nodetoolRow, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := n.Nodetool(ctx, "status")
	if err != nil {
		t.Fatal(err)
	}
	return parseNodetoolStatus(out), out
}

// parseNodetoolStatus reads the node rows of a `nodetool status`, by address.
func parseNodetoolStatus(out string) map[string]nodetoolRow {
	rows := map[string]nodetoolRow{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 8 || len(f[0]) != 2 || !strings.ContainsAny(f[0][:1], "UD") {
			continue
		}
		// UN  127.x.y.z  114.7 KiB  16  100.0%  <host id>  r1
		rows[f[1]] = nodetoolRow{State: f[0], Address: f[1], Load: f[2] + " " + f[3], HostID: f[len(f)-2], Rack: f[len(f)-1]}
	}
	return rows
}

// statusNode is a node of `ringops status -o json`.
type statusNode struct {
	State string `json:"state"`
	Load  string `json:"load"`
	Node  struct {
		Pod        string `json:"pod"`
		IP         string `json:"address"`
		Datacenter string `json:"datacenter"`
		Rack       string `json:"rack"`
	} `json:"node"`
	HostID string `json:"hostID"`
}

// ringopsStatus runs `ringops status -o json` on the cluster.
func (c *realCluster) ringopsStatus(t *testing.T) ([]statusNode, harness.Run) {
	t.Helper()
	r := harness.Ringops(t, 2*time.Minute, "status", c.dir, "--kubeconfig", c.w.Kubeconfig, "-o", "json")
	var rep struct {
		Nodes []statusNode `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("ringops status -o json: %v", err)
	}
	return rep.Nodes, r
}

// readyTimes returns when each pod of the cluster turned Ready, and when
// it was created.
func (c *realCluster) podTimes(t *testing.T) (ready, created map[string]time.Time) {
	t.Helper()
	ready, created = map[string]time.Time{}, map[string]time.Time{}
	for _, r := range c.w.Regions() {
		l, err := r.Client.CoreV1().Pods("cassandra").List(t.Context(), metav1.ListOptions{LabelSelector: "ringops.dev/cluster=" + c.name})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range l.Items {
			created[p.Name] = p.CreationTimestamp.Time
			for _, cond := range p.Status.Conditions {
				if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
					ready[p.Name] = cond.LastTransitionTime.Time
				}
			}
		}
	}
	return ready, created
}

// loads returns each node's load in bytes according to a nodetool status.
func loadBytes(load string) float64 {
	f := strings.Fields(load)
	if len(f) != 2 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	mult := map[string]float64{"bytes": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}[f[1]]
	return v * mult
}

func podNames(pods []corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return slices.Sorted(slices.Values(out))
}

func readLog(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
