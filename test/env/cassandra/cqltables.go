package cassandra

import (
	"maps"
	"slices"
	"strings"
)

// The tables a simulated node answers SELECTs on: system.local,
// system.peers and system.peers_v2 (what the driver reads of the ring),
// system_schema.keyspaces (the replication), and the other
// system_schema tables the driver reads its metadata from, which hold no
// rows here (the simulation has no tables). Columns and types are those
// of Cassandra 5.0.1 (SystemKeyspace.java:259-304, 472-486;
// SchemaKeyspace.java Keyspaces ... Aggregates).

// column is a column of a system table.
type column struct {
	name string
	typ  cqlType
}

// systemTable is a table and how a node fills it.
type systemTable struct {
	keyspace, name string
	// key are the partition key then clustering columns; other the
	// remaining columns, sorted by name (SELECT * order).
	key, other []column
	// partitionKeys is how many of key are the partition key.
	partitionKeys int
	// rows gives the table's rows, column name to value (mu held).
	rows func(n *Node) []map[string]any
}

func cols(spec ...any) []column {
	var out []column
	for i := 0; i+1 < len(spec); i += 2 {
		out = append(out, column{name: spec[i].(string), typ: spec[i+1].(cqlType)})
	}
	return out
}

func table(ks, name string, partitionKeys int, key []column, other []column, rows func(*Node) []map[string]any) *systemTable {
	slices.SortFunc(other, func(a, b column) int { return strings.Compare(a.name, b.name) })
	if rows == nil {
		rows = func(*Node) []map[string]any { return nil }
	}
	return &systemTable{keyspace: ks, name: name, key: key, other: other, partitionKeys: partitionKeys, rows: rows}
}

// columns are all columns, in SELECT * order.
func (t *systemTable) columns() []column { return append(slices.Clone(t.key), t.other...) }

func (t *systemTable) column(name string) (column, int, bool) {
	for i, c := range t.columns() {
		if c.name == name {
			return c, i, true
		}
	}
	return column{}, -1, false
}

// isKey reports whether the column is part of the primary key.
func (t *systemTable) isKey(name string) bool {
	return slices.ContainsFunc(t.key, func(c column) bool { return c.name == name })
}

var (
	tTextMap  = mapOf(tText, tText)
	tTextList = listOf(tText)
)

// systemTables are the tables the simulation answers, by "keyspace.table".
var systemTables = func() map[string]*systemTable {
	tableOptions := cols("allow_auto_snapshot", tBool, "bloom_filter_fp_chance", tDouble, "caching", tTextMap,
		"comment", tText, "compaction", tTextMap, "compression", tTextMap, "memtable", tText,
		"crc_check_chance", tDouble, "dclocal_read_repair_chance", tDouble, "default_time_to_live", tInt,
		"extensions", mapOf(tText, tBlob), "gc_grace_seconds", tInt, "incremental_backups", tBool, "id", tUUID,
		"max_index_interval", tInt, "memtable_flush_period_in_ms", tInt, "min_index_interval", tInt,
		"read_repair_chance", tDouble, "speculative_retry", tText, "additional_write_policy", tText,
		"cdc", tBool, "read_repair", tText)
	all := []*systemTable{
		table("system", "local", 1, cols("key", tText),
			cols("bootstrapped", tText, "broadcast_address", tInet, "broadcast_port", tInt, "cluster_name", tText,
				"cql_version", tText, "data_center", tText, "gossip_generation", tInt, "host_id", tUUID,
				"listen_address", tInet, "listen_port", tInt, "native_protocol_version", tText, "partitioner", tText,
				"rack", tText, "release_version", tText, "rpc_address", tInet, "rpc_port", tInt,
				"schema_version", tUUID, "tokens", setOf(tText), "truncated_at", mapOf(tUUID, tBlob)),
			localRows),
		table("system", "peers", 1, cols("peer", tInet),
			cols("data_center", tText, "host_id", tUUID, "preferred_ip", tInet, "rack", tText, "release_version", tText,
				"rpc_address", tInet, "schema_version", tUUID, "tokens", setOf(tText)),
			peersRows),
		table("system", "peers_v2", 1, cols("peer", tInet, "peer_port", tInt),
			cols("data_center", tText, "host_id", tUUID, "native_address", tInet, "native_port", tInt,
				"preferred_ip", tInet, "preferred_port", tInt, "rack", tText, "release_version", tText,
				"schema_version", tUUID, "tokens", setOf(tText)),
			peersRows),
		table("system_schema", "keyspaces", 1, cols("keyspace_name", tText),
			cols("durable_writes", tBool, "replication", tTextMap), keyspacesRows),
		table("system_schema", "tables", 1, cols("keyspace_name", tText, "table_name", tText),
			append(cols("flags", setOf(tText)), tableOptions...), nil),
		table("system_schema", "views", 1, cols("keyspace_name", tText, "view_name", tText),
			append(cols("base_table_id", tUUID, "base_table_name", tText, "where_clause", tText, "include_all_columns", tBool),
				slices.Clone(tableOptions)...), nil),
		table("system_schema", "columns", 1, cols("keyspace_name", tText, "table_name", tText, "column_name", tText),
			cols("clustering_order", tText, "column_name_bytes", tBlob, "kind", tText, "position", tInt, "type", tText), nil),
		table("system_schema", "dropped_columns", 1, cols("keyspace_name", tText, "table_name", tText, "column_name", tText),
			cols("dropped_time", tTimestamp, "kind", tText, "type", tText), nil),
		table("system_schema", "triggers", 1, cols("keyspace_name", tText, "table_name", tText, "trigger_name", tText),
			cols("options", tTextMap), nil),
		table("system_schema", "indexes", 1, cols("keyspace_name", tText, "table_name", tText, "index_name", tText),
			cols("kind", tText, "options", tTextMap), nil),
		table("system_schema", "types", 1, cols("keyspace_name", tText, "type_name", tText),
			cols("field_names", tTextList, "field_types", tTextList), nil),
		table("system_schema", "functions", 1, cols("keyspace_name", tText, "function_name", tText, "argument_types", tTextList),
			cols("argument_names", tTextList, "body", tText, "language", tText, "return_type", tText, "called_on_null_input", tBool), nil),
		table("system_schema", "aggregates", 1, cols("keyspace_name", tText, "aggregate_name", tText, "argument_types", tTextList),
			cols("final_func", tText, "initcond", tText, "return_type", tText, "state_func", tText, "state_type", tText), nil),
	}
	out := map[string]*systemTable{}
	for _, t := range all {
		out[t.keyspace+"."+t.name] = t
	}
	return out
}()

