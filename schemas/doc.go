// Package schemas owns the cluster spec: the file clusters/<name>/cluster.yaml
// of kind CassandraCluster (apiVersion ringops.dev/v1alpha1) that users write.
//
// It holds, and is the only place that decides:
//
//   - the Go types (types.go) and their defaults (Default, defaults.go);
//   - parsing with positions (Load, Parse): the YAML is walked against the
//     types by their json tags, and every problem is reported at once with
//     file, line and field path: syntax, unknown fields (with the nearest
//     valid name), duplicate keys, wrong types, then validation;
//   - validation of one spec (Validate): names that keep Kubernetes object
//     names legal, counts and their upper bounds (bounds.go: nodes per
//     rack, racks, datacenters, nodes in all, seeds; summed in int64),
//     quantities, image references, durations, change windows, environment
//     and labels;
//   - the keyspaces whose replication ringops owns (ManagedKeyspaces,
//     keyspaces.go): spec.keyspaces, and the system keyspaces managed by
//     default with min(3, nodes) per datacenter; each factor checked
//     against its datacenter's nodes, and a datacenter's
//     replicationFactor derived from them;
//   - validation of a change (ValidateChange): what Cassandra cannot do
//     safely, such as renaming a datacenter or shrinking storage, refused
//     with what to do instead; and what a change does that a user should
//     know without it being refused (ChangeWarnings: a keyspace no longer
//     managed is left as it is, never dropped);
//   - the JSON Schema of the format (JSONSchema), checked in as
//     cassandracluster.schema.json for editors and CI.
//
// Every error is a *FieldError in an ErrorList, sorted by line:
//
//	clusters/orders/cluster.yaml:14: spec.datacenters[1].name: "dc1" is used twice; datacenter names must be unique
//
// Input is untrusted: files are at most MaxFileSize, alias expansion is
// bounded by MaxNodes and nesting by MaxDepth, and Parse never panics
// (FuzzParse). A valid spec is bounded too (MaxNodesPerRack, MaxRacks,
// MaxClusterNodes, ...), so that what render and plan do with it is.
package schemas
