package reconciler

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
)

// TestObserveFollowsProgress: a node in a long operation's mode has its
// progress read at every observation, and NoProgressSince moves only
// when its streams move; a node's count of old sstables is read until it
// is 0 for the release the node runs, then no more.
func TestObserveFollowsProgress(t *testing.T) {
	f := newFixture(t, Options{})
	t0 := f.clock.Now()
	f.ring.modes["10.0.1.2"] = ring.ModeJoining
	f.ring.setProgress("10.0.1.2", &jolokia.Progress{StreamsKnown: true, OldSSTables: 0,
		Streams: []jolokia.Stream{{PlanID: "p", Description: "Bootstrap", Bytes: 100}}})
	tg := f.observeRack(t, 2)
	assert.ElementsMatch(t, []string{"orders-dc1-r1-0", "orders-dc1-r1-1"}, f.ring.ProgressReads(), "the first observation asks every node")
	observe := func() plan.Ring {
		o, err := f.engine.Observe(t.Context(), tg)
		require.NoError(t, err)
		return o.Ring
	}

	f.clock.Advance(time.Minute)
	rg := observe()
	assert.Equal(t, []string{"orders-dc1-r1-1"}, f.ring.ProgressReads(), "only the joining node, the other's count is 0")
	assert.Equal(t, t0, rg.Nodes["orders-dc1-r1-1"].NoProgressSince, "no byte moved since the first read")
	assert.True(t, rg.Nodes["orders-dc1-r1-0"].NoProgressSince.IsZero())
	assert.Zero(t, rg.Nodes["orders-dc1-r1-0"].OldSSTables)

	f.clock.Advance(time.Minute)
	f.ring.setProgress("10.0.1.2", &jolokia.Progress{StreamsKnown: true, Streams: []jolokia.Stream{{PlanID: "p", Description: "Bootstrap", Bytes: 200}}})
	rg = observe()
	assert.Equal(t, t0.Add(2*time.Minute), rg.Nodes["orders-dc1-r1-1"].NoProgressSince, "bytes moved")
	assert.Equal(t, []string{"orders-dc1-r1-1"}, f.ring.ProgressReads())

	// The node turns NORMAL on a new release with old sstables: read
	// until they are all rewritten.
	f.ring.setMode("10.0.1.2", ring.ModeNormal)
	f.ring.releases = map[string]string{"10.0.1.1": "5.0.1", "10.0.1.2": "5.0.1"}
	f.ring.setProgress("10.0.1.1", &jolokia.Progress{OldSSTables: 4})
	f.ring.setProgress("10.0.1.2", &jolokia.Progress{OldSSTables: 0})
	rg = observe()
	assert.ElementsMatch(t, []string{"orders-dc1-r1-0", "orders-dc1-r1-1"}, f.ring.ProgressReads(), "a new release: counted again")
	assert.EqualValues(t, 4, rg.Nodes["orders-dc1-r1-0"].OldSSTables)
	rg = observe()
	assert.Equal(t, []string{"orders-dc1-r1-0"}, f.ring.ProgressReads())
	assert.EqualValues(t, 4, rg.Nodes["orders-dc1-r1-0"].OldSSTables)
	assert.Zero(t, rg.Nodes["orders-dc1-r1-1"].OldSSTables)
	f.ring.setProgress("10.0.1.1", &jolokia.Progress{OldSSTables: 0})
	observe()
	observe()
	assert.Equal(t, []string{"orders-dc1-r1-0"}, f.ring.ProgressReads(), "read once more, then never while it runs this release")
}

// TestUpgradeSkewKeepsTheHealthyStreak: the schema skew of an upgrade
// across release series is told to the planner and counts as healthy for
// the verdict's streak; any other disagreement is unhealthy.
func TestUpgradeSkewKeepsTheHealthyStreak(t *testing.T) {
	f := newFixture(t, Options{})
	t0 := f.clock.Now()
	tg := f.observeRack(t, 3)
	observe := func() plan.Ring {
		o, err := f.engine.Observe(t.Context(), tg)
		require.NoError(t, err)
		return o.Ring
	}
	f.clock.Advance(time.Minute)
	f.ring.releases = map[string]string{"10.0.1.3": "5.0.1"}
	f.ring.schemas = map[string]string{"10.0.1.3": "s2"}
	rg := observe()
	assert.False(t, rg.Healthy, "the disagreement is still reported")
	assert.Equal(t, "4.1.5 on 2 nodes (schema s1), 5.0.1 on 1 node (schema s2)", rg.UpgradeSkew)
	assert.Equal(t, t0, rg.Since, "the healthy streak goes on")

	f.clock.Advance(time.Minute)
	f.ring.schemas = map[string]string{"10.0.1.3": "s2", "10.0.1.2": "s3"}
	rg = observe()
	assert.Empty(t, rg.UpgradeSkew, "4.1 nodes disagreeing among themselves")
	assert.Equal(t, t0.Add(2*time.Minute), rg.Since, "a new, unhealthy streak")
}