// CQL and protocol versions a node reports (system.local), by release
// series: QueryProcessor.CQL_VERSION and ProtocolVersion.CURRENT.
func cqlVersions(release string) (cql, protocol string) {
	switch {
	case strings.HasPrefix(release, "3."):
		return "3.4.4", "4"
	case strings.HasPrefix(release, "4.0"):
		return "3.4.5", "4"
	case strings.HasPrefix(release, "4."):
		return "3.4.6", "5"
	}
	return "3.4.7", "5"
}

// cqlRelease is the release the node reports.
func (n *Node) cqlRelease() string { return n.cfg.ReleaseVersion }

// cqlPort is the port of the nodes' CQL servers.
func (s *Sim) cqlPort() int {
	if s.opts.CQLPort == 0 {
		return DefaultCQLPort
	}
	return s.opts.CQLPort
}

// localRows is system.local: the node itself (mu held).
func localRows(n *Node) []map[string]any {
	cql, proto := cqlVersions(n.cqlRelease())
	return []map[string]any{{
		"key": "local", "bootstrapped": "COMPLETED", "broadcast_address": n.cfg.IP, "broadcast_port": 7000,
		"cluster_name": n.cfg.ClusterName, "cql_version": cql, "data_center": n.cfg.DC,
		"gossip_generation": int(n.gen), "host_id": n.hostID, "listen_address": n.cfg.IP, "listen_port": 7000,
		"native_protocol_version": proto, "partitioner": "org.apache.cassandra.dht.Murmur3Partitioner",
		"rack": n.cfg.Rack, "release_version": n.cqlRelease(), "rpc_address": n.cfg.IP, "rpc_port": n.sim.cqlPort(),
		"schema_version": n.schemaVersion(), "tokens": slices.Clone(n.disk.tokens),
	}}
}

// peersRows are system.peers and system.peers_v2: the other token owners
// (NORMAL or LEAVING) the node knows of, up or down, as gossip told it
// (mu held).
func peersRows(n *Node) []map[string]any {
	var out []map[string]any
	for _, e := range n.view.members() {
		if e.hostID == n.hostID || (e.status != statusNormal && e.status != statusLeaving) {
			continue
		}
		out = append(out, map[string]any{
			"peer": e.addr, "peer_port": 7000, "data_center": e.dc, "host_id": e.hostID,
			"rpc_address": e.addr, "native_address": e.addr, "native_port": n.sim.cqlPort(),
			"rack": e.rack, "release_version": e.release, "schema_version": e.schema, "tokens": slices.Clone(e.tokens),
		})
	}
	return out
}

// keyspacesRows is system_schema.keyspaces of the schema the node holds,
// by keyspace name (mu held).
func keyspacesRows(n *Node) []map[string]any {
	ks := n.schemaKeyspaces()
	var out []map[string]any
	for _, name := range slices.Sorted(maps.Keys(ks)) {
		k := ks[name]
		out = append(out, map[string]any{"keyspace_name": k.name, "durable_writes": k.durable, "replication": maps.Clone(k.replication)})
	}
	return out
}
