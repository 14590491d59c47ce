package cql

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// Strategy is a keyspace's replication strategy.
type Strategy int

// The strategies, from the class system_schema.keyspaces names.
const (
	StrategyOther           Strategy = iota // a class ringops does not know (e.g. EverywhereStrategy)
	StrategyNetworkTopology                 // NetworkTopologyStrategy: a factor per datacenter
	StrategySimple                          // SimpleStrategy: one factor, replicas anywhere in the ring
	StrategyLocal                           // LocalStrategy: each node's own (system, system_schema)
)

func (s Strategy) String() string {
	switch s {
	case StrategyNetworkTopology:
		return "NetworkTopologyStrategy"
	case StrategySimple:
		return "SimpleStrategy"
	case StrategyLocal:
		return "LocalStrategy"
	}
	return "other"
}

// networkTopologyStrategy is the class ringops writes.
const networkTopologyStrategy = "NetworkTopologyStrategy"

func strategyOf(class string) Strategy {
	short := class[strings.LastIndexByte(class, '.')+1:]
	switch short {
	case "NetworkTopologyStrategy":
		return StrategyNetworkTopology
	case "SimpleStrategy":
		return StrategySimple
	case "LocalStrategy":
		return StrategyLocal
	}
	return StrategyOther
}

// Replication is a keyspace's replication as Cassandra holds it.
type Replication struct {
	Strategy Strategy
	// Class is the strategy class as stored, e.g.
	// org.apache.cassandra.locator.NetworkTopologyStrategy.
	Class string
	// Factors are NetworkTopologyStrategy's replicas per datacenter (a
	// datacenter without replicas is absent).
	Factors map[string]int
	// Factor is SimpleStrategy's replication_factor.
	Factor int
	// Options are the other strategy options, as stored (transient
	// factors such as "3/1", or a class ringops does not know).
	Options map[string]string
}

// replicationOf reads the replication column (class and options).
func replicationOf(m map[string]string) Replication {
	r := Replication{Class: m["class"], Strategy: strategyOf(m["class"])}
	for k, v := range m {
		if k == "class" {
			continue
		}
		n, err := strconv.Atoi(v)
		switch {
		case err == nil && r.Strategy == StrategyNetworkTopology && n > 0:
			if r.Factors == nil {
				r.Factors = map[string]int{}
			}
			r.Factors[k] = n
		case err == nil && r.Strategy == StrategySimple && k == "replication_factor":
			r.Factor = n
		case err == nil && n == 0:
		default:
			if r.Options == nil {
				r.Options = map[string]string{}
			}
			r.Options[k] = v
		}
	}
	return r
}

// ReplicatesTo reports whether the keyspace can place replicas on the
// nodes of datacenter dc: a NetworkTopologyStrategy factor there,
// SimpleStrategy (its replicas go anywhere in the ring), or a strategy
// ringops cannot read (assumed to, to be safe). LocalStrategy never does.
func (r Replication) ReplicatesTo(dc string) bool {
	switch r.Strategy {
	case StrategyNetworkTopology:
		_, ok := r.Options[dc]
		return r.Factors[dc] > 0 || ok
	case StrategySimple:
		return r.Factor > 0
	case StrategyLocal:
		return false
	}
	return true
}

// Equal reports whether r is NetworkTopologyStrategy with exactly the
// given factors (a factor of 0 counts as absent).
func (r Replication) Equal(factors map[string]int) bool {
	if r.Strategy != StrategyNetworkTopology || len(r.Options) > 0 {
		return false
	}
	want := map[string]int{}
	for dc, f := range factors {
		if f > 0 {
			want[dc] = f
		}
	}
	return maps.Equal(r.Factors, want)
}

// String prints the replication as a reviewer reads it:
// "NetworkTopologyStrategy {dc1: 3, dc2: 2}", "SimpleStrategy 3".
func (r Replication) String() string {
	switch r.Strategy {
	case StrategyNetworkTopology:
		return networkTopologyStrategy + " " + formatFactors(r.Factors, r.Options)
	case StrategySimple:
		return "SimpleStrategy " + strconv.Itoa(r.Factor)
	case StrategyLocal:
		return "LocalStrategy"
	}
	return r.Class + " " + formatFactors(nil, r.Options)
}

func formatFactors(factors map[string]int, opts map[string]string) string {
	parts := map[string]string{}
	for k, v := range factors {
		parts[k] = strconv.Itoa(v)
	}
	for k, v := range opts {
		parts[k] = v
	}
	var b strings.Builder
	b.WriteString("{")
	for i, k := range slices.Sorted(maps.Keys(parts)) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k + ": " + parts[k])
	}
	b.WriteString("}")
	return b.String()
}

// Keyspace is one row of system_schema.keyspaces.
type Keyspace struct {
	Name          string
	DurableWrites bool
	Replication   Replication
}

