package cql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/ringops/ringops/reconciler/ring/jolokia"
)

// DefaultSuperuser is the role Cassandra's CassandraRoleManager creates on
// a ring without roles, superuser_setup_delay_ms (10 s) after a node
// starts (CassandraRoleManager.setupDefaultRole), with this password.
var DefaultSuperuser = jolokia.Credentials{Username: "cassandra", Password: "cassandra"}

// RoleSetup is what EnsureRole found or did.
type RoleSetup int

const (
	// RoleReady: the role logs in, and the default superuser does not.
	RoleReady RoleSetup = iota
	// RoleCreated: the default superuser still logged in with its
	// password; through it the role was created (or given its password
	// and superuser status), then, logged in as the role, the default
	// superuser lost its login, its superuser status and its password.
	RoleCreated
	// NoAuthentication: the node asks no credentials (its authenticator
	// is AllowAllAuthenticator, e.g. a node not yet restarted with
	// PasswordAuthenticator): there is no role to create yet.
	NoAuthentication
	// PasswordChanged: the role did not log in with its password but did
	// with the previous one (a rotation: the Secret written, the role not
	// yet altered); logged in so, it was given its password (ALTER ROLE).
	PasswordChanged
)

func (s RoleSetup) String() string {
	switch s {
	case RoleReady:
		return "role ready"
	case RoleCreated:
		return "role created, default superuser disabled"
	case NoAuthentication:
		return "no authentication"
	case PasswordChanged:
		return "password changed"
	}
	return fmt.Sprintf("RoleSetup(%d)", int(s))
}

// EnsureRole makes sure that role own (a superuser that logs in with its
// password) exists in the ring behind contacts (nodes of datacenter dc),
// and that the default superuser no longer logs in with its well-known
// password. It first tries the default superuser: if it logs in, it
// creates own (CREATE ROLE; ALTER ROLE for the password only if the role
// exists from an earlier try and does not log in), then logs in as
// own and disables the default one (ALTER ROLE cassandra WITH PASSWORD =
// <newPassword> AND SUPERUSER = false AND LOGIN = false: Cassandra lets
// no role change its own superuser status). If the default superuser is
// refused, own must log in; if it does not and previous (the password
// before a rotation) is given, previous must, and through it own's
// password is set (ALTER ROLE own WITH PASSWORD); else the error wraps
// ErrUnauthorized. The passwords never appear in an error.
func EnsureRole(ctx context.Context, dc string, contacts []string, opts Options, own jolokia.Credentials, previous *jolokia.Credentials, newPassword func() (string, error)) (RoleSetup, error) {
	if own.Username == DefaultSuperuser.Username {
		return 0, fmt.Errorf("datacenter %s: role %s: %w: the role to ensure is the default superuser", dc, own.Username, ErrRefused)
	}
	def, asked, err := loginAs(ctx, dc, contacts, opts, DefaultSuperuser)
	switch {
	case err == nil && !asked:
		def.Close()
		return NoAuthentication, nil
	case err == nil:
		err = def.createRole(ctx, dc, contacts, opts, own)
		def.Close()
		if err != nil {
			return 0, err
		}
	case !errors.Is(err, ErrUnauthorized):
		return 0, err
	}
	self, _, err := loginAs(ctx, dc, contacts, opts, own)
	if err != nil && def == nil && errors.Is(err, ErrUnauthorized) && previous != nil && *previous != own {
		if perr := changePassword(ctx, dc, contacts, opts, *previous, own); perr != nil {
			return 0, fmt.Errorf("%w; nor does the previous password of the rotation: %w", err, perr)
		}
		return PasswordChanged, nil
	}
	if err != nil {
		return 0, fmt.Errorf("%w (nor does the default superuser %s log in: Cassandra creates it superuser_setup_delay_ms, 10 s, after a node of a ring without roles starts; if it was disabled, create the role with the password of the Secret, or name a role of yours in spec.cql.credentialsSecret)", err, DefaultSuperuser.Username)
	}
	defer self.Close()
	if def == nil {
		return RoleReady, nil
	}
	pw, err := newPassword()
	if err != nil {
		return 0, fmt.Errorf("datacenter %s: disable role %s: %w", dc, DefaultSuperuser.Username, err)
	}
	stmt := fmt.Sprintf("ALTER ROLE %s WITH PASSWORD = %s AND SUPERUSER = false AND LOGIN = false", quoteString(DefaultSuperuser.Username), quoteString(pw))
	if err := self.exec(ctx, "disable role "+DefaultSuperuser.Username, stmt, pw); err != nil {
		return 0, err
	}
	return RoleCreated, nil
}

