package cassandra

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// startThree starts a ring of three nodes on release (a seed, then two
// bootstraps) and waits until each lists all three live and none joining.
// It reads only what every release has.
func startThree(t *testing.T, w *world, subnet int, release string) []*Node {
	t.Helper()
	var nodes []*Node
	for i, pod := range []string{"orders-dc1-r1-0", "orders-dc1-r2-0", "orders-dc2-r1-0"} {
		dc, rack := "dc1", fmt.Sprintf("r%d", i+1)
		if i == 2 {
			dc, rack = "dc2", "r1"
		}
		cfg := w.cfg(fmt.Sprintf("pvc-%d", i), pod, ip(subnet, i+1), dc, rack, "orders-dc1-r1-0")
		cfg.ReleaseVersion = release
		nodes = append(nodes, w.start(cfg))
		waitSettled(t, nodes...)
	}
	return nodes
}

// waitSettled waits until every node is NORMAL and lists them all live.
func waitSettled(t *testing.T, nodes ...*Node) {
	t.Helper()
	var ips []string
	for _, n := range nodes {
		ips = append(ips, n.cfg.IP)
	}
	for _, n := range nodes {
		eventually(t, n.cfg.Pod+" settled", func() error {
			if m := n.Mode(); m != "NORMAL" {
				return fmt.Errorf("mode %s", m)
			}
			if err := sameSet(list(t, n, "LiveNodes"), ips); err != nil {
				return err
			}
			return sameSet(list(t, n, "JoiningNodes"), nil)
		})
	}
}

// list reads a list attribute of StorageService.
func list(t *testing.T, n *Node, attr string) []string {
	t.Helper()
	var out []string
	if err := agentOf(n).read(StorageServiceMBean, attr, &out); err != nil {
		t.Fatalf("%s: %v", attr, err)
	}
	return out
}

// streamsOf reads StreamManager.CurrentStreams.
func streamsOf(t *testing.T, n *Node) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := agentOf(n).read(StreamManagerMBean, "CurrentStreams", &out); err != nil {
		t.Fatalf("CurrentStreams: %v", err)
	}
	return out
}

// TestFailedDecommissionPerVersion: a stream failure leaves 3.11 and 4.x
// LEAVING and 5.0 DECOMMISSION_FAILED; the others keep the node leaving;
// each takes a retry from there. While one runs, 4.x refuses another
// (IllegalStateException), 5.0 returns silently, 3.11 accepts it (a second
// decommission at once: Overlaps counts it).
func TestFailedDecommissionPerVersion(t *testing.T) {
	for i, tc := range []struct {
		release, failedMode string
		again               func(t *testing.T, r response, c *Node)
	}{
		{"3.11.17", "LEAVING", func(t *testing.T, r response, c *Node) {
			if r.Status != 200 || c.Overlaps() != 1 {
				t.Errorf("3.11 concurrent call: status %d %s, overlaps %d; want accepted", r.Status, r.Error, c.Overlaps())
			}
		}},
		{"4.1.5", "LEAVING", func(t *testing.T, r response, c *Node) {
			wantJMXError(t, "4.x concurrent call", r, javaIllegalState, "Node is still decommissioning")
		}},
		{"5.0.1", "DECOMMISSION_FAILED", func(t *testing.T, r response, c *Node) {
			if r.Status != 200 || c.Overlaps() != 0 {
				t.Errorf("5.0 concurrent call: status %d %s; want a silent return", r.Status, r.Error)
			}
		}},
	} {
		t.Run(tc.release, func(t *testing.T) {
			opts := testOptions()
			opts.DecommissionTime = time.Second
			w := newWorld(t, opts)
			nodes := startThree(t, w, 30+i, tc.release)
			a, c := nodes[0], nodes[2]
			op := "decommission(boolean)"
			args := []any{true}
			if tc.release < "4" {
				op, args = "decommission", nil
			}
			c.FailDecommission(true)
			done := execAsync(agentOf(c), execReq(op, args...))
			eventually(t, "c streams", func() error {
				if len(streamsOf(t, c)) != 1 {
					return fmt.Errorf("streams %v", streamsOf(t, c))
				}
				return nil
			})
			r := <-done
			wantJMXError(t, "failing decommission", r, javaRuntime, "Error while decommissioning node: Stream failed")
			if m := c.Mode(); m != tc.failedMode {
				t.Fatalf("mode after the failure: %s, want %s", m, tc.failedMode)
			}
			if s := streamsOf(t, c); len(s) != 0 {
				t.Errorf("streams after the failure: %v", s)
			}
			if err := sameSet(list(t, a, "LeavingNodes"), []string{c.cfg.IP}); err != nil {
				t.Errorf("a's LeavingNodes: %v", err)
			}

			c.FailDecommission(false)
			done = execAsync(agentOf(c), execReq(op, args...))
			eventually(t, "the retry runs", func() error {
				if c.Mode() != "LEAVING" || len(streamsOf(t, c)) != 1 {
					return fmt.Errorf("mode %s", c.Mode())
				}
				return nil
			})
			tc.again(t, <-execAsync(agentOf(c), execReq(op, args...)), c)
			if r := <-done; r.Status != 200 {
				t.Fatalf("retry: %d %s", r.Status, r.Error)
			}
			eventually(t, "c gone from a", func() error { return sameSet(list(t, a, "LiveNodes"), []string{a.cfg.IP, nodes[1].cfg.IP}) })
			if c.Mode() != "DECOMMISSIONED" {
				t.Errorf("mode %s", c.Mode())
			}
		})
	}
}

