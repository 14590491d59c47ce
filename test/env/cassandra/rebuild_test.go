package cassandra

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRebuildAndCleanup: rebuild streams ("Rebuild" in CurrentStreams)
// and answers when done, one at a time, from a datacenter of the ring
// only; cleanup shows a "Cleanup" compaction and answers 0, and refuses
// the local system keyspace.
func TestRebuildAndCleanup(t *testing.T) {
	opts := testOptions()
	opts.BootstrapTime, opts.CleanupTime = 400*time.Millisecond, 300*time.Millisecond
	w := newWorld(t, opts)
	_, n := startTwoDCs(t, w, 52, "5.0.1", nil) // n: dc2's, no data
	rebuild := func(src any) map[string]any {
		return map[string]any{"type": "exec", "mbean": StorageServiceMBean,
			"operation": "rebuild(java.lang.String,java.lang.String,java.lang.String,java.lang.String)", "arguments": []any{src, nil, nil, nil}}
	}
	if r, _ := agentOf(n).one(rebuild("dc9")); r.Status == 200 || !strings.Contains(r.Error, "Provided datacenter 'dc9' is not a valid datacenter") {
		t.Fatalf("unknown source: %d %s", r.Status, r.Error)
	}
	done := execAsync(agentOf(n), rebuild("dc1"))
	eventually(t, "a Rebuild stream", func() error {
		var ss []map[string]any
		if err := agentOf(n).read(StreamManagerMBean, "CurrentStreams", &ss); err != nil {
			return err
		}
		if len(ss) != 1 || ss[0]["description"] != "Rebuild" {
			return fmt.Errorf("streams %v", ss)
		}
		return nil
	})
	if r, _ := agentOf(n).one(rebuild("dc1")); r.Status == 200 || !strings.Contains(r.Error, "Node is still rebuilding") {
		t.Errorf("second rebuild: %d %s", r.Status, r.Error)
	}
	if r := <-done; r.Status != 200 {
		t.Fatalf("rebuild: %d %s", r.Status, r.Error)
	}
	var ss []map[string]any
	if err := agentOf(n).read(StreamManagerMBean, "CurrentStreams", &ss); err != nil || len(ss) != 0 {
		t.Errorf("streams after the rebuild: %v %v", ss, err)
	}

	cleanup := func(ks string) map[string]any {
		return map[string]any{"type": "exec", "mbean": StorageServiceMBean,
			"operation": "forceKeyspaceCleanup(int,java.lang.String,[Ljava.lang.String;)", "arguments": []any{1, ks, []string{}}}
	}
	if r, _ := agentOf(n).one(cleanup("system")); r.Status == 200 {
		t.Errorf("cleanup of system: accepted")
	}
	done = execAsync(agentOf(n), cleanup("system_auth"))
	eventually(t, "a Cleanup compaction", func() error {
		var cs []map[string]string
		if err := agentOf(n).read(CompactionManagerMBean, "Compactions", &cs); err != nil {
			return err
		}
		if len(cs) != 1 || cs[0]["taskType"] != CleanupTask || cs[0]["keyspace"] != "system_auth" {
			return fmt.Errorf("compactions %v", cs)
		}
		return nil
	})
	if r := <-done; r.Status != 200 || string(r.Value) != "0" {
		t.Fatalf("cleanup: %d %s %s", r.Status, r.Value, r.Error)
	}
}

// resetFalse is the property render gives every pod.
const resetFalse = "-D" + resetBootstrapProgress + "=false"

// TestRebuildAgain: a rebuild sent to a node that already streamed its
// ranges (CASSANDRA-17679, 5.0.1 RangeStreamer.java:733-744). 5.0 without
// cassandra.reset_bootstrap_progress refuses it, naming what it found
// available, and keeps refusing after a restart (the ranges are kept with
// the data); with it false, or on 3.11 and 4.x, it streams only what is
// missing, here nothing, and answers at once; with it true it streams
// everything again. The ring is the conformance test's: dc1's seed and a
// node of dc2 that is its own seed (NORMAL without data).
func TestRebuildAgain(t *testing.T) {
	for i, c := range []struct {
		release, jvm string
		refused      bool // the second rebuild is refused
		streams      bool // the second rebuild streams again
	}{
		{release: "5.0.1", refused: true},
		{release: "5.0.1", jvm: resetFalse},
		{release: "5.0.1", jvm: "-D" + resetBootstrapProgress + "=true", streams: true},
		{release: "5.0.1", jvm: "-D" + resetBootstrapProgress + "=true " + resetFalse}, // the last one wins
		{release: "4.1.7"},
		{release: "3.11.17"},
	} {
		t.Run(fmt.Sprintf("%s %q", c.release, c.jvm), func(t *testing.T) {
			opts := testOptions()
			opts.BootstrapTime = 1500 * time.Millisecond
			w := newWorld(t, opts)
			src, dst := startTwoDCs(t, w, 53+i, c.release, strings.Fields(c.jvm))
			if r, _ := agentOf(dst).one(rebuildReq("dc1")); r.Status != 200 {
				t.Fatalf("first rebuild: %d %s", r.Status, r.Error)
			}
			start := time.Now()
			done := execAsync(agentOf(dst), rebuildReq("dc1"))
			if c.streams {
				waitRebuildStream(t, dst)
			}
			r := <-done
			took := time.Since(start)
			switch {
			case c.refused:
				wantJMXError(t, "rebuilt again", r, javaIllegalState, "Discovered existing bootstrap data and cassandra.reset_bootstrap_progress is not configured; aborting bootstrap. "+
					"Please clean up local files manually and try again or set cassandra.reset_bootstrap_progress=true to ignore. Found: [FetchReplica{local=Full(/"+dst.cfg.IP+":7000,(")
				wantRefusalLists(t, r.Error, dst, src)
			case r.Status != 200:
				t.Errorf("rebuilt again: %d %s", r.Status, r.Error)
			case !c.streams && took >= opts.BootstrapTime:
				t.Errorf("rebuilt again: answered after %s, as long as a stream (nothing was missing)", took)
			}
		})
	}
}

