// Package ring is the pure model of a Cassandra ring: the nodes ringops
// expects (Node, Expected), what each node says of the ring (View, its
// OperationMode), every queried node's view at one moment (Snapshot), and
// the verdict on it (Assess, Result, Reason, NodeState). It fetches
// nothing and imports no I/O package: the Jolokia client that reads the
// views and runs the node operations is reconciler/ring/jolokia, behind the
// Reader interface. The planner imports this package only.
//
// The data flows one way:
//
//	Expected (live StatefulSets + pods) ──▶ Take(Reader) ──▶ Snapshot ──▶ Assess ──▶ Result
//
// Each stage:
//
//   - plan.RingExpected turns the cluster's live racks (each StatefulSet's
//     replicas) and its pods into the nodes that should be in the ring,
//     with their pod IPs: the one definition of the expected ring, for the
//     engine's gate and `ringops status` alike (the planner owns it: it is
//     the planner's view of which nodes exist).
//   - Take asks every node for its view of the ring, with bounded
//     concurrency, through a Reader: *jolokia.Client, or a fake in tests.
//     A node that cannot be read is kept in the Snapshot with its error.
//   - Assess is a pure function of the Snapshot and the Expected nodes: the
//     verdict (healthy, or typed Reasons naming the nodes and the views that
//     see them so) and each node's state as nodetool prints it (UN, DN, UJ,
//     UL, UM, ...). Its doc comment states the aggregation rules.
//   - WriteText prints a Result the way `nodetool status` does.
//   - UpgradeSkew tells the schema disagreement of a rolling upgrade across
//     release series from any other.
//
// A node's own mode is an OperationMode (ModeNormal, ModeJoining, ...), its
// state in the ring a NodeState (UN, DN, ...): typed across package lines,
// never strings compared to literals.
package ring
