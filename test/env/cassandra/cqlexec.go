package cassandra

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Result kinds (native_protocol_v4.spec section 4.2.5).
const (
	resultVoid         = 0x0001
	resultRows         = 0x0002
	resultSetKeyspace  = 0x0003
	resultPrepared     = 0x0004
	resultSchemaChange = 0x0005
)

// Rows metadata flags.
const (
	metaGlobalTableSpec = 0x0001
	metaNoMetadata      = 0x0004
)

// session is what a connection knows of its client.
type session struct {
	role     *CQLRole // nil: anonymous (AllowAllAuthenticator)
	user     string
	keyspace string
}

// superuser reports whether the session may change the schema.
func (s *session) superuser() bool { return s.role == nil || s.role.Superuser }

// result is a RESULT body and the warnings that go with it.
type result struct {
	body     []byte
	warnings []string
}

func voidResult() result {
	w := &writer{}
	w.int(resultVoid)
	return result{body: w.b}
}

// execute runs a statement on node n with bound values (mu held).
func (n *Node) execute(st statement, values [][]byte, sess *session) (result, *cqlError) {
	if len(values) != st.bindCount() {
		return result{}, invalid("There were %d markers(?) in CQL but %d bound variables", st.bindCount(), len(values))
	}
	switch s := st.(type) {
	case *selectStmt:
		return n.selectRows(s, values, sess)
	case *keyspaceStmt:
		if s.create {
			return n.createKeyspace(s, sess)
		}
		return n.alterKeyspace(s, sess)
	case *roleStmt:
		return n.runRole(s, sess)
	case *useStmt:
		if _, ok := n.schemaKeyspaces()[s.keyspace]; !ok {
			return result{}, invalid("Keyspace '%s' does not exist", s.keyspace)
		}
		sess.keyspace = s.keyspace
		w := &writer{}
		w.int(resultSetKeyspace)
		w.string(s.keyspace)
		return result{body: w.b}, nil
	}
	return result{}, invalid("unsupported statement")
}

// lookupTable finds the table of a SELECT (mu held).
func (n *Node) lookupTable(s *selectStmt, sess *session) (*systemTable, *cqlError) {
	ks := s.keyspace
	if ks == "" {
		ks = sess.keyspace
	}
	if ks == "" {
		return nil, invalid("No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename")
	}
	t, ok := systemTables[ks+"."+s.table]
	if ok && t.name == "peers_v2" && n.cqlLegacy() {
		ok = false
	}
	switch {
	case ok:
		return t, nil
	case n.cqlLegacy():
		return nil, invalid("unconfigured table %s", s.table)
	case ks != "system" && ks != "system_schema" && n.schemaKeyspaces()[ks] == nil:
		return nil, invalid("keyspace %s does not exist", ks)
	}
	return nil, invalid("table %s does not exist", s.table)
}

// selectRows runs a SELECT on a system table (mu held).
func (n *Node) selectRows(s *selectStmt, values [][]byte, sess *session) (result, *cqlError) {
	t, cerr := n.lookupTable(s, sess)
	if cerr != nil {
		return result{}, cerr
	}
	out, cerr := selected(t, s.cols)
	if cerr != nil {
		return result{}, cerr
	}
	filters := map[string]string{}
	for _, c := range s.where {
		col, _, ok := t.column(c.col)
		if !ok {
			return result{}, invalid("Undefined column name %s in table %s.%s", c.col, t.keyspace, t.name)
		}
		if !t.isKey(c.col) && !s.filtering {
			return result{}, invalid("Cannot execute this query as it might involve data filtering and thus may have unpredictable performance. If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING")
		}
		filters[c.col] = c.literal
		if c.bind >= 0 {
			filters[c.col] = decodeText(col.typ, values[c.bind])
		}
	}
	var rows []map[string]any
	for _, r := range t.rows(n) {
		if matches(r, filters) && (s.limit <= 0 || len(rows) < s.limit) {
			rows = append(rows, r)
		}
	}
	body, err := rowsBody(t, out, rows)
	if err != nil {
		return result{}, &cqlError{code: errServer, msg: err.Error()}
	}
	return result{body: body}, nil
}

// selected are the columns a SELECT returns, in order.
func selected(t *systemTable, names []string) ([]column, *cqlError) {
	if names == nil {
		return t.columns(), nil
	}
	var out []column
	for _, name := range names {
		c, _, ok := t.column(name)
		if !ok {
			return nil, invalid("Undefined column name %s in table %s.%s", name, t.keyspace, t.name)
		}
		out = append(out, c)
	}
	return out, nil
}

func matches(row map[string]any, filters map[string]string) bool {
	for col, want := range filters {
		if textOf(row[col]) != want {
			return false
		}
	}
	return true
}

