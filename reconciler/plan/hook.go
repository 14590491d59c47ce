package plan

import "sync/atomic"

// growLastOnTie, when set, makes grow take the last of the racks with the
// fewest nodes instead of the first, once they have one: a planted change of the planner's
// order, so that a test can show that `ringops plan` (review, through
// reconciler/plan/replay) describes this planner's order and no copy of
// it. Never set outside tests.
var growLastOnTie atomic.Bool

// PlantGrowOrderForTest changes the planner's growth order (the last rack
// on a tie rather than the first, for the racks' second nodes and on)
// until restore is called. For tests
// only; it affects every planner of the process.
func PlantGrowOrderForTest() (restore func()) {
	growLastOnTie.Store(true)
	return func() { growLastOnTie.Store(false) }
}

// pruneEarly, when set, makes the planner prune a context's objects
// first in its batch, and while StatefulSets of a removed datacenter are
// left there: a planted change of when the planner prunes, for the same
// kind of test. Never set outside tests.
var pruneEarly atomic.Bool

// PlantPruneEarlyForTest makes the planner prune the objects of a region
// before the StatefulSets of a removed datacenter there are deleted,
// until restore is called. For tests only; it affects every
// planner of the process.
func PlantPruneEarlyForTest() (restore func()) {
	pruneEarly.Store(true)
	return func() { pruneEarly.Store(false) }
}
