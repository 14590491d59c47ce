package sim

import (
	"errors"
	"fmt"
	"maps"
	"math/rand"
	"slices"
	"strings"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// The world's keyspaces (#15): the ring's schema (each keyspace's
// replication, as Cassandra holds it: a new ring's system keyspaces with
// SimpleStrategy 1, 3 and 2; orders, which the application created, and
// analytics, which ringops never manages), each node's data per keyspace
// (on its volume: it holds a keyspace's data once it bootstrapped while
// the keyspace replicated to its datacenter, or was rebuilt since),
// ALTER KEYSPACE with Cassandra's rules (refused during a range movement,
// for a datacenter without nodes, or leaving out of system_auth a
// datacenter with nodes), rebuilds and cleanups (a few ticks each, or at
// once: Cassandra then answers within the call), the replication check of
// a decommission, and the invariants of the keyspace steps:
//
//   - no ALTER KEYSPACE during a range movement, nor while a rebuild or a
//     cleanup runs;
//   - a datacenter's rebuild starts only once every managed keyspace that
//     should replicate there does;
//   - no decommission in a datacenter that leaves while a keyspace keeps
//     replicas there (but system_auth's 1, which Cassandra keeps until its
//     last node is gone), and force only then;
//   - no decommission Cassandra would refuse for the replication;
//   - a node joins without bootstrap only in a rack marked to be rebuilt;
//   - at convergence, every node holds the data of every keyspace that
//     replicates to its datacenter, and the managed replication is the
//     spec's.

type schemaState struct {
	rng      *rand.Rand
	schema   map[string]plan.Replication
	lag      int  // ticks the ring shows a schema disagreement after an ALTER
	cqlDown  int  // ticks CQL cannot be read (fault)
	failOp   bool // the next rebuild or cleanup fails
	answered int  // ops Cassandra answered within the call (coverage)
	epoch    int  // ALTERs so far: a cleanup is due again after one
}

// longOp is a rebuild or a cleanup running on a node.
type longOp struct {
	kind      string   // plan.TaskRebuild, plan.TaskCleanup
	keyspaces []string // rebuilt keyspaces (nil: every one replicating to the node's datacenter)
	ticks     int
	fail      bool
}

func newSchemaState(seed int64, schema map[string]plan.Replication) *schemaState {
	return &schemaState{rng: rand.New(rand.NewSource(seed + 2<<32)), schema: maps.Clone(schema)}
}

// replicatesTo: the keyspace places replicas in datacenter dc.
func replicatesTo(r plan.Replication, dc string) bool {
	return r.Strategy == plan.Simple || r.Factors[dc] > 0
}

// observeKeyspaces is what the CQL edge reads: the schema, once a node
// answers CQL.
func (w *World) observeKeyspaces() *plan.Keyspaces {
	k := w.ks
	if k.cqlDown > 0 {
		return &plan.Keyspaces{Err: "datacenter dc1: read system_schema.keyspaces: unavailable: i/o timeout"}
	}
	for _, rn := range w.regionNames() {
		for _, p := range w.regions[rn].pods {
			if p.healthy() {
				out := &plan.Keyspaces{From: p.dc, Replication: map[string]plan.Replication{}}
				for name, r := range k.schema {
					out.Replication[name] = plan.Replication{Strategy: r.Strategy, Factor: r.Factor, Factors: maps.Clone(r.Factors)}
				}
				return out
			}
		}
	}
	return &plan.Keyspaces{Err: "cql: no node to contact"}
}

// tickKeyspaces moves the keyspace faults on.
func (w *World) tickKeyspaces() {
	if w.ks.lag > 0 {
		w.ks.lag--
	}
	if w.ks.cqlDown > 0 {
		w.ks.cqlDown--
	}
}

// alterLag is the schema disagreement right after an ALTER.
func (w *World) alterLag() []plan.RingProblem {
	if w.ks.lag == 0 {
		return nil
	}
	return []plan.RingProblem{{Kind: "SchemaDisagreement", Text: "SchemaDisagreement: after ALTER KEYSPACE"}}
}

// ringDCs are the datacenters with nodes in the ring (token owners), as
// Cassandra validates NetworkTopologyStrategy's options.
func (w *World) ringDCs() map[string]int32 {
	out := map[string]int32{}
	for _, rn := range w.regionNames() {
		rg := w.regions[rn]
		for _, c := range rg.pvcs {
			if inRing(c, rg.pods[strings.TrimPrefix(c.name, render.VolumeData+"-")]) {
				out[c.dc]++
			}
		}
	}
	return out
}

// rangeMovement names the nodes joining or leaving, and the rebuilds and
// cleanups running.
func (w *World) rangeMovement() []string {
	var out []string
	for _, rn := range w.regionNames() {
		for _, name := range sortedKeys(w.regions[rn].pods) {
			p := w.regions[rn].pods[name]
			if !p.running() {
				continue
			}
			switch {
			case p.node.mode == "JOINING", p.node.mode == "LEAVING", p.node.mode == "JOINING_FAILED", p.node.mode == "DECOMMISSION_FAILED":
				out = append(out, name+" "+p.node.mode)
			case p.node.op != nil:
				out = append(out, name+" "+p.node.op.kind)
			case p.node.cleaning > 0: // a cleanup of every keyspace (#16)
				out = append(out, name+" "+plan.TaskCleanup)
			}
		}
	}
	return out
}

// alter is the AlterKeyspace step: its StatefulSets, then the ALTERs, as
// Cassandra 5.0 takes them.
func (w *World) alter(rg *kubeRegion, s plan.Step) error {
	for _, u := range s.Objects {
		if err := w.applySTS(w.regions[s.Context], u, s); err != nil {
			return err
		}
	}
	if w.crash() {
		return errCrash
	}
	if busy := w.rangeMovement(); len(busy) > 0 {
		w.violate("ALTER KEYSPACE %s during a range movement or an operation: %s", s.Keyspaces, strings.Join(busy, ", "))
		return errors.New("alter keyspace: cassandra: Cannot alter RF while some endpoints are not in normal state")
	}
	dcs := w.ringDCs()
	for _, k := range s.Keyspaces {
		for dc, f := range k.To {
			if f > 0 && dcs[dc] == 0 {
				return fmt.Errorf("alter keyspace %s: Unrecognized strategy option {%s} passed to NetworkTopologyStrategy", k.Keyspace, dc)
			}
		}
		if k.Keyspace == schemas.AuthKeyspace {
			for dc := range dcs {
				if k.To[dc] == 0 {
					w.violate("ALTER KEYSPACE system_auth leaves out %s, which has nodes (Cassandra refuses it)", dc)
					return fmt.Errorf("alter keyspace %s: cassandra: Following datacenters have active nodes and must be present in replication options for keyspace system_auth: [%s]", k.Keyspace, dc)
				}
			}
		}
		if _, ok := w.ks.schema[k.Keyspace]; !ok {
			return fmt.Errorf("alter keyspace: cassandra: Keyspace '%s' doesn't exist", k.Keyspace)
		}
		w.ks.schema[k.Keyspace] = plan.Replication{Strategy: plan.NetworkTopology, Factors: maps.Clone(k.To)}
		w.ks.lag = 1
		w.ks.epoch++
		w.logf("  ALTER KEYSPACE %s", k)
	}
	return nil
}

// startOp is jolokia.Operations.Rebuild or Cleanup and Cassandra: it runs a
// few ticks, or ends within the call (answered: the step's OnSuccess is
// applied, as the executor does).
func (w *World) startOp(rg *kubeRegion, s plan.Step) error {
	p := rg.pods[s.Pod]
	if !w.reachable(p) || p.node.mode != "NORMAL" {
		w.logf("  %s of %s not sent", s.Action, s.Pod)
		return nil
	}
	kind := plan.TaskRebuild
	if s.Action == plan.Cleanup {
		kind = plan.TaskCleanup
	}
	if p.node.op != nil {
		w.violate("%s: %s sent while a %s runs", s.Pod, s.Action, p.node.op.kind)
		return fmt.Errorf("%s %s: cassandra: Node is still rebuilding", s.Action, s.Pod)
	}
	if s.Action == plan.Rebuild && s.Datacenter != "" && w.ringDCs()[s.Datacenter] == 0 {
		return fmt.Errorf("rebuild %s: cassandra: Provided datacenter '%s' is not a valid datacenter", s.Pod, s.Datacenter)
	}
	op := &longOp{kind: kind, ticks: w.ks.rng.Intn(4), fail: w.ks.failOp}
	w.ks.failOp = false
	for _, k := range s.Keyspaces {
		op.keyspaces = append(op.keyspaces, k.Keyspace)
	}
	if w.opDone(rg, p, op) {
		op.ticks, op.fail = 0, false // nothing left: Cassandra answers at once
	}
	if op.ticks == 0 && !op.fail {
		w.finishOp(rg, p, op)
		w.ks.answered++
		for _, u := range s.OnSuccess {
			if err := w.applySTS(rg, u, s); err != nil {
				return err
			}
		}
		return nil
	}
	p.node.op = op
	return nil
}

// advanceOp moves a rebuild or a cleanup on: done, or failed (nothing
// runs any more; the node's data is as it was).
func (w *World) advanceOp(rg *kubeRegion, p *podState) {
	op := p.node.op
	if op == nil || p.node.killed > 0 {
		return
	}
	if op.ticks--; op.ticks > 0 {
		return
	}
	p.node.op = nil
	if op.fail {
		w.logf("%s: %s of %s failed", rg.name, op.kind, p.name)
		return
	}
	w.finishOp(rg, p, op)
}

// opDone: the work of op is done on the node already (a rebuild's
// keyspaces are there, a cleanup ran since the last ALTER).
func (w *World) opDone(rg *kubeRegion, p *podState, op *longOp) bool {
	c := w.pvcOf(rg, p)
	if c == nil {
		return false
	}
	if op.kind == plan.TaskCleanup {
		return c.cleanedAt == w.ks.epoch
	}
	for name, r := range w.ks.schema {
		if replicatesTo(r, p.dc) && (op.keyspaces == nil || slices.Contains(op.keyspaces, name)) && !c.data[name] {
			return false
		}
	}
	return true
}

func (w *World) finishOp(rg *kubeRegion, p *podState, op *longOp) {
	c := w.pvcOf(rg, p)
	if c != nil && op.kind == plan.TaskCleanup {
		c.cleanedAt = w.ks.epoch
	}
	if c == nil || op.kind != plan.TaskRebuild {
		w.logf("%s: %s of %s done", rg.name, op.kind, p.name)
		return
	}
	for name, r := range w.ks.schema {
		if replicatesTo(r, p.dc) && (op.keyspaces == nil || slices.Contains(op.keyspaces, name)) {
			c.setData(name)
		}
	}
	w.logf("%s: rebuild of %s done", rg.name, p.name)
}

func (c *claim) setData(ks string) {
	if c.data == nil {
		c.data = map[string]bool{}
	}
	c.data[ks] = true
}

// bootstrapped: a bootstrap streams the keyspaces replicating to the
// node's datacenter.
func (w *World) bootstrapped(c *claim) {
	for name, r := range w.ks.schema {
		if replicatesTo(r, c.dc) {
			c.setData(name)
		}
	}
}

// opProgress is what the progress read shows of a node's rebuild or
// cleanup.
func (w *World) opProgress(p *podState, n *plan.RingNode) {
	n.Tasks = []string{}
	if op := p.node.op; op != nil {
		n.Tasks = append(n.Tasks, op.kind)
		n.NoProgressSince = w.now
	}
	if p.node.cleaning > 0 && !slices.Contains(n.Tasks, plan.TaskCleanup) { // a cleanup of every keyspace (#16)
		n.Tasks = append(n.Tasks, plan.TaskCleanup)
	}
}

// joinWithoutBootstrap starts a fresh node whose template turns
// auto_bootstrap off: NORMAL at once, no data; only in a rack marked to
// be rebuilt.
func (w *World) joinWithoutBootstrap(rg *kubeRegion, p *podState, c *claim) {
	if st := rg.sts[p.sts]; st == nil || !strings.HasSuffix(st.obj.GetAnnotations()[contract.AnnotationRebuild], " *") {
		w.violate("%s: %s joins without bootstrap outside a rack marked to be rebuilt", rg.name, p.name)
	}
	p.node.mode, c.joined, c.bootstrapped, c.joinedAs = "NORMAL", true, true, "no-bootstrap"
	w.logf("%s: %s joins without bootstrap", rg.name, p.name)
	w.start(p.node, c)
}

// checkKeyspaceStep checks a disruptive step of #15 against the truth.
func (w *World) checkKeyspaceStep(s plan.Step) {
	switch s.Action {
	case plan.Rebuild:
		w.checkRebuild(s)
	case plan.Decommission:
		w.checkDecommissionDC(s)
	}
}

// checkRebuild: every managed keyspace that should replicate to the
// node's datacenter does.
func (w *World) checkRebuild(s plan.Step) {
	p := w.regions[s.Context].pods[s.Pod]
	if p == nil {
		return
	}
	for _, k := range w.spec.ManagedKeyspaces() {
		obs, ok := w.ks.schema[k.Name]
		if ok && k.Replication[p.dc] > 0 && !replicatesTo(obs, p.dc) {
			w.violate("rebuild of %s while %s does not replicate to %s yet (%s)", s.Pod, k.Name, p.dc, obs)
		}
	}
}

// checkDecommissionDC: a datacenter that leaves is out of every
// replication (system_auth's 1 aside) before its nodes go.
func (w *World) checkDecommissionDC(s plan.Step) {
	p := w.regions[s.Context].pods[s.Pod]
	if p == nil || w.dcTarget(p.dc) > 0 || strings.Contains(s.Reason, "; attempt ") {
		return // a retry completes what an earlier revision started (rule 9)
	}
	for _, name := range sortedKeys(w.ks.schema) {
		r := w.ks.schema[name]
		if r.Strategy != plan.NetworkTopology || r.Factors[p.dc] == 0 {
			continue
		}
		if name != schemas.AuthKeyspace || r.Factors[p.dc] > 1 {
			w.violate("decommission of %s while %s, which leaves, is still in the replication of %s (%s)", s.Pod, p.dc, name, r)
		}
	}
}

// dcTarget is the nodes the revision asks of datacenter dc.
func (w *World) dcTarget(dc string) int32 {
	for _, d := range w.spec.Spec.Datacenters {
		if d.Name == dc {
			return d.DatacenterNodes()
		}
	}
	return 0
}

// decommissionRefused is Cassandra 4.0+'s replication check of
// decommission(false), and the check that force loses nothing but
// system_auth's last replica of a datacenter that leaves.
func (w *World) decommissionRefused(p *podState, force bool) bool {
	if p.node.release == "3.11" && !force {
		return false
	}
	dcs, total := w.ringDCs(), int32(0)
	for _, n := range dcs {
		total += n
	}
	for _, name := range sortedKeys(w.ks.schema) {
		r := w.ks.schema[name]
		rf, n := r.Factors[p.dc], dcs[p.dc]
		if r.Strategy == plan.Simple {
			rf, n = r.Factor, total
		}
		if rf == 0 || n > rf {
			continue
		}
		if !force {
			w.violate("decommission of %s sent, and Cassandra refuses it: %s keeps %d replicas with %d nodes", p.name, name, rf, n)
			return true
		}
		if name != schemas.AuthKeyspace || w.dcTarget(p.dc) > 0 || n != 1 {
			w.violate("forced decommission of %s loses replicas of %s (RF %d, %d nodes)", p.name, name, rf, n)
		}
	}
	return false
}

// keyspacesConverged: the managed replication is the spec's, every node
// holds the data of the keyspaces replicating to its datacenter, no rack
// owes work.
func (w *World) keyspacesConverged() []string {
	var out []string
	for _, k := range w.spec.ManagedKeyspaces() {
		obs, ok := w.ks.schema[k.Name]
		if ok && (obs.Strategy != plan.NetworkTopology || !maps.Equal(obs.Factors, k.Replication)) {
			out = append(out, fmt.Sprintf("%s is %s, not %s", k.Name, obs, networkTopology(k.Replication)))
		}
	}
	managed := map[string]bool{}
	for _, k := range w.spec.ManagedKeyspaces() {
		managed[k.Name] = true
	}
	for _, rn := range w.regionNames() {
		rg := w.regions[rn]
		for _, name := range sortedKeys(rg.pods) {
			p := rg.pods[name]
			c := w.pvcOf(rg, p)
			if c == nil || !inRing(c, p) {
				continue
			}
			for _, ks := range sortedKeys(w.ks.schema) {
				if r := w.ks.schema[ks]; managed[ks] && r.Strategy == plan.NetworkTopology && r.Factors[p.dc] > 0 && !c.data[ks] {
					out = append(out, fmt.Sprintf("%s (%s) holds no data of %s, which replicates there (joined as %s)", name, p.dc, ks, c.joinedAs))
				}
			}
		}
		for _, name := range sortedKeys(rg.sts) {
			ann := rg.sts[name].obj.GetAnnotations()
			for _, a := range []string{contract.AnnotationRebuild, contract.AnnotationCleanup} {
				if ann[a] != "" {
					out = append(out, name+" still marked "+a+" "+ann[a])
				}
			}
		}
	}
	return out
}

// ksOperator does what a human asked to: take a datacenter out of the
// replication of the keyspaces ringops does not manage, and lower those
// that would make Cassandra refuse a decommission.
func (w *World) ksOperator(p plan.Plan) {
	if p.Wait.Reason != plan.Blocked || !strings.Contains(p.Wait.Message, "does not manage") && !strings.Contains(p.Wait.Message, "refuses to decommission") {
		return
	}
	managed := map[string]bool{}
	for _, k := range w.spec.ManagedKeyspaces() {
		managed[k.Name] = true
	}
	for _, name := range sortedKeys(w.ks.schema) {
		if managed[name] {
			continue
		}
		r := w.ks.schema[name]
		to := map[string]int32{}
		for _, d := range w.spec.Spec.Datacenters {
			if n := d.DatacenterNodes(); n > 1 && (r.Strategy == plan.Simple || r.Factors[d.Name] > 0) {
				to[d.Name] = 1
			}
		}
		if len(to) == 0 {
			to[w.spec.Spec.Datacenters[0].Name] = 1
		}
		w.ks.schema[name] = plan.Replication{Strategy: plan.NetworkTopology, Factors: to}
		w.logf("operator alters %s to %s", name, networkTopology(to))
	}
}

// User is what the application's owners do meanwhile: now and then
// analytics (unmanaged) gains a datacenter that has nodes.
func (w *World) User() {
	if w.ks.rng.Intn(60) != 0 {
		return
	}
	dcs := w.ringDCs()
	for _, d := range w.spec.Spec.Datacenters {
		if dcs[d.Name] > 1 && d.DatacenterNodes() > 1 {
			r := w.ks.schema["analytics"]
			if r.Strategy == plan.NetworkTopology && r.Factors[d.Name] == 0 && w.ks.rng.Intn(2) == 0 {
				r.Factors = maps.Clone(r.Factors)
				r.Factors[d.Name] = 1
				w.ks.schema["analytics"] = r
				w.logf("user alters analytics to %s", networkTopology(r.Factors))
				return
			}
		}
	}
}

// ksFault arms a fault of the keyspace steps.
func (w *World) ksFault() {
	switch w.ks.rng.Intn(3) {
	case 0:
		w.ks.cqlDown = 1 + w.ks.rng.Intn(4)
		w.logf("fault: CQL unreadable for %d ticks", w.ks.cqlDown)
	case 1:
		w.ks.failOp = true
	}
}

func (w *World) ksHeal() { w.ks.cqlDown, w.ks.failOp = 0, false }
