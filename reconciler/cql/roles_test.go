package cql_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ringops/ringops/reconciler/cql"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
)

// TestEnsureRole: on a fresh ring with PasswordAuthenticator, the role is
// created through the default superuser, which is then disabled; a second
// run finds the role ready; a client with the role's credentials reads
// and one without is refused.
func TestEnsureRole(t *testing.T) {
	opts := fastOptions()
	opts.SuperuserSetupDelay = 200 * time.Millisecond
	r := startRingAuth(t, opts, "PasswordAuthenticator")
	ctx := context.Background()
	contacts := []string{r.ip("dc1", "r1"), r.ip("dc1", "r2")}
	own := jolokia.Credentials{Username: "ringops", Password: "s3cr'et"}
	discarded := func() (string, error) { return "discarded-password", nil }

	var setup cql.RoleSetup
	eventually(t, "the role is created through the default superuser", func() error {
		var err error
		setup, err = cql.EnsureRole(ctx, "dc1", contacts, testOpts(), own, discarded)
		if err != nil && strings.Contains(err.Error(), own.Password) {
			t.Fatalf("the password is in the error: %v", err)
		}
		return err
	})
	if setup != cql.RoleCreated {
		t.Errorf("first run: %v, want %v", setup, cql.RoleCreated)
	}
	if setup, err := cql.EnsureRole(ctx, "dc1", contacts, testOpts(), own, discarded); err != nil || setup != cql.RoleReady {
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
	if _, err := cql.EnsureRole(ctx, "dc1", contacts, testOpts(), wrong, discarded); !errors.Is(err, cql.ErrUnauthorized) {
		t.Errorf("a wrong password once the default superuser is disabled: %v", err)
	}
}

// TestEnsureRoleWithoutAuthentication: nodes that ask no credentials
// (AllowAllAuthenticator, not yet rolled) get no role.
func TestEnsureRoleWithoutAuthentication(t *testing.T) {
	r := startRing(t, fastOptions())
	own := jolokia.Credentials{Username: "ringops", Password: "pw"}
	setup, err := cql.EnsureRole(context.Background(), "dc1", []string{r.ip("dc1", "r1")}, testOpts(), own, func() (string, error) { return "x", nil })
	if err != nil || setup != cql.NoAuthentication {
		t.Errorf("%v, %v; want %v", setup, err, cql.NoAuthentication)
	}
}