// TestDecommission5SilentReturns: 5.0 returns silently on a
// DECOMMISSIONED node, where 4.x throws.
func TestDecommission5SilentReturns(t *testing.T) {
	w := newWorld(t, testOptions())
	nodes := startThree(t, w, 33, "5.0.1")
	c := nodes[2]
	if r := <-execAsync(agentOf(c), execReq("decommission(boolean)", true)); r.Status != 200 {
		t.Fatalf("decommission: %d %s", r.Status, r.Error)
	}
	if r, err := agentOf(c).one(execReq("decommission(boolean)", true)); err != nil || r.Status != 200 {
		t.Errorf("decommission of a DECOMMISSIONED 5.0 node: %+v %v, want a silent return", r, err)
	}
}

// TestFailedBootstrapPerVersion: a failed bootstrap leaves 4.x JOINING and
// 5.0 JOINING_FAILED, nothing streaming, the others keeping it joining;
// resumeBootstrap streams again (5.0 stays JOINING_FAILED meanwhile) and
// the node turns NORMAL; on a NORMAL node it answers false.
func TestFailedBootstrapPerVersion(t *testing.T) {
	for i, tc := range []struct{ release, failedMode string }{
		{"3.11.17", "JOINING"}, {"4.1.5", "JOINING"}, {"5.0.1", "JOINING_FAILED"},
	} {
		t.Run(tc.release, func(t *testing.T) {
			w := newWorld(t, testOptions())
			subnet := 40 + i
			cfgA := w.cfg("pvc-a", "orders-dc1-r1-0", ip(subnet, 1), "dc1", "r1", "orders-dc1-r1-0")
			cfgA.ReleaseVersion = tc.release
			a := w.start(cfgA)
			cfgB := w.cfg("pvc-b", "orders-dc1-r2-0", ip(subnet, 2), "dc1", "r2", "orders-dc1-r1-0")
			cfgB.ReleaseVersion = tc.release
			w.sim.SetPodFaults(cfgB.Namespace, cfgB.Pod, Faults{FailBootstrap: true})
			b := w.start(cfgB)
			if s := streamsOf(t, b); len(s) != 1 || s[0]["description"] != "Bootstrap" {
				t.Errorf("streams while bootstrapping: %v", s)
			}
			eventually(t, "b failed", func() error {
				if m := b.Mode(); m != tc.failedMode || len(streamsOf(t, b)) != 0 {
					return fmt.Errorf("mode %s, streams %v", m, streamsOf(t, b))
				}
				return nil
			})
			time.Sleep(3 * w.sim.opts.BootstrapTime)
			if m := b.Mode(); m != tc.failedMode {
				t.Fatalf("mode %s long after the failure, want %s", m, tc.failedMode)
			}
			if err := sameSet(list(t, a, "JoiningNodes"), []string{b.cfg.IP}); err != nil {
				t.Errorf("a's JoiningNodes: %v", err)
			}

			b.FailBootstrap(false)
			var resumed bool
			r, err := agentOf(b).one(execReq("resumeBootstrap"))
			if err != nil || r.Status != 200 || json.Unmarshal(r.Value, &resumed) != nil || !resumed {
				t.Fatalf("resumeBootstrap: %+v %v", r, err)
			}
			if m := b.Mode(); m != tc.failedMode {
				t.Errorf("mode while the resume streams: %s, want %s", m, tc.failedMode)
			}
			if len(streamsOf(t, b)) != 1 {
				t.Errorf("no stream after the resume")
			}
			waitSettled(t, a, b)
			r, _ = agentOf(b).one(execReq("resumeBootstrap"))
			if string(r.Value) != "false" {
				t.Errorf("resumeBootstrap on a NORMAL node: %s", r.Value)
			}
			if b.Overlaps() != 0 {
				t.Errorf("overlaps %d", b.Overlaps())
			}
		})
	}
}

