package schemas

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Values of spec.systemKeyspaces.
const (
	SystemKeyspacesManaged   = "Managed"
	SystemKeyspacesUnmanaged = "Unmanaged"
)

// Defaults of the keyspace and CQL fields.
const (
	DefaultSystemKeyspaces = SystemKeyspacesManaged
	// DefaultSystemReplication caps the factor of a system keyspace managed
	// by default: min(3, nodes) in every datacenter, as k8ssandra-operator
	// does (SystemKeyspaceReplication).
	DefaultSystemReplication = int32(3)
	// DefaultCAKey is the key of spec.cql.tls's CA bundle.
	DefaultCAKey = "ca.crt"
)

// MaxKeyspaceName is the longest keyspace name Cassandra accepts
// (SchemaConstants.NAME_LENGTH, 5.0.1 SchemaConstants.java:72).
const MaxKeyspaceName = 48

// SystemKeyspaceNames are the replicated system keyspaces (5.0.1
// SchemaConstants.REPLICATED_SYSTEM_KEYSPACE_NAMES): with
// systemKeyspaces Managed, ringops owns their replication unless
// spec.keyspaces lists them.
var SystemKeyspaceNames = []string{"system_auth", "system_distributed", "system_traces"}

// AuthKeyspace must replicate to every datacenter that has nodes:
// Cassandra refuses a replication of it that leaves one out (5.0.1
// NetworkTopologyStrategy.java:318-324).
const AuthKeyspace = "system_auth"

// localKeyspaces have no replication: LocalStrategy (system,
// system_schema) or virtual (system_views, system_virtual_schema).
var localKeyspaces = map[string]bool{"system": true, "system_schema": true, "system_views": true, "system_virtual_schema": true}

// keyspaceName is Cassandra's rule for keyspace names
// (SchemaConstants.isValidName: \w+, at most 48 characters).
var keyspaceName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// ManagedKeyspace is a keyspace whose replication ringops owns, and the
// replication it wants.
type ManagedKeyspace struct {
	Name string
	// Replication is the factor per datacenter; datacenters without a
	// replica are left out.
	Replication map[string]int32
	// Default is true for a system keyspace managed by default (not listed
	// in spec.keyspaces): its factors follow the node counts, min(3,
	// nodes), so a datacenter scaled to 0 leaves its replication.
	Default bool
}

