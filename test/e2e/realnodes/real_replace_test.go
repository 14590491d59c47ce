package realnodes

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ringops/ringops/test/e2e/harness"
)

// TestRealReplace (issue #16) on real Cassandra 5.0 nodes: a node whose
// PVC is deleted with its pod comes back on a new volume and ringops
// replaces its dead node with no human step (replace_address_first_boot),
// then the same for a seed; then a scale-up is followed by the cleanup of
// the older nodes, whose load drops. Rows written before at LOCAL_QUORUM
// stay readable at LOCAL_ONE. The steps depend on each other.
func TestRealReplace(t *testing.T) {
	w := realWorld(t)
	c := newRealCluster(t, w, "lost")
	dc1 := realDC{Name: "dc1", Context: "eu-west", RF: 3, Racks: []int{2, 1, 1}}
	rows := 0
	write := func(t *testing.T, n int) {
		t.Helper()
		s := c.session(t, "dc1")
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		if err := s.Write(ctx, ksq, rows, rows+n, gocql.LocalQuorum); err != nil {
			t.Fatal(err)
		}
		rows += n
	}
	readAll := func(t *testing.T) {
		t.Helper()
		s := c.session(t, "dc1")
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		for range 3 { // LOCAL_ONE picks one replica: three rounds reach the replaced one too
			if missing, err := s.Missing(ctx, ksq, 0, rows, gocql.LocalOne); len(missing) > 0 {
				t.Fatalf("%d of %d rows not readable at LOCAL_ONE (first: %v; error: %v)", len(missing), rows, missing[:min(10, len(missing))], err)
			}
		}
	}
	replaced := func(t *testing.T, victim string) {
		t.Helper()
		oldIP := podIP(t, c, "dc1", victim)
		nodes, _ := c.ringopsStatus(t)
		oldHost := ""
		for _, n := range nodes {
			if n.Node.Pod == victim {
				oldHost = n.HostID
			}
		}
		if oldHost == "" {
			t.Fatalf("ringops status has no host ID for %s", victim)
		}
		c.loseVolume(t, victim)
		// With no ringops running, the gate holds the pod, and ringops
		// status names the dead node, how long it is down, and what
		// ringops will do.
		harness.WaitFor(t, 3*time.Minute, "ringops status names the dead node of "+victim, func() error {
			dead, r := c.ringopsDead(t)
			for _, d := range dead {
				if d.Pod == victim && strings.EqualFold(d.HostID, oldHost) && d.DownFor != "" && strings.Contains(d.Action, "replace") {
					return nil
				}
			}
			return fmt.Errorf("exit %d: %s", r.Code, r.Stdout)
		})
		r := c.apply(t, 15*time.Minute)
		if len(harness.Lines(r.Stdout+r.Stderr, "ReplaceNode", victim)) == 0 && len(harness.Lines(r.Stdout+r.Stderr, "replace", victim)) == 0 {
			t.Errorf("apply printed no replacement of %s:\n%s", victim, r)
		}
		rowsNow, out := nodetoolStatus(t, c.node(t, "lost-dc1-r3-0"))
		newIP := podIP(t, c, "dc1", victim)
		for _, row := range rowsNow {
			if strings.EqualFold(row.HostID, oldHost) {
				t.Errorf("the dead node %s (%s) is still in the ring:\n%s", oldHost, oldIP, out)
			}
		}
		if row := rowsNow[newIP]; row.State != "UN" || loadBytes(row.Load) <= 0 {
			t.Errorf("%s at %s after its replacement: %+v\n%s", victim, newIP, row, out)
		}
		if log := readLog(t, c.node(t, victim).Log()); !strings.Contains(log, "replac") {
			t.Errorf("%s did not start as a replacement (log %s)", victim, c.node(t, victim).Log())
		}
		readAll(t)
		compareStatus4(t, c)
	}
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"bootstrap, rows written at LOCAL_QUORUM", func(t *testing.T) {
			c.write(t, "", dc1)
			c.apply(t, 15*time.Minute)
			s := c.session(t, "dc1")
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			if err := s.CreateKeyspace(ctx, ksq, map[string]int{"dc1": 3}); err != nil {
				t.Fatal(err)
			}
			write(t, 400)
			readAll(t)
		}},
		{"a node loses its volume: ringops replaces it", func(t *testing.T) { replaced(t, "lost-dc1-r1-1") }},
		{"a seed loses its volume: ringops replaces it, not as its own seed", func(t *testing.T) {
			write(t, 100)
			replaced(t, "lost-dc1-r2-0")
			if log := readLog(t, c.node(t, "lost-dc1-r2-0").Log()); strings.Contains(log, "will not auto bootstrap because it is configured to be a seed node") {
				t.Errorf("lost-dc1-r2-0 started in its own seed list (log %s)", c.node(t, "lost-dc1-r2-0").Log())
			}
		}},
		{"a scale-up, then the older nodes cleaned up: their load drops", func(t *testing.T) {
			write(t, 200)
			// About 3 MiB of rows (RF 3 on 4 nodes: 2.3 MiB a node), so that
			// a node's load is mostly rows its ranges hold, not its system
			// tables: the fifth node takes a fifth of the ranges, and the
			// cleanup drops their copies from the older nodes.
			s := c.session(t, "dc1")
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
			defer cancel()
			if err := s.CreateKeyspace(ctx, ksFill, map[string]int{"dc1": 3}); err != nil {
				t.Fatal(err)
			}
			if err := s.Fill(ctx, ksFill, 0, 3000, 1024, gocql.LocalQuorum); err != nil {
				t.Fatal(err)
			}
			older := []string{"lost-dc1-r1-0", "lost-dc1-r1-1", "lost-dc1-r2-0", "lost-dc1-r3-0"}
			before := c.loads(t, older)
			dc1.Racks = []int{2, 2, 1}
			c.write(t, "", dc1)
			r := c.apply(t, 20*time.Minute)
			if len(harness.Lines(r.Stdout+r.Stderr, "cleanup")) == 0 {
				t.Errorf("apply printed no cleanup:\n%s", r)
			}
			after := c.loads(t, older)
			var sb, sa float64
			for _, p := range older {
				sb, sa = sb+before[p], sa+after[p]
			}
			t.Logf("the older nodes' load before the scale-up %.0f KiB, after the cleanup %.0f KiB (%v -> %v)", sb/1024, sa/1024, before, after)
			if sa >= sb {
				t.Errorf("the older nodes' load did not drop after the cleanup: %v -> %v", before, after)
			}
			readAll(t)
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			t.Fatalf("step %q failed: the later steps depend on it", s.name)
		}
	}
}

