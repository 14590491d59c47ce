package realnodes

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/ringops/ringops/test/e2e/harness"
	"github.com/ringops/ringops/test/env/kubelet"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Keyspaces of the real-node scenarios. ks1 has one replica per
// datacenter: a LOCAL_ONE read in a datacenter answers from the one node
// that owns the row there, so a node that joined without its data loses
// rows. ksq has three replicas in dc1: LOCAL_QUORUM there survives one
// node down at a time, and only one.
const (
	ks1 = "ringops_rf1"
	ksq = "ringops_quorum"
	// ksFill holds bulk rows (cqldata.Fill) that make a node's load.
	ksFill = "ringops_fill"
)

// TestRealNodes rolls a three-region cluster out on real Cassandra 5.0
// nodes with the built ringops binary, and checks every step with data
// written and read back over CQL, and against nodetool. The steps depend
// on each other: the first failure ends the test.
func TestRealNodes(t *testing.T) {
	w := realWorld(t)
	c := newRealCluster(t, w, "tills")
	dc1 := realDC{Name: "dc1", Context: "eu-west", RF: 3, Racks: []int{1, 1, 1}}
	dc2 := realDC{Name: "dc2", Context: "us-east", RF: 1, Racks: []int{1}}
	dc3 := realDC{Name: "dc3", Context: "ap-south", RF: 1, Racks: []int{1}}
	rows := 0
	write := func(t *testing.T, n int) {
		t.Helper()
		s := c.session(t, "dc1")
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		for _, ks := range []string{ks1, ksq} {
			if err := s.Write(ctx, ks, rows, rows+n, gocql.EachQuorum); err != nil {
				t.Fatal(err)
			}
		}
		rows += n
	}
	readAll := func(t *testing.T, dc, ks string) {
		t.Helper()
		s := c.session(t, dc)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		missing, err := s.Missing(ctx, ks, 0, rows, gocql.LocalOne)
		if len(missing) > 0 {
			t.Errorf("%d of %d rows of %s not readable at LOCAL_ONE in %s (first: %v; error: %v)",
				len(missing), rows, ks, dc, missing[:min(10, len(missing))], err)
		}
	}
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"bootstrap of three regions, seed region first", func(t *testing.T) {
			c.write(t, "", dc1, dc2, dc3)
			start := time.Now()
			r := c.apply(t, 15*time.Minute)
			t.Logf("5 nodes bootstrapped in %s", time.Since(start).Round(time.Second))
			checkAuthenticated(t, c, r, map[string]int{"dc1": 3, "dc2": 1, "dc3": 1})
			ready, created := c.podTimes(t)
			for _, p := range []string{"tills-dc2-r1-0", "tills-dc3-r1-0"} {
				for _, seed := range []string{"tills-dc1-r1-0", "tills-dc1-r2-0", "tills-dc1-r3-0"} {
					if !ready[seed].Before(created[p]) {
						t.Errorf("%s was created at %s, before %s (seed datacenter) was Ready (%s)", p, created[p], seed, ready[seed])
					}
				}
			}
			compareStatus(t, c, 5)
			s := c.session(t, "dc1")
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			if err := s.CreateKeyspace(ctx, ks1, map[string]int{"dc1": 1, "dc2": 1, "dc3": 1}); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateKeyspace(ctx, ksq, map[string]int{"dc1": 3, "dc2": 1, "dc3": 1}); err != nil {
				t.Fatal(err)
			}
			write(t, 200)
			for _, dc := range []string{"dc1", "dc2", "dc3"} {
				readAll(t, dc, ks1)
			}
		}},
		{"the CQL password rotated: no restart, the old one refused", func(t *testing.T) {
			checkRotation(t, c, func() {
				c.rotate = "2026-12-07"
				c.write(t, "", dc1, dc2, dc3)
			})
			readAll(t, "dc1", ks1)
		}},
		{"growth by one node: the new node holds its data", func(t *testing.T) {
			dc2.Racks = []int{2}
			c.write(t, "", dc1, dc2, dc3)
			c.apply(t, 10*time.Minute)
			readAll(t, "dc2", ks1)
			rows, out := nodetoolStatus(t, c.node(t, "tills-dc2-r1-0"))
			newIP := podIP(t, c, "dc2", "tills-dc2-r1-1")
			if l := loadBytes(rows[newIP].Load); l <= 0 {
				t.Errorf("the new node %s has load %q:\n%s", newIP, rows[newIP].Load, out)
			}
		}},
		{"a new rack: its first node bootstraps, it is not its own seed", func(t *testing.T) {
			write(t, 200)
			dc3.Racks = []int{1, 1}
			c.write(t, "", dc1, dc2, dc3)
			c.apply(t, 10*time.Minute)
			readAll(t, "dc3", ks1)
			if log := readLog(t, c.node(t, "tills-dc3-r2-0").Log()); strings.Contains(log, "will not auto bootstrap because it is configured to be a seed node") {
				t.Errorf("tills-dc3-r2-0 started as its own seed and skipped its bootstrap (log %s)", c.node(t, "tills-dc3-r2-0").Log())
			}
		}},
		{"a decommission: nothing lost", func(t *testing.T) {
			write(t, 100)
			dc2.Racks = []int{1}
			c.write(t, "", dc1, dc2, dc3)
			c.apply(t, 10*time.Minute)
			if pods := podNames(c.pods(t, "dc2")); len(pods) != 1 {
				t.Errorf("dc2 pods after the decommission: %v", pods)
			}
			readAll(t, "dc2", ks1)
			readAll(t, "dc1", ks1)
			compareStatus(t, c, 6)
		}},
		{"a configuration change rolled while a writer writes at LOCAL_QUORUM", func(t *testing.T) {
			s := c.session(t, "dc1")
			wr := s.StartWriter(ksq, 1_000_000, gocql.LocalQuorum)
			time.Sleep(3 * time.Second)
			c.write(t, "compaction_throughput: 64MiB/s", dc1, dc2, dc3)
			start := time.Now()
			// Six restarts: 11-13 min on two cores with other tests running
			// (each JVM 75-100 s to STARTING); the writer, not the time, is
			// what this step checks.
			r := c.apply(t, 25*time.Minute)
			ok, failed, errs, end := wr.Stop()
			t.Logf("rolling restart of 6 nodes in %s; writes at LOCAL_QUORUM: %d ok, %d failed", time.Since(start).Round(time.Second), ok, failed)
			if failed > 0 {
				t.Errorf("%d writes at LOCAL_QUORUM failed during the roll:\n  %s", failed, strings.Join(errs, "\n  "))
			}
			if ok == 0 {
				t.Errorf("the writer wrote nothing")
			}
			if n := len(harness.Lines(r.Stdout+r.Stderr, "restart")); n == 0 {
				t.Errorf("apply printed no restart step")
			}
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
			defer cancel()
			if missing, err := s.Missing(ctx, ksq, 1_000_000, end, gocql.LocalQuorum); len(missing) > int(failed) {
				t.Errorf("%d rows written during the roll are missing (error %v)", len(missing), err)
			}
		}},
		{"a node killed: ringops stops and names it, then goes on", func(t *testing.T) {
			victim := "tills-dc1-r2-0"
			eu := w.Region("eu-west")
			eu.Kubelet.SetFault("cassandra", victim, kubelet.CrashLoop)
			defer eu.Kubelet.SetFault("cassandra", victim, kubelet.NoFault)
			harness.WaitFor(t, 2*time.Minute, victim+" seen down by ringops status", func() error {
				nodes, r := c.ringopsStatus(t)
				for _, n := range nodes {
					if n.Node.Pod == victim && strings.HasPrefix(n.State, "D") && r.Code != 0 {
						return nil
					}
				}
				return fmt.Errorf("exit %d: %s", r.Code, r.Stdout)
			})
			// A node joins dc2: it must wait for the ring, which has a node
			// down. Its claim still holds the node decommissioned above
			// (ringops keeps PVCs unless spec.storage.deleteOnDecommission):
			// delete it first, as ringops' block message asks.
			us := w.Region("us-east").Client.CoreV1().PersistentVolumeClaims("cassandra")
			if err := us.Delete(t.Context(), "data-tills-dc2-r1-1", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			harness.WaitFor(t, time.Minute, "data-tills-dc2-r1-1 deleted", func() error {
				if _, err := us.Get(t.Context(), "data-tills-dc2-r1-1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					return fmt.Errorf("still there (%v)", err)
				}
				return nil
			})
			dc2.Racks = []int{2}
			c.write(t, "compaction_throughput: 64MiB/s", dc1, dc2, dc3)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan harness.Run, 1)
			go func() { done <- c.applyAsync(ctx, 15*time.Minute) }()
			time.Sleep(20 * time.Second)
			select {
			case r := <-done:
				t.Fatalf("apply ended while %s was down: %s", victim, r)
			default:
			}
			if n := len(c.pods(t, "dc2")); n != 1 {
				t.Errorf("dc2 has %d pods while %s is down: the bootstrap did not wait", n, victim)
			}
			eu.Kubelet.SetFault("cassandra", victim, kubelet.NoFault)
			r := <-done
			if r.Code != 0 {
				t.Fatalf("apply did not converge after %s came back: %s", victim, r)
			}
			if len(harness.Lines(r.Stdout+r.Stderr, victim)) == 0 {
				t.Errorf("apply never named %s while it was down:\n%s", victim, r)
			}
			readAll(t, "dc2", ks1)
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			t.Fatalf("step %q failed: the later steps depend on it", s.name)
		}
	}
}

