package review

import "fmt"

// finish sets the summaries and the outcome of a document.
func finish(doc *Document) {
	doc.Outcome = NoChange
	var parts []string
	for i := range doc.Clusters {
		cl := &doc.Clusters[i]
		cl.Summary = clusterSummary(cl)
		parts = append(parts, cl.Name+" ("+cl.Summary+")")
		switch {
		case len(cl.Refused) > 0:
			doc.Outcome = Invalid
		case doc.Outcome == NoChange:
			doc.Outcome = Changes
		}
	}
	switch len(doc.Clusters) {
	case 0:
		doc.Summary = "no change"
		if doc.Unchanged > 0 {
			doc.Summary += fmt.Sprintf(" (%s unchanged)", plural(doc.Unchanged, "cluster"))
		}
	case 1:
		doc.Summary = doc.Clusters[0].Name + ": " + doc.Clusters[0].Summary
	default:
		doc.Summary = fmt.Sprintf("%d clusters: %s", len(doc.Clusters), join(parts, "; "))
	}
}

// clusterSummary counts what a reviewer weighs: "+1 DC, 3 bootstraps,
// 9 restarts", "refused: 2 problems", "2 objects changed, no restart".
func clusterSummary(cl *Cluster) string {
	if len(cl.Refused) > 0 {
		return "refused: " + plural(len(cl.Refused), "problem")
	}
	counts := map[OperationKind]int{}
	pvcs := 0
	for _, op := range cl.Operations {
		switch op.Kind {
		case AddDatacenter, RemoveDatacenter, NewCluster, ClusterRemoved:
			counts[op.Kind]++
			if op.Kind == AddDatacenter {
				counts[Bootstrap] += op.Nodes
			}
		case Recreate, Adopt:
			counts[op.Kind] += len(op.Objects)
		case Decommission:
			counts[op.Kind] += op.Nodes
			pvcs += len(op.Objects)
		default:
			counts[op.Kind] += op.Nodes
		}
	}
	if counts[ClusterRemoved] > 0 {
		return "removed from the repository, nothing deleted"
	}
	var parts []string
	add := func(n int, s string) {
		if n > 0 {
			parts = append(parts, s)
		}
	}
	add(counts[NewCluster], "new cluster")
	add(counts[Adopt], "adopts "+plural(counts[Adopt], "StatefulSet")+", 0 restarts")
	add(counts[AddDatacenter], "+"+plural(counts[AddDatacenter], "DC"))
	add(counts[RemoveDatacenter], "-"+plural(counts[RemoveDatacenter], "DC"))
	add(counts[Bootstrap], plural(counts[Bootstrap], "bootstrap"))
	add(counts[Decommission], plural(counts[Decommission], "decommission"))
	add(counts[RollingRestart], plural(counts[RollingRestart], "restart"))
	add(pvcs, plural(pvcs, "PVC")+" deleted")
	add(counts[Recreate], plural(counts[Recreate], "StatefulSet")+" re-created")
	add(counts[ExpandStorage], plural(counts[ExpandStorage], "PVC")+" grown")
	add(counts[RemoveNode], plural(counts[RemoveNode], "removenode")) // replace (#16); a cleanup follows a bootstrap, listed with it
	if counts[Bootstrap]+counts[Decommission]+counts[RollingRestart]+counts[RemoveNode]+counts[Adopt] == 0 {
		objects := 0
		for _, c := range cl.Contexts {
			objects += len(c.Objects)
		}
		parts = append(parts, plural(objects, "object")+" changed, no restart")
	}
	return join(parts, ", ")
}
