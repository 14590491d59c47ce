package jolokia

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ringops/ringops/reconciler/ring"
)

// ResumeBootstrap asks a node whose bootstrap failed to resume it, as
// `nodetool bootstrap resume` does: StorageService.resumeBootstrap(), in
// the MBean of every supported version (3.11.17 StorageServiceMBean.java:719,
// 4.0.14 :779, 4.1.7 :869, 5.0.1 :1064). A failed bootstrap leaves a 3.11
// or 4.x node JOINING ("Some data streaming failed", 4.1.7
// StorageService.java:1256) and a 5.0 node JOINING_FAILED (5.0.1 :2202);
// both wait for this call. It starts the streaming in the background and
// answers at once: true when it resumed, false when the node is not
// bootstrapping (4.1.7 :2127-2194). It checks nothing of its own, so a
// resume while a bootstrap streams streams twice: the caller asks only when
// the node's streams have been idle for a while (ReadProgress).
//
// The node must be JOINING or JOINING_FAILED, and its view must show no
// other node joining, leaving, moving or down (ErrRingBusy). No answer in
// time is no failure; false is ErrResumeFailed.
func (o *Operations) ResumeBootstrap(ctx context.Context, n ring.Node) error {
	if err := o.acquire(n); err != nil {
		return fmt.Errorf("resume bootstrap %w", err)
	}
	defer o.release(n)
	v, err := o.ops.ReadView(ctx, n)
	if err != nil {
		return fmt.Errorf("resume bootstrap %s: %w", n.Pod, err)
	}
	switch v.Mode {
	case ring.ModeJoining, ring.ModeJoiningFailed:
	default:
		return fmt.Errorf("resume bootstrap %s: node is %s, not JOINING or JOINING_FAILED: %w", n.Pod, v.Mode, ErrResumeFailed)
	}
	if err := othersBusy(n, v); err != nil {
		return fmt.Errorf("resume bootstrap %s: %w", n.Pod, err)
	}
	val, err := o.ops.Exec(ctx, n, Call{MBean: StorageServiceMBean, Operation: "resumeBootstrap", Timeout: o.opts.ExecTimeout})
	var re *RequestError
	switch {
	case err == nil:
		var resumed bool
		if json.Unmarshal(val, &resumed) == nil && !resumed {
			return fmt.Errorf("resume bootstrap %s: the node says it is not bootstrapping: %w", n.Pod, ErrResumeFailed)
		}
		return nil
	case lostAnswer(err) && ctx.Err() == nil:
		return nil
	case errors.As(err, &re):
		return fmt.Errorf("resume bootstrap %s: %w: %w", n.Pod, ErrResumeFailed, err)
	}
	return fmt.Errorf("resume bootstrap %s: %w", n.Pod, err)
}
