package schemas

import (
	"fmt"
	"slices"
	"strings"
)

// Duplicates refuses two cluster specs of one repository that would
// manage the same ring: ringops keys each cluster by its directory but
// finds its objects by name, so two directories naming the same cluster
// would scale up what the other decommissions. Two specs are the same
// ring when they have:
//
//   - the same metadata.name and namespace (the same object names in
//     every region they share, the same status contexts), or
//   - the same Cassandra cluster name (spec.cassandraClusterName, else
//     metadata.name) in the same namespace and a kube context in common.
//
// specs must have been parsed from files (File names them). Every spec
// involved gets an error at its metadata.name naming the other files;
// neither is to be rolled out. The list is sorted by file, then line.
func Duplicates(specs []*CassandraCluster) ErrorList {
	var errs ErrorList
	for i, a := range specs {
		var others []string
		sameName := false
		for j, b := range specs {
			if i != j && sameRing(a, b) {
				others = append(others, b.File())
				sameName = sameName || a.Metadata.Name == b.Metadata.Name
			}
		}
		if len(others) == 0 {
			continue
		}
		slices.Sort(others)
		field := "metadata.name"
		what := fmt.Sprintf("cluster %s in namespace %s", a.Metadata.Name, a.Metadata.Namespace)
		if !sameName {
			field = "spec.cassandraClusterName"
			what = fmt.Sprintf("Cassandra cluster %q in namespace %s and a context in common", cassandraName(a), a.Metadata.Namespace)
		}
		errs = append(errs, a.errorAt(field, "%s is also declared by %s: two directories would manage the same ring, and neither is rolled out; keep one, or rename the other (metadata.name, spec.cassandraClusterName) or move it to another namespace",
			what, strings.Join(others, ", ")))
	}
	slices.SortStableFunc(errs, func(x, y *FieldError) int {
		if c := strings.Compare(x.File, y.File); c != 0 {
			return c
		}
		return x.Line - y.Line
	})
	return errs
}

// sameRing reports whether two defaulted specs would manage the same
// ring (see Duplicates).
func sameRing(a, b *CassandraCluster) bool {
	if a.Metadata.Namespace != b.Metadata.Namespace {
		return false
	}
	if a.Metadata.Name == b.Metadata.Name {
		return true
	}
	if cassandraName(a) != cassandraName(b) {
		return false
	}
	for _, kc := range a.Contexts() {
		if slices.Contains(b.Contexts(), kc) {
			return true
		}
	}
	return false
}

// cassandraName is Cassandra's cluster_name of a spec.
func cassandraName(c *CassandraCluster) string {
	if c.Spec.CassandraClusterName != "" {
		return c.Spec.CassandraClusterName
	}
	return c.Metadata.Name
}