// compareStatus checks that `ringops status` says what `nodetool status`
// says: the same nodes, addresses, states, host IDs, and loads.
func compareStatus(t *testing.T, c *realCluster, want int) {
	t.Helper()
	nodes, r := c.ringopsStatus(t)
	if r.Code != 0 {
		t.Errorf("ringops status: exit %d on a healthy ring", r.Code)
	}
	rows, out := nodetoolStatus(t, c.node(t, "tills-dc1-r1-0"))
	if len(rows) != want || len(nodes) != want {
		t.Fatalf("nodetool status has %d nodes, ringops status %d, want %d:\n%s\n%s", len(rows), len(nodes), want, out, r.Stdout)
	}
	for _, n := range nodes {
		row, ok := rows[n.Node.IP]
		switch {
		case !ok:
			t.Errorf("ringops status lists %s (%s), nodetool status does not", n.Node.Pod, n.Node.IP)
		case row.State != n.State:
			t.Errorf("%s: ringops status says %s, nodetool status %s", n.Node.Pod, n.State, row.State)
		case row.HostID != n.HostID:
			t.Errorf("%s: ringops status host ID %s, nodetool status %s", n.Node.Pod, n.HostID, row.HostID)
		case row.Rack != n.Node.Rack:
			t.Errorf("%s: ringops status rack %s, nodetool status %s", n.Node.Pod, n.Node.Rack, row.Rack)
		case n.Load == "" || loadBytes(n.Load) <= 0:
			t.Errorf("%s: ringops status load %q, nodetool status %q", n.Node.Pod, n.Load, row.Load)
		}
	}
}

// applyAsync runs `ringops apply --wait` without failing the test.
func (c *realCluster) applyAsync(ctx context.Context, limit time.Duration) harness.Run {
	args := []string{"apply", c.dir, "--kubeconfig", c.w.Kubeconfig, "--wait", "-v", "--timeout", limit.String()}
	if c.prev != "" {
		args = append(args, "--previous", c.prev)
	}
	return harness.RunBinary(ctx, limit+time.Minute, args...)
}

func podIP(t *testing.T, c *realCluster, dc, pod string) string {
	t.Helper()
	for _, p := range c.pods(t, dc) {
		if p.Name == pod {
			return p.Status.PodIP
		}
	}
	t.Fatalf("no pod %s", pod)
	return ""
}