// TestMixedReleases: a node restarted on the next release series reports
// its release and another schema version; the nodes of each series agree;
// once every node runs the new series, one schema version again.
func TestMixedReleases(t *testing.T) {
	w := newWorld(t, testOptions())
	nodes := startThree(t, w, 45, "")
	restart := func(i int, release string) {
		n := nodes[i]
		cfg := n.Config()
		n.Stop()
		cfg.ReleaseVersion = release
		nodes[i] = w.start(cfg)
		waitSettled(t, nodes...)
	}
	schemas := func(n *Node) map[string][]string {
		var out map[string][]string
		if err := agentOf(n).read(StorageProxyMBean, "SchemaVersions", &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	own := func(n *Node) string {
		var v string
		if err := agentOf(n).read(StorageServiceMBean, "SchemaVersion", &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	old := own(nodes[0])
	restart(2, "5.0.1")
	var rel string
	if err := agentOf(nodes[2]).read(StorageServiceMBean, "ReleaseVersion", &rel); err != nil || rel != "5.0.1" {
		t.Errorf("ReleaseVersion %q %v", rel, err)
	}
	eventually(t, "two schema versions", func() error {
		if s := schemas(nodes[0]); len(s) != 2 || !slices.Contains(s[old], nodes[1].cfg.IP) {
			return fmt.Errorf("%v", s)
		}
		return nil
	})
	if own(nodes[2]) == old || own(nodes[1]) != old {
		t.Errorf("own versions: %s %s %s", own(nodes[0]), own(nodes[1]), own(nodes[2]))
	}
	restart(1, "5.0.2") // another 5.0 patch release: the same series
	if own(nodes[1]) != own(nodes[2]) {
		t.Errorf("5.0 nodes disagree: %s %s", own(nodes[1]), own(nodes[2]))
	}
	restart(0, "5.0.1")
	eventually(t, "one schema version", func() error {
		for _, n := range nodes {
			if s := schemas(n); len(s) != 1 {
				return fmt.Errorf("%s: %v", n.cfg.Pod, s)
			}
		}
		return nil
	})
}

// TestUpgradeSSTables: a node restarted from 3.11 on 4.1 holds sstables
// on the old format (OldVersionSSTableCount, which 3.11 lacks) until
// upgradeSSTables rewrites each keyspace, an "Upgrade sstables" compaction
// showing meanwhile; 4.1 to 5.0 leaves none (5.0 writes 4.x's format in its
// default storage_compatibility_mode).
func TestUpgradeSSTables(t *testing.T) {
	opts := testOptions()
	opts.UpgradeTime = 300 * time.Millisecond
	w := newWorld(t, opts)
	nodes := startThree(t, w, 46, "3.11.17")
	if r, _ := agentOf(nodes[0]).one(readReq(OldSSTablesMBean, "Value")); r.Status != 404 {
		t.Errorf("OldVersionSSTableCount on 3.11: status %d, want 404", r.Status)
	}
	n := nodes[0]
	cfg := n.Config()
	n.Stop()
	cfg.ReleaseVersion = "4.1.5"
	n = w.start(cfg)
	count := func() int64 {
		var c int64
		if err := agentOf(n).read(OldSSTablesMBean, "Value", &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	var keyspaces []string
	if err := agentOf(n).read(StorageServiceMBean, "Keyspaces", &keyspaces); err != nil {
		t.Fatal(err)
	}
	if c := count(); c != int64(oldSSTablesPerKeyspace*len(keyspaces)) {
		t.Fatalf("old sstables after the upgrade: %d", c)
	}
	upgrade := func(ks string) map[string]any {
		return map[string]any{"type": "exec", "mbean": StorageServiceMBean,
			"operation": "upgradeSSTables(java.lang.String,boolean,int,[Ljava.lang.String;)", "arguments": []any{ks, true, 2, []string{}}}
	}
	done := execAsync(agentOf(n), upgrade(keyspaces[0]))
	eventually(t, "an upgrade compaction", func() error {
		var cs []map[string]string
		if err := agentOf(n).read(CompactionManagerMBean, "Compactions", &cs); err != nil {
			return err
		}
		if len(cs) != 1 || cs[0]["taskType"] != "Upgrade sstables" || cs[0]["keyspace"] != keyspaces[0] {
			return fmt.Errorf("compactions %v", cs)
		}
		return nil
	})
	if r := <-done; r.Status != 200 || string(r.Value) != "0" {
		t.Fatalf("upgradeSSTables: %d %s %s", r.Status, r.Value, r.Error)
	}
	if c := count(); c != int64(oldSSTablesPerKeyspace*(len(keyspaces)-1)) {
		t.Errorf("after one keyspace: %d", c)
	}
	for _, ks := range keyspaces[1:] {
		if r := <-execAsync(agentOf(n), upgrade(ks)); r.Status != 200 {
			t.Fatalf("%s: %d %s", ks, r.Status, r.Error)
		}
	}
	if c := count(); c != 0 {
		t.Errorf("after every keyspace: %d", c)
	}
	if r, _ := agentOf(n).one(upgrade(keyspaces[0])); r.Status != 200 || string(r.Value) != "0" {
		t.Errorf("nothing left to rewrite: %d %s", r.Status, r.Value)
	}

	// 4.1 -> 5.0: the same format, nothing to rewrite.
	cfg = n.Config()
	n.Stop()
	cfg.ReleaseVersion = "5.0.1"
	n = w.start(cfg)
	if c := count(); c != 0 {
		t.Errorf("old sstables after 4.1 -> 5.0: %d", c)
	}
}

// TestSerialJolokia: an agent serving one request at a time holds every
// read back while a decommission call is open, as the Jolokia JVM agent
// does by default.
func TestSerialJolokia(t *testing.T) {
	opts := testOptions()
	opts.DecommissionTime = 800 * time.Millisecond
	w := newWorld(t, opts)
	nodes := startThree(t, w, 47, "")
	c := nodes[2]
	c.SerialJolokia(true)
	done := execAsync(agentOf(c), execReq("decommission(boolean)", true))
	eventually(t, "leaving", func() error {
		if c.Mode() != "LEAVING" {
			return fmt.Errorf("mode %s", c.Mode())
		}
		return nil
	})
	impatient := agentOf(c)
	impatient.client = newClient(200 * time.Millisecond)
	if _, err := impatient.mode(); err == nil {
		t.Error("a read answered while the decommission call is open")
	}
	<-done
	if m, err := agentOf(c).mode(); err != nil || m != "DECOMMISSIONED" {
		t.Errorf("after the call: %q %v", m, err)
	}
}

func TestReleaseOfImage(t *testing.T) {
	for image, want := range map[string]string{
		"cassandra:5.0.1": "5.0.1", "cassandra:4.1.5-jammy": "4.1.5", "docker.io/library/cassandra:3.11.17": "3.11.17",
		"registry:5000/cassandra:4.1": "4.1", "cassandra": "", "cassandra:latest": "", "registry:5000/cassandra": "",
		"cassandra:5.0.1@sha256:abc": "5.0.1", "cassandra:5": "",
	} {
		if got := ReleaseOfImage(image); got != want {
			t.Errorf("ReleaseOfImage(%q) = %q, want %q", image, got, want)
		}
	}
}

// TestCompactionInfoFields: CompactionManager.Compactions entries carry
// the fields of each release's CompactionInfo.asMap (3.11.17, 4.1.7 and
// 5.0.1 source; 5.0.9 as its real node answers: TestSimulatorConformsOnCleanup).
func TestCompactionInfoFields(t *testing.T) {
	base := "columnfamily compactionId completed id keyspace taskType total unit"
	for _, c := range []struct{ release, want string }{
		{"3.11.17", base},
		{"4.1.7", "columnfamily compactionId completed id keyspace sstables taskType total unit"},
		{"5.0.1", "columnfamily compactionId completed id keyspace sstables targetDirectory taskType total unit"},
		{"5.0.9", "columnfamily compactionId completed id keyspace sstables targetDirectory taskType total totalCompressed unit"},
	} {
		v, _ := VersionOf(c.release)
		n := &Node{version: v, cfg: NodeConfig{ReleaseVersion: c.release}}
		m := n.compactionInfo(CleanupTask, "orders", nameUUID("x"), 1, 2)
		if got := strings.Join(slices.Sorted(maps.Keys(m)), " "); got != c.want {
			t.Errorf("%s: fields %s, want %s", c.release, got, c.want)
		}
	}
}
