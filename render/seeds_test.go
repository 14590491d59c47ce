package render

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/schemas"
)

// seedSpec builds a cluster "c" whose datacenters have racks with the given
// node counts, parsed and defaulted as users' specs are.
func seedSpec(t *testing.T, seeds int, dcs ...[]int) *schemas.CassandraCluster {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: ringops.dev/v1alpha1\nkind: CassandraCluster\nmetadata: {name: c, namespace: ns}\n")
	// Token allocation for 2 replicas: two-rack datacenters may then hold
	// several nodes a rack (with the image's 3, Cassandra refuses them).
	b.WriteString("spec:\n  image: cassandra:4.1.5\n  storage: {size: 1Gi}\n")
	b.WriteString("  config: {cassandra-yaml: {allocate_tokens_for_local_replication_factor: 2}}\n")
	b.WriteString("  seedsPerDatacenter: " + itoa(seeds) + "\n  datacenters:\n")
	for i, racks := range dcs {
		dc := "dc" + itoa(i+1)
		b.WriteString("    - name: " + dc + "\n      context: ctx" + itoa(i+1) + "\n      dnsDomain: " + dc + ".example.com\n")
		b.WriteString("      replicationFactor: 0\n      racks:\n")
		for j, n := range racks {
			b.WriteString("        - {name: r" + itoa(j+1) + ", nodes: " + itoa(n) + "}\n")
		}
	}
	c, err := schemas.Parse("cluster.yaml", []byte(b.String()))
	require.NoError(t, err, b.String())
	return c
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestSeeds(t *testing.T) {
	tests := []struct {
		name  string
		seeds int
		dcs   [][]int
		want  []string
	}{
		{"one rack: lowest ordinals", 3, [][]int{{5}},
			[]string{"c-dc1-r1-0", "c-dc1-r1-1", "c-dc1-r1-2"}},
		{"two racks: ordinal 0 of each, then ordinal 1", 3, [][]int{{3, 3}},
			[]string{"c-dc1-r1-0", "c-dc1-r2-0", "c-dc1-r1-1"}},
		{"three racks: one per rack", 3, [][]int{{3, 3, 3}},
			[]string{"c-dc1-r1-0", "c-dc1-r2-0", "c-dc1-r3-0"}},
		{"four racks: the first three racks", 3, [][]int{{2, 2, 2, 2}},
			[]string{"c-dc1-r1-0", "c-dc1-r2-0", "c-dc1-r3-0"}},
		{"four racks, four seeds", 4, [][]int{{2, 2, 2, 2}},
			[]string{"c-dc1-r1-0", "c-dc1-r2-0", "c-dc1-r3-0", "c-dc1-r4-0"}},
		{"fewer nodes than seeds", 5, [][]int{{2, 1}},
			[]string{"c-dc1-r1-0", "c-dc1-r2-0", "c-dc1-r1-1"}},
		{"only nodes the spec asks for: a rack of 2 has no ordinal 2", 6, [][]int{{3, 2}},
			[]string{"c-dc1-r1-0", "c-dc1-r2-0", "c-dc1-r1-1", "c-dc1-r2-1", "c-dc1-r1-2"}},
		{"an empty first rack is skipped", 2, [][]int{{0, 2}},
			[]string{"c-dc1-r2-0", "c-dc1-r2-1"}},
		{"a datacenter with 0 nodes has no seeds; datacenters in spec order", 2, [][]int{{1, 1}, {0, 0}, {2}},
			[]string{"c-dc1-r1-0", "c-dc1-r2-0", "c-dc3-r1-0", "c-dc3-r1-1"}},
		{"one seed per datacenter", 1, [][]int{{3, 3}, {3}},
			[]string{"c-dc1-r1-0", "c-dc2-r1-0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := seedSpec(t, tt.seeds, tt.dcs...)
			var want []string
			for _, pod := range tt.want {
				dc := strings.Split(pod, "-")[1]
				want = append(want, pod+"."+dc+".example.com")
			}
			assert.Equal(t, want, Seeds(c))
		})
	}
}

func TestSeedsDefaultDNSDomain(t *testing.T) {
	c, err := schemas.Parse("cluster.yaml", []byte(`apiVersion: ringops.dev/v1alpha1
kind: CassandraCluster
metadata: {name: orders, namespace: cassandra}
spec:
  image: cassandra:4.1.5
  storage: {size: 1Gi}
  datacenters: [{name: dc1, context: eu-west, racks: [{name: r1}]}]
`))
	require.NoError(t, err)
	assert.Equal(t, []string{"orders-dc1-r1-0.orders.cassandra.svc.cluster.local"}, Seeds(c),
		"the default domain is the headless Service's")
}

func TestSeedsWhere(t *testing.T) {
	c := seedSpec(t, 3, []int{3, 3}, []int{2})
	joined := map[string]bool{"c-dc1-r1-0": true, "c-dc1-r1-1": true, "c-dc1-r2-1": true, "c-dc1-r1-2": true, "c-dc2-r1-1": true}
	got := SeedsWhere(c, func(pod string) bool { return joined[pod] })
	assert.Equal(t, []string{"c-dc1-r1-0.dc1.example.com", "c-dc1-r1-1.dc1.example.com", "c-dc1-r2-1.dc1.example.com",
		"c-dc2-r1-1.dc2.example.com"}, got,
		"the target seeds that qualify (c-dc1-r1-0), then the next in the order (c-dc1-r2-0 does not qualify)")
	assert.Empty(t, SeedsWhere(c, func(string) bool { return false }))
	assert.Equal(t, Seeds(c), SeedsWhere(c, func(string) bool { return true }))
	assert.Equal(t, "c-dc1-r2-1", SeedPod(got[2]))
}