// TestRebuildRefusalOutlivesRestart: the available ranges are kept with
// the data, so a 5.0 node restarted without the property still refuses;
// restarted with it false, it accepts.
func TestRebuildRefusalOutlivesRestart(t *testing.T) {
	w := newWorld(t, testOptions())
	_, dst := startTwoDCs(t, w, 60, "5.0.1", nil)
	if r, _ := agentOf(dst).one(rebuildReq("dc1")); r.Status != 200 {
		t.Fatalf("first rebuild: %d %s", r.Status, r.Error)
	}
	cfg := dst.cfg
	for _, jvm := range [][]string{nil, {resetFalse}} {
		dst.Stop()
		cfg.JVMOptions = jvm
		dst = w.start(cfg)
		eventually(t, "dst NORMAL", func() error {
			if m := dst.Mode(); m != "NORMAL" {
				return fmt.Errorf("mode %s", m)
			}
			return nil
		})
		r, _ := agentOf(dst).one(rebuildReq("dc1"))
		if jvm == nil {
			wantJMXError(t, "restarted without the property", r, javaIllegalState, "Discovered existing bootstrap data")
		} else if r.Status != 200 {
			t.Errorf("restarted with %v: %d %s", jvm, r.Status, r.Error)
		}
	}
}

// TestRebuildAfterBootstrap: a 5.0 node that bootstrapped holds the ranges
// it streamed then, so a rebuild from the datacenter it streamed them from
// is refused without the property, and accepted at once with it false.
func TestRebuildAfterBootstrap(t *testing.T) {
	for i, jvm := range [][]string{nil, {resetFalse}} {
		opts := testOptions()
		opts.BootstrapTime = 1500 * time.Millisecond
		w := newWorld(t, opts)
		var nodes []*Node
		for j, pod := range []string{"orders-dc1-r1-0", "orders-dc2-r1-0"} {
			cfg := w.cfg(fmt.Sprintf("pvc-%d", j), pod, ip(61+i, j+1), fmt.Sprintf("dc%d", j+1), "r1", "orders-dc1-r1-0")
			cfg.ReleaseVersion, cfg.JVMOptions = "5.0.1", jvm
			nodes = append(nodes, w.start(cfg))
			waitSettled(t, nodes...)
		}
		start := time.Now()
		r, _ := agentOf(nodes[1]).one(rebuildReq("dc1"))
		switch {
		case jvm == nil:
			wantJMXError(t, "rebuild after a bootstrap", r, javaIllegalState, "Discovered existing bootstrap data")
		case r.Status != 200:
			t.Errorf("rebuild after a bootstrap, %v: %d %s", jvm, r.Status, r.Error)
		case time.Since(start) >= opts.BootstrapTime:
			t.Errorf("rebuild after a bootstrap, %v: answered after %s, as long as a stream (nothing was missing)", jvm, time.Since(start))
		}
	}
}

func rebuildReq(src any) map[string]any {
	return execReq("rebuild(java.lang.String,java.lang.String,java.lang.String,java.lang.String)", src, nil, nil, nil)
}

// startTwoDCs starts dc1's seed, then a node of dc2 that is its own seed
// (it joins NORMAL without bootstrap), both on release with jvm options.
func startTwoDCs(t *testing.T, w *world, subnet int, release string, jvm []string) (src, dst *Node) {
	t.Helper()
	var nodes []*Node
	for i, pod := range []string{"orders-dc1-r1-0", "orders-dc2-r1-0"} {
		cfg := w.cfg(fmt.Sprintf("pvc-%d", i), pod, ip(subnet, i+1), fmt.Sprintf("dc%d", i+1), "r1", "orders-dc1-r1-0", pod)
		cfg.ReleaseVersion, cfg.JVMOptions = release, jvm
		nodes = append(nodes, w.start(cfg))
		waitSettled(t, nodes...)
	}
	return nodes[0], nodes[1]
}

func waitRebuildStream(t *testing.T, n *Node) {
	t.Helper()
	eventually(t, "a Rebuild stream", func() error {
		if ss := streamsOf(t, n); len(ss) != 1 || ss[0]["description"] != "Rebuild" {
			return fmt.Errorf("streams %v", ss)
		}
		return nil
	})
}

// wantRefusalLists checks the lists of the refusal: every range of the
// ring (the node replicates them all in system_distributed and
// system_traces) found available from src, and all of them available.
func wantRefusalLists(t *testing.T, msg string, dst, src *Node) {
	t.Helper()
	ranges := 2 * dst.sim.opts.NumTokens
	found := strings.Count(msg, "FetchReplica{local=Full(/"+dst.cfg.IP+":7000,(")
	from := strings.Count(msg, "remote=Full(/"+src.cfg.IP+":7000,(")
	_, avail, _ := strings.Cut(msg, "Fully available: [")
	avail, _, _ = strings.Cut(avail, "]. Transiently available: []")
	if found != ranges || from != ranges || strings.Count(avail, "(") != ranges {
		t.Errorf("refusal: %d ranges found, %d from %s, %d available; want %d each:\n%s", found, from, src.cfg.IP, strings.Count(avail, "("), ranges, msg)
	}
}