// loseVolume deletes a pod's PVC, then the pod: the StatefulSet
// controller brings the pod back on a new, empty volume.
func (c *realCluster) loseVolume(t *testing.T, pod string) {
	t.Helper()
	r := c.w.Region("eu-west")
	pvcs := r.Client.CoreV1().PersistentVolumeClaims("cassandra")
	claim := "data-" + pod
	old, err := pvcs.Get(t.Context(), claim, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pvcs.Delete(t.Context(), claim, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Client.CoreV1().Pods("cassandra").Delete(t.Context(), pod, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, 3*time.Minute, pod+" back on a new volume", func() error {
		got, err := pvcs.Get(t.Context(), claim, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got.UID == old.UID {
			return fmt.Errorf("PVC %s still the old one (%s)", claim, got.UID)
		}
		if _, err := r.Client.CoreV1().Pods("cassandra").Get(t.Context(), pod, metav1.GetOptions{}); err != nil {
			return err
		}
		return nil
	})
}

// deadStatus is a dead node of `ringops status -o json`.
type deadStatus struct {
	HostID  string `json:"hostID"`
	Address string `json:"address"`
	Pod     string `json:"pod"`
	DownFor string `json:"downFor"`
	Action  string `json:"action"`
}

// ringopsDead runs `ringops status -o json` and returns its dead nodes.
func (c *realCluster) ringopsDead(t *testing.T) ([]deadStatus, harness.Run) {
	t.Helper()
	r := harness.Ringops(t, 2*time.Minute, "status", c.dir, "--kubeconfig", c.w.Kubeconfig, "-o", "json")
	var rep struct {
		Dead []deadStatus `json:"dead"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("ringops status -o json: %v", err)
	}
	return rep.Dead, r
}

// loads returns each pod's load in bytes, from the LoadMap a node
// reports (nodetool status), after a flush of every node.
func (c *realCluster) loads(t *testing.T, pods []string) map[string]float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out := map[string]float64{}
	for _, p := range pods {
		n := c.node(t, p)
		if _, err := n.Nodetool(ctx, "flush"); err != nil {
			t.Fatal(err)
		}
		// The node's own entry of its LoadMap (StorageService.getLoadMap
		// puts its own live load, not the gossiped one).
		v, err := n.Read(ctx, "org.apache.cassandra.db:type=StorageService", "LoadMap")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(v, &m); err != nil {
			t.Fatal(err)
		}
		own, ok := m[n.IP()]
		if !ok {
			t.Fatalf("%s: no own entry in LoadMap %v", p, m)
		}
		out[p] = loadBytes(own)
	}
	return out
}

// compareStatus4 is compareStatus on the four nodes of the scenario,
// read from a node that was not replaced.
func compareStatus4(t *testing.T, c *realCluster) {
	t.Helper()
	nodes, r := c.ringopsStatus(t)
	if r.Code != 0 {
		t.Errorf("ringops status: exit %d after the replacement:\n%s", r.Code, r.Stdout)
	}
	if len(nodes) != 4 {
		t.Errorf("ringops status lists %d nodes, want 4:\n%s", len(nodes), r.Stdout)
	}
}