// Keyspaces reads every keyspace and its replication from
// system_schema.keyspaces on one node of the datacenter (that node's own
// schema), sorted by name.
func (c *Client) Keyspaces(ctx context.Context) ([]Keyspace, error) {
	var out []Keyspace
	err := c.do(ctx, "read system_schema.keyspaces", func(s *gocql.Session) error {
		iter := s.Query("SELECT keyspace_name, durable_writes, replication FROM system_schema.keyspaces").IterContext(ctx)
		var (
			name    string
			durable bool
			repl    map[string]string
		)
		for iter.Scan(&name, &durable, &repl) {
			out = append(out, Keyspace{Name: name, DurableWrites: durable, Replication: replicationOf(repl)})
			repl = nil
		}
		return iter.Close()
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ReplicatingTo reads the keyspaces that can place replicas on datacenter
// dc's nodes (Replication.ReplicatesTo), sorted by name: those that still
// block its removal.
func (c *Client) ReplicatingTo(ctx context.Context, dc string) ([]Keyspace, error) {
	all, err := c.Keyspaces(ctx)
	if err != nil {
		return nil, err
	}
	var out []Keyspace
	for _, k := range all {
		if k.Replication.ReplicatesTo(dc) {
			out = append(out, k)
		}
	}
	return out, nil
}

// AlterReplication sets a keyspace's replication to NetworkTopologyStrategy
// with the given factors per datacenter (a factor of 0 leaves the
// datacenter out), through one node of the Client's datacenter, and
// returns Cassandra's warnings (e.g. that a raised factor needs a full
// repair). It returns when that node applied the change: the other nodes
// take it within a gossip round, see SchemaVersions. Cassandra refuses it
// while a node joins, leaves or moves (ErrRangeMovement).
func (c *Client) AlterReplication(ctx context.Context, keyspace string, factors map[string]int) ([]string, error) {
	what := "alter keyspace " + keyspace
	stmt, err := alterStatement(keyspace, factors)
	if err != nil {
		return nil, fmt.Errorf("datacenter %s: %s: %w", c.dc, what, err)
	}
	var warnings []string
	err = c.do(ctx, what, func(s *gocql.Session) error {
		iter := s.Query(stmt).Idempotent(true).IterContext(ctx)
		warnings = iter.Warnings() // Close forgets them
		return iter.Close()
	})
	return warnings, err
}

// alterStatement is the ALTER KEYSPACE of a replication; names are quoted
// as CQL quotes them, datacenters in sorted order.
func alterStatement(keyspace string, factors map[string]int) (string, error) {
	if keyspace == "" {
		return "", fmt.Errorf("%w: no keyspace name", ErrRefused)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ALTER KEYSPACE %s WITH replication = {'class': '%s'", quoteIdent(keyspace), networkTopologyStrategy)
	n := 0
	for _, dc := range slices.Sorted(maps.Keys(factors)) {
		f := factors[dc]
		switch {
		case f < 0:
			return "", fmt.Errorf("%w: datacenter %s: negative factor %d", ErrRefused, dc, f)
		case f == 0:
			continue
		}
		fmt.Fprintf(&b, ", %s: '%d'", quoteString(dc), f)
		n++
	}
	if n == 0 {
		return "", fmt.Errorf("%w: a keyspace needs replicas in at least one datacenter", ErrRefused)
	}
	b.WriteString("}")
	return b.String(), nil
}

// quoteIdent quotes a name as a case-sensitive CQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteString quotes a CQL string literal.
func quoteString(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

// SchemaVersions reads each reachable node's own schema version
// (system.local.schema_version, the query pinned to that node), by node
// IP, for the nodes of the Client's datacenter the driver knows. The nodes
// that could not be read are left out and named in the error (which wraps
// ErrUnavailable) next to the versions read.
func (c *Client) SchemaVersions(ctx context.Context) (Versions, error) {
	out := Versions{}
	var failed []error
	err := c.do(ctx, "read schema versions", func(s *gocql.Session) error {
		for _, h := range s.GetHosts() {
			if h.DataCenter() != c.dc {
				continue
			}
			var v gocql.UUID
			q := s.Query("SELECT schema_version FROM system.local WHERE key = 'local'").SetHostID(h.HostID())
			if err := q.ScanContext(ctx, &v); err != nil {
				failed = append(failed, fmt.Errorf("node %s: %w", h.ConnectAddress(), classify(err)))
				continue
			}
			out[h.ConnectAddress().String()] = v.String()
		}
		if len(out) == 0 && len(failed) == 0 {
			return fmt.Errorf("%w: the driver knows no node of the datacenter", ErrUnavailable)
		}
		return nil
	})
	if err == nil && len(failed) > 0 {
		err = fmt.Errorf("datacenter %s: read schema versions: %w", c.dc, errors.Join(failed...))
	}
	return out, err
}

// Versions are schema versions by node IP.
type Versions map[string]string

// Agree reports whether every node read has the same version.
func (v Versions) Agree() bool {
	seen := ""
	for _, x := range v {
		if seen != "" && x != seen {
			return false
		}
		seen = x
	}
	return true
}
