package jolokia_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ringops/ringops/internal/testkit/wait"
	"github.com/ringops/ringops/test/env/loopback"

	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/test/env/cassandra"
)

// loopbackBlock reserves a free 127.B.0.0/16 for the test (the lock protocol
// of test/env/loopback, shared with the local world), held until it ends.
func loopbackBlock(t testing.TB) int {
	t.Helper()
	b, err := loopback.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Release() })
	return b.B
}

// regionNames are the contexts of the simulated datacenters dc1, dc2, dc3.
var regionNames = []string{"eu-west", "us-east", "ap-south"}

// ringSpec shapes a simulated ring: DCs x Racks x PerRack nodes of cluster
// "orders", pods orders-dc<d>-r<r>-<o> at 127.B.<d>.<r*16+o+1>.
type ringSpec struct {
	DCs, Racks, PerRack int
	// AllSeeds makes every node a seed: nodes start NORMAL at once (no
	// bootstrap), for benchmarks.
	AllSeeds       bool
	User, Password string
	Options        cassandra.Options
}

// simRing is a running simulated ring and the nodes ringops expects.
type simRing struct {
	t     testing.TB
	block int
	spec  ringSpec
	sim   *cassandra.Sim
	nodes []ring.Node
	procs map[string]*cassandra.Node // by pod
}

// fastSimOptions are short simulator timings for tests.
func fastSimOptions() cassandra.Options {
	o := cassandra.DefaultOptions()
	o.BootstrapTime = 100 * time.Millisecond
	o.StartupTime = 10 * time.Millisecond
	o.DecommissionTime = 200 * time.Millisecond
	o.GossipInterval = 20 * time.Millisecond
	o.SeedTimeout = 2 * time.Second
	o.NumTokens = 4
	return o
}

// startSimRing starts every node, seeds first, one bootstrap at a time as
// Cassandra requires; the Sim is closed when the test ends.
func startSimRing(t testing.TB, spec ringSpec) *simRing {
	t.Helper()
	if spec.Options.GossipInterval == 0 {
		spec.Options = fastSimOptions()
	}
	r := &simRing{t: t, block: loopbackBlock(t), spec: spec, sim: cassandra.New(spec.Options, nil), procs: map[string]*cassandra.Node{}}
	t.Cleanup(r.sim.Close)
	var seeds []string
	for d := 1; d <= spec.DCs; d++ {
		for rk := 1; rk <= spec.Racks; rk++ {
			for o := 0; o < spec.PerRack; o++ {
				n := r.node(d, rk, o)
				r.nodes = append(r.nodes, n)
				if spec.AllSeeds || (rk == 1 && o == 0) {
					seeds = append(seeds, n.IP)
				}
			}
		}
	}
	for _, n := range r.nodes { // seeds first
		if contains(seeds, n.IP) {
			r.start(n, seeds)
		}
	}
	// The others as ringops grows a datacenter: ordinal 0 of every rack,
	// then ordinal 1, ... (Cassandra's token allocator refuses a node
	// joining a rack that has one while its datacenter has two racks).
	for d := 1; d <= spec.DCs; d++ {
		for o := 0; o < spec.PerRack; o++ {
			for rk := 1; rk <= spec.Racks; rk++ {
				n := r.nodes[((d-1)*spec.Racks+rk-1)*spec.PerRack+o]
				if !contains(seeds, n.IP) {
					r.start(n, seeds)
					r.waitMode(n.Pod, "NORMAL")
				}
			}
		}
	}
	return r
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (r *simRing) node(d, rk, o int) ring.Node {
	return ring.Node{
		Cluster: "orders", Context: regionNames[(d-1)%len(regionNames)], Namespace: "cassandra",
		Pod:        fmt.Sprintf("orders-dc%d-r%d-%d", d, rk, o),
		Datacenter: fmt.Sprintf("dc%d", d), Rack: fmt.Sprintf("r%d", rk),
		IP: fmt.Sprintf("127.%d.%d.%d", r.block, d, rk*16+o+1), Port: 8778,
	}
}

func (r *simRing) start(n ring.Node, seeds []string) *cassandra.Node {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := r.sim.Start(ctx, cassandra.NodeConfig{
		Key: n.Pod, Pod: n.Pod, Namespace: n.Namespace, Region: n.Context, IP: n.IP,
		ClusterName: "orders", DC: n.Datacenter, Rack: n.Rack, Seeds: seeds,
		JolokiaPort: int(n.Port), JolokiaUser: r.spec.User, JolokiaPassword: r.spec.Password,
	})
	if err != nil {
		r.t.Fatalf("start %s: %v", n.Pod, err)
	}
	r.procs[n.Pod] = p
	return p
}

// seeds are the seed IPs of the ring (ordinal 0 of rack r1 of each DC).
func (r *simRing) seeds() []string {
	var out []string
	for _, n := range r.nodes {
		if n.Rack == "r1" && strings.HasSuffix(n.Pod, "-0") {
			out = append(out, n.IP)
		}
	}
	return out
}

func (r *simRing) waitMode(pod, mode string) {
	r.t.Helper()
	eventually(r.t, pod+" "+mode, func() (bool, string) {
		m := r.procs[pod].Mode()
		return m == mode, "mode " + m
	})
}

// ips returns the IPs of the nodes of a datacenter.
func (r *simRing) ips(dcs ...string) []string {
	var out []string
	for _, n := range r.nodes {
		if contains(dcs, n.Datacenter) {
			out = append(out, n.IP)
		}
	}
	return out
}

// eventually waits up to a minute for cond (wait.Until): the simulated
// ring's convergence.
func eventually(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	wait.Until(t, time.Minute, what, cond)
}
