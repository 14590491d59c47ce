package cassandra

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// The schema of each ring, as far as keyspaces go: their replication,
// the versions a schema change makes, and how a change spreads.
//
// A ring's schema is a list of versions (epochs); the first is the one
// every ring starts with (the local and replicated system keyspaces as a
// fresh Cassandra creates them, plus Options.Keyspaces). Each node holds
// one epoch, kept with its data (a restart keeps it); a schema change made
// through one node (its coordinator) applies there at once and becomes
// the ring's newest epoch; every other running node takes the newest epoch
// it can reach at the next gossip round (Cassandra pushes the change to the
// live nodes and pulls it on a version mismatch in gossip), so a node
// that is down or partitioned catches up once it is back. A node reports
// the version of the epoch it holds: system.local's schema_version, the
// SCHEMA gossip state (system.peers, StorageService.SchemaVersion).

// Replication strategy classes as system_schema.keyspaces names them.
const (
	localStrategy   = "org.apache.cassandra.locator.LocalStrategy"
	simpleStrategy  = "org.apache.cassandra.locator.SimpleStrategy"
	networkStrategy = "org.apache.cassandra.locator.NetworkTopologyStrategy"
	locatorPackage  = "org.apache.cassandra.locator."
)

// ksDef is one row of system_schema.keyspaces.
type ksDef struct {
	name    string
	durable bool
	// replication is the replication column: "class" and the strategy's
	// options (a factor per datacenter, or replication_factor).
	replication map[string]string
}

func (k *ksDef) class() string { return k.replication["class"] }

// options are the strategy options, without "class".
func (k *ksDef) options() map[string]string {
	out := maps.Clone(k.replication)
	delete(out, "class")
	return out
}

// replicas is the number of full replicas (ReplicationFactor.fullReplicas):
// the factor of SimpleStrategy, the sum of NetworkTopologyStrategy's.
func (k *ksDef) replicas() int {
	sum := 0
	for key, v := range k.options() {
		if k.class() == simpleStrategy && key != "replication_factor" {
			continue
		}
		n, _ := strconv.Atoi(v)
		sum += n
	}
	return sum
}

func (k *ksDef) clone() *ksDef {
	c := *k
	c.replication = maps.Clone(k.replication)
	return &c
}

// schemaEpochs holds the schemas of every ring (guarded by Sim.mu).
type schemaEpochs struct {
	rings map[string][]map[string]*ksDef // cluster name -> keyspaces by epoch
	held  map[string]int                 // node data Key -> epoch it holds
	// announced is the epoch each running process announced in gossip;
	// a fault (SetSchemaVersion) may have changed its state since.
	announced map[*Node]int
}

// epochs returns the rings' schemas, created at first use (mu held).
func (s *Sim) epochs() *schemaEpochs {
	if s.ksSchemas == nil {
		s.ksSchemas = &schemaEpochs{rings: map[string][]map[string]*ksDef{}, held: map[string]int{}, announced: map[*Node]int{}}
	}
	return s.ksSchemas
}

// ringEpochs returns a ring's schema versions (mu held).
func (s *Sim) ringEpochs(cluster string) []map[string]*ksDef {
	st := s.epochs()
	if _, ok := st.rings[cluster]; !ok {
		st.rings[cluster] = []map[string]*ksDef{s.firstSchema()}
	}
	return st.rings[cluster]
}

// firstSchema is a new ring's schema: the keyspaces of a fresh Cassandra
// (system and system_schema local; system_auth, system_distributed and
// system_traces with SimpleStrategy 1, 3 and 2: 5.0.1
// AuthKeyspace/SystemDistributedKeyspace/TraceKeyspace, the defaults of
// cassandra.system_*_replication) and Options.Keyspaces.
func (s *Sim) firstSchema() map[string]*ksDef {
	simple := func(rf int) map[string]string {
		return map[string]string{"class": simpleStrategy, "replication_factor": strconv.Itoa(rf)}
	}
	out := map[string]*ksDef{
		"system":             {name: "system", durable: true, replication: map[string]string{"class": localStrategy}},
		"system_schema":      {name: "system_schema", durable: true, replication: map[string]string{"class": localStrategy}},
		"system_auth":        {name: "system_auth", durable: true, replication: simple(1)},
		"system_distributed": {name: "system_distributed", durable: true, replication: simple(3)},
		"system_traces":      {name: "system_traces", durable: true, replication: simple(2)},
	}
	for _, k := range s.opts.Keyspaces {
		r := map[string]string{"class": networkStrategy}
		for dc, f := range k.Replication {
			if f > 0 {
				r[dc] = strconv.Itoa(f)
			}
		}
		out[k.Name] = &ksDef{name: k.Name, durable: true, replication: r}
	}
	return out
}

