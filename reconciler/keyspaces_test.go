package reconciler

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/reconciler/cql"
	"github.com/ringops/ringops/reconciler/plan"
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
