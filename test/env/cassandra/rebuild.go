package cassandra

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ringops/ringops/test/env/jolokia"
)

// The #15 operations of StorageService: rebuild and forceKeyspaceCleanup.
// Each answers when its work is done, as Cassandra's do; the caller does
// not hold the request open (ringops reads the streams and compactions).

// rebuildParams is the overload of rebuild that 3.11, 4.x and 5.0 expose:
// (sourceDc, keyspace, tokens, specificSources); nulls mean "any".
var rebuildParams = []string{"java.lang.String", "java.lang.String", "java.lang.String", "java.lang.String"}

// cleanupParams is forceKeyspaceCleanup(int jobs, String keyspace,
// String... tables).
var cleanupParams = []string{"int", "java.lang.String", "[Ljava.lang.String;"}

// CleanupTask is the compaction task type of a cleanup
// (OperationType.CLEANUP).
const CleanupTask = "Cleanup"

// rebuildOperations are StorageService.rebuild and forceKeyspaceCleanup.
func (n *Node) rebuildOperations() []operation {
	return []operation{
		{
			sig: jolokia.Operation{Name: "rebuild", Params: rebuildParams, Return: "void"},
			call: func(args []any) (any, error) {
				src, _ := args[0].(string)
				return n.rebuild(src)
			},
		},
		{
			sig: jolokia.Operation{Name: "forceKeyspaceCleanup", Params: cleanupParams, Return: "int"},
			call: func(args []any) (any, error) {
				ks, _ := args[1].(string)
				return n.cleanup(ks)
			},
		},
	}
}

// rebuild is StorageService.rebuild: one at a time ("Node is still
// rebuilding. Check nodetool netstats."), from a datacenter of the ring
// (else IllegalArgumentException), a "Rebuild" stream plan receiving
// for BootstrapTime; the answer comes when it ends.
func (n *Node) rebuild(src string) (any, error) {
	s := n.sim
	s.mu.Lock()
	if n.rebuilding != nil {
		s.mu.Unlock()
		return nil, jmxErr(javaIllegalState, "Node is still rebuilding. Check nodetool netstats.")
	}
	if src != "" {
		var dcs []string
		for _, e := range n.normalMembers("") {
			if !slices.Contains(dcs, e.dc) {
				dcs = append(dcs, e.dc)
			}
		}
		if !slices.Contains(dcs, src) {
			s.mu.Unlock()
			slices.Sort(dcs)
			return nil, jmxErr(javaIllegalArgument, "Provided datacenter '%s' is not a valid datacenter, available datacenters are: %s", src, strings.Join(dcs, ","))
		}
	}
	plan := newStreamPlan("Rebuild", false, s.opts.BootstrapTime)
	n.rebuilding = plan
	s.mu.Unlock()
	return nil, n.await(plan, s.opts.BootstrapTime, "rebuilding")
}

// cleanup is forceKeyspaceCleanup of one keyspace: refused for a local
// one, a "Cleanup" compaction for UpgradeTime, then 0 (SUCCESSFUL).
func (n *Node) cleanup(ks string) (any, error) {
	s := n.sim
	s.mu.Lock()
	if ks == "system" || ks == "system_schema" {
		s.mu.Unlock()
		return nil, jmxErr(javaRuntime, "Cleanup of the system keyspace is neither necessary nor possible")
	}
	if !slices.Contains(s.keyspaceNames(), ks) {
		s.mu.Unlock()
		return nil, jmxErr(javaIllegalArgument, "Unknown keyspace %s", ks)
	}
	now := time.Now()
	task := &upgradeTask{keyspace: ks, start: now, end: now.Add(s.opts.UpgradeTime)}
	n.cleanups = append(n.cleanups, task)
	s.mu.Unlock()
	return 0, n.await(task, s.opts.UpgradeTime, "cleaning up")
}

// await waits d for an operation of the node, or for the node to stop,
// then forgets it (the rebuild's stream plan or the cleanup's task).
func (n *Node) await(op any, d time.Duration, what string) error {
	t := time.NewTimer(d)
	defer t.Stop()
	var err error
	select {
	case <-t.C:
	case <-n.done:
		err = jmxErr(javaRuntime, "Node stopped while %s", what)
	}
	s := n.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if n.rebuilding == op {
		n.rebuilding = nil
	}
	n.cleanups = slices.DeleteFunc(n.cleanups, func(u *upgradeTask) bool { return u == op })
	return err
}

// cleanupCompactions are the running cleanups as
// CompactionManager.Compactions lists them (mu held).
func (n *Node) cleanupCompactions(now time.Time) []map[string]string {
	var out []map[string]string
	for _, u := range n.cleanups {
		total := int64(u.end.Sub(u.start).Milliseconds()) + 1
		done := min(total, int64(now.Sub(u.start).Milliseconds()))
		out = append(out, map[string]string{"id": nameUUID("table/" + u.keyspace), "keyspace": u.keyspace, "columnfamily": "data",
			"completed": strconv.FormatInt(done, 10), "total": strconv.FormatInt(total, 10), "taskType": CleanupTask,
			"unit": "bytes", "compactionId": nameUUID("cleanup/" + u.keyspace + u.start.String())})
	}
	return out
}
