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
