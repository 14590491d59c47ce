package jolokia

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ringops/ringops/reconciler/ring"
)

// ErrRemoveFailed: Cassandra refused the removal of a dead node, or it
// cannot be asked (the host ID is no dead ring member of the node's view).
var ErrRemoveFailed = errors.New("removenode failed")

// RemoveNode asks via, a NORMAL node, to remove the dead node hostID from
// the ring, as `nodetool removenode <hostID>` does
// (StorageService.removeNode(String hostIdString), 3.11.17 to 5.0.1:
// StorageServiceMBean.java:538 in 5.0.1), and returns without waiting for
// it to end. It reads via's view first: hostID must be a ring member
// there, at an endpoint its failure detector has down, and nothing else
// may be joining, leaving, moving or down (ErrRingBusy): the removal is a
// range movement (the dead node's ranges are re-replicated from the other
// replicas), and only one runs at a time.
//
// Cassandra answers removeNode once every replica that takes over a
// range confirmed it streamed (minutes to hours), so no answer within
// ExecTimeout is no failure; an answer with an exception ("Node ... is
// alive and owns this ID", "This node is already processing a removal")
// is ErrRemoveFailed. While it runs, every view has the dead node in
// LeavingNodes; once done, it is gone from every ring, which is how the
// caller follows it.
func (o *Operations) RemoveNode(ctx context.Context, via ring.Node, hostID string) error {
	if err := o.acquire(via); err != nil {
		return fmt.Errorf("removenode %s %w", hostID, err)
	}
	defer o.release(via)
	v, err := o.ops.ReadView(ctx, via)
	if err != nil {
		return fmt.Errorf("removenode %s via %s: %w", hostID, via.Pod, err)
	}
	dead, err := deadMember(v, hostID)
	if err != nil {
		return fmt.Errorf("removenode %s via %s: %w", hostID, via.Pod, err)
	}
	if v.Mode != ring.ModeNormal {
		return fmt.Errorf("removenode %s via %s: the node is %s, not NORMAL: %w", hostID, via.Pod, v.Mode, ErrRemoveFailed)
	}
	if err := othersBusy(ring.Node{IP: dead}, v); err != nil {
		return fmt.Errorf("removenode %s via %s: %w", hostID, via.Pod, err)
	}
	_, err = o.ops.Exec(ctx, via, Call{MBean: StorageServiceMBean, Operation: "removeNode", Args: []any{hostID}, Timeout: o.opts.ExecTimeout})
	var re *RequestError
	switch {
	case err == nil, lostAnswer(err) && ctx.Err() == nil:
		return nil
	case errors.As(err, &re):
		return fmt.Errorf("removenode %s via %s: %w: %w", hostID, via.Pod, ErrRemoveFailed, err)
	}
	return fmt.Errorf("removenode %s via %s: %w", hostID, via.Pod, err)
}

// deadMember is the endpoint of hostID in a view, which must have it down.
func deadMember(v *ring.View, hostID string) (string, error) {
	for ep, id := range v.HostIDs {
		if !strings.EqualFold(id, hostID) {
			continue
		}
		for _, u := range v.Unreachable {
			if u == ep {
				return ep, nil
			}
		}
		return "", fmt.Errorf("%w: host ID %s (%s) is up: only a dead node is removed; decommission a live one", ErrRemoveFailed, hostID, ep)
	}
	return "", fmt.Errorf("%w: host ID %s is no member of the ring", ErrRemoveFailed, hostID)
}
