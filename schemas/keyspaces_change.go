package schemas

import (
	"maps"
	"slices"
)

// keyspaceList names keyspaces: "keyspace orders", "keyspaces a, b and c".
func keyspaceList(names []string) string {
	if len(names) == 1 {
		return "keyspace " + names[0]
	}
	return "keyspaces " + keyspaceNames(names)
}

func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ChangeWarnings returns what going from prev to next changes without
// being refused, but a user should know, pointing at lines of next: a
// keyspace removed from spec.keyspaces (ringops stops managing it and
// leaves it as it is; it never drops a keyspace), a system keyspace no
// longer managed, and one that goes back to its default replication.
// Like ValidateChange, a nil prev gives nothing.
func ChangeWarnings(prev, next *CassandraCluster) ErrorList {
	if prev == nil || next == nil {
		return nil
	}
	var out ErrorList
	was, is := managedByName(prev), managedByName(next)
	for _, name := range slices.Sorted(maps.Keys(was)) {
		now, managed := is[name]
		switch {
		case !managed && was[name].Default:
			out = append(out, next.errorAt("spec.systemKeyspaces", "%s is no longer managed (systemKeyspaces: %s): ringops leaves its replication as it is",
				name, next.Spec.SystemKeyspaces))
		case !managed:
			out = append(out, next.errorAt("spec.keyspaces", "keyspace %s is no longer in spec.keyspaces: ringops stops managing its replication and leaves it as it is (it never drops a keyspace); list it again to manage it",
				name))
		case now.Default && !was[name].Default:
			out = append(out, next.errorAt("spec.keyspaces", "%s is no longer in spec.keyspaces: its replication goes back to the default, min(%d, nodes) in every datacenter",
				name, DefaultSystemReplication))
		}
	}
	return out.sorted()
}

func managedByName(c *CassandraCluster) map[string]ManagedKeyspace {
	m := map[string]ManagedKeyspace{}
	for _, k := range c.ManagedKeyspaces() {
		m[k.Name] = k
	}
	return m
}