// createRole creates own through a superuser's client; if it exists (an
// earlier try stopped before the default superuser was disabled) and does
// not log in with its password, it sets its password and status. Cassandra
// 5.0.9 refuses to change a role's password twice within 5 s ("Password
// for role ringops can only be changed every 5000ms"), so the password is
// set once, by CREATE ROLE, when that creates the role.
func (c *Client) createRole(ctx context.Context, dc string, contacts []string, opts Options, own jolokia.Credentials) error {
	with := fmt.Sprintf("SUPERUSER = true AND LOGIN = true AND PASSWORD = %s", quoteString(own.Password))
	name := quoteString(own.Username)
	err := c.exec(ctx, "create role "+own.Username, "CREATE ROLE "+name+" WITH "+with, own.Password)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "already exists") {
		return err
	}
	self, _, err := loginAs(ctx, dc, contacts, opts, own)
	if err == nil {
		self.Close()
		return nil
	}
	if !errors.Is(err, ErrUnauthorized) {
		return err
	}
	return c.exec(ctx, "alter role "+own.Username, "ALTER ROLE "+name+" WITH "+with, own.Password)
}

// changePassword logs in as previous and sets own's password (ALTER
// ROLE), then waits until own logs in: each node keeps the credentials it
// checked for credentials_validity (2 s by default), so a node asked
// right after the change may still hold the previous ones. Cassandra
// refuses a second change of a role's password within 5 s ("can only be
// changed every 5000ms"): that error is returned, for a later try.
func changePassword(ctx context.Context, dc string, contacts []string, opts Options, previous, own jolokia.Credentials) error {
	old, _, err := loginAs(ctx, dc, contacts, opts, previous)
	if err != nil {
		return err
	}
	stmt := fmt.Sprintf("ALTER ROLE %s WITH PASSWORD = %s", quoteString(own.Username), quoteString(own.Password))
	err = old.exec(ctx, "set the password of role "+own.Username, stmt, own.Password)
	old.Close()
	if err != nil {
		return err
	}
	const settle = 15 * time.Second
	deadline := time.Now().Add(settle)
	for {
		self, _, err := loginAs(ctx, dc, contacts, opts, own)
		if err == nil {
			self.Close()
			return nil
		}
		if !errors.Is(err, ErrUnauthorized) || time.Now().After(deadline) {
			return fmt.Errorf("after ALTER ROLE: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// loginAs opens a session as creds; asked says whether the node asked
// for the credentials.
func loginAs(ctx context.Context, dc string, contacts []string, opts Options, creds jolokia.Credentials) (*Client, bool, error) {
	opts.Credentials = &creds
	c, err := New(dc, contacts, opts)
	if err != nil {
		return nil, false, err
	}
	c.asked = &atomic.Bool{}
	if _, err := c.connect(ctx); err != nil {
		c.Close()
		return nil, false, fmt.Errorf("datacenter %s: log in as %s: %w", dc, creds.Username, err)
	}
	return c, c.asked.Load(), nil
}

// exec runs a statement that carries secret, which is cut out of any
// error (Cassandra's syntax errors quote the statement).
func (c *Client) exec(ctx context.Context, what, stmt, secret string) error {
	err := c.do(ctx, what, func(s *gocql.Session) error {
		return s.Query(stmt).ExecContext(ctx)
	})
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	for _, s := range []error{ErrUnavailable, ErrUnauthorized, ErrRefused, ErrClosed} {
		if errors.Is(err, s) {
			return fmt.Errorf("%w: %s", s, strings.ReplaceAll(err.Error(), secret, "***"))
		}
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "***"))
}

// askedAuthenticator records that the node asked for credentials.
type askedAuthenticator struct {
	gocql.Authenticator
	asked *atomic.Bool
}

func (a askedAuthenticator) Challenge(req []byte) ([]byte, gocql.Authenticator, error) {
	a.asked.Store(true)
	return a.Authenticator.Challenge(req)
}
