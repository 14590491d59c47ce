package jolokia

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ringops/ringops/reconciler/ring"
)

// UpgradeSSTablesOperation is the overload of StorageService.upgradeSSTables
// that every supported version has: (String keyspace, boolean
// excludeCurrentVersion, int jobs, String... tables), 3.11.17
// StorageServiceMBean.java:315, 4.0.14 :367, 4.1.7 :382 and 5.0.1 :442 (a
// default method there, which JMX exposes like any other). It returns 0
// (SUCCESSFUL), 1 (ABORTED) or 2 (UNABLE_TO_CANCEL) once the keyspace's
// sstables are rewritten (CompactionManager.AllSSTableOpStatus).
const UpgradeSSTablesOperation = "upgradeSSTables(java.lang.String,boolean,int,[Ljava.lang.String;)"

// UpgradeSSTables rewrites the sstables of every keyspace of n that are not
// on the newest format of its release, as `nodetool upgradesstables` does
// (every keyspace of StorageService.Keyspaces, sstables on the current
// version skipped, OperationOptions.UpgradeJobs at once). The node must be
// NORMAL. The operations go in one bulk POST, which the agent runs keyspace
// after keyspace; the call is not held open longer than ExecTimeout, and
// no answer in time is no failure: progress shows in the node's
// OldVersionSSTableCount and its "Upgrade sstables" compactions
// (ReadProgress). An answer in time with a status other than 0, or an
// exception, is ErrUpgradeFailed.
func (o *Operations) UpgradeSSTables(ctx context.Context, n ring.Node) error {
	if err := o.acquire(n); err != nil {
		return fmt.Errorf("upgradesstables %w", err)
	}
	defer o.release(n)
	v, err := o.ops.ReadView(ctx, n)
	if err != nil {
		return fmt.Errorf("upgradesstables %s: %w", n.Pod, err)
	}
	if v.Mode != ring.ModeNormal {
		return fmt.Errorf("upgradesstables %s: node is %s, not NORMAL: %w", n.Pod, v.Mode, ErrUpgradeFailed)
	}
	keyspaces, err := o.keyspaces(ctx, n)
	if err != nil {
		return fmt.Errorf("upgradesstables %s: %w", n.Pod, err)
	}
	reqs := make([]Request, len(keyspaces))
	for i, ks := range keyspaces {
		reqs[i] = Request{Type: "exec", MBean: StorageServiceMBean, Operation: UpgradeSSTablesOperation,
			Arguments: []any{ks, true, o.opts.UpgradeJobs, []string{}}}
	}
	callCtx, cancel := context.WithTimeout(ctx, o.opts.ExecTimeout)
	defer cancel()
	resps, err := o.ops.Bulk(callCtx, n, reqs)
	switch {
	case err == nil:
		return keyspaceAnswers("upgradesstables", "not rewritten", ErrUpgradeFailed, n, keyspaces, reqs, resps)
	case lostAnswer(err) && ctx.Err() == nil:
		return nil
	}
	return fmt.Errorf("upgradesstables %s: %w", n.Pod, err)
}

// keyspaces reads StorageService.Keyspaces: every keyspace, the system
// ones included (nodetool upgradesstables' default set).
func (o *Operations) keyspaces(ctx context.Context, n ring.Node) ([]string, error) {
	req := Request{Type: "read", MBean: StorageServiceMBean, Attribute: "Keyspaces"}
	resps, err := o.ops.Bulk(ctx, n, []Request{req})
	if err != nil {
		return nil, err
	}
	if err := resps[0].err(req); err != nil {
		return nil, err
	}
	var ks []string
	if err := json.Unmarshal(resps[0].Value, &ks); err != nil || len(ks) == 0 {
		return nil, &ValueError{Attribute: "Keyspaces", Want: "a non-empty array of strings", Err: orNull(err)}
	}
	return ks, nil
}

// keyspaceAnswers judges the answers of a per-keyspace operation
// (upgradesstables, cleanup) that finished in time: a Jolokia error, or a
// keyspace whose status is not 0 ("undone: orders (status 2)"), fails op
// with sentinel.
func keyspaceAnswers(op, undone string, sentinel error, n ring.Node, keyspaces []string, reqs []Request, resps []Response) error {
	var failed []string
	var errs []error
	for i, r := range resps {
		if err := r.err(reqs[i]); err != nil {
			errs = append(errs, err)
			continue
		}
		var status int
		if json.Unmarshal(r.Value, &status) == nil && status != 0 {
			failed = append(failed, fmt.Sprintf("%s (status %d)", keyspaces[i], status))
		}
	}
	if len(failed) > 0 {
		errs = append(errs, fmt.Errorf("%s: %s", undone, strings.Join(failed, ", ")))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s %s: %w: %w", op, n.Pod, sentinel, errors.Join(errs...))
	}
	return nil
}
