package cassandra

// # CQL
//
// Every node serves the CQL native protocol, version 4, on its IP and
// Options.CQLPort (9042), over TLS with Options.CQLTLS, while its native
// transport runs (NativeTransportRunning: from NativeTransportDelay after
// NORMAL until a drain, the end of a decommission or SetNativeTransport
// false; connections are dropped otherwise).
// It answers what the Apache Cassandra Go driver asks on connect and what
// ringops sends:
//
//   - OPTIONS/SUPPORTED, STARTUP/READY, REGISTER/READY (no event is ever
//     pushed), AUTHENTICATE with PasswordAuthenticator when the node
//     runs it (AUTH_RESPONSE/AUTH_SUCCESS; cqlroles.go);
//   - QUERY, PREPARE and EXECUTE of SELECT on system.local, system.peers,
//     system.peers_v2 (not on 3.x), system_schema.keyspaces (the node's own
//     schema) and the other system_schema tables, empty (cqltables.go);
//     WHERE col = literal or ?, LIMIT, ALLOW FILTERING;
//   - ALTER KEYSPACE and CREATE KEYSPACE with replication and
//     durable_writes, by the rules of Cassandra 5.0.1 (cqlschema.go,
//     cqlexec.go): no ALTER while a member of the coordinator's view is not
//     NORMAL (4.0 and later), datacenters Cassandra does not know refused,
//     system_auth in every datacenter with nodes, "0" takes a datacenter
//     out, replication_factor expands; USE; CREATE, ALTER and DROP ROLE
//     (cqlroles.go).
//
// A schema change is a new version of the ring's schema, held by the
// coordinator at once and by every other node reached at the next gossip
// round (cqlschema.go); decommission's replication check reads the node's
// own schema. Not simulated: compression, protocols other than 4 (a v5
// request is refused in its own version, so drivers fall back), tables
// and their data, DROP, BATCH, paging (one page), tracing, events,
// schema_change pushes to REGISTERed clients, GRANT and the
// system_auth tables.

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// DefaultCQLPort is the port of a node's CQL server (native_transport_port).
const DefaultCQLPort = 9042

// CQLRole is a role of PasswordAuthenticator (Options.CQLRoles).
type CQLRole struct {
	Password string
	// Superuser roles may change the schema and the roles; others only
	// read.
	Superuser bool
	// NoLogin: the role may not log in (LOGIN = false).
	NoLogin bool
	// passwordAt is when CREATE or ALTER ROLE last set the password.
	passwordAt time.Time
}

// passwordAuthenticator is the class a node names in AUTHENTICATE.
const passwordAuthenticator = "org.apache.cassandra.auth.PasswordAuthenticator"

// cqlServer is a node's CQL listener: the native transport, protocol v4,
// on the node's IP. It accepts connections while the node serves clients
// (NORMAL or LEAVING: Cassandra starts the native transport once the node
// has joined and stops it when it is decommissioned or drained) and
// closes them otherwise.
type cqlServer struct {
	mu       sync.Mutex
	ln       net.Listener
	conns    map[net.Conn]bool
	prepared map[string]*prepared // by statement id (hex)
	ended    bool
	wg       sync.WaitGroup
}

// cqlLegacy reports a 3.x node (no system.peers_v2, no range-movement
// check on ALTER KEYSPACE).
func (n *Node) cqlLegacy() bool { return n.version.legacy() }

// cqlServing reports whether the node's native transport runs
// (StorageService.NativeTransportRunning) (mu held).
func (n *Node) cqlServing() bool {
	return n.running && n.nativeTransportRunning()
}

// openCQL binds IP:CQLPort and serves; a negative Options.CQLPort runs no
// CQL server.
func (n *Node) openCQL() error {
	if n.sim.opts.CQLPort < 0 {
		return nil
	}
	addr := net.JoinHostPort(n.cfg.IP, strconv.Itoa(n.sim.cqlPort()))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: cql: listen %s: %w: %w", n.cfg.name(), addr, ErrAddressInUse, err)
	}
	if cfg := n.sim.opts.CQLTLS; cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	c := &n.cql
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		_ = ln.Close()
		return fmt.Errorf("%s: cql: %w", n.cfg.name(), ErrStopped)
	}
	c.ln, c.conns, c.prepared = ln, map[net.Conn]bool{}, map[string]*prepared{}
	c.wg.Add(1)
	go n.acceptCQL(ln)
	return nil
}

// closeCQL closes the listener and every connection for good and waits
// for their goroutines.
func (n *Node) closeCQL() {
	c := &n.cql
	c.mu.Lock()
	c.ended = true
	if c.ln != nil {
		_ = c.ln.Close()
	}
	for conn := range c.conns {
		_ = conn.Close()
	}
	c.mu.Unlock()
	c.wg.Wait()
}

