package schemas

import (
	"strings"
	"testing"
)

func TestDuplicates(t *testing.T) {
	spec := func(name, ns, cassandra, ctx string) string {
		s := "apiVersion: ringops.dev/v1alpha1\nkind: CassandraCluster\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec:\n"
		if cassandra != "" {
			s += "  cassandraClusterName: " + cassandra + "\n"
		}
		return s + "  image: cassandra:4.1.5\n  storage: {size: 10Gi}\n  datacenters:\n    - {name: dc1, context: " + ctx + ", racks: [{name: r1}]}\n"
	}
	parse := func(file, data string) *CassandraCluster {
		c, err := Parse(file, []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tc := range []struct {
		name  string
		specs []*CassandraCluster
		want  string
	}{
		{"same name and namespace", []*CassandraCluster{
			parse("clusters/orders/cluster.yaml", spec("orders", "db", "", "eu-west")),
			parse("clusters/orders-copy/cluster.yaml", spec("orders", "db", "", "us-east")),
			parse("clusters/other/cluster.yaml", spec("other", "db", "", "eu-west")),
		}, `clusters/orders-copy/cluster.yaml:3: metadata.name: cluster orders in namespace db is also declared by clusters/orders/cluster.yaml: two directories would manage the same ring, and neither is rolled out; keep one, or rename the other (metadata.name, spec.cassandraClusterName) or move it to another namespace
clusters/orders/cluster.yaml:3: metadata.name: cluster orders in namespace db is also declared by clusters/orders-copy/cluster.yaml: two directories would manage the same ring, and neither is rolled out; keep one, or rename the other (metadata.name, spec.cassandraClusterName) or move it to another namespace`},
		{"same Cassandra cluster in a shared context", []*CassandraCluster{
			parse("a/cluster.yaml", spec("a", "db", "ring", "eu-west")),
			parse("b/cluster.yaml", spec("b", "db", "ring", "eu-west")),
		}, `a/cluster.yaml:5: spec.cassandraClusterName: Cassandra cluster "ring" in namespace db and a context in common is also declared by b/cluster.yaml`},
		{"same name, other namespace", []*CassandraCluster{
			parse("a/cluster.yaml", spec("orders", "db1", "", "eu-west")),
			parse("b/cluster.yaml", spec("orders", "db2", "", "eu-west")),
		}, ""},
		{"same Cassandra cluster, no context in common", []*CassandraCluster{
			parse("a/cluster.yaml", spec("a", "db", "ring", "eu-west")),
			parse("b/cluster.yaml", spec("b", "db", "ring", "us-east")),
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Duplicates(tc.specs).Error()
			if tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) {
				t.Errorf("got:\n%s\nwant (prefix):\n%s", got, tc.want)
			}
		})
	}
}
