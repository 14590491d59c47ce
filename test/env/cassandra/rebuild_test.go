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
	nodes := startThree(t, w, 52, "5.0.1")
	n := nodes[2] // dc2
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
