package reconciler

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/reconciler/cql"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/schemas"
)

// TestKeyspacesOf: the planner sees every keyspace with replicas, local
// ones left out, factors per datacenter as read.
func TestKeyspacesOf(t *testing.T) {
	got := keyspacesOf("dc1", []cql.Keyspace{
		{Name: "orders", Replication: cql.Replication{Strategy: cql.StrategyNetworkTopology, Factors: map[string]int{"dc1": 3, "dc2": 2}}},
		{Name: "system", Replication: cql.Replication{Strategy: cql.StrategyLocal}},
		{Name: "system_auth", Replication: cql.Replication{Strategy: cql.StrategySimple, Factor: 1}},
		{Name: "x", Replication: cql.Replication{Strategy: cql.StrategyOther, Class: "com.example.Everywhere"}},
	})
	require.Equal(t, &plan.Keyspaces{From: "dc1", Replication: map[string]plan.Replication{
		"orders":      {Strategy: plan.NetworkTopology, Factors: map[string]int32{"dc1": 3, "dc2": 2}},
		"system_auth": {Strategy: plan.Simple, Factor: 1},
		"x":           {Class: "com.example.Everywhere"},
	}}, got)
}

// TestAlterKeyspaceNeedsCQL: an AlterKeyspace step without a CQL edge, or
// without its keyspaces, fails as the executor's or the planner's error,
// never as a silent success.
func TestAlterKeyspaceNeedsCQL(t *testing.T) {
	e := &Engine{clusters: map[string]*clusterState{}}
	_, err := e.schemaTarget("orders", "dc1")
	require.True(t, errors.Is(err, ErrMissingClient), "%v", err)
	require.ErrorIs(t, checkStep(plan.Step{Action: plan.AlterKeyspace, Datacenter: "dc1"}), ErrBadStep)
	require.ErrorIs(t, checkStep(plan.Step{Action: plan.Rebuild}), ErrBadStep)
}

// TestCQLSchemaReusesClients: one client per datacenter while its
// contacts stay the same; another when they change.
func TestCQLSchemaReusesClients(t *testing.T) {
	s := &CQLSchema{Router: &SecretRouter{}}
	defer s.Close()
	c := &schemas.CassandraCluster{}
	c.Metadata.Name = "orders"
	c.Spec.CQL = &schemas.CQL{Authentication: schemas.CQLAuthNone} // no Secret to read
	at := SchemaTarget{Cluster: c, Context: "eu-west", DC: "dc1", Contacts: []string{"10.0.0.1", "10.0.0.2"}}
	a, err := s.client(t.Context(), at)
	require.NoError(t, err)
	b, err := s.client(t.Context(), at)
	require.NoError(t, err)
	require.Same(t, a, b)
	at.Contacts = []string{"10.0.0.1", "10.0.0.3"}
	d, err := s.client(t.Context(), at)
	require.NoError(t, err)
	require.NotSame(t, a, d)
}
