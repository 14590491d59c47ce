package cassandra

import (
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// TestCQLRolesFromCassandraYAML: a node whose cassandra.yaml names
// PasswordAuthenticator asks for credentials; its fresh ring gets the
// default superuser after the setup delay, through which a role is
// created, which then disables the default one, as ringops does.
func TestCQLRolesFromCassandraYAML(t *testing.T) {
	const subnet = 150
	opts := testOptions()
	opts.SuperuserSetupDelay = 200 * time.Millisecond
	w := newWorld(t, opts)
	cfg := w.cfg("pvc-a", "orders-dc1-r1-0", ip(subnet, 1), "dc1", "r1", "orders-dc1-r1-0")
	cfg.Authenticator = "org.apache.cassandra.auth.PasswordAuthenticator"
	a := w.start(cfg)
	if _, err := dial(t, "", nil, 4, a.cfg.IP); err == nil {
		t.Fatal("no credentials: connected")
	}
	def := gocql.PasswordAuthenticator{Username: "cassandra", Password: "cassandra"}
	var admin *gocql.Session
	deadline := time.Now().Add(10 * time.Second)
	for admin == nil {
		s, err := dial(t, "", def, 4, a.cfg.IP)
		switch {
		case err == nil:
			admin = s
		case !strings.Contains(err.Error(), "Provided username cassandra and/or password are incorrect"):
			t.Fatalf("before the default superuser: %v", err)
		case time.Now().After(deadline):
			t.Fatalf("no default superuser: %v", err)
		default:
			time.Sleep(50 * time.Millisecond)
		}
	}
	create := "CREATE ROLE IF NOT EXISTS 'ringops' WITH SUPERUSER = true AND LOGIN = true AND PASSWORD = 'p''w'"
	for i := 0; i < 2; i++ { // IF NOT EXISTS: twice is fine
		if err := admin.Query(create).Exec(); err != nil {
			t.Fatalf("create role: %v", err)
		}
	}
	if err := admin.Query("CREATE ROLE ringops WITH LOGIN = true").Exec(); requestCode(err) != errInvalid || !strings.Contains(err.Error(), "ringops already exists") {
		t.Errorf("create an existing role: %v", err)
	}
	if err := admin.Query("ALTER ROLE ringops WITH PASSWORD = 'other'").Exec(); requestCode(err) != errServer || !strings.Contains(err.Error(), "Password for role ringops can only be changed every 5000ms.") {
		t.Errorf("a password changed again within 5 s (5.0.9): %v", err)
	}
	if err := admin.Query("ALTER ROLE cassandra WITH SUPERUSER = false").Exec(); requestCode(err) != errUnauthorized {
		t.Errorf("alter one's own superuser status: %v", err)
	}
	own, err := dial(t, "", gocql.PasswordAuthenticator{Username: "ringops", Password: "p'w"}, 4, a.cfg.IP)
	if err != nil {
		t.Fatalf("log in as the new role: %v", err)
	}
	if err := own.Query("ALTER ROLE cassandra WITH PASSWORD = 'x' AND SUPERUSER = false AND LOGIN = false").Exec(); err != nil {
		t.Fatalf("disable the default superuser: %v", err)
	}
	if _, err := dial(t, "", def, 4, a.cfg.IP); err == nil || !strings.Contains(err.Error(), "incorrect") {
		t.Errorf("the default superuser after its password changed: %v", err)
	}
	if _, err := dial(t, "", gocql.PasswordAuthenticator{Username: "cassandra", Password: "x"}, 4, a.cfg.IP); err == nil || !strings.Contains(err.Error(), "cassandra is not permitted to log in") {
		t.Errorf("the default superuser with LOGIN = false: %v", err)
	}
	if err := own.Query("DROP ROLE ringops").Exec(); requestCode(err) != errInvalid || !strings.Contains(err.Error(), "Cannot DROP primary role for current login") {
		t.Errorf("drop one's own role: %v", err)
	}
}

// TestCQLRolesWithoutPasswordAuthenticator: a node with the image's
// AllowAllAuthenticator asks for nothing, and refuses PASSWORD
// (CassandraRoleManager.supportedOptions).
func TestCQLRolesWithoutPasswordAuthenticator(t *testing.T) {
	const subnet = 151
	w := newWorld(t, testOptions())
	a := w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(subnet, 1), "dc1", "r1", "orders-dc1-r1-0"))
	s := mustDial(t, a.cfg.IP)
	err := s.Query("CREATE ROLE ringops WITH SUPERUSER = true AND LOGIN = true AND PASSWORD = 'pw'").Exec()
	if requestCode(err) != errInvalid || !strings.Contains(err.Error(), "doesn't support PASSWORD") {
		t.Errorf("PASSWORD with AllowAllAuthenticator: %v", err)
	}
	if err := s.Query("CREATE ROLE ringops WITH LOGIN = true").Exec(); err != nil {
		t.Errorf("a role without password: %v", err)
	}
}
