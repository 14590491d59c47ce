package review

import (
	"slices"

	"github.com/ringops/ringops/render"
)

// seedOps: the target seed list (render.Seeds) changes, and what that
// costs: no restart of its own. The planner writes into a StatefulSet the
// target seeds that have joined when it writes the template anyway (a
// new rack, a template change: the rolls of ops), so new nodes bootstrap
// from seeds that are up, and other racks take the new list at their next
// rolling restart. A rack the planner restarts for its seed list alone
// (its live list names only nodes that leave) shows in the replay's
// rolling restart, with the cause "seed list".
func (ch *change) seedOps(ops []Operation) []Operation {
	if !ch.seeds {
		return nil
	}
	base, head := render.Seeds(ch.base.spec), render.Seeds(ch.head.spec)
	desc := describeSeeds(base, head)
	if desc == "" {
		return nil
	}
	text := desc + ": no restart now; each rack takes it at its next rolling restart"
	switch rolled, existing := ch.rolledRacks(ops); {
	case rolled > 0 && rolled == existing:
		text = desc + ": no restart of its own; the rolling restart writes it"
	case rolled > 0:
		text = desc + ": no restart of its own; the racks that roll take it, the others at their next rolling restart"
	}
	if slices.ContainsFunc(head, func(s string) bool { return !slices.Contains(base, s) }) {
		text += ", a new seed once it has joined"
	}
	if slices.ContainsFunc(ops, func(op Operation) bool { return op.Kind == Bootstrap || op.Kind == AddDatacenter }) {
		text += "; new nodes start with seeds that have joined, never as their own seed"
	}
	return []Operation{{Kind: SeedList, Text: text}}
}

// rolledRacks counts the racks the rolling restart of ops covers, and the
// racks with nodes on both sides.
func (ch *change) rolledRacks(ops []Operation) (rolled, existing int) {
	for _, op := range ops {
		if op.Kind == RollingRestart {
			rolled += len(op.Racks)
		}
	}
	for _, r := range ch.racks {
		if r.baseSTS != nil && r.headSTS != nil && min(r.base, r.head) > 0 {
			existing++
		}
	}
	return rolled, existing
}
