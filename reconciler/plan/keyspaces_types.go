package plan

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Keyspaces is the replication of the cluster's keyspaces as the CQL edge
// read it (system_schema.keyspaces on one node), for the steps of issue
// #15: keyspace replication in Git, datacenters added and removed with
// their data.
type Keyspaces struct {
	// Err is why the keyspaces could not be read ("" when they were): the
	// steps that depend on replication then wait.
	Err string
	// From is the datacenter whose node answered.
	From string
	// Replication holds every keyspace that has replicas (LocalStrategy
	// and virtual keyspaces left out), by name.
	Replication map[string]Replication
}

// Strategy is a keyspace's replication strategy.
type Strategy uint8

// The strategies.
const (
	// StrategyOther is a class ringops does not read (its replicas are
	// assumed to go anywhere).
	StrategyOther Strategy = iota
	// NetworkTopology is NetworkTopologyStrategy: a factor per datacenter.
	NetworkTopology
	// Simple is SimpleStrategy: one factor, replicas anywhere in the ring.
	Simple
)

func (s Strategy) String() string {
	switch s {
	case NetworkTopology:
		return "NetworkTopologyStrategy"
	case Simple:
		return "SimpleStrategy"
	}
	return "other"
}

// Replication is one keyspace's replication as Cassandra holds it.
type Replication struct {
	Strategy Strategy
	// Factors are NetworkTopologyStrategy's replicas per datacenter (a
	// datacenter without replicas is absent).
	Factors map[string]int32
	// Factor is SimpleStrategy's replication_factor.
	Factor int32
	// Class names a strategy ringops does not read, for messages.
	Class string
}

// factor is the keyspace's replicas in datacenter dc: its
// NetworkTopologyStrategy factor, 0 for any other strategy.
func (r Replication) factor(dc string) int32 {
	if r.Strategy != NetworkTopology {
		return 0
	}
	return r.Factors[dc]
}

// String is the replication as a reviewer reads it:
// "NetworkTopologyStrategy {dc1: 3, dc2: 2}", "SimpleStrategy 3".
func (r Replication) String() string {
	switch r.Strategy {
	case NetworkTopology:
		return "NetworkTopologyStrategy " + factorsString(r.Factors)
	case Simple:
		return "SimpleStrategy " + strconv.Itoa(int(r.Factor))
	}
	if r.Class != "" {
		return r.Class
	}
	return "an unknown strategy"
}

// factorsString prints factors sorted by datacenter: "{dc1: 3, dc2: 2}".
func factorsString(f map[string]int32) string {
	parts := make([]string, 0, len(f))
	for _, dc := range slices.Sorted(maps.Keys(f)) {
		if f[dc] > 0 {
			parts = append(parts, dc+": "+strconv.Itoa(int(f[dc])))
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// KeyspaceChange is one keyspace of an AlterKeyspace step (its new
// replication, NetworkTopologyStrategy with To), or of a Rebuild or a
// Cleanup step (Keyspace alone).
type KeyspaceChange struct {
	Keyspace string
	// From is the replication Cassandra holds (AlterKeyspace).
	From Replication
	// To are the factors per datacenter to set (AlterKeyspace); a
	// datacenter left out has no replica.
	To map[string]int32
}

// String is "orders: {dc1: 3} -> {dc1: 3, dc2: 3}", or the keyspace name
// alone.
func (k KeyspaceChange) String() string {
	if k.To == nil {
		return k.Keyspace
	}
	from := k.From.String()
	if k.From.Strategy == NetworkTopology {
		from = factorsString(k.From.Factors)
	}
	return k.Keyspace + ": " + from + " -> " + factorsString(k.To)
}

// JoinWithoutBootstrap is the JVM option ringops puts into
// JVM_EXTRA_OPTS of the racks of a datacenter that joins a running ring
// (contract.AnnotationRebuild "<dc> *"): Cassandra reads it over cassandra.yaml's
// auto_bootstrap, so a new node turns NORMAL at once, owning its ranges
// and none of their data, without a range movement; its data comes from
// the rebuild, once the keyspaces replicate to its datacenter. Users may
// not set it (schemas refuses it). A node that has joined ignores it
// (Cassandra bootstraps only a node that never completed joining).
const JoinWithoutBootstrap = "-Dcassandra.auto_bootstrap=false"

// operationDetail is what a Rebuild, Cleanup or forced Decommission step
// adds to its line: " from dc1", " (keyspaces orders, system_auth)",
// " (force)".
func (s Step) operationDetail() string {
	var b strings.Builder
	if s.Action == Rebuild && s.Datacenter != "" {
		b.WriteString(" from " + s.Datacenter)
	}
	if len(s.Keyspaces) > 0 {
		names := make([]string, len(s.Keyspaces))
		for i, k := range s.Keyspaces {
			names[i] = k.Keyspace
		}
		b.WriteString(" (keyspaces " + strings.Join(names, ", ") + ")")
	}
	if s.Force {
		b.WriteString(" (force)")
	}
	return b.String()
}
