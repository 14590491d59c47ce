package jolokia

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ringops/ringops/reconciler/ring"
)

// ErrRebuildFailed: Cassandra refused or aborted a rebuild (#15).
var ErrRebuildFailed = errors.New("rebuild failed")

// RebuildOperation is the overload of StorageService.rebuild that 3.11.17,
// 4.x and 5.0 all expose: (String sourceDc, String keyspace, String tokens,
// String specificSources); a null keyspace rebuilds every keyspace
// (nodetool rebuild <src-dc>). It answers when the node's streams end
// (minutes to hours), and throws when one failed or a rebuild already runs
// ("Node is still rebuilding. Check nodetool netstats.").
const RebuildOperation = "rebuild(java.lang.String,java.lang.String,java.lang.String,java.lang.String)"

// RebuildStream is the description of a rebuild's stream plans in a
// node's progress (StreamOperation.REBUILD's, the same in 3.11, 4.x and
// 5.0); a cleanup shows as CleanupTask compactions (cleanup.go).
const RebuildStream = "Rebuild"

// Rebuild streams to n, from the nodes of datacenter source, the data of
// its ranges in keyspaces (every keyspace when none is named), as
// `nodetool rebuild -ks ... <source>` does. The node must be NORMAL. One
// call per keyspace goes in one bulk POST that the agent runs in turn; the
// call is not held open longer than ExecTimeout, and no answer in time is
// no failure: the rebuild runs on, and shows in the node's "Rebuild"
// streams (ReadProgress). Sent again after it ended, it streams only what
// is missing and answers at once when nothing is (5.0 does so only with
// -Dcassandra.reset_bootstrap_progress=false, which render gives every
// pod; without it 5.0 refuses a node that already streamed ranges). done
// is true when
// Cassandra answered in time that it finished; an answer in time with an
// exception is ErrRebuildFailed.
func (o *Operations) Rebuild(ctx context.Context, n ring.Node, source string, keyspaces []string) (done bool, err error) {
	reqs := make([]Request, 0, max(1, len(keyspaces)))
	if len(keyspaces) == 0 {
		reqs = append(reqs, Request{Type: "exec", MBean: StorageServiceMBean, Operation: RebuildOperation, Arguments: []any{source, nil, nil, nil}})
	}
	for _, ks := range keyspaces {
		reqs = append(reqs, Request{Type: "exec", MBean: StorageServiceMBean, Operation: RebuildOperation, Arguments: []any{source, ks, nil, nil}})
	}
	return o.normalBulk(ctx, n, "rebuild", ErrRebuildFailed, reqs)
}

// normalBulk sends reqs to n, NORMAL, as one fire-and-forget bulk POST;
// done when they all answered in time.
func (o *Operations) normalBulk(ctx context.Context, n ring.Node, what string, failed error, reqs []Request) (bool, error) {
	if err := o.acquire(n); err != nil {
		return false, fmt.Errorf("%s %w", what, err)
	}
	defer o.release(n)
	v, err := o.ops.ReadView(ctx, n)
	if err != nil {
		return false, fmt.Errorf("%s %s: %w", what, n.Pod, err)
	}
	if v.Mode != ring.ModeNormal {
		return false, fmt.Errorf("%s %s: node is %s, not NORMAL: %w", what, n.Pod, v.Mode, failed)
	}
	callCtx, cancel := context.WithTimeout(ctx, o.opts.ExecTimeout)
	defer cancel()
	resps, err := o.ops.Bulk(callCtx, n, reqs)
	switch {
	case err == nil:
		err = bulkAnswers(n, what, failed, reqs, resps)
		return err == nil, err
	case lostAnswer(err) && ctx.Err() == nil:
		return false, nil
	}
	return false, fmt.Errorf("%s %s: %w", what, n.Pod, err)
}

// bulkAnswers judges the answers of operations that finished in time: an
// exception, or a status other than 0 (a cleanup's), is failed.
func bulkAnswers(n ring.Node, what string, failed error, reqs []Request, resps []Response) error {
	var errs []error
	for i, r := range resps {
		if err := r.err(reqs[i]); err != nil {
			errs = append(errs, err)
			continue
		}
		if s := strings.TrimSpace(string(r.Value)); s != "" && s != "null" && s != "0" {
			errs = append(errs, fmt.Errorf("%v: status %s", reqs[i].Arguments, s))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s %s: %w: %w", what, n.Pod, failed, errors.Join(errs...))
	}
	return nil
}

// Tasks names what a node's progress shows running: its stream plans'
// descriptions and its compactions' task types, sorted as read, without
// repeats.
func (p *Progress) Tasks() []string {
	out := []string{}
	add := func(s string) {
		for _, t := range out {
			if t == s {
				return
			}
		}
		out = append(out, s)
	}
	for _, s := range p.Streams {
		add(s.Description)
	}
	for _, c := range p.Compactions {
		add(c.TaskType)
	}
	return out
}