func (n *Node) acceptCQL(ln net.Listener) {
	c := &n.cql
	defer c.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return // closed
		}
		c.mu.Lock()
		if c.ended {
			c.mu.Unlock()
			_ = conn.Close()
			return
		}
		c.conns[conn] = true
		c.wg.Add(1)
		c.mu.Unlock()
		go n.serveCQL(conn)
	}
}

// serveCQL answers the frames of one connection, in order.
func (n *Node) serveCQL(conn net.Conn) {
	c := &n.cql
	defer func() {
		_ = conn.Close()
		c.mu.Lock()
		delete(c.conns, conn)
		c.mu.Unlock()
		c.wg.Done()
	}()
	cc := &cqlConn{n: n, sess: &session{}}
	r := bufio.NewReader(conn)
	for {
		f, err := readFrame(r)
		if err != nil {
			if errors.Is(err, errFrameTooLarge) {
				_, _ = conn.Write(errorFrame(f, &cqlError{code: errProtocol, msg: err.Error()}).encode())
			}
			return
		}
		if !n.serving() {
			return // the native transport is not running: the connection drops
		}
		resp, closeAfter := cc.handle(f)
		if _, err := conn.Write(resp.encode()); err != nil || closeAfter {
			return
		}
	}
}

func (n *Node) serving() bool {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	return n.cqlServing()
}

// cqlConn is the protocol state of one connection.
type cqlConn struct {
	n       *Node
	started bool // STARTUP done
	authed  bool // authentication done (or none needed)
	sess    *session
}

func reply(req frame, op byte, body []byte) frame {
	return frame{version: 0x80 | cqlProtocol, stream: req.stream, op: op, body: body}
}

func errorFrame(req frame, e *cqlError) frame {
	w := &writer{}
	w.int(int32(e.code))
	w.string(e.msg)
	switch e.code {
	case errAlreadyExists:
		w.string(e.keyspace)
		w.string(e.table)
	case errUnprepared:
		w.shortBytes(e.id)
	}
	return reply(req, opError, w.b)
}

// handle answers one request; closeAfter ends the connection.
func (cc *cqlConn) handle(f frame) (resp frame, closeAfter bool) {
	if v := f.version & 0x7F; v != cqlProtocol || f.version&0x80 != 0 {
		// Answered in the client's version, as Cassandra answers the
		// versions it no longer supports (ProtocolVersion.decode), so that
		// a driver trying 5 first reads the refusal and tries 4.
		resp := errorFrame(f, &cqlError{code: errProtocol, msg: fmt.Sprintf("Invalid or unsupported protocol version (%d); supported versions are (4/v4)", v)})
		resp.version = 0x80 | v
		return resp, true
	}
	if f.flags&flagCompression != 0 {
		return errorFrame(f, &cqlError{code: errProtocol, msg: "the simulated node does not compress frames"}), true
	}
	r := &reader{b: f.body}
	if f.flags&flagCustomPayload != 0 {
		r.bytesMap()
	}
	var cerr *cqlError
	switch {
	case f.op == opOptions:
		return reply(f, opSupported, supported()), false
	case f.op == opStartup:
		resp, cerr = cc.startup(f, r)
	case !cc.started:
		cerr = &cqlError{code: errProtocol, msg: fmt.Sprintf("Unexpected message %s, expecting STARTUP or OPTIONS", opName(f.op))}
	case f.op == opAuthResponse:
		resp, cerr = cc.authenticate(f, r)
	case !cc.authed:
		cerr = &cqlError{code: errProtocol, msg: fmt.Sprintf("Unexpected message %s, expecting SASL_RESPONSE", opName(f.op))}
	case f.op == opRegister:
		return reply(f, opReady, nil), false
	case f.op == opQuery:
		resp, cerr = cc.query(f, r)
	case f.op == opPrepare:
		resp, cerr = cc.prepare(f, r)
	case f.op == opExecute:
		resp, cerr = cc.executePrepared(f, r)
	case f.op == opBatch:
		cerr = invalid("the simulated node runs no BATCH")
	default:
		cerr = &cqlError{code: errProtocol, msg: fmt.Sprintf("unknown opcode 0x%02x", f.op)}
	}
	if cerr == nil && r.err != nil {
		cerr = &cqlError{code: errProtocol, msg: "malformed " + opName(f.op) + " message: " + r.err.Error()}
	}
	if cerr != nil {
		return errorFrame(f, cerr), cerr.code == errProtocol
	}
	return resp, false
}

func opName(op byte) string {
	names := map[byte]string{opStartup: "STARTUP", opOptions: "OPTIONS", opQuery: "QUERY", opPrepare: "PREPARE",
		opExecute: "EXECUTE", opRegister: "REGISTER", opBatch: "BATCH", opAuthResponse: "AUTH_RESPONSE"}
	if s, ok := names[op]; ok {
		return s
	}
	return fmt.Sprintf("0x%02x", op)
}

