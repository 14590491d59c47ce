package plan

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/schemas"
)

// ksSpec is the keyspaces of observed.yaml:
//
//	keyspaces:
//	  err: "datacenter dc1: unavailable"   # could not be read
//	  replication:
//	    orders: {dc1: 3, dc2: 3}           # NetworkTopologyStrategy
//	    system_auth: {simple: 1}           # SimpleStrategy 1
//	    odd: {class: EverywhereStrategy}   # a strategy ringops does not read
//	  absent: true                         # Observed.Keyspaces nil: no CQL edge
type ksSpec struct {
	Err         string                    `json:"err"`
	Absent      bool                      `json:"absent"`
	Replication map[string]map[string]any `json:"replication"`
}

// buildKeyspaces is Observed.Keyspaces of a case: as given, or, when
// observed.yaml says nothing, the managed keyspaces of the desired spec
// as it wants them.
func buildKeyspaces(t testing.TB, c *schemas.CassandraCluster, ks *ksSpec) *Keyspaces {
	t.Helper()
	if ks == nil {
		if c == nil {
			return nil
		}
		out := &Keyspaces{From: c.Spec.Datacenters[0].Name, Replication: map[string]Replication{}}
		for _, k := range c.ManagedKeyspaces() {
			out.Replication[k.Name] = Replication{Strategy: NetworkTopology, Factors: k.Replication}
		}
		return out
	}
	if ks.Absent {
		return nil
	}
	out := &Keyspaces{Err: ks.Err, From: "dc1", Replication: map[string]Replication{}}
	for name, m := range ks.Replication {
		out.Replication[name] = replicationSpec(t, m)
	}
	return out
}

func replicationSpec(t testing.TB, m map[string]any) Replication {
	t.Helper()
	if class, ok := m["class"].(string); ok {
		return Replication{Class: class}
	}
	if rf, ok := m["simple"]; ok {
		n, _ := number(rf)
		return Replication{Strategy: Simple, Factor: int32(n)}
	}
	r := Replication{Strategy: NetworkTopology, Factors: map[string]int32{}}
	for dc, f := range m {
		n, ok := number(f)
		require.True(t, ok, "factor of %s: %v", dc, f)
		r.Factors[dc] = int32(n)
	}
	return r
}
