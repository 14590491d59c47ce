package cql

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// Sentinel errors; callers branch on them with errors.Is.
var (
	// ErrUnavailable: no node of the datacenter answered in time
	// (connection refused, timeouts, every node down, the call's context
	// ended), or the coordinator could not reach enough replicas.
	ErrUnavailable = errors.New("unavailable")
	// ErrUnauthorized: the credentials were refused, authentication is
	// required and none was given, or the role lacks a permission.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrTLS: the TLS handshake failed (a certificate that does not chain
	// to the CA, or does not carry the expected name).
	ErrTLS = errors.New("TLS handshake failed")
	// ErrRangeMovement: Cassandra refuses to alter replication while a
	// node joins, leaves or moves, or is down after a drain ("Cannot alter
	// RF while some endpoints are not in normal state").
	ErrRangeMovement = errors.New("a node is not in normal state (range movement)")
	// ErrNoKeyspace: the keyspace does not exist.
	ErrNoKeyspace = errors.New("no such keyspace")
	// ErrRefused: Cassandra refused the statement for another reason (an
	// unknown datacenter, system_auth leaving out a datacenter with nodes,
	// ...); the message is Cassandra's.
	ErrRefused = errors.New("refused")
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("client closed")
)

// Error codes of the native protocol (native_protocol_v4.spec section 9).
const (
	codeServer         = 0x0000
	codeBadCredentials = 0x0100
	codeUnavailable    = 0x1000
	codeOverloaded     = 0x1001
	codeBootstrapping  = 0x1002
	codeWriteTimeout   = 0x1100
	codeReadTimeout    = 0x1200
	codeUnauthorized   = 0x2100
	codeInvalid        = 0x2200
	codeConfig         = 0x2300
)

// rangeMovementPrefix starts Cassandra's refusal of ALTER KEYSPACE during a
// range movement (4.0 and later, AlterKeyspaceStatement
// .validateNoRangeMovements); it is a ConfigurationException like any other
// replication refusal, so only its text tells it apart.
const rangeMovementPrefix = "Cannot alter RF while some endpoints are not in normal state"

// classify wraps a driver error with the sentinel it amounts to.
func classify(err error) error {
	if err == nil {
		return nil
	}
	sentinel := sentinelOf(err)
	if sentinel == nil {
		return err
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}

func sentinelOf(err error) error {
	var re gocql.RequestError
	if errors.As(err, &re) {
		return sentinelOfCode(re.Code(), re.Message())
	}
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var alert tls.AlertError
	switch {
	case errors.Is(err, ErrClosed), errors.Is(err, ErrUnavailable), errors.Is(err, ErrUnauthorized), errors.Is(err, ErrTLS):
		return nil // already classified
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalidCert), errors.As(err, &alert):
		return ErrTLS
	case errors.Is(err, gocql.ErrKeyspaceDoesNotExist):
		return ErrNoKeyspace
	case strings.HasPrefix(err.Error(), "authentication required"):
		// The driver's own words when a node asks for credentials and
		// none were given (a plain error, no type to match).
		return ErrUnauthorized
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, gocql.ErrNoConnections), errors.Is(err, gocql.ErrNoConnectionsStarted),
		errors.Is(err, gocql.ErrConnectionClosed), errors.Is(err, gocql.ErrTimeoutNoResponse),
		errors.Is(err, gocql.ErrSessionClosed), errors.Is(err, gocql.ErrNoHosts),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return ErrUnavailable
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return ErrUnavailable
	}
	return nil
}

// sentinelOfCode maps Cassandra's error codes.
func sentinelOfCode(code int, msg string) error {
	switch code {
	case codeBadCredentials, codeUnauthorized:
		return ErrUnauthorized
	case codeUnavailable, codeOverloaded, codeBootstrapping, codeWriteTimeout, codeReadTimeout, codeServer:
		return ErrUnavailable
	case codeConfig:
		if strings.HasPrefix(msg, rangeMovementPrefix) {
			return ErrRangeMovement
		}
		return ErrRefused
	case codeInvalid:
		if strings.HasPrefix(msg, "Keyspace '") && strings.HasSuffix(msg, "' doesn't exist") {
			return ErrNoKeyspace
		}
		return ErrRefused
	}
	return ErrRefused
}
