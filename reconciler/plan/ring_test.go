package plan

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/render"
)

// ringWorld is one rack at 2 replicas whose third pod is still being
// removed, in eu-west; us-east is unreachable.
func ringWorld(t *testing.T) *Observed {
	t.Helper()
	of := &obsFile{Contexts: map[string]*ctxSpec{
		"eu-west": {StatefulSets: map[string]*stsSpec{
			"orders-dc1-r1": {Replicas: new(int32(2)), ExtraPods: []int32{2}},
			"orders-dc1-r2": {Replicas: new(int32(1))},
			"orders-dc1-r3": {Replicas: new(int32(0))},
		}},
		"us-east": {Unreachable: "timeout"},
	}}
	d, _ := goldenInput(t, "testdata/plan/converged")
	rendered := map[string]map[string]*render.Manifests{"desired": {}}
	for _, m := range d.Manifests {
		rendered["desired"][m.Context] = m
	}
	return buildObserved(t, "orders", of, rendered)
}

func TestMembers(t *testing.T) {
	o := ringWorld(t)
	var pods []string
	for _, m := range Members("orders", o) {
		pods = append(pods, m.Pod)
		require.Equal(t, "eu-west", m.Context)
		require.NotEmpty(t, m.IP)
		require.Equal(t, int32(8778), m.Port)
	}
	require.Equal(t, []string{"orders-dc1-r1-0", "orders-dc1-r1-1", "orders-dc1-r2-0"}, pods,
		"members are the pods below the live replicas, not the spec's count")

	exp := RingExpected("orders", o, 8778)
	require.Len(t, exp.Nodes, 3)
	require.Equal(t, "dc1", exp.Nodes[0].Datacenter)
	require.Equal(t, "r1", exp.Nodes[0].Rack)
	require.Len(t, exp.Extra, 1)
	require.Equal(t, "orders-dc1-r1-2", exp.Extra[0].Pod)
}

func TestFromResult(t *testing.T) {
	o := ringWorld(t)
	exp := RingExpected("orders", o, 8778)
	ip := map[string]string{}
	for _, n := range exp.Nodes {
		ip[n.Pod] = n.IP
	}
	all := []string{ip["orders-dc1-r1-0"], ip["orders-dc1-r1-1"], ip["orders-dc1-r2-0"]}
	view := func(mode ring.OperationMode, joining ...string) *ring.View {
		ids := map[string]string{}
		for i, a := range all {
			ids[a] = "id-" + string(rune('a'+i))
		}
		return &ring.View{Live: all, Joining: joining, Mode: mode, HostIDs: ids, SchemaVersion: "v1", NativeTransportRunning: mode == ring.ModeNormal}
	}
	snap := &ring.Snapshot{}
	for _, n := range exp.Nodes {
		v := view(ring.ModeNormal, ip["orders-dc1-r2-0"])
		if n.Pod == "orders-dc1-r2-0" {
			v = view(ring.ModeJoining, ip["orders-dc1-r2-0"])
		}
		snap.Entries = append(snap.Entries, ring.Entry{Node: n, View: v})
	}
	since := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	rg := FromResult(ring.Assess(snap, exp), since)
	require.True(t, rg.Assessed)
	require.False(t, rg.Healthy)
	require.Equal(t, since, rg.Since)
	require.Contains(t, rg.Summary, "joining")
	require.Equal(t, ring.ModeJoining, rg.Nodes["orders-dc1-r2-0"].Mode)
	require.True(t, rg.Nodes["orders-dc1-r2-0"].InRing)
	require.Equal(t, ring.ModeNormal, rg.Nodes["orders-dc1-r1-0"].Mode)
	var kinds []string
	for _, p := range rg.Problems {
		kinds = append(kinds, p.Kind)
		require.Equal(t, []string{"orders-dc1-r2-0"}, p.Nodes)
	}
	require.Contains(t, kinds, "NodeJoining")

	// No node answered: the verdict is unknown, which never lets a
	// disruptive step go.
	for i := range snap.Entries {
		snap.Entries[i].View, snap.Entries[i].Err = nil, errors.New("timeout")
	}
	rg = FromResult(ring.Assess(snap, exp), since)
	require.False(t, rg.Assessed)
	require.False(t, rg.Healthy)

	// An empty ring (a new cluster, no member yet) is healthy.
	rg = FromResult(ring.Assess(&ring.Snapshot{}, ring.Expected{}), time.Time{})
	require.True(t, rg.Assessed)
	require.True(t, rg.Healthy)
}
