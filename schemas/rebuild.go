package schemas

import (
	"fmt"
	"strings"
)

// rebuildSources checks each datacenter's rebuildFrom: another
// datacenter of the spec, one that keeps nodes (its nodes are the source
// of the rebuild).
func (v *validator) rebuildSources() {
	dcs := v.c.Spec.Datacenters
	nodes := map[string]int32{}
	var names []string
	for _, dc := range dcs {
		nodes[dc.Name] = dc.DatacenterNodes()
		names = append(names, dc.Name)
	}
	for i, dc := range dcs {
		src := dc.RebuildFrom
		if src == "" {
			continue
		}
		p := fmt.Sprintf("spec.datacenters[%d].rebuildFrom", i)
		n, known := nodes[src]
		switch {
		case src == dc.Name:
			v.add(p, "%s cannot rebuild from itself: name another datacenter (default: the seed datacenter, %s)", dc.Name, dcs[0].Name)
		case !known:
			hint := ""
			if s := suggest(src, names); s != "" {
				hint = fmt.Sprintf(" (did you mean %s?)", s)
			}
			v.add(p, "%s is not a datacenter of spec.datacenters%s: name one of %s", truncate(src, 60), hint, strings.Join(names, ", "))
		case n <= 0:
			v.add(p, "%s has no nodes (nodesPerRack: 0) to stream from: name a datacenter with nodes", src)
		}
	}
}
