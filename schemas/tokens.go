package schemas

import (
	"strconv"
	"strings"
)

// DefaultTokenAllocationRF is allocate_tokens_for_local_replication_factor
// in the cassandra.yaml of the official image since Cassandra 4.0.
const DefaultTokenAllocationRF = 3

// TokenAllocationRF is the replication factor Cassandra's token allocator
// plans for when a node of this cluster joins: the
// allocate_tokens_for_local_replication_factor of config.cassandra-yaml,
// else the image's default (3 from Cassandra 4.0; none before, when the
// image tag says 3.x). 0 means the allocator sets no rack constraint
// (a value of 1 or less, or allocate_tokens_for_keyspace, which names a
// keyspace whose factor the spec does not know).
func (c *CassandraCluster) TokenAllocationRF() int {
	if cfg := c.Spec.Config; cfg != nil {
		if _, ok := cfg.CassandraYAML["allocate_tokens_for_keyspace"]; ok {
			return 0
		}
		if v, ok := cfg.CassandraYAML["allocate_tokens_for_local_replication_factor"]; ok {
			n, ok := intValue(v)
			if !ok || n <= 1 {
				return 0
			}
			return n
		}
	}
	if major, ok := imageMajor(c.Spec.Image); ok && major < 4 {
		return 0
	}
	return DefaultTokenAllocationRF
}

// tokenAllocation refuses a datacenter whose nodes Cassandra could not
// place: TokenAllocation.getStrategy (5.0.1 TokenAllocation.java) refuses a
// datacenter holding at least as many nodes as the allocation factor in
// more than one rack but fewer racks than that factor ("Token allocation
// failed: the number of racks 2 in datacenter dc2 is lower than its
// replication factor 3"): the node that would make it so never starts.
func (v *validator) tokenAllocation(p string, dc *Datacenter) {
	rf := v.c.TokenAllocationRF()
	racks := 0
	for _, r := range dc.Racks {
		if r.Nodes != nil && *r.Nodes > 0 {
			racks++
		}
	}
	nodes := datacenterNodes(dc)
	if rf <= 1 || racks <= 1 || racks >= rf || nodes < int64(rf) {
		return
	}
	v.add(p+".racks", "datacenter %s would hold %d nodes in %d racks: Cassandra allocates a joining node's tokens for %d replicas "+
		"(allocate_tokens_for_local_replication_factor, %d by default since 4.0) and refuses when a datacenter of %d nodes or more has more than one rack but fewer than %d "+
		"(\"Token allocation failed: the number of racks %d in datacenter %s is lower than its replication factor %d\"): "+
		"use one rack or at least %d, or keep %s under %d nodes, or set config.cassandra-yaml.allocate_tokens_for_local_replication_factor to %d",
		dc.Name, nodes, racks, rf, DefaultTokenAllocationRF, rf, rf, racks, dc.Name, rf, rf, dc.Name, rf, racks)
}

func intValue(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case float64:
		return int(x), x == float64(int(x))
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil
	}
	return 0, false
}

// imageMajor is the major version of an image tag such as cassandra:4.1.5
// or cassandra:5.0; false when the tag says none.
func imageMajor(image string) (int, bool) {
	i := strings.LastIndexByte(image, ':')
	if i < 0 || strings.Contains(image[i:], "/") {
		return 0, false
	}
	tag := image[i+1:]
	head, _, _ := strings.Cut(tag, ".")
	n, err := strconv.Atoi(head)
	if err != nil {
		return 0, false
	}
	return n, true
}

