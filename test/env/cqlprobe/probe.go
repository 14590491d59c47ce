// Package cqlprobe asks a Cassandra node, over CQL, the questions ringops'
// CQL edge (reconciler/cql) and the Go driver ask, and prints the answers in
// a form that does not depend on the run: addresses, host IDs, schema
// versions and tokens replaced by placeholders, rows and columns sorted.
// Run against the simulator and against a real node of the same ring
// shape, the two texts must be equal, but for the differences the
// simulator documents (test/env/cassandra cqlserver.go). Test-only.
package cqlprobe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"sort"
	"strings"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// Ring names the nodes of the ring the probe talks to, so that the text
// shows roles, not addresses.
type Ring struct {
	// Names maps each node's IP to a stable name, e.g. "dc1-r1".
	Names map[string]string
}

// Probe asks the node at host (the query is pinned to it) what the driver
// reads on connect and what ringops reads, and tries ALTER KEYSPACE
// statements that every ring refuses (so the probe changes nothing). The
// session's driver must know host.
func Probe(ctx context.Context, s *gocql.Session, host string, r Ring) (string, error) {
	h := hostOf(s, host)
	if h == nil {
		return "", fmt.Errorf("probe: the driver knows no host %s", host)
	}
	var out []string
	for _, q := range []string{
		"SELECT * FROM system.local WHERE key = 'local'",
		"SELECT * FROM system.peers",
		"SELECT * FROM system.peers_v2",
		"SELECT * FROM system_schema.keyspaces",
		"SELECT * FROM system_schema.tables LIMIT 1",
		"SELECT * FROM system_schema.columns LIMIT 1",
		"SELECT * FROM system_schema.views LIMIT 1",
		"SELECT * FROM system_schema.types LIMIT 1",
		"SELECT * FROM system_schema.functions LIMIT 1",
		"SELECT * FROM system_schema.aggregates LIMIT 1",
	} {
		lines, err := selectLines(ctx, s.Query(q).SetHostID(h.HostID()), r)
		if err != nil {
			return "", fmt.Errorf("probe: %s: %w", q, err)
		}
		if strings.HasSuffix(q, "LIMIT 1") { // the columns only: the rows are the real schema's
			lines = lines[:1]
		}
		out = append(out, "# "+q)
		out = append(out, lines...)
	}
	out = append(out, "# refusals")
	for _, q := range []string{
		"SELECT * FROM system_schema.tables LIMIT 0",
		"ALTER KEYSPACE nosuchkeyspace WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1}",
		"ALTER KEYSPACE system_traces WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1, 'nosuchdc': 1}",
		"ALTER KEYSPACE system_traces WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 0}",
		"ALTER KEYSPACE system_traces WITH replication = {'dc1': 1}",
		"ALTER KEYSPACE system WITH durable_writes = true",
		"SELECT nosuchcolumn FROM system.local",
		"SELECT * FROM system.nosuchtable",
	} {
		err := s.Query(q).SetHostID(h.HostID()).ExecContext(ctx)
		out = append(out, q+" => "+describeError(err, r))
	}
	return strings.Join(out, "\n") + "\n", nil
}

func hostOf(s *gocql.Session, ip string) *gocql.HostInfo {
	for _, h := range s.GetHosts() {
		if h.ConnectAddress().String() == ip {
			return h
		}
	}
	return nil
}

// selectLines prints the columns (name and type) of a query, then its rows,
// each cell normalised, rows sorted.
func selectLines(ctx context.Context, q *gocql.Query, r Ring) ([]string, error) {
	iter := q.IterContext(ctx)
	cols := iter.Columns()
	var head []string
	for _, c := range cols {
		head = append(head, c.Name+" "+typeName(c.TypeInfo))
	}
	var rows []string
	for {
		row := map[string]any{}
		if !iter.MapScan(row) {
			break
		}
		var cells []string
		for _, c := range cols {
			v := normalise(row[c.Name], r)
			if volatile[c.Name] && v != "null" {
				v = "<" + c.Name + ">"
			}
			cells = append(cells, c.Name+"="+v)
		}
		rows = append(rows, "  "+strings.Join(cells, " "))
	}
	if err := iter.Close(); err != nil {
		return nil, err
	}
	sort.Strings(rows)
	return append([]string{"columns: " + strings.Join(head, ", ")}, rows...), nil
}

// volatile columns change with every start of a node: only whether they
// are set is printed.
var volatile = map[string]bool{"gossip_generation": true, "truncated_at": true}

var uuidText = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// normalise prints a cell without what changes from run to run.
func normalise(v any, r Ring) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case net.IP:
		if x == nil {
			return "null"
		}
		return nameOf(x.String(), r)
	case gocql.UUID:
		return "<uuid>"
	case []string:
		if len(x) > 0 && isNumber(x[0]) {
			return fmt.Sprintf("<%d tokens>", len(x))
		}
		return fmt.Sprint(x)
	case map[string]string:
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range x {
				if !yield(k) {
					return
				}
			}
		})
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+":"+x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case string:
		return nameOf(x, r)
	}
	s := fmt.Sprint(v)
	if s == "map[]" || s == "[]" {
		return "empty"
	}
	return s
}

func nameOf(ip string, r Ring) string {
	if n, ok := r.Names[ip]; ok {
		return "<" + n + ">"
	}
	return ip
}

func isNumber(s string) bool {
	_, err := fmt.Sscan(s, new(int64))
	return err == nil
}

// describeError prints an error's code and message, addresses and UUIDs
// replaced.
func describeError(err error, r Ring) string {
	if err == nil {
		return "ok"
	}
	msg := uuidText.ReplaceAllString(err.Error(), "<uuid>")
	for ip, n := range r.Names {
		msg = strings.ReplaceAll(msg, ip, n)
	}
	var re gocql.RequestError
	if errors.As(err, &re) {
		return fmt.Sprintf("0x%04x %s", re.Code(), msg)
	}
	return "error " + msg
}

// typeNames are the CQL names of the types system tables use.
var typeNames = map[gocql.Type]string{
	gocql.TypeVarchar: "text", gocql.TypeAscii: "ascii", gocql.TypeInt: "int", gocql.TypeBigInt: "bigint",
	gocql.TypeBoolean: "boolean", gocql.TypeDouble: "double", gocql.TypeFloat: "float", gocql.TypeBlob: "blob",
	gocql.TypeUUID: "uuid", gocql.TypeTimeUUID: "timeuuid", gocql.TypeInet: "inet", gocql.TypeTimestamp: "timestamp",
	gocql.TypeList: "list", gocql.TypeSet: "set", gocql.TypeMap: "map",
}

// typeName prints a column's type as CQL does: text, set<text>,
// map<uuid, blob>.
func typeName(t gocql.TypeInfo) string {
	name, ok := typeNames[t.Type()]
	if !ok {
		name = fmt.Sprintf("type 0x%04x", int(t.Type()))
	}
	if c, ok := t.(gocql.CollectionType); ok {
		switch t.Type() {
		case gocql.TypeMap:
			return name + "<" + typeName(c.Key) + ", " + typeName(c.Elem) + ">"
		case gocql.TypeList, gocql.TypeSet:
			return name + "<" + typeName(c.Elem) + ">"
		}
	}
	return name
}
