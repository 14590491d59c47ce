package jolokia

import (
	"context"
	"errors"
	"fmt"

	"github.com/ringops/ringops/reconciler/ring"
)

// Cleanup is one reusable action: the growth of a datacenter (#16) needs
// it on the older nodes, and so does a lower replication factor (#15).

// CleanupOperation is the overload of StorageService.forceKeyspaceCleanup
// with a bound on the tables cleaned up at once: (int jobs, String
// keyspaceName, String... tables), in 3.11.17 (StorageServiceMBean.java:284),
// 4.1.7 (:349) and 5.0.1 (:400). It returns 0 (SUCCESSFUL), 1 (ABORTED) or
// 2 (UNABLE_TO_CANCEL) once the keyspace is cleaned up
// (CompactionManager.AllSSTableOpStatus); 5.0.1 refuses a local system
// keyspace ("Cleanup of the system keyspace is neither necessary nor
// wise") and a node with pending ranges ("Node is involved in cluster
// membership changes. Not safe to run cleanup.", StorageService.java:4105-4124).
const CleanupOperation = "forceKeyspaceCleanup(int,java.lang.String,[Ljava.lang.String;)"

// CleanupTask is the taskType of a cleanup compaction in
// CompactionManager.Compactions (OperationType.CLEANUP, "Cleanup", the
// same in 3.11.17, 4.1.7 and 5.0.1): how a cleanup in flight is seen.
const CleanupTask = "Cleanup"

// ErrCleanupFailed: Cassandra refused or aborted a cleanup.
var ErrCleanupFailed = errors.New("cleanup failed")

// localKeyspaces are never cleaned up: nodetool cleanup skips them
// (SchemaConstants.isLocalSystemKeyspace, and the virtual ones).
var localKeyspaces = map[string]bool{"system": true, "system_schema": true, "system_views": true, "system_virtual_schema": true}

// Cleanup drops from n the data of the ranges it no longer owns, as
// `nodetool cleanup -j <jobs> [keyspace...]` does:
// forceKeyspaceCleanup(jobs, ks) for each of keyspaces (#15: the
// keyspaces whose replication shrank), or, when none is named, for every
// keyspace of StorageService.Keyspaces (#16: the growth of a datacenter),
// but the local system ones, in one bulk POST the agent runs keyspace
// after keyspace. The node must be NORMAL, and its view must have no node
// joining, leaving, moving or down (ErrRingBusy): a cleanup never
// overlaps a range movement. The call is not held open longer than
// ExecTimeout: done reports that every keyspace answered 0 in time; no
// answer in time is no failure, the cleanup runs on and shows as
// "Cleanup" compactions (ReadProgress, Progress.CleaningUp, Progress.Tasks).
// Sent again after it ended, it answers at once. An answer with another
// status or an exception is ErrCleanupFailed.
func (o *Operations) Cleanup(ctx context.Context, n ring.Node, jobs int, keyspaces []string) (done bool, err error) {
	if err := o.acquire(n); err != nil {
		return false, fmt.Errorf("cleanup %w", err)
	}
	defer o.release(n)
	v, err := o.ops.ReadView(ctx, n)
	if err != nil {
		return false, fmt.Errorf("cleanup %s: %w", n.Pod, err)
	}
	if v.Mode != ring.ModeNormal {
		return false, fmt.Errorf("cleanup %s: node is %s, not NORMAL: %w", n.Pod, v.Mode, ErrCleanupFailed)
	}
	if err := othersBusy(n, v); err != nil {
		return false, fmt.Errorf("cleanup %s: %w", n.Pod, err)
	}
	named := keyspaces
	if len(named) == 0 {
		if named, err = o.keyspaces(ctx, n); err != nil {
			return false, fmt.Errorf("cleanup %s: %w", n.Pod, err)
		}
	}
	keyspaces = nil
	for _, ks := range named {
		if !localKeyspaces[ks] {
			keyspaces = append(keyspaces, ks)
		}
	}
	if len(keyspaces) == 0 {
		return true, nil
	}
	reqs := make([]Request, len(keyspaces))
	for i, ks := range keyspaces {
		reqs[i] = Request{Type: "exec", MBean: StorageServiceMBean, Operation: CleanupOperation,
			Arguments: []any{max(1, jobs), ks, []string{}}}
	}
	callCtx, cancel := context.WithTimeout(ctx, o.opts.ExecTimeout)
	defer cancel()
	resps, err := o.ops.Bulk(callCtx, n, reqs)
	switch {
	case err == nil:
		err = keyspaceAnswers("cleanup", "not cleaned up", ErrCleanupFailed, n, keyspaces, reqs, resps)
		return err == nil, err
	case lostAnswer(err) && ctx.Err() == nil:
		return false, nil
	}
	return false, fmt.Errorf("cleanup %s: %w", n.Pod, err)
}

// CleaningUp reports whether a cleanup compaction runs.
func (p *Progress) CleaningUp() bool {
	for _, c := range p.Compactions {
		if c.TaskType == CleanupTask {
			return true
		}
	}
	return false
}
