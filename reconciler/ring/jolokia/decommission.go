package jolokia

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ringops/ringops/reconciler/ring"
)

// javaIllegalState is what Cassandra 4.x throws when asked to decommission
// a node that is decommissioning already.
const javaIllegalState = "java.lang.IllegalStateException"

// Decommission starts decommissioning n, or retries a decommission that
// failed, as the node's Cassandra version allows, and returns without
// waiting for it to end. It reads the node first:
//
//   - DECOMMISSIONED: done, nothing is sent;
//   - NORMAL: sent, unless another node is joining, leaving, moving or down
//     in the node's view (ErrRingBusy): no second node ever leaves;
//   - LEAVING: a decommission started before, which runs or failed: sent
//     again on Cassandra 3.10+ (CASSANDRA-12008: the mode checks let a
//     LEAVING node through; 4.x throws IllegalStateException while one
//     runs, 3.11 does not refuse a concurrent call at all, so the caller
//     asks again only once nothing runs), refused before 3.10;
//   - DECOMMISSION_FAILED (5.0): sent again, which 5.0 accepts (it returns
//     silently while a decommission runs or when it is done);
//   - any other mode: ErrDecommissionFailed.
//
// The operation, decommission() before 4.0 and decommission(boolean) since,
// is sent once with OperationOptions.ExecTimeout: Cassandra answers when
// the node has left, so no answer in time is no failure, and neither is
// 4.x's IllegalStateException (one runs). An answer with another exception
// (the replication-factor check, a stream that failed at once) is
// ErrDecommissionFailed. What happens next is read from the ring: the
// node's own OperationMode while it answers, and the other nodes' views
// (the node in their LeavingNodes, then gone from their ring).
func (o *Operations) Decommission(ctx context.Context, n ring.Node) error {
	return o.decommission(ctx, n, o.opts.Force)
}

// ForceDecommission is Decommission with Cassandra 4+'s force flag set,
// whatever OperationOptions.Force says: for the last node of a
// datacenter that leaves, where only system_auth (which Cassandra keeps
// in the replication of a datacenter with nodes) still replicates (#15).
func (o *Operations) ForceDecommission(ctx context.Context, n ring.Node) error {
	return o.decommission(ctx, n, true)
}

func (o *Operations) decommission(ctx context.Context, n ring.Node, force bool) error {
	if err := o.acquire(n); err != nil {
		return fmt.Errorf("decommission %w", err)
	}
	defer o.release(n)
	v, err := o.ops.ReadView(ctx, n)
	if err != nil {
		return fmt.Errorf("decommission %s: %w", n.Pod, err)
	}
	if v.Mode == ring.ModeDecommissioned {
		return nil
	}
	call, err := o.decommissionCall(n, v, force)
	if err != nil {
		return fmt.Errorf("decommission %s: %w", n.Pod, err)
	}
	_, err = o.ops.Exec(ctx, n, call)
	var re *RequestError
	switch {
	case err == nil, lostAnswer(err) && ctx.Err() == nil:
		return nil
	case errors.As(err, &re) && re.ErrorType == javaIllegalState && v.Mode == ring.ModeLeaving:
		return nil // 4.x: a decommission runs already
	case errors.As(err, &re):
		return fmt.Errorf("decommission %s: %w: %w", n.Pod, ErrDecommissionFailed, err)
	}
	return fmt.Errorf("decommission %s: %w", n.Pod, err)
}

// decommissionCall checks the node's mode, version and view, and returns
// the operation to send.
func (o *Operations) decommissionCall(n ring.Node, v *ring.View, force bool) (Call, error) {
	major, minor, err := ring.ReleaseSeries(v.ReleaseVersion)
	if err != nil {
		return Call{}, err
	}
	switch v.Mode {
	case ring.ModeNormal, ring.ModeDecommissionFailed:
	case ring.ModeLeaving:
		if major == 3 && minor < 10 {
			return Call{}, fmt.Errorf("%w: Cassandra %s cannot retry the decommission of a LEAVING node (3.10 and later can, CASSANDRA-12008): restart the node, then decommission it again",
				ErrDecommissionFailed, v.ReleaseVersion)
		}
	default:
		return Call{}, fmt.Errorf("node is %s, not NORMAL, LEAVING or DECOMMISSION_FAILED: %w", v.Mode, ErrDecommissionFailed)
	}
	if err := othersBusy(n, v); err != nil {
		return Call{}, err
	}
	return DecommissionCall(v.ReleaseVersion, force, o.opts.ExecTimeout)
}

// DecommissionCall is the decommission operation of a Cassandra release:
// decommission() before 4.0, decommission(boolean force) since.
func DecommissionCall(release string, force bool, timeout time.Duration) (Call, error) {
	major, err := ring.ReleaseMajor(release)
	if err != nil {
		return Call{}, err
	}
	c := Call{MBean: StorageServiceMBean, Operation: "decommission", Timeout: timeout}
	if major >= 4 {
		c.Operation, c.Args = "decommission(boolean)", []any{force}
	}
	return c, nil
}
