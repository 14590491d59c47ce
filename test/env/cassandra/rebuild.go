package cassandra

import (
	"slices"
	"strings"
	"time"

	"github.com/ringops/ringops/test/env/jolokia"
)

// The #15 operation of StorageService: rebuild (forceKeyspaceCleanup,
// which a lower replication factor needs too, is cleanup.go's). It answers
// when its work is done, as Cassandra's does; the caller does not hold the
// request open (ringops reads the streams).

// rebuildParams is the overload of rebuild that 3.11, 4.x and 5.0 expose:
// (sourceDc, keyspace, tokens, specificSources); nulls mean "any".
var rebuildParams = []string{"java.lang.String", "java.lang.String", "java.lang.String", "java.lang.String"}

// rebuildOperations are StorageService.rebuild.
func (n *Node) rebuildOperations() []operation {
	return []operation{
		{
			sig: jolokia.Operation{Name: "rebuild", Params: rebuildParams, Return: "void"},
			call: func(args []any) (any, error) {
				src, _ := args[0].(string)
				return n.rebuild(src)
			},
		},
	}
}

// rebuild is StorageService.rebuild: one at a time ("Node is still
// rebuilding. Check nodetool netstats."), from a datacenter of the ring
// (else IllegalArgumentException), a "Rebuild" stream plan receiving the
// missing ranges (rebuildWork) for BootstrapTime, after which they are
// available; the answer comes when it ends, at once when nothing is
// missing (a plan without sessions).
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
	work, err := n.rebuildWork(src)
	if err != nil || len(work) == 0 {
		s.mu.Unlock()
		return nil, err
	}
	plan := newStreamPlan("Rebuild", false, s.opts.BootstrapTime)
	n.rebuilding = plan
	s.mu.Unlock()
	return nil, n.await(plan, s.opts.BootstrapTime, "rebuilding", func() { n.disk.addAvailable(work) })
}

// await waits d for an operation of the node, or for the node to stop,
// then forgets it (the rebuild's stream plan); done runs once it ended
// well (mu held).
func (n *Node) await(op any, d time.Duration, what string, done func()) error {
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
	if err == nil {
		done()
	}
	return err
}
