package cql_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ringops/ringops/internal/testkit/wait"
	"github.com/ringops/ringops/reconciler/cql"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
)

// passwordRing starts a simulated ring with PasswordAuthenticator whose
// default superuser appears after 200 ms, and returns it with the
// contacts of its dc1.
func passwordRing(t *testing.T) (*simRing, []string) {
	t.Helper()
	opts := fastOptions()
	opts.SuperuserSetupDelay = 200 * time.Millisecond
	r := startRingAuth(t, opts, "PasswordAuthenticator")
	return r, []string{r.ip("dc1", "r1"), r.ip("dc1", "r2")}
}

// TestEnsureRole: on a fresh ring with PasswordAuthenticator, the role is
// created through the default superuser, which is then disabled; a second
// run finds the role ready; a client with the role's credentials reads
// and one without is refused.
func TestEnsureRole(t *testing.T) {
	r, contacts := passwordRing(t)
	ctx := context.Background()
	own := jolokia.Credentials{Username: "ringops", Password: "s3cr'et"}
	discarded := func() (string, error) { return "discarded-password", nil }

	var setup cql.RoleSetup
	eventually(t, "the role is created through the default superuser", func() error {
		var err error
		setup, err = cql.EnsureRole(ctx, "dc1", contacts, testOpts(), own, nil, discarded)
		if err != nil && strings.Contains(err.Error(), own.Password) {
			t.Fatalf("the password is in the error: %v", err)
		}
		return err
	})
	if setup != cql.RoleCreated {
		t.Errorf("first run: %v, want %v", setup, cql.RoleCreated)
	}
	if setup, err := cql.EnsureRole(ctx, "dc1", contacts, testOpts(), own, nil, discarded); err != nil || setup != cql.RoleReady {
		t.Errorf("second run: %v, %v; want %v", setup, err, cql.RoleReady)
	}
	for _, creds := range []jolokia.Credentials{cql.DefaultSuperuser, {Username: "cassandra", Password: "discarded-password"}} {
		o := testOpts()
		o.Credentials = &creds
		if _, err := r.client("dc1", o, "r1").Keyspaces(ctx); !errors.Is(err, cql.ErrUnauthorized) {
			t.Errorf("the default superuser (password %q) still logs in: %v", creds.Password, err)
		}
	}
	if _, err := r.client("dc1", testOpts(), "r1").Keyspaces(ctx); !errors.Is(err, cql.ErrUnauthorized) {
		t.Errorf("no credentials: %v", err)
	}
	o := testOpts()
	o.Credentials = &own
	if _, err := r.client("dc1", o, "r1", "r2").AlterReplication(ctx, "system_auth", map[string]int{"dc1": 3, "dc2": 1}); err != nil {
		t.Errorf("the role alters replication: %v", err)
	}
	wrong := jolokia.Credentials{Username: "ringops", Password: "other"}
	if _, err := cql.EnsureRole(ctx, "dc1", contacts, testOpts(), wrong, nil, discarded); !errors.Is(err, cql.ErrUnauthorized) {
		t.Errorf("a wrong password once the default superuser is disabled: %v", err)
	}
}

// TestEnsureRoleRotation: the role's Secret holding a new password and
// the one before (a rotation), EnsureRole logs in with the one before
// and sets the new one; then the new one logs in and the old one is
// refused, and a second run finds the role ready. A previous password
// the role never had does not get in.
func TestEnsureRoleRotation(t *testing.T) {
	r, contacts := passwordRing(t)
	ctx := context.Background()
	old := jolokia.Credentials{Username: "ringops", Password: "old-s3cret"}
	next := jolokia.Credentials{Username: "ringops", Password: "new-s3cret"}
	discarded := func() (string, error) { return "discarded-password", nil }
	eventually(t, "the role is created", func() error {
		_, err := cql.EnsureRole(ctx, "dc1", contacts, testOpts(), old, nil, discarded)
		return err
	})
	stranger := jolokia.Credentials{Username: "ringops", Password: "never-set"}
	if _, err := cql.EnsureRole(ctx, "dc1", contacts, testOpts(), next, &stranger, discarded); !errors.Is(err, cql.ErrUnauthorized) {
		t.Errorf("a previous password the role never had: %v", err)
	}
	var setup cql.RoleSetup
	// Cassandra refuses a second change of a password within 5 s of the
	// first (CREATE ROLE set it): tried again until it takes it.
	wait.For(t, 20*time.Second, "the new password set through the previous one", func() error {
		var err error
		setup, err = cql.EnsureRole(ctx, "dc1", contacts, testOpts(), next, &old, discarded)
		if err != nil && (strings.Contains(err.Error(), next.Password) || strings.Contains(err.Error(), old.Password)) {
			t.Fatalf("a password is in the error: %v", err)
		}
		return err
	})
	if setup != cql.PasswordChanged {
		t.Errorf("rotation: %v, want %v", setup, cql.PasswordChanged)
	}
	if setup, err := cql.EnsureRole(ctx, "dc1", contacts, testOpts(), next, &old, discarded); err != nil || setup != cql.RoleReady {
		t.Errorf("after the rotation: %v, %v; want %v", setup, err, cql.RoleReady)
	}
	for creds, ok := range map[jolokia.Credentials]bool{next: true, old: false} {
		o := testOpts()
		o.Credentials = &creds
		_, err := r.client("dc1", o, "r1").Keyspaces(ctx)
		if ok != (err == nil) {
			t.Errorf("password %q: %v", creds.Password, err)
		}
	}
}

// TestEnsureRoleWithoutAuthentication: nodes that ask no credentials
// (AllowAllAuthenticator, not yet rolled) get no role.
func TestEnsureRoleWithoutAuthentication(t *testing.T) {
	r := startRing(t, fastOptions())
	own := jolokia.Credentials{Username: "ringops", Password: "pw"}
	setup, err := cql.EnsureRole(context.Background(), "dc1", []string{r.ip("dc1", "r1")}, testOpts(), own, nil, func() (string, error) { return "x", nil })
	if err != nil || setup != cql.NoAuthentication {
		t.Errorf("%v, %v; want %v", setup, err, cql.NoAuthentication)
	}
}
