package replay_test

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/plan/replay"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

const base = `apiVersion: ringops.dev/v1alpha1
kind: CassandraCluster
metadata: {name: orders, namespace: cassandra}
spec:
  image: cassandra:4.1.4
  nodesPerRack: 2
  storage: {size: 10Gi}
  datacenters:
    - {name: dc1, context: eu-west, racks: [{name: r1}, {name: r2}, {name: r3}]}
    - {name: dc2, context: us-east, racks: [{name: r1}, {name: r2}, {name: r3}]}
`

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func desired(t testing.TB, spec string) *plan.Desired {
	t.Helper()
	fsys := fstest.MapFS{"orders/cluster.yaml": {Data: []byte(spec)}}
	c, err := schemas.LoadFS(fsys, "orders")
	require.NoError(t, err)
	m, err := render.New(render.DefaultOptions()).RenderAll(t.Context(), fsys, "orders", c)
	require.NoError(t, err)
	return &plan.Desired{Cluster: c, Name: c.Metadata.Name, Manifests: m}
}

// disruptive is "<action> <pod>" of the disruptive steps.
func disruptive(steps []plan.Step) []string {
	var out []string
	for _, s := range steps {
		if s.Disruptive() {
			out = append(out, s.Action.String()+" "+s.Pod)
		}
	}
	return out
}

// TestReplayConvergesOnEveryKindOfChange: the world keeps the contract
// the planner needs for each kind of change review describes, and the
// steps are the planner's (what it does is checked on a few).
func TestReplayConvergesOnEveryKindOfChange(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(string) string
		want []string // a prefix of the disruptive steps
	}{
		"grow": {edit: func(s string) string { return strings.Replace(s, "nodesPerRack: 2", "nodesPerRack: 3", 1) },
			want: []string{"ScaleStatefulSet orders-dc1-r1-2", "ScaleStatefulSet orders-dc1-r2-2", "ScaleStatefulSet orders-dc1-r3-2"}},
		"shrink": {edit: func(s string) string {
			return strings.Replace(s, "us-east, racks:", "us-east, nodesPerRack: 1, racks:", 1)
		}},
		"image": {edit: func(s string) string { return strings.Replace(s, "4.1.4", "4.1.5", 1) },
			want: []string{"RestartPod orders-dc1-r1-1", "RestartPod orders-dc1-r1-0", "RestartPod orders-dc1-r2-1"}},
		"add a datacenter": {edit: func(s string) string {
			return s + "    - {name: dc3, context: ap-south, racks: [{name: r1}]}\n"
		}},
		"grow the volumes": {edit: func(s string) string { return strings.Replace(s, "size: 10Gi", "size: 20Gi", 1) }},
		"nothing":          {edit: func(s string) string { return s }},
	} {
		t.Run(name, func(t *testing.T) {
			steps, err := replay.Replay(desired(t, base), desired(t, tc.edit(base)), []string{"eu-west", "us-east", "ap-south"}, now, replay.Options{ManageKeyspaces: true})
			require.NoError(t, err)
			got := disruptive(steps)
			if name == "nothing" {
				assert.Empty(t, got, "a converged world has nothing left to do")
			}
			if len(tc.want) > 0 {
				require.GreaterOrEqual(t, len(got), len(tc.want), got)
				assert.Equal(t, tc.want, got[:len(tc.want)])
			}
		})
	}
}

// TestReplayOfANewCluster: from nothing, the seed datacenter first.
func TestReplayOfANewCluster(t *testing.T) {
	steps, err := replay.Replay(nil, desired(t, base), []string{"eu-west", "us-east"}, now, replay.Options{ManageKeyspaces: true})
	require.NoError(t, err)
	got := disruptive(steps)
	require.NotEmpty(t, got)
	assert.Equal(t, "ScaleStatefulSet orders-dc1-r1-0", got[0])
	var joins int
	for _, s := range got {
		if strings.HasPrefix(s, "ScaleStatefulSet ") {
			joins++
		}
	}
	assert.Equal(t, 12, joins, "every node joins once")
}

// TestReplayStopsOnAPlannerThatWaitsForever: a paused rollout is ungated
// by the replay, but a blocked revision is an error, never a hang.
func TestReplayStopsOnAPlannerThatWaitsForever(t *testing.T) {
	d := desired(t, base)
	d.Invalid = assert.AnError
	_, err := replay.Replay(nil, d, []string{"eu-west", "us-east"}, now, replay.Options{ManageKeyspaces: true})
	require.ErrorIs(t, err, replay.ErrNoConvergence)
	assert.Contains(t, err.Error(), "Blocked")

	paused := strings.Replace(base, "  storage:", "  rollout: {paused: true}\n  storage:", 1)
	_, err = replay.Replay(nil, desired(t, paused), []string{"eu-west", "us-east"}, now, replay.Options{ManageKeyspaces: true})
	assert.NoError(t, err, "the replay leaves a pause out: it holds steps back in time only")
}

// TestReplayLeavesReplicationAloneUnlessManaged: without ManageKeyspaces
// (ringops without --manage-keyspaces) the planner is given no
// replication, and a new datacenter bootstraps: no ALTER, no rebuild.
func TestReplayLeavesReplicationAloneUnlessManaged(t *testing.T) {
	for _, manage := range []bool{false, true} {
		steps, err := replay.Replay(nil, desired(t, base), []string{"eu-west", "us-east"}, now, replay.Options{ManageKeyspaces: manage})
		require.NoError(t, err)
		var kinds []plan.Action
		for _, s := range steps {
			if s.Action == plan.AlterKeyspace || s.Action == plan.Rebuild {
				kinds = append(kinds, s.Action)
			}
		}
		if manage {
			assert.NotEmpty(t, kinds, "managed: replication changes and rebuilds")
		} else {
			assert.Empty(t, kinds, "not managed: replication left alone")
		}
	}
}

// TestReplayOfARemovalAsked: a removal new at head is replayed as the
// situation it is for (the pod's node, with that host ID, lost its
// volume): the planner removes that host ID once, through a live node,
// then the pod joins as a new node; a removal base asked already is not
// replayed again.
func TestReplayOfARemovalAsked(t *testing.T) {
	const host = "5d1e2f3a-9b8c-4d7e-a6f5-0123456789ab"
	asked := strings.Replace(base, "  datacenters:", "  operations:\n    - {removeNode: orders-dc1-r2-1, hostID: "+host+"}\n  datacenters:", 1)
	steps, err := replay.Replay(desired(t, base), desired(t, asked), []string{"eu-west", "us-east"}, now, replay.Options{ManageKeyspaces: true})
	require.NoError(t, err)
	var removed []string
	for _, s := range steps {
		if s.Action == plan.RemoveNode {
			removed = append(removed, s.Pod+" "+s.HostID)
		}
	}
	assert.Equal(t, []string{"orders-dc1-r2-1 " + host}, removed)

	steps, err = replay.Replay(desired(t, asked), desired(t, asked), []string{"eu-west", "us-east"}, now, replay.Options{ManageKeyspaces: true})
	require.NoError(t, err)
	assert.Empty(t, disruptive(steps))
}
