// Package arch holds no code: its test reads the module's import graph
// (go list) and fails when a package breaks the design's package rules
// (DESIGN.md "The data's way through the house", STYLE.md "Purity is
// enforced, not hoped for"):
//
//   - the pure middle (schemas, render, the ring model reconciler/ring,
//     the planner reconciler/plan and its replay world, review) imports no I/O package of ringops (the
//     loop, the kube, Jolokia and CQL clients, sources/git, the forge
//     clients, cmd), nor client-go's rest or kubernetes clients, go-git or
//     the CQL driver, and does not import net/http or os/exec itself;
//   - the edges (reconciler/kube, reconciler/ring/jolokia, reconciler/cql,
//     sources/git, sources/forge/...) do not import the loop (reconciler,
//     reconciler/daemon and its leader election, reconciler/daemon/leader)
//     nor cmd;
//   - the leaves every stage shares (internal/contract: the label and
//     annotation contract; internal/secret: the redacting secret;
//     internal/redact; internal/jsontree) import only the standard library;
//   - the forge clients (sources/forge/...) do not depend on go-git;
//   - nothing imports against the flow sources/git -> schemas -> render ->
//     plan (and the ring model) -> kube / Jolokia / CQL -> forge: a stage
//     depends only on the stages before it.
package arch