// supported is the SUPPORTED body: what the simulation speaks (no
// compression; Cassandra 5.0 also offers snappy and lz4 and protocols
// 3 to 6).
func supported() []byte {
	w := &writer{}
	w.stringMultimap(map[string][]string{
		"CQL_VERSION":       {"3.4.7"},
		"COMPRESSION":       {},
		"PROTOCOL_VERSIONS": {"4/v4"},
	})
	return w.b
}

func (cc *cqlConn) startup(f frame, r *reader) (frame, *cqlError) {
	opts := r.stringMap()
	if c, ok := opts["COMPRESSION"]; ok && c != "" {
		return frame{}, &cqlError{code: errProtocol, msg: fmt.Sprintf("Unknown compression algorithm: %s", c)}
	}
	if _, ok := opts["CQL_VERSION"]; !ok {
		return frame{}, &cqlError{code: errProtocol, msg: "CQL_VERSION is mandatory"}
	}
	cc.started = true
	if !cc.n.passwordAuth() {
		cc.authed = true
		return reply(f, opReady, nil), nil
	}
	w := &writer{}
	w.string(passwordAuthenticator)
	return reply(f, opAuthenticate, w.b), nil
}

// authenticate checks a PLAIN SASL token: [authzid] NUL user NUL password.
func (cc *cqlConn) authenticate(f frame, r *reader) (frame, *cqlError) {
	token, _ := r.bytes()
	parts := bytes.Split(token, []byte{0})
	if len(parts) != 3 || len(parts[1]) == 0 || len(parts[2]) == 0 {
		return frame{}, &cqlError{code: errBadCredentials, msg: "Credential format error: username or password is empty or contains NUL(\\0) character"}
	}
	user, pass := string(parts[1]), string(parts[2])
	cc.n.sim.mu.Lock()
	role, cerr := cc.n.login(user, pass)
	cc.n.sim.mu.Unlock()
	if cerr != nil {
		return frame{}, cerr
	}
	cc.authed = true
	cc.sess.user, cc.sess.role = user, role
	w := &writer{}
	w.bytes(nil)
	return reply(f, opAuthSuccess, w.b), nil
}

// queryParams reads the <query_parameters> of QUERY and EXECUTE and
// returns the bound values (named values in their order).
func queryParams(r *reader) [][]byte {
	r.short() // consistency: every table here is local
	flags := r.byte()
	var values [][]byte
	if flags&0x01 != 0 {
		n := int(r.short())
		for i := 0; i < n && r.err == nil; i++ {
			if flags&0x40 != 0 {
				r.string()
			}
			b, _ := r.bytes()
			values = append(values, b)
		}
	}
	if flags&0x04 != 0 {
		r.int() // page size: results fit one page
	}
	if flags&0x08 != 0 {
		r.bytes()
	}
	if flags&0x10 != 0 {
		r.short()
	}
	if flags&0x20 != 0 {
		r.long()
	}
	return values
}

func (cc *cqlConn) query(f frame, r *reader) (frame, *cqlError) {
	q := r.longString()
	values := queryParams(r)
	if r.err != nil {
		return frame{}, nil
	}
	st, cerr := parseStatement(q)
	if cerr != nil {
		return frame{}, cerr
	}
	return cc.run(f, st, values)
}

// run executes a statement under the sim lock and frames its result.
func (cc *cqlConn) run(f frame, st statement, values [][]byte) (frame, *cqlError) {
	n := cc.n
	n.sim.mu.Lock()
	res, cerr := n.execute(st, values, cc.sess)
	n.sim.mu.Unlock()
	if cerr != nil {
		return frame{}, cerr
	}
	resp := reply(f, opResult, res.body)
	if len(res.warnings) > 0 {
		w := &writer{}
		w.stringList(res.warnings)
		resp.flags |= flagWarning
		resp.body = append(w.b, res.body...)
	}
	return resp, nil
}

func (cc *cqlConn) prepare(f frame, r *reader) (frame, *cqlError) {
	q := r.longString()
	if r.err != nil {
		return frame{}, nil
	}
	n := cc.n
	n.sim.mu.Lock()
	p, id, cerr := n.prepare(q, cc.sess)
	n.sim.mu.Unlock()
	if cerr != nil {
		return frame{}, cerr
	}
	n.cql.mu.Lock()
	n.cql.prepared[string(id)] = p
	n.cql.mu.Unlock()
	return reply(f, opResult, p.body), nil
}

func (cc *cqlConn) executePrepared(f frame, r *reader) (frame, *cqlError) {
	id := r.shortBytes()
	values := queryParams(r)
	if r.err != nil {
		return frame{}, nil
	}
	n := cc.n
	n.cql.mu.Lock()
	p := n.cql.prepared[string(id)]
	n.cql.mu.Unlock()
	if p == nil {
		return frame{}, &cqlError{code: errUnprepared, msg: fmt.Sprintf("Prepared query with ID %x not found (either the query was not prepared on this host (maybe the host has been restarted?) or you have prepared too many queries and it has been evicted from the internal cache)", id), id: id}
	}
	return cc.run(f, p.stmt, values)
}