// heldEpoch is the schema epoch the node holds (mu held).
func (n *Node) heldEpoch() int { return n.sim.epochs().held[n.disk.key] }

// schemaKeyspaces is the schema the node holds (mu held).
func (n *Node) schemaKeyspaces() map[string]*ksDef {
	return n.sim.ringEpochs(n.cfg.ClusterName)[n.heldEpoch()]
}

// cqlSchemaKey names the ring's first schema version for the node: the
// one every node of its release series reports until a schema change
// (Sim.schemaOf, release.go).
func (n *Node) cqlSchemaKey() string { return n.schemaKey() }

// versionOf is the schema version of an epoch, as the node reports it
// (mu held).
func (n *Node) versionOf(epoch int) string {
	if epoch == 0 {
		return n.sim.schemaOf(n.cqlSchemaKey())
	}
	return nameUUID(fmt.Sprintf("schema/%s/%d", n.cqlSchemaKey(), epoch))
}

// applySchema makes the node hold epoch and announce its version (mu held).
func (n *Node) applySchema(epoch int) {
	n.sim.epochs().held[n.disk.key] = epoch
	n.announceSchema()
}

// announceSchema sets the node's SCHEMA gossip state to the version of the
// epoch it holds, once per epoch and process: a node still on the first
// epoch keeps what it announced at start, and a schema fault
// (SetSchemaVersion) stays until the next change (mu held).
func (n *Node) announceSchema() {
	st := n.sim.epochs()
	epoch := n.heldEpoch()
	self := n.view.eps[n.hostID]
	if self == nil {
		return
	}
	if was, ok := st.announced[n]; (ok && was == epoch) || (!ok && epoch == 0) {
		return
	}
	st.announced[n] = epoch
	if v := n.versionOf(epoch); self.schema != v {
		n.update(func(e *endpoint) { e.schema = v })
	}
}

// schemaRound spreads schema changes: every gossiping node takes the
// newest epoch held by a node it reaches (mu held; after a gossip round).
func (s *Sim) schemaRound() {
	if s.ksSchemas == nil {
		return // no schema was ever read nor changed
	}
	for n := range s.ksSchemas.announced {
		if !n.running {
			delete(s.ksSchemas.announced, n)
		}
	}
	nodes := s.sortedNodes()
	for _, n := range nodes {
		if !n.gossiping {
			continue
		}
		newest := len(s.ringEpochs(n.cfg.ClusterName)) - 1
		best := n.heldEpoch()
		for _, p := range nodes {
			if best == newest {
				break
			}
			if s.contactable(n, p) {
				best = max(best, p.heldEpoch())
			}
		}
		if best != n.heldEpoch() {
			n.applySchema(best)
		} else {
			n.announceSchema() // a restarted node announces what it holds
		}
	}
}

// commitSchema makes keyspaces the ring's newest schema, held by the
// coordinator n at once (mu held).
func (n *Node) commitSchema(keyspaces map[string]*ksDef) {
	st := n.sim.epochs()
	cluster := n.cfg.ClusterName
	st.rings[cluster] = append(n.sim.ringEpochs(cluster), keyspaces)
	n.applySchema(len(st.rings[cluster]) - 1)
}

// newestKeyspaces is a copy of the ring's newest schema, to change (mu held).
func (n *Node) newestKeyspaces() map[string]*ksDef {
	epochs := n.sim.ringEpochs(n.cfg.ClusterName)
	out := map[string]*ksDef{}
	for name, k := range epochs[len(epochs)-1] {
		out[name] = k.clone()
	}
	return out
}

