package schemas

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestBoundsAtTheLimit: a spec at every bound is valid; one more is
// refused, at the field, with the bound in the message.
func TestBoundsAtTheLimit(t *testing.T) {
	c := atBounds()
	if errs := c.Validate(); len(errs) > 0 {
		t.Fatalf("a spec at the bounds is refused: %v", errs)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*CassandraCluster)
		field string
		want  string
	}{
		{"seeds", func(c *CassandraCluster) { *c.Spec.SeedsPerDatacenter = MaxSeedsPerDatacenter + 1 }, "spec.seedsPerDatacenter", "at most 16 seeds"},
		{"rack nodes", func(c *CassandraCluster) {
			*c.Spec.Datacenters[0].Racks[0].Nodes = MaxNodesPerRack + 1
			*c.Spec.Datacenters[0].Racks[2].Nodes--
		}, "spec.datacenters[0].racks[0].nodes", "at most 1000 nodes per rack"},
		{"total nodes", func(c *CassandraCluster) { *c.Spec.Datacenters[1].Racks[0].Nodes++ }, "spec.datacenters", "5001 nodes in all"},
		{"racks", func(c *CassandraCluster) {
			dc := &c.Spec.Datacenters[len(c.Spec.Datacenters)-1]
			dc.Racks = append(dc.Racks, Rack{Name: "extra", Nodes: ptr(int32(0))})
		}, "spec.datacenters", "257 racks in all"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := atBounds()
			tc.edit(c)
			errs := c.Validate()
			if len(errs) != 1 || errs[0].Field != tc.field || !strings.Contains(errs[0].Message, tc.want) {
				t.Errorf("got %v\nwant one error at %s containing %q", errs, tc.field, tc.want)
			}
		})
	}
}

// TestBoundsSumsDoNotOverflow: racks whose counts add up to 2^32 wrapped
// to 0 in int32 (and the spec was refused as empty); in int64 they are
// too many, and said so.
func TestBoundsSumsDoNotOverflow(t *testing.T) {
	c := cluster("o", map[string][]string{"dc1": {"r1", "r2", "r3"}}, "dc1")
	for i, n := range []int32{1 << 30, 1 << 30, 1<<31 - 1} {
		c.Spec.Datacenters[0].Racks[i].Nodes = ptr(n)
	}
	got := c.Validate().Error()
	if !strings.Contains(got, "spec.datacenters: 4294967295 nodes in all are too many") || strings.Contains(got, "every datacenter has 0 nodes") {
		t.Errorf("got %v", got)
	}
}

// TestBoundsInTheJSONSchema: the max tags are the constants.
func TestBoundsInTheJSONSchema(t *testing.T) {
	for _, tc := range []struct {
		typ   any
		field string
		want  int
	}{
		{ClusterSpec{}, "nodesPerRack", MaxNodesPerRack},
		{ClusterSpec{}, "seedsPerDatacenter", MaxSeedsPerDatacenter},
		{ClusterSpec{}, "datacenters", MaxDatacenters},
		{Datacenter{}, "nodesPerRack", MaxNodesPerRack},
		{Datacenter{}, "racks", MaxRacksPerDatacenter},
		{Rack{}, "nodes", MaxNodesPerRack},
		{JolokiaNetworkPolicy{}, "from", MaxNetworkPeers},
	} {
		info := structInfoOf(reflect.TypeOf(tc.typ))
		if got := info.fields[info.byName[tc.field]].max; got != tc.want {
			t.Errorf("%T.%s: max tag %d, want %d", tc.typ, tc.field, got, tc.want)
		}
	}
}

// atBounds is a valid spec at every bound: 32 datacenters, 256 racks
// (the first datacenter with 32), 5000 nodes (racks of 1000 among them),
// 16 seeds per datacenter.
func atBounds() *CassandraCluster {
	c := &CassandraCluster{APIVersion: APIVersion, Kind: Kind, Metadata: ObjectMeta{Name: "o", Namespace: "cassandra"}}
	c.Spec.Image = "cassandra:4.1.5"
	c.Spec.Storage.Size = "10Gi"
	c.Spec.SeedsPerDatacenter = ptr(int32(MaxSeedsPerDatacenter))
	racks := 0
	for i := range MaxDatacenters {
		dc := Datacenter{Name: "d" + strconv.Itoa(i), Context: "ctx-" + strconv.Itoa(i%3)}
		n := (MaxRacks - MaxRacksPerDatacenter) / (MaxDatacenters - 1)
		if i == 0 {
			n = MaxRacksPerDatacenter
		}
		if i == MaxDatacenters-1 {
			n = MaxRacks - racks
		}
		for j := range n {
			dc.Racks = append(dc.Racks, Rack{Name: "r" + strconv.Itoa(j), Nodes: ptr(int32(8))})
		}
		racks += n
		c.Spec.Datacenters = append(c.Spec.Datacenters, dc)
	}
	// 256 racks of 8 nodes: 2048; make it 5000 with racks of 1000.
	c.Spec.Datacenters[0].Racks[0].Nodes = ptr(int32(MaxNodesPerRack))
	c.Spec.Datacenters[0].Racks[1].Nodes = ptr(int32(MaxNodesPerRack))
	c.Spec.Datacenters[0].Racks[2].Nodes = ptr(int32(MaxClusterNodes - 2048 - 2*MaxNodesPerRack + 3*8))
	for k := range MaxKeyspaces {
		r := map[string]int32{}
		for _, dc := range c.Spec.Datacenters {
			r[dc.Name] = 3
		}
		c.Spec.Keyspaces = append(c.Spec.Keyspaces, Keyspace{Name: "keyspace_" + strconv.Itoa(k), Replication: r})
	}
	c.Default()
	return c
}
