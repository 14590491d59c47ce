package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
)

// TestStatusNamesDeadNodes: a node the ring has down is named with the
// pod whose node it was (the record), how long it has been down and what
// ringops does; an up node, and a down node with no host ID, are not.
func TestStatusNamesDeadNodes(t *testing.T) {
	res := ring.Result{Nodes: []ring.NodeStatus{
		{Node: ring.Node{Pod: "orders-dc1-r1-0", IP: "10.0.0.1"}, Expected: true, State: ring.UN, HostID: "h0", Mode: ring.ModeNormal},
		{Node: ring.Node{IP: "10.0.9.9"}, State: ring.DN, HostID: "5D1E2F3A-9b8c-4d7e-a6f5-0123456789ab"},
		{Node: ring.Node{IP: "10.0.9.8"}, State: ring.DN},
		{Node: ring.Node{IP: "10.0.9.7"}, State: ring.DN, HostID: "other"},
	}}
	recorded := plan.RecordedNodes(map[string]string{
		"orders-dc1-r2": "1 pvc=u1 host=5d1e2f3a-9b8c-4d7e-a6f5-0123456789ab address=10.0.9.9 joined=2026-03-01T10:00:00Z replace=10.0.9.9\n",
	})
	require.Len(t, recorded, 1)
	dead := deadNodes(res, recorded, func(a string) time.Duration {
		if a == "10.0.9.9" {
			return 12*time.Minute + 300*time.Millisecond
		}
		return 0
	})
	require.Len(t, dead, 2)
	assert.Equal(t, "orders-dc1-r2-1", dead[0].Pod)
	assert.Equal(t, "12m0s", dead[0].DownFor)
	assert.Contains(t, dead[0].Action, "orders-dc1-r2-1 is replacing it (replace_address_first_boot=10.0.9.9)")
	assert.Empty(t, dead[1].Pod)
	assert.Contains(t, dead[1].Action, "ringops leaves it alone")

	var b strings.Builder
	require.NoError(t, writeDeadNodes(&b, dead))
	assert.Contains(t, b.String(), "Dead nodes:\n  5D1E2F3A-9b8c-4d7e-a6f5-0123456789ab at 10.0.9.9 (orders-dc1-r2-1), down for 12m0s: ")
	assert.Contains(t, b.String(), "  other at 10.0.9.7, down: ")
}