// textOf is how a cell compares with a literal.
func textOf(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// decodeText reads a bound value of type t as textOf would print it.
func decodeText(t cqlType, b []byte) string {
	switch t.id {
	case typeVarchar:
		return string(b)
	case typeInt:
		if len(b) == 4 {
			return strconv.Itoa(int(int32(binary.BigEndian.Uint32(b))))
		}
	case typeBoolean:
		if len(b) == 1 {
			return strconv.FormatBool(b[0] != 0)
		}
	case typeUUID, typeTimeUUID:
		if len(b) == 16 {
			return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
		}
	case typeInet:
		if a, ok := netip.AddrFromSlice(b); ok {
			return a.Unmap().String()
		}
	}
	return hex.EncodeToString(b)
}

// rowsMetadata writes the metadata of rows of table t with columns cols.
func rowsMetadata(w *writer, t *systemTable, cols []column) {
	w.int(metaGlobalTableSpec)
	w.int(int32(len(cols)))
	w.string(t.keyspace)
	w.string(t.name)
	for _, c := range cols {
		w.string(c.name)
		w.typ(c.typ)
	}
}

// rowsBody is a Rows result.
func rowsBody(t *systemTable, cols []column, rows []map[string]any) ([]byte, error) {
	w := &writer{}
	w.int(resultRows)
	rowsMetadata(w, t, cols)
	w.int(int32(len(rows)))
	for _, r := range rows {
		for _, c := range cols {
			b, err := c.typ.value(r[c.name])
			if err != nil {
				return nil, fmt.Errorf("%s.%s column %s: %w", t.keyspace, t.name, c.name, err)
			}
			w.bytes(b)
		}
	}
	return w.b, nil
}

// schemaChange is a Schema_change result about a keyspace.
func schemaChange(change, keyspace string) []byte {
	w := &writer{}
	w.int(resultSchemaChange)
	w.string(change)
	w.string("KEYSPACE")
	w.string(keyspace)
	return w.b
}

// keyspaceName is Cassandra's rule (SchemaConstants.isValidName).
var keyspaceNameRule = regexp.MustCompile(`^\w{1,48}$`)

// checkKeyspaceStatement refuses what comes before the schema is read:
// permissions, local keyspaces, names and unknown properties.
func checkKeyspaceStatement(s *keyspaceStmt, sess *session) *cqlError {
	if !sess.superuser() {
		perm, res := "ALTER", "<keyspace "+s.keyspace+">"
		if s.create {
			perm, res = "CREATE", "<all keyspaces>"
		}
		return &cqlError{code: errUnauthorized, msg: fmt.Sprintf("User %s has no %s permission on %s or any of its parents", sess.user, perm, res)}
	}
	if len(s.unknownProps) > 0 {
		return &cqlError{code: errSyntax, msg: fmt.Sprintf("Unknown property '%s'", s.unknownProps[0])}
	}
	if isLocalKeyspace(s.keyspace) {
		// The permission check refuses it first (ClientState: Unauthorized),
		// as a real 5.0.9 node answers (test/env's conformance test).
		return &cqlError{code: errUnauthorized, msg: s.keyspace + " keyspace is not user-modifiable."}
	}
	if !keyspaceNameRule.MatchString(s.keyspace) {
		return invalid("Keyspace name must not be empty, more than 48 characters long, or contain non-alphanumeric-underscore characters (got '%s')", s.keyspace)
	}
	if s.replication != nil && s.replication["class"] == "" {
		return &cqlError{code: errConfig, msg: "Missing replication strategy class"}
	}
	return nil
}

// alterKeyspace is ALTER KEYSPACE (5.0.1 AlterKeyspaceStatement.apply),
// coordinated by n (mu held).
func (n *Node) alterKeyspace(s *keyspaceStmt, sess *session) (result, *cqlError) {
	if cerr := checkKeyspaceStatement(s, sess); cerr != nil {
		return result{}, cerr
	}
	keyspaces := n.newestKeyspaces()
	old, ok := keyspaces[s.keyspace]
	if !ok {
		if s.ifClause {
			return voidResult(), nil
		}
		return result{}, invalid("Keyspace '%s' doesn't exist", s.keyspace)
	}
	next := old.clone()
	if s.durable != nil {
		next.durable = *s.durable
	}
	if s.replication != nil {
		r, cerr := n.replicationOf(s.keyspace, s.replication, old.options())
		if cerr != nil {
			return result{}, cerr
		}
		next.replication = r
	}
	if !n.cqlLegacy() {
		if eps := n.notNormalEndpoints(); len(eps) > 0 {
			return result{}, &cqlError{code: errConfig, msg: "Cannot alter RF while some endpoints are not in normal state (no range movements): [" + strings.Join(eps, ", ") + "]"}
		}
	}
	if next.durable == old.durable && maps.Equal(next.replication, old.replication) {
		return voidResult(), nil
	}
	var warnings []string
	if next.replicas() > old.replicas() {
		warnings = append(warnings, "When increasing replication factor you need to run a full (-full) repair to distribute the data.")
	}
	warnings = append(warnings, n.replicationWarnings(s.keyspace, next.replication)...)
	keyspaces[s.keyspace] = next
	n.commitSchema(keyspaces)
	return result{body: schemaChange("UPDATED", s.keyspace), warnings: warnings}, nil
}

// createKeyspace is CREATE KEYSPACE (5.0.1 CreateKeyspaceStatement.apply),
// coordinated by n (mu held).
func (n *Node) createKeyspace(s *keyspaceStmt, sess *session) (result, *cqlError) {
	if cerr := checkKeyspaceStatement(s, sess); cerr != nil {
		return result{}, cerr
	}
	if s.replication == nil {
		return result{}, invalid("Missing mandatory option 'replication'")
	}
	keyspaces := n.newestKeyspaces()
	if _, exists := keyspaces[s.keyspace]; exists {
		if s.ifClause {
			return voidResult(), nil
		}
		return result{}, &cqlError{code: errAlreadyExists, msg: fmt.Sprintf("Cannot add existing keyspace %q", s.keyspace), keyspace: s.keyspace}
	}
	r, cerr := n.replicationOf(s.keyspace, s.replication, nil)
	if cerr != nil {
		return result{}, cerr
	}
	k := &ksDef{name: s.keyspace, durable: true, replication: r}
	if s.durable != nil {
		k.durable = *s.durable
	}
	keyspaces[s.keyspace] = k
	n.commitSchema(keyspaces)
	return result{body: schemaChange("CREATED", s.keyspace), warnings: n.replicationWarnings(s.keyspace, r)}, nil
}

// prepared is a statement prepared on a node.
type prepared struct {
	stmt statement
	body []byte // the Prepared result
}

// prepareID is Cassandra's statement id: the MD5 of the keyspace and the
// query string (5.0.1 QueryProcessor.computeId).
func prepareID(keyspace, query string) []byte {
	sum := md5.Sum([]byte(keyspace + query))
	return sum[:]
}

// prepare parses a statement and builds its Prepared result (mu held).
func (n *Node) prepare(query string, sess *session) (*prepared, []byte, *cqlError) {
	st, cerr := parseStatement(query)
	if cerr != nil {
		return nil, nil, cerr
	}
	id := prepareID(sess.keyspace, query)
	w := &writer{}
	w.int(resultPrepared)
	w.shortBytes(id)
	s, isSelect := st.(*selectStmt)
	if !isSelect {
		w.int(0) // flags
		w.int(0) // no bind variables
		w.int(0) // no partition key indexes
		w.int(metaNoMetadata)
		w.int(0)
		return &prepared{stmt: st, body: w.b}, id, nil
	}
	t, cerr := n.lookupTable(s, sess)
	if cerr != nil {
		return nil, nil, cerr
	}
	out, cerr := selected(t, s.cols)
	if cerr != nil {
		return nil, nil, cerr
	}
	if cerr := bindMetadata(w, t, s); cerr != nil {
		return nil, nil, cerr
	}
	rowsMetadata(w, t, out)
	return &prepared{stmt: st, body: w.b}, id, nil
}

// bindMetadata writes the metadata of a SELECT's bind variables: their
// columns and which of them bind the partition key.
func bindMetadata(w *writer, t *systemTable, s *selectStmt) *cqlError {
	binds := make([]column, s.binds)
	for _, c := range s.where {
		col, _, ok := t.column(c.col)
		if !ok {
			return invalid("Undefined column name %s in table %s.%s", c.col, t.keyspace, t.name)
		}
		if c.bind >= 0 {
			binds[c.bind] = col
		}
	}
	var pk []uint16
	for _, k := range t.key[:t.partitionKeys] {
		for i, b := range binds {
			if b.name == k.name {
				pk = append(pk, uint16(i))
			}
		}
	}
	if len(pk) != t.partitionKeys {
		pk = nil
	}
	flags := int32(0)
	if len(binds) > 0 {
		flags = metaGlobalTableSpec
	}
	w.int(flags)
	w.int(int32(len(binds)))
	w.int(int32(len(pk)))
	for _, i := range pk {
		w.short(i)
	}
	if len(binds) > 0 {
		w.string(t.keyspace)
		w.string(t.name)
	}
	for _, b := range binds {
		w.string(b.name)
		w.typ(b.typ)
	}
	return nil
}
