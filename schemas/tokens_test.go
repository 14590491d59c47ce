package schemas

import (
	"strings"
	"testing"
)

// TestTokenAllocation checks the datacenter shapes against
// TokenAllocation.createStrategy (5.0.1 TokenAllocation.java:242-273): a
// node joining a rack that already has a node fails when its datacenter has
// more than one rack but fewer racks than the allocation factor.
func TestTokenAllocation(t *testing.T) {
	for _, tc := range []struct {
		name, image, yaml string
		racks             []int32
		refused           bool
	}{
		{name: "one rack of three", racks: []int32{3}},
		{name: "two racks of one", racks: []int32{1, 1}},
		{name: "two racks of two", racks: []int32{2, 2}, refused: true},
		{name: "two racks, one of two", racks: []int32{1, 2}, refused: true},
		{name: "two racks, one emptied", racks: []int32{3, 0}},
		{name: "three racks of two", racks: []int32{2, 2, 2}},
		{name: "four racks of three", racks: []int32{3, 3, 3, 3}},
		{name: "three racks, one emptied", racks: []int32{2, 2, 0}, refused: true},
		{name: "3.11 has no default factor", image: "cassandra:3.11.17", racks: []int32{2, 2}},
		{name: "factor 2", yaml: "2", racks: []int32{2, 2}},
		{name: "factor 1", yaml: "1", racks: []int32{2, 2}},
		{name: "factor 4, three racks", yaml: "4", racks: []int32{2, 2, 2}, refused: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &CassandraCluster{APIVersion: APIVersion, Kind: Kind, Metadata: ObjectMeta{Name: "orders", Namespace: "cassandra"}}
			c.Spec.Image = "cassandra:5.0.9"
			if tc.image != "" {
				c.Spec.Image = tc.image
			}
			c.Spec.Storage = Storage{Size: "1Gi"}
			if tc.yaml != "" {
				c.Spec.Config = &Config{CassandraYAML: map[string]any{"allocate_tokens_for_local_replication_factor": tc.yaml}}
			}
			dc := Datacenter{Name: "dc1", Context: "eu-west"}
			for i, n := range tc.racks {
				dc.Racks = append(dc.Racks, Rack{Name: "r" + string(rune('1'+i)), Nodes: &n})
			}
			c.Spec.Datacenters = []Datacenter{dc}
			err := c.Validate().Err()
			got := err != nil && strings.Contains(err.Error(), "Token allocation failed")
			if got != tc.refused {
				t.Errorf("refused = %v, want %v: %v", got, tc.refused, err)
			}
		})
	}
}
