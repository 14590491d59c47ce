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
// place. TokenAllocation.createStrategy (5.0.1 TokenAllocation.java:242-273)
// counts the racks of the joining node's datacenter, or 1 when the node's
// rack has no node yet, and refuses when that count is more than one but
// fewer than the allocation factor: "Token allocation failed: the number
// of racks 2 in datacenter dc2 is lower than its replication factor 3".
// So with two racks and the default factor 3, the second node of a rack
// never starts (nor does any later one): a datacenter may have one rack,
// at least as many racks as the factor, or one node per rack.
func (v *validator) tokenAllocation(p string, dc *Datacenter) {
	rf := v.c.TokenAllocationRF()
	racks, widest := 0, int32(0)
	for _, r := range dc.Racks {
		if r.Nodes != nil && *r.Nodes > 0 {
			racks++
			widest = max(widest, *r.Nodes)
		}
	}
	if rf <= 1 || racks <= 1 || racks >= rf || widest <= 1 {
		return
	}
	v.add(p+".racks", "datacenter %s would have %d racks holding up to %d nodes each: Cassandra allocates a joining node's tokens for %d replicas "+
		"(allocate_tokens_for_local_replication_factor, %d by default since 4.0) and refuses a node joining a rack that already has one "+
		"while its datacenter has more than one rack but fewer than %d "+
		"(\"Token allocation failed: the number of racks %d in datacenter %s is lower than its replication factor %d\"): "+
		"use one rack, at least %d racks, or one node per rack, or set config.cassandra-yaml.allocate_tokens_for_local_replication_factor to %d",
		dc.Name, racks, widest, rf, DefaultTokenAllocationRF, rf, racks, dc.Name, rf, rf, racks)
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
