package cassandra

import (
	"time"

	"github.com/ringops/ringops/test/env/jolokia"
)

// cleanupParams is the overload of forceKeyspaceCleanup with jobs, which
// 3.11.17 (StorageServiceMBean.java:284), 4.1.7 (:349) and 5.0.1 (:400)
// have: (int jobs, String keyspaceName, String... tables).
var cleanupParams = []string{"int", "java.lang.String", "[Ljava.lang.String;"}

// CleanupTask is the taskType of a cleanup compaction
// (OperationType.CLEANUP, 5.0.1 OperationType.java:26).
const CleanupTask = "Cleanup"

// cleanupTask is a forceKeyspaceCleanup of one keyspace.
type cleanupTask struct {
	keyspace   string
	start, end time.Time
	done       chan struct{}
	err        error
}

func (n *Node) cleanupOperation() operation {
	return operation{
		sig: jolokia.Operation{Name: "forceKeyspaceCleanup", Params: cleanupParams, Return: "int"},
		call: func(args []any) (any, error) {
			ks, _ := args[1].(string)
			return n.forceKeyspaceCleanup(ks)
		},
	}
}

// forceKeyspaceCleanup is StorageService.forceKeyspaceCleanup (5.0.1
// StorageService.java:4105-4124): it refuses a local system keyspace, a
// node with pending ranges of the keyspace (one that joins or replaces,
// or gains ranges of one that leaves: not the neighbours of one that
// joins) and an unknown keyspace, then drops the data
// of the ranges the node no longer owns, a CompactionManager task of type
// "Cleanup" per table meanwhile, and answers 0 (SUCCESSFUL) once done.
func (n *Node) forceKeyspaceCleanup(ks string) (any, error) {
	s := n.sim
	s.mu.Lock()
	switch {
	case ks == "system" || ks == "system_schema" || ks == "system_views" || ks == "system_virtual_schema":
		s.mu.Unlock()
		return nil, jmxErr(javaRuntime, "Cleanup of the system keyspace is neither necessary nor wise")
	case n.pendingRanges(ks):
		s.mu.Unlock()
		return nil, jmxErr(javaRuntime, "Node is involved in cluster membership changes. Not safe to run cleanup.")
	case !s.knownKeyspace(ks):
		s.mu.Unlock()
		return nil, jmxErr(javaIllegalArgument, "Keyspace %s does not exist", ks)
	}
	now := time.Now()
	t := &cleanupTask{keyspace: ks, start: now, end: now.Add(s.opts.CleanupTime), done: make(chan struct{})}
	n.cleanups = append(n.cleanups, t)
	n.cleanupTick(now)
	s.mu.Unlock()
	select {
	case <-t.done:
		if t.err != nil {
			return nil, t.err
		}
		return 0, nil
	case <-n.done:
		return nil, jmxErr(javaRuntime, "Node stopped while cleaning up %s", ks)
	}
}

func (s *Sim) knownKeyspace(ks string) bool {
	for _, k := range s.keyspaceNames() {
		if k == ks {
			return true
		}
	}
	return false
}

// pendingRanges reports whether the node has pending ranges of keyspace
// name: it replicates more of it once the movements under way are done
// (ranges.go), or it replaces a node (mu held).
func (n *Node) pendingRanges(name string) bool {
	for _, ks := range n.replicatedKeyspaces() {
		if ks.name == name {
			return n.hasPendingRanges(ks) || (n.replacee != nil && len(n.localRanges(ks, true)) > 0)
		}
	}
	return false
}

// cleanupTick ends the cleanups whose time is up (mu held).
func (n *Node) cleanupTick(now time.Time) {
	left := n.cleanups[:0]
	for _, t := range n.cleanups {
		if now.Before(t.end) {
			left = append(left, t)
			continue
		}
		close(t.done)
	}
	n.cleanups = left
}

// stopCleanups ends the cleanups of a node that stops (mu held).
func (n *Node) stopCleanups() {
	for _, t := range n.cleanups {
		t.err = jmxErr(javaRuntime, "Node stopped while cleaning up %s", t.keyspace)
		close(t.done)
	}
	n.cleanups = nil
}

// cleanupCompactions are the running cleanups as CompactionInfo.asMap
// (mu held).
func (n *Node) cleanupCompactions(now time.Time) []map[string]string {
	var out []map[string]string
	for _, t := range n.cleanups {
		total := int64(t.end.Sub(t.start).Milliseconds()) + 1
		done := min(total, int64(now.Sub(t.start).Milliseconds()))
		out = append(out, n.compactionInfo(CleanupTask, t.keyspace, nameUUID("cleanup/"+t.keyspace+t.start.String()), done, total))
	}
	return out
}