// replicatedKeyspaces are the keyspaces of the node's schema that have
// replicas (not LocalStrategy), as decommission's replication check reads
// them (mu held).
func (n *Node) replicatedKeyspaces() []keyspace {
	var out []keyspace
	for _, name := range slices.Sorted(maps.Keys(n.schemaKeyspaces())) {
		k := n.schemaKeyspaces()[name]
		switch k.class() {
		case simpleStrategy:
			rf, _ := strconv.Atoi(k.replication["replication_factor"])
			out = append(out, keyspace{name: name, simpleRF: rf})
		case networkStrategy:
			r := map[string]int{}
			for dc, v := range k.options() {
				r[dc], _ = strconv.Atoi(v)
			}
			out = append(out, keyspace{name: name, replication: r})
		}
	}
	return out
}

// ringDatacenters are the datacenters Cassandra knows of through the
// node: its own and those of the ring members in its view
// (Datacenters.getValidDatacenters), sorted (mu held).
func (n *Node) ringDatacenters() []string {
	dcs := map[string]bool{n.cfg.DC: true}
	for _, e := range n.view.members() {
		dcs[e.dc] = true
	}
	return slices.Sorted(maps.Keys(dcs))
}

// notNormalEndpoints are the members of the node's view that are not in
// NORMAL state: a live or unreachable member (not left, removed nor
// hibernating) other than the node itself whose STATUS is not NORMAL, as
// AlterKeyspaceStatement.validateNoRangeMovements sees them (5.0.1
// AlterKeyspaceStatement.java:140-153). A member that shut down announced
// STATUS shutdown, which is not NORMAL either. Sorted, as
// InetAddressAndPort prints them ("/127.0.0.2:7000") (mu held).
func (n *Node) notNormalEndpoints() []string {
	var out []string
	for _, e := range n.view.members() {
		if e.hostID != n.hostID && (e.status != statusNormal || e.shutdown) {
			out = append(out, "/"+e.addr+storagePort)
		}
	}
	return sortAddrs(out)
}

// strategyClass resolves a replication class as Cassandra does
// (AbstractReplicationStrategy.getClass): a short name is looked up in
// org.apache.cassandra.locator.
func strategyClass(name string) (string, *cqlError) {
	full := name
	if !strings.Contains(name, ".") {
		full = locatorPackage + name
	}
	switch full {
	case networkStrategy, simpleStrategy:
		return full, nil
	case localStrategy:
		return "", &cqlError{code: errConfig, msg: "Unable to use given strategy class: LocalStrategy is reserved for internal use."}
	}
	return "", &cqlError{code: errConfig, msg: fmt.Sprintf("Unable to find replication strategy class '%s'", full)}
}

// replicationOf builds the replication column of a keyspace from the
// options of a CREATE or ALTER (previous: the keyspace's options before
// an ALTER, nil for a CREATE), with NetworkTopologyStrategy's
// replication_factor expanded to the ring's datacenters and "0" factors
// dropped (5.0.1 ReplicationParams.fromMapWithDefaults,
// NetworkTopologyStrategy.prepareOptions), and validates it
// (validateExpectedOptions, validateOptions) (mu held).
func (n *Node) replicationOf(ks string, given, previous map[string]string) (map[string]string, *cqlError) {
	opts := maps.Clone(given)
	class, cerr := strategyClass(opts["class"])
	if cerr != nil {
		return nil, cerr
	}
	delete(opts, "class")
	if class == simpleStrategy {
		return n.simpleReplication(ks, opts)
	}
	prev := maps.Clone(previous)
	delete(prev, "class")
	return n.networkReplication(ks, opts, prev)
}

func (n *Node) simpleReplication(ks string, opts map[string]string) (map[string]string, *cqlError) {
	rf, ok := opts["replication_factor"]
	if !ok {
		return nil, &cqlError{code: errConfig, msg: "SimpleStrategy requires a replication_factor strategy option."}
	}
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		if k != "replication_factor" {
			return nil, &cqlError{code: errConfig, msg: fmt.Sprintf("Unrecognized strategy option {%s} passed to SimpleStrategy for keyspace %s", k, ks)}
		}
	}
	if cerr := checkFactor(rf); cerr != nil {
		return nil, cerr
	}
	return map[string]string{"class": simpleStrategy, "replication_factor": rf}, nil
}

