// Package cql is ringops' edge to Cassandra's native protocol, through the
// Apache Cassandra Go driver (github.com/apache/cassandra-gocql-driver/v2):
// it reads the replication of the keyspaces (system_schema.keyspaces),
// alters it (ALTER KEYSPACE ... WITH replication, NetworkTopologyStrategy
// only), and reads each node's own schema version (system.local).
//
// A Client talks to the nodes of one datacenter, contacted by pod IP on
// port 9042, with protocol version 4 (Cassandra 3.11, 4.x and 5.0 all speak
// it): its queries go to those nodes only. New validates and dials nothing;
// the driver's session is opened by the first call, bounded by that call's
// context, and dropped when no node of the datacenter answers, so that the
// next call dials again, or when no call used it for Options.IdleTimeout
// (10 s): a converged cluster's client holds no connection between two
// resyncs. Every call takes a context; Options.Timeout bounds
// each request and each connection attempt.
//
// Credentials (PasswordAuthenticator) are jolokia.Credentials, read from a
// Secret per region by the caller (reconciler.SecretRouter); they print as
// "user:***" and never reach an error or a log. EnsureRole creates
// ringops' own role through the default superuser cassandra/cassandra and
// then disables that one (roles.go). TLS is a *tls.Config, see
// TLSConfig: the nodes' certificates chain to a CA, and carry a given name
// when one is given.
//
// Errors start with their subject ("datacenter dc1: alter keyspace orders:
// ...") and wrap one of the sentinels a caller branches on: ErrUnavailable
// (no node answered in time), ErrUnauthorized (credentials refused, or a
// permission missing), ErrTLS, ErrRangeMovement (Cassandra refuses to
// alter replication while a node joins, leaves or moves), ErrNoKeyspace,
// ErrRefused (any other statement Cassandra refuses), ErrClosed.
//
// Schema agreement: the gate ringops waits on after an ALTER is the ring
// health it already reads over Jolokia, where every node of every region
// reports its own StorageService.SchemaVersion and Assess requires one
// version; it needs no connection to the other regions' nodes, and no node
// is asked about its peers. SchemaVersions reads the same value over CQL
// (system.local.schema_version of each node, the query pinned to that
// node) for the datacenter a Client reaches, as a check right after an
// ALTER; the driver's own AwaitSchemaAgreement, which trusts the gossip
// view of system.peers and waits on nodes that are down, is not used.
package cql
