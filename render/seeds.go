package render

import (
	"strconv"

	"github.com/ringops/ringops/schemas"
)

// Seeds returns the seed DNS names of a defaulted cluster, datacenters in
// spec order: per datacenter at most spec.seedsPerDatacenter nodes, the
// lowest ordinals spread over the racks (ordinal 0 of every rack in rack
// order, then ordinal 1, ...), only among the nodes the spec asks for, each
// as <cluster>-<dc>-<rack>-<ordinal>.<dnsDomain>.
func Seeds(c *schemas.CassandraCluster) []string {
	var out []string
	for i := range c.Spec.Datacenters {
		out = append(out, datacenterSeeds(c, &c.Spec.Datacenters[i])...)
	}
	return out
}

func datacenterSeeds(c *schemas.CassandraCluster, dc *schemas.Datacenter) []string {
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
			out = append(out, pod+"."+dc.DNSDomain)
		}
		if !found {
			break
		}
	}
	return out
}
