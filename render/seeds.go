package render

import (
	"strconv"
	"strings"

	"github.com/ringops/ringops/schemas"
)

// Seeds returns the target seed DNS names of a defaulted cluster,
// datacenters in spec order: per datacenter at most spec.seedsPerDatacenter
// nodes, the lowest ordinals spread over the racks (ordinal 0 of every rack
// in rack order, then ordinal 1, ...), only among the nodes the spec asks
// for, each as <cluster>-<dc>-<rack>-<ordinal>.<dnsDomain>. It is what the
// rendered StatefulSets carry in CASSANDRA_SEEDS; the planner writes into
// the live ones only those of them that have joined the ring (SeedsWhere).
func Seeds(c *schemas.CassandraCluster) []string {
	return SeedsWhere(c, nil)
}

// SeedsWhere returns the seeds chosen by Seeds' rule among the nodes (pod
// names) for which ok holds; nil ok holds for every node. Every seed of
// Seeds(c) for which ok holds is among them, and nodes further down the
// order take the places of those for which it does not.
func SeedsWhere(c *schemas.CassandraCluster, ok func(pod string) bool) []string {
	var out []string
	for i := range c.Spec.Datacenters {
		out = append(out, datacenterSeeds(c, &c.Spec.Datacenters[i], ok)...)
	}
	return out
}

// SeedPod is the pod name of a seed DNS name: its first label.
func SeedPod(dns string) string {
	pod, _, _ := strings.Cut(dns, ".")
	return pod
}

func datacenterSeeds(c *schemas.CassandraCluster, dc *schemas.Datacenter, ok func(string) bool) []string {
	limit := 0
	if c.Spec.SeedsPerDatacenter != nil {
		limit = int(*c.Spec.SeedsPerDatacenter)
	}
	var out []string
	for ordinal := int32(0); len(out) < limit; ordinal++ {
		found := false
		for _, rack := range dc.Racks {
			if len(out) == limit {
				break
			}
			if rack.Nodes == nil || ordinal >= *rack.Nodes {
				continue
			}
			found = true
			pod := c.StatefulSetName(dc.Name, rack.Name) + "-" + strconv.Itoa(int(ordinal))
			if ok == nil || ok(pod) {
				out = append(out, pod+"."+dc.DNSDomain)
			}
		}
		if !found {
			break
		}
	}
	return out
}