// ManagedKeyspaces returns the keyspaces ringops owns in a defaulted
// spec, sorted by name: those of spec.keyspaces, then (systemKeyspaces
// Managed) the system keyspaces they do not list, with min(3, nodes) in
// every datacenter that has nodes.
//
// One rule of Cassandra is left to the planner: system_auth cannot leave
// a datacenter that still has active nodes (5.0.1
// NetworkTopologyStrategy.java:318-324), so it leaves a datacenter being
// emptied only once its nodes are gone.
func (c *CassandraCluster) ManagedKeyspaces() []ManagedKeyspace {
	var out []ManagedKeyspace
	listed := map[string]bool{}
	for _, k := range c.Spec.Keyspaces {
		if listed[k.Name] {
			continue
		}
		listed[k.Name] = true
		r := map[string]int32{}
		for dc, f := range k.Replication {
			if f > 0 {
				r[dc] = f
			}
		}
		out = append(out, ManagedKeyspace{Name: k.Name, Replication: r})
	}
	if c.Spec.SystemKeyspaces != SystemKeyspacesUnmanaged {
		for _, name := range SystemKeyspaceNames {
			if !listed[name] {
				out = append(out, ManagedKeyspace{Name: name, Replication: c.systemReplication(), Default: true})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// systemReplication is min(3, nodes) in every datacenter that has nodes.
func (c *CassandraCluster) systemReplication() map[string]int32 {
	r := map[string]int32{}
	for _, dc := range c.Spec.Datacenters {
		if n := dc.DatacenterNodes(); n > 0 {
			r[dc.Name] = min(n, DefaultSystemReplication)
		}
	}
	return r
}

// keyspaceFactor is the highest factor spec.keyspaces gives datacenter
// dc, and the (first) keyspace that gives it; 0 and "" when none does.
func (c *CassandraCluster) keyspaceFactor(dc string) (int32, string) {
	var rf int32
	from := ""
	for _, k := range c.Spec.Keyspaces {
		if f := k.Replication[dc]; f > rf {
			rf, from = f, k.Name
		}
	}
	return rf, from
}

// defaultReplicationFactors derives each datacenter's replicationFactor
// from spec.keyspaces when the spec lists keyspaces and leaves it unset.
func (c *CassandraCluster) defaultReplicationFactors() {
	if len(c.Spec.Keyspaces) == 0 {
		return
	}
	for i := range c.Spec.Datacenters {
		dc := &c.Spec.Datacenters[i]
		if dc.ReplicationFactor == nil {
			rf, _ := c.keyspaceFactor(dc.Name)
			dc.ReplicationFactor = ptr(rf)
		}
	}
}

func (v *validator) keyspaces() {
	s := &v.c.Spec
	if s.SystemKeyspaces != "" {
		v.enum("spec.systemKeyspaces", s.SystemKeyspaces, ClusterSpec{}, "systemKeyspaces")
	}
	nodes := map[string]int32{}
	var dcNames []string
	for _, dc := range s.Datacenters {
		if _, dup := nodes[dc.Name]; !dup {
			nodes[dc.Name] = dc.DatacenterNodes()
			dcNames = append(dcNames, dc.Name)
		}
	}
	first := map[string]bool{}
	for i := range s.Keyspaces {
		k := &s.Keyspaces[i]
		p := fmt.Sprintf("spec.keyspaces[%d]", i)
		if v.keyspaceName(p+".name", k.Name) {
			if first[k.Name] {
				v.add(p+".name", "%q is listed twice; list each keyspace once", k.Name)
			}
			first[k.Name] = true
		}
		v.keyspaceReplication(p, k, nodes, dcNames)
	}
	v.replicationFactors()
	v.rebuildSources() // #15: rebuild.go
}

// keyspaceName checks a keyspace name; false when it is not one.
func (v *validator) keyspaceName(field, name string) bool {
	switch {
	case name == "":
		v.add(field, "required: the keyspace name as Cassandra stores it, e.g. orders")
	case len(name) > MaxKeyspaceName:
		v.add(field, "%q is %d characters, over Cassandra's limit of %d", truncate(name, 60), len(name), MaxKeyspaceName)
	case !keyspaceName.MatchString(name):
		v.add(field, "%q is not a keyspace name: Cassandra's names are letters, digits and '_'", truncate(name, 60))
	case localKeyspaces[strings.ToLower(name)]:
		v.add(field, "%s is local to each node (no replication to manage); remove it", name)
	default:
		return true
	}
	return false
}

// keyspaceReplication checks the factors of one keyspace.
func (v *validator) keyspaceReplication(p string, k *Keyspace, nodes map[string]int32, dcNames []string) {
	rp := p + ".replication"
	if k.Replication == nil {
		v.add(rp, "required: the replicas per datacenter, e.g. {%s: 3}", firstOr(dcNames, "dc1"))
		return
	}
	var total int32
	for _, dc := range sortedKeys(k.Replication) {
		f, fp := k.Replication[dc], keyPath(rp, dc)
		n, known := nodes[dc]
		switch {
		case !known:
			hint := ""
			if s := suggest(dc, dcNames); s != "" {
				hint = fmt.Sprintf(" (did you mean %s?)", s)
			}
			v.add(fp, "%s is not a datacenter of spec.datacenters%s; a keyspace replicates only to this cluster's datacenters (%s)", truncate(dc, 60), hint, strings.Join(dcNames, ", "))
		case f < 0:
			v.add(fp, "%d is negative; at least 0 (0: no replica in %s)", f, dc)
		case f > 0 && n <= 0:
			v.add(fp, "%s has no nodes (nodesPerRack: 0) but %s keeps %s there: take %s out of the replication of %s (remove it here) in the same push; ringops alters the keyspace before it decommissions a node of %s",
				dc, k.Name, plural(f, "replica"), dc, k.Name, dc)
		case f > n:
			v.add(fp, "%s of %s in %s, which has %s: at most %d (lower the factor, or keep more nodes in %s)", plural(f, "replica"), k.Name, dc, plural(n, "node"), n, dc)
		}
		if f > 0 {
			total += f
		}
	}
	if total == 0 {
		v.add(rp, "%s would have no replica anywhere: give it at least one datacenter (to stop managing it, remove it from spec.keyspaces; ringops never drops a keyspace)", orDefault(k.Name, "the keyspace", "keyspace "))
	}
	if k.Name == AuthKeyspace {
		for _, dc := range dcNames {
			if nodes[dc] > 0 && k.Replication[dc] <= 0 {
				v.add(rp, "%s must replicate to every datacenter with nodes, and %s has %s: add %s (Cassandra refuses a replication of %s that leaves out a datacenter with active nodes)",
					AuthKeyspace, dc, plural(nodes[dc], "node"), dc, AuthKeyspace)
			}
		}
	}
}

// replicationFactors refuses a datacenter's replicationFactor that
// disagrees with the factors spec.keyspaces gives it.
func (v *validator) replicationFactors() {
	s := &v.c.Spec
	if len(s.Keyspaces) == 0 {
		return
	}
	for i, dc := range s.Datacenters {
		if dc.ReplicationFactor == nil || *dc.ReplicationFactor < 0 {
			continue
		}
		rf, from := v.c.keyspaceFactor(dc.Name)
		if *dc.ReplicationFactor == rf {
			continue
		}
		why := fmt.Sprintf("no keyspace of spec.keyspaces replicates to %s", dc.Name)
		if from != "" {
			why = fmt.Sprintf("the highest factor of spec.keyspaces in %s is %d (%s)", dc.Name, rf, from)
		}
		v.add(fmt.Sprintf("spec.datacenters[%d].replicationFactor", i), "%d disagrees with spec.keyspaces: %s; remove replicationFactor (it is derived from spec.keyspaces) or write %d",
			*dc.ReplicationFactor, why, rf)
	}
}

func firstOr(list []string, def string) string {
	if len(list) > 0 && list[0] != "" {
		return list[0]
	}
	return def
}

// orDefault is prefix+s, or def when s is empty.
func orDefault(s, def, prefix string) string {
	if s == "" {
		return def
	}
	return prefix + s
}

// keyspaceNames lists names, sorted, as "a, b and c".
func keyspaceNames(names []string) string {
	names = slices.Clone(names)
	slices.Sort(names)
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// RebuildSource is the datacenter whose nodes stream their data to the
// nodes of datacenter dc when it is added to a running cluster: its
// rebuildFrom, else the seed datacenter (the first).
func (c *CassandraCluster) RebuildSource(dc string) string {
	for _, d := range c.Spec.Datacenters {
		if d.Name == dc && d.RebuildFrom != "" {
			return d.RebuildFrom
		}
	}
	if len(c.Spec.Datacenters) == 0 {
		return ""
	}
	return c.Spec.Datacenters[0].Name
}
