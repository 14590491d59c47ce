package plan_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/reconciler/plan"
)

// TestSkewThenDatacenterEmptied: an upgrade across release series is
// under way (the ring shows the schema skew) when a revision empties a
// datacenter (#14: a deadlock was once reported there: the roll must
// finish, the skew end, then the datacenter's nodes leave). The run must
// converge, no invariant broken: 3.11 -> 4.1 and 4.1 -> 5.0, one or
// three racks, the second or third datacenter emptied. 40 seeds passed
// when written; it runs 12.
func TestSkewThenDatacenterEmptied(t *testing.T) {
	for seed := int64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := newWorld(t, seed)
			spec := simSpec{series: int(seed % 2), image: 1, tokens: 16, size: 1, dcs: []simDC{
				{name: "dc1", ctx: "region-1", nodes: int32(1 + seed%3), racks: 1 + 2*int(seed%2)},
				{name: "dc2", ctx: "region-2", nodes: int32(1 + seed%2), racks: 1 + 2*int(seed/2%2)},
				{name: "dc3", ctx: "region-3", nodes: 1, racks: 1}}}
			require.True(t, w.accept(spec))
			nobody := func(plan.Plan) {}
			w.run(t, seed, 600, map[string]int{}, nobody)
			spec.series++
			require.True(t, w.accept(spec))
			for i := 0; i < 400 && !w.Skewed(); i++ {
				p := w.tick()
				failOn(t, w)
				w.Operator(p)
			}
			require.True(t, w.Skewed(), "the upgrade shows its skew")
			spec.dcs[1+int(seed%2)].nodes = 0
			if !w.accept(spec) {
				t.Fatalf("refused: %s", w.LastLog())
			}
			w.run(t, seed, 1500, map[string]int{}, nobody)
		})
	}
}

// TestSkewThenDatacenterRemoved: a datacenter leaves the spec (emptied,
// then removed: its racks are the revision's no longer) around an upgrade
// across release series, before its nodes rolled: while the ring runs
// one series still (the roll staged, paused), or once it runs two. Its
// nodes must leave all the same: before the roll starts, or once they
// rolled to the template staged while their racks were the revision's.
// (Found by the adoption scenarios, #20: the racks of a removed datacenter
// never rolled, and their nodes could not leave a ring of two series; the
// planner waited for the skew to end for good.)
func TestSkewThenDatacenterRemoved(t *testing.T) {
	for seed := int64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			started := seed > 4
			w := newWorld(t, seed)
			spec := simSpec{series: int(seed % 2), image: 1, tokens: 16, size: 1, dcs: []simDC{
				{name: "dc1", ctx: "region-1", nodes: 1, racks: 1},
				{name: "dc2", ctx: "region-2", nodes: 1, racks: int(1 + seed%2)}}}
			change := func() {
				w.ksSpec(&spec, false)
				require.True(t, w.accept(spec), w.LastLog())
			}
			change()
			nobody := func(plan.Plan) {}
			w.run(t, seed, 600, map[string]int{}, nobody)
			spec.series, spec.paused = spec.series+1, !started
			change()
			for i := 0; i < 400 && started && !w.Skewed(); i++ {
				w.tick()
				failOn(t, w)
			}
			require.Equal(t, started, w.Skewed())
			spec.dcs[1].nodes = 0
			change()
			w.tick()
			spec.dcs = spec.dcs[:1]
			change()
			spec.paused = false
			change()
			w.run(t, seed, 1500, map[string]int{}, nobody)
		})
	}
}
