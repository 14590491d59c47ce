package schemas

import "fmt"

// Upper bounds of a cluster spec. A spec is untrusted input (anyone who can
// open a pull request writes one), and validate, render and plan do work
// that grows with these counts, so every count is bounded: far above any
// real Cassandra cluster, low enough that a render at the bounds stays
// within a second or two and a few hundred MiB (render.BenchmarkRenderAtBounds).
//
//   - MaxNodesPerRack: a rack is one StatefulSet; the largest Cassandra
//     clusters known run about 1,000 nodes in all, and gossip and
//     streaming are the limit well before one rack of 1,000.
//   - MaxRacksPerDatacenter: racks are failure domains (availability
//     zones, rows): real datacenters have 3 to a dozen.
//   - MaxDatacenters: each datacenter is a full copy of the data; real
//     rings span a handful, rarely more than 10.
//   - MaxRacks: every rack is a StatefulSet kustomize builds; the time of
//     a render grows with them (2,000 racks took over 20 s).
//   - MaxClusterNodes: the whole ring; gossip is known to struggle past a
//     few thousand nodes.
//   - MaxSeedsPerDatacenter: 2 or 3 are recommended. Every pod carries the
//     seed names of every datacenter in one environment variable, and
//     Linux refuses to exec a process with a variable over 128 KiB
//     (MAX_ARG_STRLEN): MaxDatacenters x MaxSeedsPerDatacenter seed names
//     of at most 253 characters (and a comma) stay under it.
//   - MaxKeyspaces: the keyspaces whose replication ringops owns are read
//     and altered one by one, and recorded with the last applied spec in
//     an annotation (64 keyspaces in 32 datacenters take about 50 KiB of
//     its 256); rings hold tens of keyspaces.
const (
	MaxNodesPerRack       = 1000
	MaxRacksPerDatacenter = 32
	MaxDatacenters        = 32
	MaxRacks              = 256
	MaxClusterNodes       = 5000
	MaxSeedsPerDatacenter = 16
	MaxKeyspaces          = 64
)

// bounds checks the counts of a defaulted cluster against the upper
// bounds. Sums are in int64: int32 counts summed in int32 overflow.
func (v *validator) bounds() {
	s := &v.c.Spec
	if s.NodesPerRack != nil && *s.NodesPerRack > MaxNodesPerRack {
		v.add("spec.nodesPerRack", "%d is too large: at most %d nodes per rack; spread the nodes over more racks or datacenters", *s.NodesPerRack, MaxNodesPerRack)
	}
	if s.SeedsPerDatacenter != nil && *s.SeedsPerDatacenter > MaxSeedsPerDatacenter {
		v.add("spec.seedsPerDatacenter", "%d is too large: at most %d seeds per datacenter (2 or 3 are recommended)", *s.SeedsPerDatacenter, MaxSeedsPerDatacenter)
	}
	if n := len(s.Keyspaces); n > MaxKeyspaces {
		v.add(fmt.Sprintf("spec.keyspaces[%d]", MaxKeyspaces), "%d keyspaces are too many: at most %d", n, MaxKeyspaces)
	}
	if n := len(s.Datacenters); n > MaxDatacenters {
		v.add(fmt.Sprintf("spec.datacenters[%d]", MaxDatacenters), "%d datacenters are too many: at most %d; split the ring into several clusters", n, MaxDatacenters)
	}
	var racks, nodes int64
	for i := range s.Datacenters {
		racks += int64(len(s.Datacenters[i].Racks))
		nodes += v.datacenterBounds(fmt.Sprintf("spec.datacenters[%d]", i), &s.Datacenters[i])
	}
	if racks > MaxRacks {
		v.add("spec.datacenters", "%d racks in all are too many: at most %d (each rack is a StatefulSet); use fewer, larger racks", racks, MaxRacks)
	}
	if nodes > MaxClusterNodes {
		v.add("spec.datacenters", "%d nodes in all are too many: at most %d in one cluster; split the ring into several clusters", nodes, MaxClusterNodes)
	}
}

// datacenterBounds checks one datacenter's counts and returns its nodes
// (negative counts left out: they are refused on their own).
func (v *validator) datacenterBounds(p string, dc *Datacenter) int64 {
	spec := v.c.Spec.NodesPerRack
	if dc.NodesPerRack != nil && *dc.NodesPerRack > MaxNodesPerRack && (spec == nil || *spec != *dc.NodesPerRack) {
		v.add(p+".nodesPerRack", "%d is too large: at most %d nodes per rack; spread the nodes over more racks or datacenters", *dc.NodesPerRack, MaxNodesPerRack)
	}
	if n := len(dc.Racks); n > MaxRacksPerDatacenter {
		v.add(fmt.Sprintf("%s.racks[%d]", p, MaxRacksPerDatacenter), "%d racks are too many: at most %d per datacenter", n, MaxRacksPerDatacenter)
	}
	var nodes int64
	for j, r := range dc.Racks {
		if r.Nodes == nil || *r.Nodes < 0 {
			continue
		}
		nodes += int64(*r.Nodes)
		if *r.Nodes > MaxNodesPerRack && (dc.NodesPerRack == nil || *dc.NodesPerRack != *r.Nodes) {
			v.add(fmt.Sprintf("%s.racks[%d].nodes", p, j), "%d is too large: at most %d nodes per rack; spread the nodes over more racks", *r.Nodes, MaxNodesPerRack)
		}
	}
	return nodes
}

// datacenterNodes is DatacenterNodes in int64, negative counts left out:
// it cannot overflow whatever the spec says.
func datacenterNodes(dc *Datacenter) int64 {
	var n int64
	for _, r := range dc.Racks {
		if r.Nodes != nil && *r.Nodes > 0 {
			n += int64(*r.Nodes)
		}
	}
	return n
}