func (n *Node) networkReplication(ks string, opts, prev map[string]string) (map[string]string, *cqlError) {
	if len(opts) == 0 {
		def := "1" // default_keyspace_rf
		if rf, ok := prev["replication_factor"]; ok {
			def = rf
		}
		opts["replication_factor"] = def
	}
	rf, hasRF := opts["replication_factor"]
	delete(opts, "replication_factor")
	switch {
	case !hasRF && len(opts) == 0:
		rf, hasRF = prev["replication_factor"]
	case hasRF:
		for dc, v := range prev {
			if _, set := opts[dc]; !set && dc != "replication_factor" {
				opts[dc] = v
			}
		}
	}
	dcs := n.ringDatacenters()
	if hasRF {
		for _, dc := range dcs {
			if _, set := opts[dc]; !set {
				opts[dc] = rf
			}
		}
	}
	for dc, v := range opts {
		if v == "0" {
			delete(opts, dc)
		}
	}
	if len(opts) == 0 {
		return nil, &cqlError{code: errConfig, msg: "Configuration for at least one datacenter must be present"}
	}
	for _, dc := range slices.Sorted(maps.Keys(opts)) {
		if !slices.Contains(dcs, dc) {
			return nil, &cqlError{code: errConfig, msg: fmt.Sprintf("Unrecognized strategy option {%s} passed to NetworkTopologyStrategy for keyspace %s", dc, ks)}
		}
	}
	if strings.EqualFold(ks, "system_auth") {
		var missing []string
		for _, dc := range dcs {
			if _, ok := opts[dc]; !ok {
				missing = append(missing, dc)
			}
		}
		if len(missing) > 0 {
			return nil, &cqlError{code: errConfig, msg: "Following datacenters have active nodes and must be present in replication options for keyspace system_auth: [" + strings.Join(missing, ", ") + "]"}
		}
	}
	for _, dc := range slices.Sorted(maps.Keys(opts)) {
		if cerr := checkFactor(opts[dc]); cerr != nil {
			return nil, cerr
		}
	}
	opts["class"] = networkStrategy
	return opts, nil
}

// checkFactor validates a replication factor (ReplicationFactor.fromString;
// transient replication, "3/1", is disabled by default).
func checkFactor(v string) *cqlError {
	if strings.Contains(v, "/") {
		return &cqlError{code: errConfig, msg: "Transient replication is disabled. Enable in cassandra.yaml to use."}
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return &cqlError{code: errConfig, msg: fmt.Sprintf("For input string: %q", v)}
	case n < 0:
		return &cqlError{code: errConfig, msg: fmt.Sprintf("Replication factor must be non-negative, found %d", n)}
	}
	return nil
}

// replicationWarnings are the client warnings of a new replication:
// a factor above a datacenter's node count for a non-system keyspace
// (NetworkTopologyStrategy.maybeWarnOnOptions) (mu held).
func (n *Node) replicationWarnings(ks string, replication map[string]string) []string {
	if replication["class"] != networkStrategy || isSystemKeyspace(ks) {
		return nil
	}
	count := map[string]int{} // token owners (TokenMetadata.getAllMembers)
	for _, e := range n.view.members() {
		if e.status == statusNormal || e.status == statusLeaving {
			count[e.dc]++
		}
	}
	var out []string
	for _, dc := range slices.Sorted(maps.Keys(replication)) {
		f, err := strconv.Atoi(replication[dc])
		if dc == "class" || err != nil {
			continue
		}
		if nodes := count[dc]; f > nodes && nodes != 0 {
			out = append(out, fmt.Sprintf("Your replication factor %d for keyspace %s is higher than the number of nodes %d for datacenter %s", f, ks, nodes, dc))
		}
	}
	return out
}

// isSystemKeyspace: the local, virtual and replicated system keyspaces
// (SchemaConstants.isSystemKeyspace).
func isSystemKeyspace(ks string) bool {
	switch strings.ToLower(ks) {
	case "system", "system_schema", "system_views", "system_virtual_schema", "system_auth", "system_distributed", "system_traces":
		return true
	}
	return false
}

// isLocalKeyspace: keyspaces no statement may change
// (SchemaConstants.isLocalSystemKeyspace, virtual ones included).
func isLocalKeyspace(ks string) bool {
	switch strings.ToLower(ks) {
	case "system", "system_schema", "system_views", "system_virtual_schema":
		return true
	}
	return false
}
