package schemas

import (
	"fmt"
	"strings"
	"testing"
)

// withNodes sets the node count of every rack of datacenter i.
func withNodes(c *CassandraCluster, i int, n int32) *CassandraCluster {
	for j := range c.Spec.Datacenters[i].Racks {
		c.Spec.Datacenters[i].Racks[j].Nodes = ptr(n)
	}
	return c
}

func managedString(ks []ManagedKeyspace) string {
	var b strings.Builder
	for _, k := range ks {
		fmt.Fprintf(&b, "%s %v default=%v\n", k.Name, k.Replication, k.Default)
	}
	return b.String()
}

func TestManagedKeyspacesDefaultsFollowNodes(t *testing.T) {
	c := cluster("o", map[string][]string{"dc1": {"r1", "r2", "r3", "r4"}, "dc2": {"r1", "r2"}, "dc3": {"r1"}}, "dc1", "dc2", "dc3")
	withNodes(c, 2, 0) // dc3 is being emptied: it leaves the default replication
	c.Spec.Keyspaces = []Keyspace{{Name: "orders", Replication: map[string]int32{"dc1": 3, "dc2": 0}}}
	want := "orders map[dc1:3] default=false\n" +
		"system_auth map[dc1:3 dc2:2] default=true\n" +
		"system_distributed map[dc1:3 dc2:2] default=true\n" +
		"system_traces map[dc1:3 dc2:2] default=true\n"
	if got := managedString(c.ManagedKeyspaces()); got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
}

func TestManagedKeyspacesListedAndUnmanaged(t *testing.T) {
	c := cluster("o", map[string][]string{"dc1": {"r1", "r2", "r3"}}, "dc1")
	c.Spec.Keyspaces = []Keyspace{{Name: "system_auth", Replication: map[string]int32{"dc1": 1}}}
	want := "system_auth map[dc1:1] default=false\n" +
		"system_distributed map[dc1:3] default=true\n" +
		"system_traces map[dc1:3] default=true\n"
	if got := managedString(c.ManagedKeyspaces()); got != want {
		t.Errorf("listed system_auth: got\n%swant\n%s", got, want)
	}
	c.Spec.SystemKeyspaces = SystemKeyspacesUnmanaged
	if got, want := managedString(c.ManagedKeyspaces()), "system_auth map[dc1:1] default=false\n"; got != want {
		t.Errorf("unmanaged: got\n%swant\n%s", got, want)
	}
	c.Spec.Keyspaces = nil
	if got := c.ManagedKeyspaces(); len(got) != 0 {
		t.Errorf("unmanaged and nothing listed: %v", got)
	}
}

func TestDefaultDerivesReplicationFactor(t *testing.T) {
	c := cluster("o", map[string][]string{"dc1": {"r1", "r2", "r3"}, "dc2": {"r1", "r2"}}, "dc1", "dc2")
	if c.Spec.Datacenters[0].ReplicationFactor != nil {
		t.Fatal("without spec.keyspaces, replicationFactor stays as written (unset)")
	}
	c.Spec.Keyspaces = []Keyspace{
		{Name: "a", Replication: map[string]int32{"dc1": 2}},
		{Name: "b", Replication: map[string]int32{"dc1": 3, "dc2": 1}},
	}
	c.Default()
	c.Default()
	if got := fmt.Sprint(*c.Spec.Datacenters[0].ReplicationFactor, *c.Spec.Datacenters[1].ReplicationFactor); got != "3 1" {
		t.Errorf("derived replicationFactor: %s, want 3 1", got)
	}
	if errs := c.Validate(); len(errs) > 0 {
		t.Errorf("a derived replicationFactor agrees: %v", errs)
	}
	c.Spec.Keyspaces[1].Replication["dc1"] = 2
	errs := c.Validate()
	want := "spec.datacenters[0].replicationFactor: 3 disagrees with spec.keyspaces: the highest factor of spec.keyspaces in dc1 is 2 (a); remove replicationFactor (it is derived from spec.keyspaces) or write 2"
	if errs.Error() != want {
		t.Errorf("got %v\nwant %s", errs, want)
	}
}

func TestReplicationFactorWithoutKeyspacesIsUnchanged(t *testing.T) {
	c := cluster("o", map[string][]string{"dc1": {"r1", "r2"}}, "dc1")
	c.Spec.Datacenters[0].ReplicationFactor = ptr(int32(3))
	errs := c.Validate()
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "fewer than its replicationFactor 3") {
		t.Errorf("the old check still holds without spec.keyspaces: %v", errs)
	}
}

func TestKeyspaceFactorBoundary(t *testing.T) {
	c := cluster("o", map[string][]string{"dc1": {"r1", "r2", "r3"}}, "dc1")
	c.Spec.Keyspaces = []Keyspace{{Name: "orders", Replication: map[string]int32{"dc1": 3}}}
	c.Default()
	if errs := c.Validate(); len(errs) > 0 {
		t.Errorf("3 replicas on 3 nodes: %v", errs)
	}
	withNodes(c, 0, 1).Spec.Datacenters[0].Racks[0].Nodes = ptr(int32(0))
	errs := c.Validate()
	want := "spec.keyspaces[0].replication.dc1: 3 replicas of orders in dc1, which has 2 nodes: at most 2 (lower the factor, or keep more nodes in dc1)"
	if errs.Error() != want {
		t.Errorf("got %v\nwant %s", errs, want)
	}
}

func TestRebuildSource(t *testing.T) {
	c := &CassandraCluster{Spec: ClusterSpec{Datacenters: []Datacenter{{Name: "dc1"}, {Name: "dc2"}, {Name: "dc3", RebuildFrom: "dc2"}}}}
	if got := c.RebuildSource("dc2"); got != "dc1" {
		t.Errorf("default: %s, want the seed datacenter dc1", got)
	}
	if got := c.RebuildSource("dc3"); got != "dc2" {
		t.Errorf("rebuildFrom: %s, want dc2", got)
	}
}
